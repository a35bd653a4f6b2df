/** A LineTarget over a Node Writable (stdout): waits for 'drain' when the stream is full. */
import { once } from 'node:events';
import type { LineTarget } from './buffered.js';

export function streamTarget(stream: NodeJS.WritableStream): LineTarget {
  let failure: Error | undefined;
  stream.on('error', (err: Error) => { failure = err; });
  return {
    async write(chunk) {
      if (failure) throw failure;
      if (!stream.write(chunk)) await once(stream, 'drain');
    },
    async close() {
      // stdout is not ours to end; what was written is flushed by Node at exit.
    },
  };
}

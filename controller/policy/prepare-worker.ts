/**
 * Worker thread of the prepare pool: parses, validates and translates the texts it is
 * sent and answers with plain prepared data (./prepared.ts). Started through
 * driver/client/worker-entry.mjs (tsx in development, the .js file in a build).
 */
import { parentPort } from 'node:worker_threads';
import { translateFor, type TranslationContext } from './compiler.js';
import { prepareText } from './prepared.js';
import { packChunk, type PreparedChunk } from './prepared-chunk.js';
import { lowerThreadPriority } from './worker-priority.js';

export interface PrepareRequest {
  id: number;
  context: TranslationContext;
  texts: { text: string; location: string }[];
}

/**
 * One reply per request (a chunk of a few texts): small enough that the main thread takes
 * each as it comes while the workers go on (one message for a whole batch would hold its
 * event loop for hundreds of ms), few enough that posting costs little (a message per
 * text cost more, on both threads: ./prepared-chunk.ts).
 */
export type PrepareReply =
  | { id: number; chunk: PreparedChunk }
  | { id: number; error: string }
  /** Sent once, as the worker starts, when its priority could not be lowered (./worker-priority.ts). */
  | { priorityError: string };

void lowerThreadPriority().then((outcome) => {
  if ('error' in outcome) parentPort!.postMessage({ priorityError: outcome.error } satisfies PrepareReply);
});

parentPort!.on('message', (request: PrepareRequest) => {
  try {
    const translate = translateFor(request.context);
    const { chunk, transfer } = packChunk(request.texts.map((t) => prepareText(t.text, t.location, translate)));
    parentPort!.postMessage({ id: request.id, chunk } satisfies PrepareReply, transfer);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).stack ?? String(error) } satisfies PrepareReply);
  }
});

/**
 * NT device paths from the driver to the DOS paths policies and users speak, through
 * the injected PathTranslator, with a bounded cache: the same few thousand images and
 * files recur, and the translator's prefix search should not run per event.
 */
import type { PathTranslator } from '../../driver/client/types.js';
import { BoundedMap } from './bounded-map.js';

export class DosPathCache {
  readonly cache: BoundedMap<string, string>;

  constructor(private readonly translator: PathTranslator, capacity: number) {
    this.cache = new BoundedMap('events.pathCacheSize', capacity);
  }

  toDos(ntPath: string): string {
    if (ntPath === '') return '';
    let dos = this.cache.get(ntPath);
    if (dos === undefined) {
      dos = this.translator.fromDriver(ntPath);
      this.cache.set(ntPath, dos);
    }
    return dos;
  }
}

/**
 * The arguments of a Windows command line: everything after the first token (the
 * program, quoted or not), trimmed. Upstream reports an exec as the image path followed
 * by argv[1..], so this is what follows the image in `Resource`.
 */
export function commandLineArguments(commandLine: string): string {
  const line = commandLine.trimStart();
  if (line === '') return '';
  let end: number;
  if (line[0] === '"') {
    const close = line.indexOf('"', 1);
    end = close < 0 ? line.length : close + 1;
  } else {
    const space = line.search(/[ \t]/);
    end = space < 0 ? line.length : space;
  }
  return line.slice(end).trim();
}

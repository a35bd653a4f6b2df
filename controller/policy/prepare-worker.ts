/**
 * Worker thread of the prepare pool: parses, validates and translates the texts it is
 * sent and answers with plain prepared data (./prepared.ts). Started through
 * driver/client/worker-entry.mjs (tsx in development, the .js file in a build).
 */
import { parentPort } from 'node:worker_threads';
import { translateFor, type TranslationContext } from './compiler.js';
import { prepareText, type PreparedText } from './prepared.js';

export interface PrepareRequest {
  id: number;
  context: TranslationContext;
  texts: { text: string; location: string }[];
}

/**
 * One reply per text as soon as it is prepared, then `done`: the main thread takes each
 * small result as it comes (while the workers go on) instead of one message holding the
 * whole batch, whose deserialization would hold its event loop for hundreds of ms.
 */
export type PrepareReply =
  | { id: number; index: number; prepared: PreparedText }
  | { id: number; done: true }
  | { id: number; error: string };

parentPort!.on('message', (request: PrepareRequest) => {
  try {
    const translate = translateFor(request.context);
    request.texts.forEach((t, index) => {
      parentPort!.postMessage({ id: request.id, index, prepared: prepareText(t.text, t.location, translate) } satisfies PrepareReply);
    });
    parentPort!.postMessage({ id: request.id, done: true } satisfies PrepareReply);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).stack ?? String(error) } satisfies PrepareReply);
  }
});

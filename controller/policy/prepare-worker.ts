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

export type PrepareReply = { id: number; prepared: PreparedText[] } | { id: number; error: string };

parentPort!.on('message', (request: PrepareRequest) => {
  try {
    const translate = translateFor(request.context);
    const prepared = request.texts.map((t) => prepareText(t.text, t.location, translate));
    parentPort!.postMessage({ id: request.id, prepared } satisfies PrepareReply);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).stack ?? String(error) } satisfies PrepareReply);
  }
});

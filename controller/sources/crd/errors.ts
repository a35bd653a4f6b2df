/** Errors of the CRD source, typed where a caller must tell them apart. */

/** A request to the API server failed; `status` is the HTTP status when one came back. */
export class KubeApiError extends Error {
  readonly status?: number;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'KubeApiError';
    this.status = options.status;
  }

  /** 410 Gone: the resourceVersion asked for was compacted away; only a re-list helps. */
  get gone(): boolean { return this.status === 410; }
}

/** The watch stream carried no event (not even a bookmark) for longer than the silence limit. */
export class WatchSilentError extends Error {
  constructor(readonly silentMs: number) {
    super(`the watch was silent for ${Math.round(silentMs / 1000)} s (half-open connection?)`);
    this.name = 'WatchSilentError';
  }
}

/** The API server ended a watch with an ERROR event (a Status object). */
export function watchStatusError(status: { code?: number; message?: string; reason?: string }): KubeApiError {
  return new KubeApiError(`watch ended by the API server: ${status.code ?? '?'} ${status.message ?? status.reason ?? ''}`.trim(), { status: status.code });
}

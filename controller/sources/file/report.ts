import type { Logger } from '../../observability/log.js';
import type { SourceSink } from '../types.js';

/**
 * Tells the sink about the source's state only when it changes: `synced` for a new
 * revision (or on recovery), `failed` once per distinct outage, not on every retry.
 */
export class SyncReporter {
  private state: { synced: boolean; revision?: string; failure?: string } = { synced: false };

  constructor(
    private readonly name: string,
    private readonly sink: SourceSink,
    private readonly log: Logger,
  ) {}

  failed(error: Error): void {
    if (!this.state.synced && this.state.failure === error.message) return;
    this.state = { synced: false, failure: error.message };
    this.log.warn('policy source not in sync', { error });
    this.sink.failed(this.name, error);
  }

  synced(revision: string): void {
    if (this.state.synced && this.state.revision === revision) return;
    if (this.state.failure) this.log.info('policy source back in sync', { revision });
    this.state = { synced: true, revision };
    this.sink.synced(this.name, revision);
  }
}

/** The `files` source kind: policy directories from the config's `sources.files`. */
import type { AgentMetrics } from '../../observability/index.js';
import type { SourceKindDefinition } from '../types.js';
import { FileSource, fileSettingsOf } from './source.js';
import type { FileSourceObserver } from './types.js';

/** Rejected files and watch failures, as metrics. */
export function fileSourceMetricsObserver(metrics: AgentMetrics, source = 'files'): FileSourceObserver {
  for (const reason of ['too_large', 'unreadable', 'transient', 'not_regular', 'encoding']) metrics.sourceFilesRejected.inc({ source, reason }, 0);
  metrics.sourceWatchFailures.inc({ source }, 0);
  return {
    rejected: (reason) => metrics.sourceFilesRejected.inc({ source, reason }),
    watchFailed: () => metrics.sourceWatchFailures.inc({ source }),
  };
}

export const fileSourceKind: SourceKindDefinition = {
  kind: 'files',
  enabled: (config) => config.sources.files.enabled,
  create: ({ config, clock, logger, metrics }) => new FileSource({
    name: 'files', ...fileSettingsOf(config), clock, logger, observer: fileSourceMetricsObserver(metrics),
  }),
};

/** The store's rejections and conflicts, logged once each time they appear. */
import type { Logger } from '../observability/log.js';
import type { StoreObserver } from './store.js';

export function loggingStoreObserver(log: Logger): StoreObserver {
  return {
    unitRejected: ({ source, origin, problems }) => {
      const errors = problems.filter((p) => p.severity === 'error');
      log.error('policy unit rejected: what it held before stays in force', {
        source, origin, errors: errors.length,
        problems: errors.slice(0, 5).map((p) => `${p.line ? `${p.line}:${p.column ?? 0}: ` : ''}${p.path ? `${p.path}: ` : ''}${p.message}`),
      });
    },
    conflict: ({ key, units, kept }) => {
      log.error('policy defined more than once: neither replaces the other', {
        policy: key, units, inForce: kept ?? 'none (neither was in force before)',
      });
    },
  };
}

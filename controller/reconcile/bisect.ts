/**
 * Finding the rules a driver rejects when one atomic APPLY of many fails with
 * ERROR_INVALID_PARAMETER: split the batch in halves and apply each half on its own,
 * recursively, until the rejected rules stand alone. Every attempt is still one atomic
 * APPLY; the halves that pass are in force at once, so k bad rules among n cost about
 * 2·k·log2(n) APPLYs and never block the good ones.
 */
import type { DriverRule } from '../../driver/abi/types.js';

export interface Rejected {
  rule: DriverRule;
  error: Error;
}

/**
 * Places `failed.rules`, already rejected as one batch with `failed.error`, by bisection. `applyBatch`
 * applies one batch atomically; `isRejection` tells a rejection of the content (to bisect)
 * from any other failure (thrown to the caller, with what passed so far in force).
 */
export async function bisectRejected(
  failed: { rules: readonly DriverRule[]; error: Error },
  applyBatch: (batch: readonly DriverRule[]) => Promise<void>,
  isRejection: (error: unknown) => boolean,
): Promise<Rejected[]> {
  const place = async (batch: readonly DriverRule[]): Promise<Rejected[]> => {
    try {
      await applyBatch(batch);
      return [];
    } catch (error) {
      if (!isRejection(error)) throw error;
      return batch.length === 1 ? [{ rule: batch[0]!, error: error as Error }] : split(batch);
    }
  };
  const split = async (batch: readonly DriverRule[]): Promise<Rejected[]> => {
    const mid = Math.ceil(batch.length / 2);
    return [...await place(batch.slice(0, mid)), ...await place(batch.slice(mid))];
  };
  const { rules, error } = failed;
  return rules.length === 1 ? [{ rule: rules[0]!, error }] : split(rules);
}

/**
 * A prepare worker runs below normal priority: on a 2-core node two busy workers and the
 * main thread are three threads on two cores, and at equal priority the scheduler takes
 * the main thread off its core for tens of ms at a time (bench:reconcile, cold start: the
 * event loop's longest stall was 26–37 ms with workers at normal priority, 13–20 ms below
 * it, with the same converge time). Below normal, a worker still gets every cycle the
 * main thread and the rest of the node leave idle.
 *
 * Per thread on both platforms: on Linux setpriority(PRIO_PROCESS, 0) changes the calling
 * thread only (its nice value; os.setPriority); on Windows os.setPriority would change the
 * whole process's class, so SetThreadPriority is called through koffi instead.
 */
import { constants, getPriority, setPriority } from 'node:os';

/** What a worker's thread runs at, or why it could not be lowered. */
export type PriorityOutcome = { lowered: string } | { error: string };

/** THREAD_PRIORITY_BELOW_NORMAL (winbase.h). */
const THREAD_PRIORITY_BELOW_NORMAL = -1;

/** Lowers the calling thread's priority: one step below normal on Windows, nice +10 on Linux. */
export async function lowerThreadPriority(platform = process.platform): Promise<PriorityOutcome> {
  try {
    if (platform === 'win32') return await lowerWindowsThread();
    if (platform === 'linux') {
      // Relative to the thread's own (an agent started at nice 5 has workers at 15); 19 is the lowest.
      const { PRIORITY_BELOW_NORMAL, PRIORITY_LOW } = constants.priority;
      setPriority(0, Math.min(PRIORITY_LOW, getPriority(0) + PRIORITY_BELOW_NORMAL));
      return { lowered: `nice ${getPriority(0)}` };
    }
    return { error: `not supported on ${platform}` };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function lowerWindowsThread(): Promise<PriorityOutcome> {
  const { default: koffi } = await import('koffi');
  const kernel32 = koffi.load('kernel32.dll');
  const GetCurrentThread = kernel32.func('void * __stdcall GetCurrentThread()');
  const SetThreadPriority = kernel32.func('int __stdcall SetThreadPriority(void *thread, int priority)');
  const GetThreadPriority = kernel32.func('int __stdcall GetThreadPriority(void *thread)');
  const GetLastError = kernel32.func('uint32_t __stdcall GetLastError()');
  const thread: unknown = GetCurrentThread();
  if (!SetThreadPriority(thread, THREAD_PRIORITY_BELOW_NORMAL)) return { error: `SetThreadPriority failed (error ${GetLastError() as number})` };
  return { lowered: `thread priority ${GetThreadPriority(thread) as number}` };
}

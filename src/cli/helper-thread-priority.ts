/**
 * Lowers the scheduling priority of the `warren` process's helper threads — V8's platform workers (the
 * optimizing compiler and the concurrent GC helpers) and libuv's thread pool — below its main thread,
 * which runs every connection. On a small machine those threads otherwise take the core the main thread
 * needs while a freshly started broker is compiling its hot paths, and each such wait is a message held
 * back: the shared harness's latency scenario (1,000 msg/s, 2 cores) measured p99 1,066–1,193 µs without
 * and 559–851 µs with it, and no change to throughput or persistent confirms (docs/benchmarks.md).
 *
 * Linux only: setpriority(2) on a thread id affects just that thread there. Raising a nice value needs no
 * privilege. Threads started later (LevelDB's compaction thread) inherit it from the thread starting them.
 * The embedding API leaves the host process's threads alone.
 */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value for helper threads (the main thread stays at the process's own). */
export const HELPER_THREAD_NICE = 10;

/** Returns how many threads were reniced (0 where /proc/self/task does not exist). */
export function lowerHelperThreadPriority(nice = HELPER_THREAD_NICE): number {
  if (process.platform !== 'linux') return 0;
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  let changed = 0;
  for (const entry of tids) {
    const tid = Number(entry);
    if (!Number.isInteger(tid) || tid === process.pid) continue;
    try {
      setPriority(tid, nice);
      changed++;
    } catch {
      // The thread ended meanwhile, or a sandbox forbids it: priorities are an optimisation only.
    }
  }
  return changed;
}

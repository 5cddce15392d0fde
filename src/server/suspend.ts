/**
 * A method handler that cannot answer yet throws SuspendInput: basic.get on a queue whose head message is
 * paged out and being read back from disk must not answer get-empty. The connection then stops reading
 * (its frame parser keeps the bytes after this frame), waits, runs `retry` (the handler again, with the
 * same error handling as the first time; it may suspend again), and only then goes on with the next
 * frame, so the peer's frames are still handled in order.
 */
export class SuspendInput {
  constructor(
    /** Register `resume`, to be called once `retry` may succeed (called once, asynchronously). */
    readonly wait: (resume: () => void) => void,
    /** Handle the method again. */
    readonly retry: () => void,
  ) {}
}

/**
 * How many tasks a worker keeps chained behind each running one. The launcher starts a chained
 * task the moment its predecessor ends, with no round trip through the worker, and may hold the
 * predecessor's result back for a while (see kickstart's `resultHoldMs`); the chain must outlast
 * that hold plus the worker's reply, or the lane idles. So: enough tasks, at their typical recent
 * duration (a moving geometric mean: one long task among short ones hardly moves it), to cover `holdMs` plus a margin, one more for safety, and never more than `max` (the
 * worker's queue bounds it anyway: the master sends about 50 ms of work ahead).
 *
 * None until a duration has been seen, and none for tasks of `unchainedSeconds` or more: a round
 * trip then costs next to nothing, and a task chained behind a long one would wait for it while
 * another lane of the worker may be free (chains are not rebalanced).
 */
export class ChainDepth {
  /** Moving average of log(duration in s). */
  private logMean: number | undefined;

  /**
   * @param holdMs how long the launcher may hold a result back
   * @param marginMs time for the worker to answer a result with the next launch
   * @param max most tasks chained behind one running task
   * @param unchainedSeconds typical duration from which tasks are not chained
   */
  constructor(
    private readonly holdMs: number,
    private readonly marginMs = 2,
    private readonly max = 32,
    private readonly unchainedSeconds = 0.25,
  ) {}

  /** A task ran `seconds` (wall time from launch to end). */
  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    const x = Math.log(Math.max(seconds, 1e-6));
    this.logMean = this.logMean === undefined ? x : this.logMean + 0.05 * (x - this.logMean);
  }

  /** Tasks to keep chained behind a running one. */
  get value(): number {
    if (this.logMean === undefined) return 0;
    const typical = Math.exp(this.logMean);
    if (typical >= this.unchainedSeconds) return 0;
    const cover = Math.ceil((this.holdMs + this.marginMs) / Math.max(typical * 1000, 0.01));
    return Math.max(1, Math.min(this.max, cover + 1));
  }
}

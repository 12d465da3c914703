/**
 * How many tasks a worker keeps chained behind each running one. The launcher starts a chained
 * task the moment its predecessor ends, with no round trip through the worker, and may hold the
 * predecessor's result back for a while (see kickstart's `resultHoldMs`); the chain must outlast
 * that hold plus the worker's reply, or the lane idles. So: enough tasks, at their recent mean
 * duration, to cover `holdMs` plus a margin, one more for safety, and never more than `max` (the
 * worker's queue bounds it anyway: the master sends about 50 ms of work ahead).
 */
export class ChainDepth {
  private mean: number | undefined;

  /**
   * @param holdMs how long the launcher may hold a result back
   * @param marginMs time for the worker to answer a result with the next launch
   * @param max most tasks chained behind one running task
   */
  constructor(
    private readonly holdMs: number,
    private readonly marginMs = 2,
    private readonly max = 32,
  ) {}

  /** A task ran `seconds` (wall time from launch to end). */
  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    this.mean = this.mean === undefined ? seconds : this.mean + 0.05 * (seconds - this.mean);
  }

  /** Tasks to keep chained behind a running one: 1 until a duration has been seen. */
  get value(): number {
    if (this.mean === undefined) return 1;
    const cover = Math.ceil((this.holdMs + this.marginMs) / Math.max(this.mean * 1000, 0.01));
    return Math.max(1, Math.min(this.max, cover + 1));
  }
}

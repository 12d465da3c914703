/**
 * Calls `fn(0..n-1)` with at most `limit` calls pending at once, in index order; stops starting
 * new calls once `stop()` is true. `fn` must not reject.
 */
export async function forEachBounded(
  n: number,
  limit: number,
  fn: (index: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n && !stop()) await fn(next++);
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(limit, n); w++) workers.push(worker());
  await Promise.all(workers);
}

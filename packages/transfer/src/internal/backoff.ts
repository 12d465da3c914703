/** Longest delay between two tries, whatever the factor. */
export const MAX_BACKOFF_MS = 300_000;

/**
 * Delay before the try after failed try number `failed` (1-based): `base * factor^(failed-1)`,
 * capped at MAX_BACKOFF_MS, times a uniform factor in [1 - jitter, 1 + jitter].
 */
export function backoffDelay(
  failed: number,
  baseMs: number,
  factor: number,
  jitter: number,
  random: () => number,
): number {
  const d = Math.min(baseMs * factor ** (failed - 1), MAX_BACKOFF_MS);
  const j = jitter > 0 ? 1 + jitter * (2 * random() - 1) : 1;
  return Math.max(0, Math.round(d * j));
}

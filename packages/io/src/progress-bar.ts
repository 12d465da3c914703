/** `[########............]` for a fraction 0..1 (clamped; not a number counts as 0). */
export function progressBar(fraction: number, width = 40): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const n = Math.round(f * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

/** Seconds as `1d 2h 3m 4s` (the statistics' style, shortened), `-` for none. */
export function duration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return '-';
  if (sec < 60) return `${Math.round(sec * 100) / 100} s`;
  let s = Math.round(sec);
  const parts: string[] = [];
  for (const [unit, n] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${unit}`);
      s %= n;
    }
  }
  if (s > 0) parts.push(`${s}s`);
  return parts.join(' ');
}

/** Seconds since the epoch as local `YYYY-MM-DD HH:MM:SS`. */
export function time(sec: number | null | undefined): string {
  if (sec === null || sec === undefined) return '-';
  const d = new Date(sec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

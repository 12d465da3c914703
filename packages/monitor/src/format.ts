/** Whole days, hours, minutes and seconds in `seconds` (rounded to the second, never negative). */
export function daysHoursMinutesSeconds(seconds: number): [number, number, number, number] {
  let rest = Math.max(0, Math.round(seconds));
  const d = Math.floor(rest / 86400);
  rest -= d * 86400;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  return [d, h, m, rest - m * 60];
}

/** A duration the way pegasus-statistics prints it: `1 min, 56 secs`, `12.41 secs`, `0.0 sec`. */
export function formatDuration(seconds: number | null | undefined): string {
  const s = seconds ?? 0;
  if (!Number.isFinite(s) || s <= 0) return '0.0 sec';
  if (s < 60) {
    const r = Math.round(s * 100) / 100;
    return `${Number.isInteger(r) ? r.toFixed(1) : r} ${r === 1 ? 'sec' : 'secs'}`;
  }
  const [days, hrs, mins, secs] = daysHoursMinutesSeconds(s);
  const parts: string[] = [];
  const unit = (n: number, one: string, many: string) => {
    if (n > 0) parts.push(`${n} ${n === 1 ? one : many}`);
  };
  unit(days, 'day', 'days');
  unit(hrs, 'hr', 'hrs');
  unit(mins, 'min', 'mins');
  unit(secs, 'sec', 'secs');
  return parts.join(', ');
}

/** A table of left-aligned columns, padded to the widest cell (+ 2 spaces). */
export function formatTable(
  header: string[],
  rows: (string | number)[][],
  align: ('l' | 'r')[] = [],
): string {
  const cells = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, k) => Math.max(...cells.map((r) => (r[k] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, k) => (align[k] === 'r' ? c.padStart(widths[k]) : c.padEnd(widths[k])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Epoch seconds as local `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(t: number | null | undefined): string {
  if (t === null || t === undefined || !Number.isFinite(t)) return '-';
  const d = new Date(t * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

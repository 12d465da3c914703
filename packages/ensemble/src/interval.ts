import { EnsembleError } from './errors.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * A trigger interval or timeout as pegasus-em writes them: `<int><s|m|h|d>` (`30s`, `5m`, `2h`,
 * `1d`); a bare integer is seconds. Returns seconds (at least 1).
 */
export function parseInterval(what: string, text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  const n = m ? Number(m[1]) * UNIT_SECONDS[m[2] || 's'] : 0;
  if (!m || n < 1 || n > 366 * 86400)
    throw new EnsembleError(
      `${what} '${text}': expected a number and a unit s, m, h or d (e.g. 30s, 5m, 2h, 1d), at least 1 s`,
    );
  return n;
}

/** Seconds back to the shortest `<int><unit>` form. */
export function formatInterval(seconds: number): string {
  for (const [u, s] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds % s === 0) return `${seconds / s}${u}`;
  return `${seconds}s`;
}

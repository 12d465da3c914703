import { progressBar } from '@pegasus-ts/io';
import type { Progress } from './engine.js';

/** `[run] 45/120 done (37.5%) | 4 running, 2 queued, 30 ready, 0 failed | 12.0 s`. */
export function progressLine(p: Progress): string {
  const pct = p.total ? (100 * p.succeeded) / p.total : 100;
  return (
    `${progressBar(pct / 100, 20)} ${p.succeeded}/${p.total} done (${pct.toFixed(1)}%) | ` +
    `${p.running} running, ${p.queued} queued, ${p.ready} ready, ${p.failed} failed | ${p.elapsed.toFixed(1)} s`
  );
}

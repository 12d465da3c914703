import { PlanError } from '../errors.js';

export type SiteSelector = 'random' | 'round-robin';

export interface SiteSelectionInput {
  /** number of jobs */
  count: number;
  /** candidate sites of job i, in the order of --sites; empty = cannot be mapped */
  candidates(i: number): readonly string[];
  /** a site the job is pinned to (selector profile `execution.site`), if any */
  pinned(i: number): string | undefined;
  /** level of job i (for round-robin) */
  level(i: number): number;
  /** a description of job i for errors (`FILE:LINE:COL: job "x"`) */
  describe(i: number): string;
}

/**
 * Site selection: for every job, one of its candidate sites. `random` picks uniformly (with
 * `random()`, default Math.random); `round-robin` keeps, per level, the sites sorted by how many
 * jobs they already got and gives each job the first one that can run it. A pinned job gets
 * its site (which must be a candidate). Throws PlanError for a job no site can run.
 */
export function selectSites(
  input: SiteSelectionInput,
  selector: SiteSelector = 'random',
  random: () => number = Math.random,
): string[] {
  const out = new Array<string>(input.count);
  const perLevel = new Map<number, Map<string, number>>();
  for (let i = 0; i < input.count; i++) {
    const cands = input.candidates(i);
    const pin = input.pinned(i);
    if (pin !== undefined) {
      if (!cands.includes(pin)) {
        throw new PlanError(
          `${input.describe(i)}: could not map the job to site "${pin}" (selector.execution.site; expected one of: ${cands.join(', ') || 'no site can run it'})`,
        );
      }
      out[i] = pin;
      continue;
    }
    if (cands.length === 0) {
      throw new PlanError(
        `${input.describe(i)}: could not map the job to any site (expected an installed or stageable transformation on one of the execution sites)`,
      );
    }
    if (cands.length === 1) {
      out[i] = cands[0];
      if (selector === 'round-robin') bump(perLevel, input.level(i), cands[0]);
      continue;
    }
    if (selector === 'random') {
      out[i] = cands[Math.min(cands.length - 1, Math.floor(random() * cands.length))];
    } else {
      const counts = perLevel.get(input.level(i)) ?? new Map<string, number>();
      let best = cands[0];
      let bestCount = counts.get(best) ?? 0;
      for (let k = 1; k < cands.length; k++) {
        const c = counts.get(cands[k]) ?? 0;
        if (c < bestCount) {
          best = cands[k];
          bestCount = c;
        }
      }
      out[i] = best;
      bump(perLevel, input.level(i), best);
    }
  }
  return out;
}

function bump(perLevel: Map<number, Map<string, number>>, level: number, site: string): void {
  let m = perLevel.get(level);
  if (!m) {
    m = new Map();
    perLevel.set(level, m);
  }
  m.set(site, (m.get(site) ?? 0) + 1);
}

/** A small deterministic PRNG (mulberry32) for reproducible random site selection. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

import type { ExecJobKind } from '@pegasus-ts/model';

/**
 * DAGMan job categories of Pegasus's auxiliary jobs; `dagman.<category>.maxjobs` limits how many
 * of a category run at once. Compute and cluster jobs are in no category (only dagman.maxjobs).
 */
export function categoryOf(kind: ExecJobKind): string | undefined {
  switch (kind) {
    case 'stage-in':
      return 'stagein';
    case 'stage-out':
      return 'stageout';
    case 'inter-site':
      return 'stageinter';
    case 'create-dir':
      return 'createdir';
    case 'cleanup':
      return 'cleanup';
    case 'registration':
      return 'registration';
    default:
      return undefined;
  }
}

/** Pegasus writes these MAXJOBS lines into every .dag unless the properties say otherwise. */
export const DEFAULT_CATEGORY_LIMITS: Readonly<Record<string, number>> = {
  stagein: 10,
  stageout: 10,
  cleanup: 4,
  registration: 1,
};

/** Limits on jobs in flight: total (`dagman.maxjobs`, 0 = none) and per category. */
export class Throttles {
  private readonly running = new Map<string, number>();
  private total = 0;

  constructor(
    readonly maxJobs: number,
    readonly categoryLimits: ReadonlyMap<string, number>,
  ) {}

  /**
   * From properties: `dagman.maxjobs` and `dagman.<category>.maxjobs` (0 = unlimited).
   * `get` returns a property's value or undefined.
   */
  static fromProperties(get: (key: string) => string | undefined): Throttles {
    const num = (key: string, dflt: number): number => {
      const v = get(key);
      if (v === undefined || v.trim() === '') return dflt;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0)
        throw new RangeError(`property ${key}=${v} (expected an integer >= 0)`);
      return n;
    };
    const limits = new Map<string, number>();
    for (const c of ['stagein', 'stageout', 'stageinter', 'createdir', 'cleanup', 'registration']) {
      const n = num(`dagman.${c}.maxjobs`, DEFAULT_CATEGORY_LIMITS[c] ?? 0);
      if (n > 0) limits.set(c, n);
    }
    return new Throttles(num('dagman.maxjobs', 0), limits);
  }

  allows(category: string | undefined): boolean {
    if (this.maxJobs > 0 && this.total >= this.maxJobs) return false;
    if (category === undefined) return true;
    const limit = this.categoryLimits.get(category);
    return limit === undefined || (this.running.get(category) ?? 0) < limit;
  }

  take(category: string | undefined): void {
    this.total++;
    if (category !== undefined) this.running.set(category, (this.running.get(category) ?? 0) + 1);
  }

  release(category: string | undefined): void {
    if (this.total > 0) this.total--;
    if (category !== undefined) {
      const n = this.running.get(category) ?? 0;
      this.running.set(category, n > 0 ? n - 1 : 0);
    }
  }
}

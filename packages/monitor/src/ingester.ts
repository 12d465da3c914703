import { statSync } from 'node:fs';
import { type Db, dbPath, openDatabase } from './database.js';
import { MonitorError } from './errors.js';
import { addStats, emptyStats, type IngestStats } from './ingest-stats.js';
import { ingestClusterRecords } from './internal/cluster-records-ingest.js';
import { IngestContext } from './internal/ingest-context.js';
import { ingestJobRecords } from './internal/job-records-ingest.js';
import { ingestJobstate } from './internal/jobstate-ingest.js';
import { ingestPlan } from './internal/plan-ingest.js';

export type { IngestStats } from './ingest-stats.js';
export { rawStatus } from './raw-status.js';

export interface IngesterOptions {
  /** the database file (default: SUBMIT_DIR/workflow.db) */
  dbPath?: string;
  /** bytes read per transaction from an append-only file (default 16 MB) */
  chunkBytes?: number;
  /**
   * seconds a cluster's record file must have been quiet before its last record is read while
   * its job still runs (default 2): the runner may be in the middle of appending it
   */
  quietSeconds?: number;
}

export interface Watcher {
  /** stops polling, runs one last pass and resolves with the totals of all passes */
  stop(): Promise<IngestStats>;
}

/**
 * Feeds the monitor database from a submit dir's files, incrementally: plan.yml and
 * braindump.yml once (workflow, jobs, tasks, edges, files), then jobstate.log and the record
 * files (invocations/JOB.NNN.yml, clusters/JOB.dag.invocations.yml) from where the last pass
 * stopped. The byte offset of each file is committed in the same transaction as the rows read
 * from it, and a partly written last line or record is left for the next pass, so passes (and
 * restarts of the engine, of this process, or two processes at once) neither repeat nor lose
 * rows. The parts of a pass are in internal/: plan-ingest, jobstate-ingest, job-records-ingest,
 * cluster-records-ingest.
 */
export class Ingester {
  readonly db: Db;
  private readonly cx: IngestContext;

  constructor(
    readonly submitDir: string,
    options: IngesterOptions = {},
  ) {
    let isDir = false;
    try {
      isDir = statSync(submitDir).isDirectory();
    } catch {}
    if (!isDir) throw new MonitorError(`${submitDir}: no such submit directory`);
    const chunk = options.chunkBytes ?? 16 << 20;
    if (!Number.isInteger(chunk) || chunk < 4096 || chunk > 1 << 30) {
      throw new MonitorError(`chunkBytes ${chunk}: expected an integer from 4096 to 2^30`);
    }
    const quiet = options.quietSeconds ?? 2;
    this.db = openDatabase(options.dbPath ?? dbPath(submitDir));
    this.cx = new IngestContext(this.db, submitDir, chunk, quiet);
  }

  /** One pass over the submit dir's files. */
  async ingest(): Promise<IngestStats> {
    const t0 = performance.now();
    const stats = emptyStats();
    const cx = this.cx;
    ingestPlan(cx, stats);
    await ingestJobstate(cx, stats);
    await ingestJobRecords(cx, stats);
    await ingestClusterRecords(cx, stats);
    stats.ms = performance.now() - t0;
    return stats;
  }

  /**
   * Runs a pass every `intervalMs` (default 250) until `stop()`, which runs one last pass.
   * Errors of a pass go to `onError` (default: thrown away) and the next pass tries again.
   */
  watch(options: { intervalMs?: number; onError?: (err: unknown) => void } = {}): Watcher {
    const interval = options.intervalMs ?? 250;
    if (!Number.isFinite(interval) || interval < 10 || interval > 3_600_000) {
      throw new MonitorError(`intervalMs ${interval}: expected a number from 10 to 3600000`);
    }
    const total = emptyStats();
    let stopping = false;
    let wake: (() => void) | undefined;
    const loop = (async () => {
      while (!stopping) {
        try {
          addStats(total, await this.ingest());
        } catch (err) {
          options.onError?.(err);
        }
        if (stopping) break;
        await new Promise<void>((r) => {
          const timer = setTimeout(r, interval);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        wake = undefined;
      }
    })();
    return {
      stop: async () => {
        stopping = true;
        wake?.();
        await loop;
        addStats(total, await this.ingest());
        return total;
      },
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** One ingest pass over a submit dir (opens and closes the database). */
export async function ingest(submitDir: string, options: IngesterOptions = {}): Promise<IngestStats> {
  const ing = new Ingester(submitDir, options);
  try {
    return await ing.ingest();
  } finally {
    ing.close();
  }
}

import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { readPlanFile, SUBMIT_FILES } from '@pegasus-ts/model';
import type { Db } from './database.js';
import { openMonitor } from './open-monitor.js';

/** A sub-workflow job and the submit dir of its sub-workflow. */
export interface SubWorkflowDir {
  job: string;
  dir: string;
}

/**
 * The sub-workflows of the workflow in `submitDir` that are planned (their submit dir holds a
 * plan.yml), in plan order. plan.yml is read (its `subWorkflow` fields only) when the database
 * knows sub-workflow jobs; otherwise nothing is read.
 */
export function subWorkflowDirs(db: Db, submitDir: string): SubWorkflowDir[] {
  const n = db.prepare("SELECT count(*) AS n FROM job WHERE type_desc = 'sub-workflow'").get() as {
    n: number;
  };
  if (n.n === 0) return [];
  const out: SubWorkflowDir[] = [];
  readPlanFile(join(submitDir, SUBMIT_FILES.plan), {
    fields: new Set(['subWorkflow']),
    header() {},
    job(j) {
      if (j.kind !== 'sub-workflow' || !j.subWorkflow) return;
      const dir = isAbsolute(j.subWorkflow) ? j.subWorkflow : join(submitDir, j.subWorkflow);
      if (existsSync(join(dir, SUBMIT_FILES.plan))) out.push({ job: j.name, dir });
    },
    edge() {},
    reset() {
      out.length = 0;
    },
  });
  return out;
}

/**
 * Calls `fn` on each planned sub-workflow of `submitDir` with its database (brought up to date
 * first, as status and analyzer do for the top level), closing it afterwards. `seen` holds the
 * submit dirs above (a pre-planned sub-workflow naming an ancestor is skipped, not followed).
 */
export async function mapSubWorkflows<T>(
  db: Db,
  submitDir: string,
  fn: (sub: SubWorkflowDir, db: Db, seen: ReadonlySet<string>) => Promise<T>,
  seen: ReadonlySet<string> = new Set([resolve(submitDir)]),
): Promise<T[]> {
  const out: T[] = [];
  for (const sub of subWorkflowDirs(db, submitDir)) {
    const key = resolve(sub.dir);
    if (seen.has(key)) continue;
    const { db: subDb } = await openMonitor(sub.dir);
    try {
      out.push(await fn(sub, subDb, new Set([...seen, key])));
    } finally {
      subDb.close();
    }
  }
  return out;
}

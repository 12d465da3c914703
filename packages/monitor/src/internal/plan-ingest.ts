import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SUBMIT_FILES } from '@pegasus-ts/model';
import { readClusterDag } from '../cluster-dag-reader.js';
import { MonitorError } from '../errors.js';
import type { IngestStats } from '../ingest-stats.js';
import { type PlanJob, readPlan } from '../plan-reader.js';
import type { IngestContext } from './ingest-context.js';
import { WF } from './ingest-statements.js';

/**
 * plan.yml and braindump.yml, once (flag meta.plan): the workflow row, the jobs with their tasks
 * (a clustered job's from its .dag file) and files, and the edges, in one transaction.
 */
export function ingestPlan(cx: IngestContext, stats: IngestStats): void {
  if (cx.st.meta.get('plan')) return;
  const db = cx.db;
  db.exec('BEGIN IMMEDIATE');
  try {
    if (cx.st.meta.get('plan')) {
      db.exec('COMMIT');
      return;
    }
    const bd = readBraindump(cx.submitDir);
    const planFile = join(cx.submitDir, bd.plan ?? SUBMIT_FILES.plan);
    let isFile = false;
    try {
      isFile = statSync(planFile).isFile();
    } catch {}
    if (!isFile)
      throw new MonitorError(`${cx.submitDir}: not a submit directory (no ${bd.plan ?? SUBMIT_FILES.plan})`);
    let jobs = 0;
    let tasks = 0;
    let edges = 0;
    readPlan(
      planFile,
      {
        header: (h) => {
          db.prepare(
            `INSERT INTO workflow (wf_id, wf_uuid, dag_file_name, timestamp, submit_hostname, submit_dir,
               planner_arguments, user, planner_version, dax_label, dax_version, dax_file, root_wf_id,
               job_count, edge_count)
             VALUES (${WF}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${WF}, ?, ?)`,
          ).run(
            bd.wf_uuid ?? h.wfUuid,
            bd.plan ?? SUBMIT_FILES.plan,
            bd.timestamp ?? h.timestamp,
            bd.submit_hostname ?? null,
            bd.submit_dir ?? h.submitDir,
            bd.planner_arguments ?? null,
            bd.user ?? null,
            bd.planner_version ?? null,
            bd.dax_label ?? h.label,
            bd.dax_version ?? null,
            bd.dax ?? h.workflow,
            h.jobCount,
            h.edgeCount,
          );
        },
        job: (j) => {
          tasks += insertPlanJob(cx, j);
          jobs++;
        },
        edge: (p, c) => {
          cx.st.insertEdge.run(p, c);
          edges++;
        },
      },
      () => {
        db.exec(
          'DELETE FROM workflow; DELETE FROM job; DELETE FROM task; DELETE FROM job_edge; DELETE FROM files;',
        );
        jobs = tasks = edges = 0;
      },
    );
    db.prepare(
      `UPDATE workflow SET task_count = ?, job_count = coalesce(nullif(job_count, 0), ?),
         edge_count = coalesce(nullif(edge_count, 0), ?) WHERE wf_id = ${WF}`,
    ).run(tasks, jobs, edges);
    cx.st.setMeta.run('plan', planFile);
    db.exec('COMMIT');
    stats.planJobs += jobs;
    stats.tasks += tasks;
    stats.edges += edges;
  } catch (err) {
    cx.rollback();
    throw err;
  }
}

function readBraindump(submitDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  let text: string;
  try {
    text = readFileSync(join(submitDir, SUBMIT_FILES.braindump), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {}
    }
    out[m[1]] = v;
  }
  return out;
}

/** Inserts a job of plan.yml with its tasks and files; returns its task count. */
function insertPlanJob(cx: IngestContext, j: PlanJob): number {
  const clustered = j.kind === 'cluster' ? 1 : 0;
  const exe = j.command[0] ?? null;
  const info = cx.st.insertJob.run(
    j.name,
    j.kind,
    j.site,
    clustered,
    j.retries,
    j.transformation,
    exe,
    JSON.stringify(j.command.slice(1)),
    0,
    null,
    j.dag ?? null,
    j.cores,
  );
  const jobId = Number(info.lastInsertRowid);
  let first: number | null = null;
  let count = 0;
  const addTask = (index: number, absId: string, name: string, tr: string, argv: string) => {
    const r = cx.st.insertTask.run(jobId, index, absId, name, tr, argv, 'compute');
    if (first === null) first = Number(r.lastInsertRowid);
    count++;
  };
  if (clustered) {
    const n = j.dag
      ? readClusterDag(join(cx.submitDir, j.dag), (t) =>
          addTask(t.index, t.abstractId, t.name, t.transformation, t.command),
        )
      : -1;
    if (n < 0 && j.tasks) {
      for (let k = 0; k < j.tasks.length; k++) addTask(k + 1, j.tasks[k], j.tasks[k], '', '');
    }
  } else if (j.kind === 'compute') {
    addTask(1, j.id ?? j.name, j.name, j.transformation, JSON.stringify(j.command));
  }
  if (count > 0) cx.st.updateJobTasks.run(count, first, jobId);
  for (const f of j.inputs) cx.st.insertFile.run(jobId, f, 'input');
  for (const f of j.outputs) cx.st.insertFile.run(jobId, f, 'output');
  return count;
}

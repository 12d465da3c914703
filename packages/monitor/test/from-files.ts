// What a run did, counted straight from the files the engine and the cluster runner wrote
// (plan.yml, jobstate.log, invocations/, clusters/*.invocations.yml, jobs/*.out.NNN), with the
// `yaml` package and plain string handling: nothing of the monitor is used, so the tests compare
// the monitor's numbers with an independent count.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

interface PlanJob {
  name: string;
  kind: string;
  dag?: string;
  tasks?: string[];
  retries: number;
}

interface KsRecord {
  duration: number;
  derivation?: string;
  transformation?: string;
  mainjob: { status: { raw: number } };
}

export interface FromFiles {
  jobs: string[];
  kind: Map<string, string>;
  /** status columns (the workflow has ended) */
  done: number;
  failed: number;
  ready: number;
  unready: number;
  unsubmitted: number;
  /** attempts (SUBMIT lines) and retries (attempts beyond each job's first) */
  attempts: number;
  jobRetries: number;
  /** per job: highest seq, and the last event */
  lastSeq: Map<string, number>;
  lastEvent: Map<string, string>;
  /** the JOB_SUCCESS/JOB_FAILURE/... line of each attempt: `job#seq` -> [event, exit, duration] */
  verdict: Map<string, [string, number, number]>;
  tasks: { total: number; succeeded: number; failed: number; tries: number };
  /** seconds */
  wallTime: number;
  engineStarts: number;
  cumulative: number;
  submitSide: number;
  badputSubmitSide: number;
  /** kickstart-side badput, from the runner's `runtime=` of failed cluster attempts and failed job records */
  badput: number;
  /** cluster job -> tasks tried in each attempt (`submitted=` of the runner's cluster-summary) */
  clusterTries: Map<string, number[]>;
  /** transformation -> [records, succeeded, failed] over all records */
  byTransformation: Map<string, [number, number, number]>;
}

function records(path: string): KsRecord[] {
  const text = readFileSync(path, 'utf8');
  return (parse(text) as KsRecord[] | null) ?? [];
}

export function fromFiles(submitDir: string): FromFiles {
  const plan = parse(readFileSync(join(submitDir, 'plan.yml'), 'utf8')) as {
    jobs: PlanJob[];
    edges: [string, string][];
  };
  const jobs = plan.jobs.map((j) => j.name);
  const kind = new Map(plan.jobs.map((j) => [j.name, j.kind]));
  const lines = readFileSync(join(submitDir, 'jobstate.log'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' '));
  const lastSeq = new Map<string, number>();
  const lastEvent = new Map<string, string>();
  const verdict = new Map<string, [string, number, number]>();
  let attempts = 0;
  let submitSide = 0;
  let badputSubmitSide = 0;
  let wallTime = 0;
  let engineStarts = 0;
  let open: number | null = null;
  for (const f of lines) {
    const t = Number(f[0]);
    if (f[1] === 'INTERNAL') {
      if (f[3] === 'DAGMAN_STARTED') {
        engineStarts++;
        open = t;
      } else if (f[3] === 'DAGMAN_FINISHED' && open !== null) {
        wallTime += t - open;
        open = null;
      }
      continue;
    }
    const [name, event, f4, , f6, seq] = [f[1], f[2], f[3], f[4], f[5], Number(f[6])];
    lastSeq.set(name, Math.max(lastSeq.get(name) ?? 0, seq));
    lastEvent.set(name, event);
    if (event === 'SUBMIT') attempts++;
    if (['JOB_SUCCESS', 'JOB_FAILURE', 'JOB_ABORTED', 'JOB_EVICTED'].includes(event)) {
      verdict.set(`${name}#${seq}`, [event, Number(f4), Number(f6)]);
      submitSide += Number(f6);
      if (event === 'JOB_FAILURE') badputSubmitSide += Number(f6);
    }
  }
  const done = jobs.filter((j) => lastEvent.get(j) === 'POST_SCRIPT_SUCCESS').length;
  const failed = jobs.filter((j) => lastEvent.get(j) === 'POST_SCRIPT_FAILURE').length;
  const unsubmittedJobs = jobs.filter((j) => !lastEvent.has(j));
  const parents = new Map<string, string[]>(jobs.map((j) => [j, []]));
  for (const [p, c] of plan.edges) parents.get(c)?.push(p);
  const ready = unsubmittedJobs.filter((j) =>
    (parents.get(j) ?? []).every((p) => lastEvent.get(p) === 'POST_SCRIPT_SUCCESS'),
  ).length;

  // task records: compute jobs' kickstart records, the clustered jobs' task records
  const taskOk = new Map<string, boolean>();
  let tries = 0;
  let cumulative = 0;
  let badput = 0;
  const byTransformation = new Map<string, [number, number, number]>();
  const count = (tr: string, ok: boolean) => {
    const c = byTransformation.get(tr) ?? [0, 0, 0];
    c[0]++;
    c[ok ? 1 : 2]++;
    byTransformation.set(tr, c);
  };
  let totalTasks = 0;
  const clusterTries = new Map<string, number[]>();
  const invDir = join(submitDir, 'invocations');
  for (const j of plan.jobs) {
    if (j.kind === 'cluster') {
      totalTasks += j.tasks?.length ?? 0;
      const trOf = new Map<string, string>();
      const dag = readFileSync(join(submitDir, j.dag as string), 'utf8');
      for (const m of dag.matchAll(/^#@ (\d+) (\S+)/gm)) trOf.set(m[1], m[2]);
      const file = join(submitDir, `${j.dag}.invocations.yml`);
      if (existsSync(file)) {
        for (const r of records(file)) {
          const ok = r.mainjob.status.raw === 0;
          const key = `${j.name}#${r.derivation}`;
          taskOk.set(key, (taskOk.get(key) ?? false) || ok);
          tries++;
          cumulative += r.duration;
          count(trOf.get(String(r.derivation)) ?? '?', ok);
        }
      }
      const per: number[] = [];
      for (let seq = 1; seq <= (lastSeq.get(j.name) ?? 0); seq++) {
        const out = join(submitDir, `jobs/${j.name}.out.${String(seq - 1).padStart(3, '0')}`);
        const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
        const m = /\[cluster-summary [^\]]*submitted=(\d+)[^\]]*runtime=([\d.]+)/.exec(text);
        per.push(m ? Number(m[1]) : 0);
        if (m && verdict.get(`${j.name}#${seq}`)?.[0] === 'JOB_FAILURE') badput += Number(m[2]);
      }
      clusterTries.set(j.name, per);
    } else if (j.kind === 'compute') totalTasks++;
  }
  for (const f of readdirSync(invDir)) {
    const m = /^(.+)\.(\d{3})\.yml$/.exec(f);
    if (!m) continue;
    for (const r of records(join(invDir, f))) {
      const ok = r.mainjob.status.raw === 0;
      if (kind.get(m[1]) === 'cluster') {
        count(r.transformation ?? '?', ok); // the runner's own record: not a task, not counted again
        continue;
      }
      cumulative += r.duration;
      count(r.transformation ?? '?', ok);
      if (verdict.get(`${m[1]}#${Number(m[2]) + 1}`)?.[0] === 'JOB_FAILURE') badput += r.duration;
      if (kind.get(m[1]) === 'compute') {
        tries++;
        taskOk.set(m[1], (taskOk.get(m[1]) ?? false) || ok);
      }
    }
  }
  const succeeded = [...taskOk.values()].filter((v) => v).length;
  return {
    jobs,
    kind,
    done,
    failed,
    ready,
    unready: unsubmittedJobs.length - ready,
    unsubmitted: unsubmittedJobs.length,
    attempts,
    jobRetries: attempts - lastSeq.size,
    lastSeq,
    lastEvent,
    verdict,
    tasks: { total: totalTasks, succeeded, failed: taskOk.size - succeeded, tries },
    wallTime,
    engineStarts,
    cumulative,
    submitSide,
    badputSubmitSide,
    badput,
    clusterTries,
    byTransformation,
  };
}

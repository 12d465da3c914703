import { isAbsolute, join } from 'node:path';
import { liteSpecPath } from '@pegasus-ts/model';
import type { Attempt } from './backend.js';
import type { PlanJob } from './plan-file.js';

/** How the engine starts `pegasus-ts` (e.g. `[process.execPath, '/…/pegasus-ts.js']`). */
export type PegasusTsCommand = readonly string[];

/** The directory a job runs in: its work dir (sharedfs) or else the submit dir. */
export function jobDirectory(job: PlanJob, submitDir: string): string {
  return job.directory ?? submitDir;
}

/** Whether a job runs in a scratch dir of its own (a compute job of a nonsharedfs or condorio site). */
export function inScratch(job: PlanJob): boolean {
  return (
    job.kind === 'compute' &&
    (job.dataConfiguration === 'nonsharedfs' || job.dataConfiguration === 'condorio')
  );
}

/**
 * What a compute job runs: its command, or for a job without a shared filesystem
 * (`dataConfiguration: nonsharedfs` or `condorio`) `pegasus-ts lite --spec lite/NAME.json -- command`, which
 * makes it a scratch dir, stages its inputs in from and its outputs back to the staging site.
 */
export function jobCommand(pegasusTs: PegasusTsCommand, job: PlanJob, submitDir: string): string[] {
  if (!inScratch(job)) return job.command;
  return [...pegasusTs, 'lite', '--spec', join(submitDir, liteSpecPath(job.name)), '--', ...job.command];
}

/**
 * `pegasus-ts kickstart ... -- app...` for one attempt: the record goes to the attempt's record
 * file, the application's stdout/stderr to the job's stdout/stderr files (or to the job's own
 * `stdout:`/`stderr:` file in its directory when the plan names one).
 */
export function kickstartArgv(
  pegasusTs: PegasusTsCommand,
  attempt: Attempt,
  label: string,
  submitDir: string,
  app: readonly string[],
  cwd?: string,
): string[] {
  const { job, paths } = attempt;
  const dir = cwd ?? jobDirectory(job, submitDir);
  const inDir = (f: string): string => (isAbsolute(f) ? f : join(dir, f));
  const argv = [...pegasusTs, 'kickstart', '-R', job.site, '-L', label, '-l', paths.record];
  if (job.transformation) argv.push('-n', job.transformation);
  argv.push('-N', job.id ?? job.name);
  // a job in a scratch dir has its named stdio files there (`pegasus-ts lite` connects them)
  const own = !inScratch(job);
  argv.push('-o', own && job.stdout ? inDir(job.stdout) : paths.stdout);
  argv.push('-e', own && job.stderr ? inDir(job.stderr) : paths.stderr);
  if (own && job.stdin) argv.push('-i', inDir(job.stdin));
  argv.push('-W', dir, '--', ...app);
  return argv;
}

/** The job's environment: the engine's plus the job's `env` profiles. */
export function jobEnv(job: PlanJob, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = job.profiles.env;
  if (!env) return base;
  const out: NodeJS.ProcessEnv = { ...base };
  for (const [k, v] of Object.entries(env)) out[k] = String(v);
  return out;
}

import { join } from 'node:path';
import { type Checksum, getProfile, liteSpecPath } from '@pegasus-ts/model';
import type { ExecJob } from '../executable-workflow.js';

/** A source or destination in a lite spec (the transfer spec's `{site_label, url}`). */
interface LiteUrl {
  site_label: string;
  url: string;
  checksum?: Checksum;
}

/** The lite spec the planner writes for a job run in a scratch dir (packages/transfer/README.md). */
export interface LiteSpecJson {
  job: string;
  scratch?: string;
  inputs: { lfn: string; src_urls: LiteUrl[]; symlink?: boolean; executable?: boolean }[];
  outputs: { lfn: string; dest_urls: LiteUrl[] }[];
  checkpoints?: { lfn: string; dest_urls: LiteUrl[] }[];
  termAfter?: number;
  killAfter?: number;
  threads?: number;
  stdin?: string;
  stdout?: string;
  stderr?: string;
}

/** Whether a compute job (or a clustered task) runs in a scratch dir of its own. */
export function runsInScratch(job: ExecJob): boolean {
  return job.kind === 'compute' && job.stagingUrl !== undefined;
}

/**
 * The lite spec of a compute job without a shared filesystem: every input pulled from the
 * staging site's work dir, every output pushed back there (stage-out jobs take them further).
 */
export function liteSpecOf(job: ExecJob): LiteSpecJson {
  const site = job.stagingSite ?? job.site;
  const base = (job.stagingUrl ?? '').replace(/\/+$/, '');
  const spec: LiteSpecJson = {
    job: job.name,
    inputs: job.inputs.map((lfn) => {
      const direct = job.directSources?.get(lfn);
      if (!direct) {
        const staged: LiteSpecJson['inputs'][number] = {
          lfn,
          src_urls: [{ site_label: site, url: `${base}/${lfn}` }],
        };
        // staging site and execution site are one machine: link (pegasus.transfer.links)
        if (job.links && site === job.site && base.startsWith('file:')) staged.symlink = true;
        // a stageable executable, run as ./LFN in the scratch dir
        if (job.argv[0] === `./${lfn}`) staged.executable = true;
        return staged;
      }
      const input: LiteSpecJson['inputs'][number] = {
        lfn,
        src_urls: direct.map((d) =>
          d.checksum
            ? { site_label: d.site, url: d.url, checksum: d.checksum }
            : { site_label: d.site, url: d.url },
        ),
      };
      // a replica on the execution site itself is linked, not copied (pegasus.transfer.links)
      if (job.links && direct[0].site === job.site && direct[0].url.startsWith('file:')) input.symlink = true;
      return input;
    }),
    outputs: job.outputs
      .filter((lfn) => !job.checkpoints?.includes(lfn))
      .map((lfn) => ({ lfn, dest_urls: [{ site_label: site, url: `${base}/${lfn}` }] })),
  };
  if (job.checkpoints) {
    spec.checkpoints = job.checkpoints.map((lfn) => ({
      lfn,
      dest_urls: [{ site_label: site, url: `${base}/${lfn}` }],
    }));
  }
  // pegasus checkpoint.time: SIGTERM then (the task writes its checkpoint); maxwalltime: SIGKILL
  const minutes = (key: string): number | undefined => {
    const v = getProfile(job.profiles, 'pegasus', key);
    const n = Number(v);
    return v !== undefined && n > 0 ? n * 60 : undefined;
  };
  const term = minutes('checkpoint.time');
  const kill = minutes('maxwalltime');
  if (term !== undefined) spec.termAfter = term;
  if (kill !== undefined) spec.killAfter = kill;
  // pegasus transfer.threads: files moved at once each way (a bad value is the data movement pass's error)
  const threads = Number(getProfile(job.profiles, 'pegasus', 'transfer.threads'));
  if (Number.isInteger(threads) && threads >= 1 && threads <= 1024) spec.threads = threads;
  if (job.scratchRoot) spec.scratch = job.scratchRoot;
  if (job.stdin !== undefined) spec.stdin = job.stdin;
  if (job.stdout !== undefined) spec.stdout = job.stdout;
  if (job.stderr !== undefined) spec.stderr = job.stderr;
  return spec;
}

/** The lite spec as written: JSON, one input or output per line. */
export function liteSpecText(spec: LiteSpecJson): string {
  const list = (items: readonly unknown[]): string =>
    items.length === 0 ? '[]' : `[\n    ${items.map((i) => JSON.stringify(i)).join(',\n    ')}\n  ]`;
  let s = `{\n  "job": ${JSON.stringify(spec.job)},\n`;
  if (spec.scratch) s += `  "scratch": ${JSON.stringify(spec.scratch)},\n`;
  for (const k of ['termAfter', 'killAfter', 'threads', 'stdin', 'stdout', 'stderr'] as const) {
    if (spec[k] !== undefined) s += `  "${k}": ${JSON.stringify(spec[k])},\n`;
  }
  if (spec.checkpoints) s += `  "checkpoints": ${list(spec.checkpoints)},\n`;
  return `${s}  "inputs": ${list(spec.inputs)},\n  "outputs": ${list(spec.outputs)}\n}\n`;
}

/**
 * A clustered job as its .dag is written: each task run in a scratch dir becomes
 * `pegasus-ts lite --spec <submit dir>/lite/NAME.json -- EXE ARGS` (the cluster runner does that
 * work in its worker; another runner starts the program).
 */
export function withLiteTasks(job: ExecJob, submitDir: string): ExecJob {
  if (!job.tasks?.some(runsInScratch)) return job;
  const tasks = job.tasks.map((t) =>
    runsInScratch(t)
      ? {
          ...t,
          argv: ['pegasus-ts', 'lite', '--spec', join(submitDir, liteSpecPath(t.name)), '--', ...t.argv],
        }
      : t,
  );
  return { ...job, tasks };
}

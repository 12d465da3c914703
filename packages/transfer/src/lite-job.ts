import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpecError } from './errors.js';
import { describeError } from './internal/fs-errors.js';
import type { TransferOptions } from './options.js';
import { failureLine, type TransferReport } from './report.js';
import { runTransfers } from './run-transfers.js';
import { type SpecUrl, type TransferEntry, validateSpec } from './spec.js';

// A job run where no filesystem is shared with its staging site (Pegasus's PegasusLite): a fresh
// scratch dir, inputs pulled from the staging site, the task run there, outputs pushed back, the
// scratch dir removed. The spec is what the planner writes for each such job.

/** A file a lite job pulls into its scratch dir: sources in the order to try. */
export interface LiteInput {
  lfn: string;
  src_urls: SpecUrl[];
  /** symlink the file into the scratch dir (the source is on this machine), falling back to a copy */
  symlink?: boolean;
  /** a staged executable: made executable (0755) once in the scratch dir */
  executable?: boolean;
}

/** A file a lite job pushes from its scratch dir to one destination. */
export interface LiteOutput {
  lfn: string;
  dest_urls: SpecUrl[];
}

/** The lite spec (JSON; see README.md). */
export interface LiteSpec {
  /** the job (in messages) */
  job: string;
  /** where scratch dirs are made (default: $TMPDIR or the system's temp dir) */
  scratch?: string;
  inputs: LiteInput[];
  outputs: LiteOutput[];
  /**
   * checkpoint files: pulled in when the staging site has them (a retry resumes), pushed back
   * whenever the task ends, also when it failed or was stopped
   */
  checkpoints?: LiteOutput[];
  /** seconds after which the task gets SIGTERM (pegasus `checkpoint.time`) */
  termAfter?: number;
  /** seconds after which the task gets SIGKILL (pegasus `maxwalltime`) */
  killAfter?: number;
  /** how many files move at once each way (pegasus `transfer.threads`; default: the `jobs` option) */
  threads?: number;
  /** files of the scratch dir the task's stdin, stdout and stderr are connected to (lfns) */
  stdin?: string;
  stdout?: string;
  stderr?: string;
}

/** What a lite job did. */
export interface LiteResult {
  /** the task's exit code; 1 when inputs or outputs failed to move */
  exitCode: number;
  /** the scratch dir the task ran in (gone when the job ended) */
  scratchDir: string;
  stageIn?: TransferReport;
  stageOut?: TransferReport;
}

function fileUrl(dir: string, lfn: string): string {
  return `file://${join(dir, lfn)}`;
}

/** An lfn must name a path inside the scratch dir: relative, without `..` segments. */
function checkLfn(file: string, where: string, lfn: unknown): string {
  if (typeof lfn !== 'string' || lfn === '') {
    throw new SpecError(`${file}: ${where}: is ${JSON.stringify(lfn)} (expected a non-empty string)`);
  }
  if (lfn.startsWith('/') || lfn.split('/').includes('..')) {
    throw new SpecError(
      `${file}: ${where}: "${lfn}" leaves the scratch dir (expected a relative path without "..")`,
    );
  }
  return lfn;
}

/** The transfer entries that pull a spec's inputs into `scratchDir`. */
export function stageInEntries(spec: LiteSpec, scratchDir: string, links = true): TransferEntry[] {
  return spec.inputs.map((i) => ({
    type: 'transfer',
    lfn: i.lfn,
    linkage: 'input',
    src_urls: i.src_urls,
    dest_urls: [
      {
        site_label: 'scratch',
        url: links && i.symlink ? `symlink://${join(scratchDir, i.lfn)}` : fileUrl(scratchDir, i.lfn),
      },
    ],
  }));
}

/** The transfer entries that push a spec's outputs from `scratchDir`. */
export function stageOutEntries(spec: LiteSpec, scratchDir: string): TransferEntry[] {
  return spec.outputs.map((o) => ({
    type: 'transfer',
    lfn: o.lfn,
    linkage: 'output',
    src_urls: [{ site_label: 'scratch', url: fileUrl(scratchDir, o.lfn) }],
    dest_urls: o.dest_urls,
  }));
}

/** Validates a parsed lite spec; `file` names it in errors (SpecError, one line). */
export function validateLiteSpec(value: unknown, file = 'lite spec'): LiteSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SpecError(`${file}: top level: is not an object (expected {"job", "inputs", "outputs"})`);
  }
  const v = value as Record<string, unknown>;
  if (typeof v.job !== 'string' || v.job === '') {
    throw new SpecError(`${file}: job: is ${JSON.stringify(v.job)} (expected the job's name)`);
  }
  if (v.scratch !== undefined && (typeof v.scratch !== 'string' || !v.scratch.startsWith('/'))) {
    throw new SpecError(`${file}: scratch: is ${JSON.stringify(v.scratch)} (expected an absolute path)`);
  }
  for (const key of ['inputs', 'outputs'] as const) {
    if (!Array.isArray(v[key])) {
      throw new SpecError(`${file}: ${key}: is ${JSON.stringify(v[key])} (expected an array)`);
    }
  }
  const inputs = v.inputs as Record<string, unknown>[];
  const outputs = v.outputs as Record<string, unknown>[];
  // the shapes of the URLs are the transfer spec's: check them as the entries they become
  const spec: LiteSpec = {
    job: v.job,
    inputs: inputs.map((i, k) => {
      const input: LiteInput = {
        lfn: checkLfn(file, `inputs[${k}].lfn`, i?.lfn),
        src_urls: i.src_urls as SpecUrl[],
      };
      if (i.symlink !== undefined && typeof i.symlink !== 'boolean') {
        throw new SpecError(
          `${file}: inputs[${k}].symlink: is ${JSON.stringify(i.symlink)} (expected true or false)`,
        );
      }
      if (i.symlink) input.symlink = true;
      if (i.executable !== undefined && typeof i.executable !== 'boolean') {
        throw new SpecError(
          `${file}: inputs[${k}].executable: is ${JSON.stringify(i.executable)} (expected true or false)`,
        );
      }
      if (i.executable) input.executable = true;
      return input;
    }),
    outputs: outputs.map((o, k) => ({
      lfn: checkLfn(file, `outputs[${k}].lfn`, o?.lfn),
      dest_urls: o.dest_urls as SpecUrl[],
    })),
  };
  if (typeof v.scratch === 'string') spec.scratch = v.scratch;
  const checked = (entries: TransferEntry[], key: string): TransferEntry[] => {
    try {
      return validateSpec(entries, file) as TransferEntry[];
    } catch (err) {
      if (err instanceof SpecError)
        throw new SpecError(err.message.replace(`${file}: [`, `${file}: ${key}[`));
      throw err;
    }
  };
  if (v.checkpoints !== undefined) {
    if (!Array.isArray(v.checkpoints)) {
      throw new SpecError(`${file}: checkpoints: is ${JSON.stringify(v.checkpoints)} (expected an array)`);
    }
    const entries = (v.checkpoints as Record<string, unknown>[]).map(
      (c, k): TransferEntry => ({
        type: 'transfer',
        lfn: checkLfn(file, `checkpoints[${k}].lfn`, c?.lfn),
        src_urls: [{ site_label: 'scratch', url: fileUrl('/scratch', String(c.lfn)) }],
        dest_urls: c.dest_urls as SpecUrl[],
      }),
    );
    spec.checkpoints = checked(entries, 'checkpoints').map((e) => ({ lfn: e.lfn, dest_urls: e.dest_urls }));
  }
  for (const key of ['termAfter', 'killAfter'] as const) {
    const n = v[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !(n > 0)) {
      throw new SpecError(`${file}: ${key}: is ${JSON.stringify(n)} (expected seconds > 0)`);
    }
    spec[key] = n;
  }
  if (v.threads !== undefined) {
    const n = v.threads;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1024) {
      throw new SpecError(`${file}: threads: is ${JSON.stringify(n)} (expected an integer from 1 to 1024)`);
    }
    spec.threads = n;
  }
  for (const key of ['stdin', 'stdout', 'stderr'] as const) {
    if (v[key] !== undefined) spec[key] = checkLfn(file, key, v[key]);
  }
  const ins = checked(stageInEntries(spec, '/scratch'), 'inputs');
  const outs = checked(stageOutEntries(spec, '/scratch'), 'outputs');
  spec.inputs = ins.map((e, k) => ({ ...spec.inputs[k], src_urls: e.src_urls }));
  spec.outputs = outs.map((e) => ({ lfn: e.lfn, dest_urls: e.dest_urls }));
  return spec;
}

/** Reads and validates a lite spec file (SpecError when unusable). */
export async function readLiteSpec(path: string): Promise<LiteSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SpecError(`cannot read the lite spec: ${describeError(err, path)} (expected a JSON file)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SpecError(`${path}: invalid JSON: ${(err as Error).message} (expected a lite job spec)`);
  }
  return validateLiteSpec(value, path);
}

/** Checkpoint files the staging site has (from an earlier attempt) into the scratch dir; missing ones are fine. */
async function pullCheckpoints(spec: LiteSpec, scratchDir: string, options: LiteOptions): Promise<void> {
  const entries: TransferEntry[] = (spec.checkpoints ?? []).map((c) => ({
    type: 'transfer',
    lfn: c.lfn,
    src_urls: c.dest_urls,
    dest_urls: [{ site_label: 'scratch', url: fileUrl(scratchDir, c.lfn) }],
  }));
  await runTransfers(entries, { ...options, attempts: 1, durable: false, log: () => {} });
}

/** Checkpoint files the task wrote back to the staging site (ones it did not write are skipped). */
async function pushCheckpoints(
  spec: LiteSpec,
  scratchDir: string,
  options: LiteOptions,
  log: (line: string) => void,
): Promise<void> {
  const present: LiteOutput[] = [];
  for (const c of spec.checkpoints ?? []) {
    if (await exists(join(scratchDir, c.lfn))) present.push(c);
  }
  const entries: TransferEntry[] = present.map((c) => ({
    type: 'transfer',
    lfn: c.lfn,
    linkage: 'output',
    src_urls: [{ site_label: 'scratch', url: fileUrl(scratchDir, c.lfn) }],
    dest_urls: c.dest_urls,
  }));
  const r = await runTransfers(entries, { ...options, log });
  for (const e of r.entries) if (!e.ok) log(`lite: ${spec.job}: checkpoint ${failureLine(e)}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface LiteOptions extends TransferOptions {
  /** scratch root when the spec names none (default $TMPDIR or the system's temp dir) */
  scratchRoot?: string;
  /** keep the scratch dir (for debugging) */
  keep?: boolean;
}

/**
 * Runs one lite job: makes `<scratch>/pegasus.XXXXXX` (and `<scratch>` when missing), pulls the inputs there, calls
 * `run(scratchDir, spec)` (which starts the task with that cwd, its stdio on the spec's `stdin`,
 * `stdout`, `stderr` files there, and resolves to its exit code), pushes
 * the outputs back when the task succeeded, and removes the scratch dir whatever happened. A
 * failed transfer is logged (one line per entry) and makes the exit code 1.
 */
export async function runLiteJob(
  spec: LiteSpec,
  run: (scratchDir: string, spec: LiteSpec) => Promise<number>,
  given: LiteOptions = {},
): Promise<LiteResult> {
  const options = spec.threads === undefined ? given : { ...given, jobs: spec.threads };
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = spec.scratch ?? options.scratchRoot ?? tmpdir();
  // the site's scratch root may not exist yet on a fresh node
  await mkdir(root, { recursive: true });
  const scratchDir = await mkdtemp(join(root, 'pegasus.'));
  const result: LiteResult = { exitCode: 1, scratchDir };
  try {
    if (spec.inputs.length > 0) {
      // copies into the scratch dir are not fsynced: the dir dies with the job anyway
      result.stageIn = await runTransfers(stageInEntries(spec, scratchDir), {
        ...options,
        durable: false,
        log,
      });
      const unlinked = result.stageIn.entries.filter((e) => !e.ok && spec.inputs[e.index].symlink);
      if (unlinked.length > 0) {
        // a symlink that could not be made: copy the file instead (Pegasus's fallback)
        const copies = stageInEntries(spec, scratchDir, false);
        const again = await runTransfers(
          unlinked.map((e) => copies[e.index]),
          { ...options, durable: false, log },
        );
        unlinked.forEach((e, k) => {
          result.stageIn!.entries[e.index] = { ...again.entries[k], index: e.index };
        });
        result.stageIn.failed = result.stageIn.entries.filter((e) => !e.ok).length;
        result.stageIn.succeeded = result.stageIn.total - result.stageIn.failed;
        result.stageIn.ok = result.stageIn.failed === 0;
      }
      if (!result.stageIn.ok) {
        for (const e of result.stageIn.entries)
          if (!e.ok) log(`lite: ${spec.job}: stage-in ${failureLine(e)}`);
        return result;
      }
    }
    for (const i of spec.inputs) {
      // never through a symlink: that would change the file it points to
      const path = join(scratchDir, i.lfn);
      if (i.executable && !(await lstat(path)).isSymbolicLink()) await chmod(path, 0o755);
    }
    if (spec.checkpoints?.length) await pullCheckpoints(spec, scratchDir, options);
    try {
      result.exitCode = await run(scratchDir, spec);
    } finally {
      if (spec.checkpoints?.length) await pushCheckpoints(spec, scratchDir, options, log);
    }
    if (result.exitCode !== 0 || spec.outputs.length === 0) return result;
    result.stageOut = await runTransfers(stageOutEntries(spec, scratchDir), { ...options, log });
    if (!result.stageOut.ok) {
      for (const e of result.stageOut.entries)
        if (!e.ok) log(`lite: ${spec.job}: stage-out ${failureLine(e)}`);
      result.exitCode = 1;
    }
    return result;
  } finally {
    if (!options.keep) await rm(scratchDir, { recursive: true, force: true });
  }
}

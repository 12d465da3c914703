// Real runs for the monitor's tests: the KOTO example (examples/koto) planned by `pegasus-ts
// plan` (local site, horizontal clustering) and run by the engine, `pegasus-ts run --foreground`,
// exactly as a user does. Nothing here writes a file the monitor reads: jobstate.log, the
// invocation records, the cluster runner's task records and the jobs' output are the engine's.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const BIN = join(ROOT, 'packages/cli/bin/pegasus-ts.js');

/** success; failure (one task fails every try: its clustered job fails 3 times, the run fails);
 * retry (that failed run, then the input fixed and a second `run`: a rescue run) */
export type Scenario = 'success' | 'failure' | 'retry';

/** The seed whose simulation fails (KOTO_FAIL_SEED) until the fix file exists. */
export const FAILING_SEED = 1003;
export const FAILING_TASK = 'sim_00003';
/** the clustered job holding sim_00003 (tasks sim_00000..sim_00004) */
export const FAILING_CLUSTER = 'merge_koto-koto-sim-1_0_PID1_ID1';
/** simulations of the example, and tasks per clustered job */
export const SIMULATIONS = 12;
export const CLUSTER_SIZE = 5;

export interface Run {
  /** the temp dir holding everything (remove it with cleanup) */
  dir: string;
  submitDir: string;
  /** exit code of each `pegasus-ts run --foreground` */
  exitCodes: number[];
  /** retry: a copy of the submit dir taken after the failed first run (a 'failure' run) */
  failedCopy?: string;
  cleanup(): void;
}

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

export function pegasusTs(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Exec> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

/** Writes the KOTO workflow into a fresh temp dir and plans it; returns the dir and submit dir. */
export async function planExample(prefix: string): Promise<{ dir: string; submitDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    await new Promise<void>((res, rej) => {
      const c = spawn(
        process.execPath,
        [
          join(ROOT, 'examples/koto/build-workflow.mjs'),
          '--jobs',
          String(SIMULATIONS),
          '--out',
          dir,
          '--site',
          'local',
          '--cluster-size',
          String(CLUSTER_SIZE),
        ],
        { stdio: 'ignore' },
      );
      c.on('close', (code) => (code === 0 ? res() : rej(new Error(`build-workflow exited ${code}`))));
    });
    const p = await pegasusTs(
      [
        'plan',
        '--dir',
        join(dir, 'submit'),
        '--relative-dir',
        'run0001',
        '--sites',
        'local',
        '--cluster',
        'horizontal',
        '--output-sites',
        'local',
        '-q',
        'workflow.yml',
      ],
      dir,
    );
    if (p.code !== 0) throw new Error(`plan failed: ${p.stderr}`);
    return { dir, submitDir: join(dir, 'submit/run0001') };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** `pegasus-ts run --foreground` with the KOTO knobs: the failing seed unless `dir/fixed` exists. */
export async function runEngine(dir: string, submitDir: string, fail: boolean): Promise<number> {
  const env: Record<string, string> = { KOTO_RUN_LOG: join(dir, 'runs.log') };
  if (fail)
    Object.assign(env, { KOTO_FAIL_SEED: String(FAILING_SEED), KOTO_FAIL_UNLESS: join(dir, 'fixed') });
  const r = await pegasusTs(['run', '--foreground', '-q', submitDir], dir, env);
  if (r.code !== 0 && r.code !== 1) throw new Error(`pegasus-ts run exited ${r.code}: ${r.stderr}`);
  return r.code;
}

/** Plans and runs the example for a scenario (see Scenario). */
export async function buildRun(scenario: Scenario): Promise<Run> {
  const { dir, submitDir } = await planExample(`monitor-${scenario}-`);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const exitCodes = [await runEngine(dir, submitDir, scenario !== 'success')];
    const run: Run = { dir, submitDir, exitCodes, cleanup };
    if (scenario === 'retry') {
      run.failedCopy = join(dir, 'failed-copy/run0001');
      cpSync(submitDir, run.failedCopy, { recursive: true, filter: (src) => !src.includes('workflow.db') });
      writeFileSync(join(dir, 'fixed'), 'the detector geometry is fixed\n');
      exitCodes.push(await runEngine(dir, submitDir, true));
    }
    return run;
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** Files of a dir (for debugging). */
export function listDir(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

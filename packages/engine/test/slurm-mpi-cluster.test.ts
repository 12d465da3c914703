// The key integration: a batch script like the planner's clusters/NAME.sbatch (#SBATCH
// --ntasks=3, then an MPI launcher starting `pegasus-ts mpi-cluster --transport mpi`) runs a
// 20-task PMC DAG under MPI inside a real Slurm allocation: with srun (the cluster's
// MpiDefault=pmix), srun --mpi=pmix, and mpirun. Needs Slurm (slurm-env.ts) and native/mpi.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SlurmClient } from '../src/slurm/slurm-client.js';
import { isTerminalState, type SlurmJobInfo } from '../src/slurm/slurm-parse.js';
import { pollUntil, REPO, slurmTestEnv } from './slurm-env.js';

const slurm = await slurmTestEnv();
const BIN = path.join(REPO, 'packages/cli/bin/pegasus-ts.js');
const ADDON = path.join(REPO, 'native/mpi/build/Release/mpi_transport.node');
const skip =
  slurm.skip ??
  (existsSync(ADDON) ? undefined : 'native/mpi is not built (node native/mpi/build.mjs needs mpicc)');

const TASKS = 20;

/** A fan: t0, then t1..t18 (each appends its name), then t19 after all of them. */
function dagText(dir: string): string {
  const L: string[] = [];
  for (let i = 0; i < TASKS; i++) {
    L.push(`#@ ${i + 1} example::task sim_${i}`);
    L.push(`TASK t${i} /bin/sh -c 'echo t${i} rank $PMC_RANK >> ${dir}/runs.log'`);
  }
  for (let i = 1; i < TASKS - 1; i++) L.push(`EDGE t0 t${i}`, `EDGE t${i} t${TASKS - 1}`);
  return `${L.join('\n')}\n`;
}

/** The planner's .sbatch layout (packages/planner/src/emit/sbatch.ts) with a chosen launcher. */
function sbatchText(dir: string, name: string, launcher: string): string {
  return [
    '#!/bin/bash',
    `# PEGASUS-TS GENERATED SLURM SCRIPT for cluster job ${name} (${TASKS} tasks)`,
    `#SBATCH --job-name=${name}`,
    '#SBATCH --nodes=1',
    '#SBATCH --ntasks=3',
    '#SBATCH --partition=debug',
    `#SBATCH --output=${dir}/clusters/${name}.sbatch.out`,
    `#SBATCH --error=${dir}/clusters/${name}.sbatch.err`,
    '',
    'set -euo pipefail',
    `PEGASUS_TS=\${PEGASUS_TS:-pegasus-ts}`,
    `DAG=${dir}/clusters/${name}.dag`,
    `cd ${dir}`,
    `exec ${launcher} $PEGASUS_TS mpi-cluster --transport mpi -o "$DAG.out" -e "$DAG.err" --invocations "$DAG.invocations.yml" "$DAG"`,
    '',
  ].join('\n');
}

const LAUNCHERS: [string, string][] = [
  ['srun (MpiDefault=pmix)', 'srun --ntasks=3'],
  ['srun --mpi=pmix', 'srun --mpi=pmix --ntasks=3'],
  ['mpirun', 'mpirun --allow-run-as-root --bind-to none -np 3'],
];

describe.skipIf(skip !== undefined)(
  `pegasus-ts mpi-cluster --transport mpi in a Slurm allocation${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    let root: string;
    beforeAll(() => {
      root = mkdtempSync(path.join(os.tmpdir(), 'pt-slurm-mpi-'));
      chmodSync(root, 0o755);
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('runs a 20-task DAG over MPI under srun, srun --mpi=pmix and mpirun: every task DONE', async () => {
      const client = new SlurmClient({ env: slurm.env });
      const jobs: { label: string; dir: string; dag: string; name: string; id: string }[] = [];
      for (const [i, [label, launcher]] of LAUNCHERS.entries()) {
        const dir = path.join(root, `run${i}`);
        const name = `merge_test_PID1_ID${i + 1}`;
        mkdirSync(path.join(dir, 'clusters'), { recursive: true });
        const dag = path.join(dir, 'clusters', `${name}.dag`);
        writeFileSync(dag, dagText(dir));
        const script = path.join(dir, 'clusters', `${name}.sbatch`);
        writeFileSync(script, sbatchText(dir, name, launcher));
        const id = await client.submit(script, {
          jobName: name,
          cwd: dir,
          env: {
            PEGASUS_TS: `${process.execPath} ${BIN}`,
            // containers often forbid process_vm_readv (OpenMPI's single-copy shared memory)
            OMPI_MCA_btl_vader_single_copy_mechanism: 'none',
          },
        });
        jobs.push({ label, dir, dag, name, id });
      }
      const ids = jobs.map((j) => j.id);
      const ended = await pollUntil(
        async () => {
          const m = await client.poll(ids);
          return ids.every((id) => m.get(id) && isTerminalState(m.get(id)!.state)) ? m : undefined;
        },
        50_000,
        `jobs ${ids.join(', ')}`,
        200,
      );
      for (const j of jobs) {
        const info = ended.get(j.id) as SlurmJobInfo;
        const log = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '(none)');
        const why = `${j.label}: ${info.rawState} exit ${info.exitCode}\n${log(`${j.dag.replace(/\.dag$/, '.sbatch.err')}`)}`;
        expect(info.state, why).toBe('completed');
        expect(info.exitCode, why).toBe(0);
        const err = log(`${j.dir}/clusters/${j.name}.sbatch.err`);
        expect(err, j.label).toMatch(/Using transport mpi \(.*3 ranks: master \+ 2 worker\(s\)/);
        expect(err, j.label).toContain('Workflow succeeded');
        const done = readFileSync(`${j.dag}.rescue`, 'utf8').split('\n').filter(Boolean);
        expect(done.sort(), j.label).toEqual(Array.from({ length: TASKS }, (_, k) => `DONE t${k}`).sort());
        const records = parse(readFileSync(`${j.dag}.invocations.yml`, 'utf8')) as unknown[];
        expect(records, j.label).toHaveLength(TASKS);
        const ranks = new Set(
          readFileSync(`${j.dir}/runs.log`, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split(' rank ')[1]),
        );
        expect(
          [...ranks].every((r) => r === '1' || r === '2'),
          j.label,
        ).toBe(true);
        expect(readFileSync(`${j.dag}.out`, 'utf8').match(/\[cluster-task /g), j.label).toHaveLength(TASKS);
      }
    }, 60_000);
  },
);

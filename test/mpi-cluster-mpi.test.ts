// pegasus-ts mpi-cluster over the MPI transport, under a real `mpirun` (OpenMPI in CI): rank 0
// the master, the other ranks the workers. Skipped, with the reason, without mpirun or native/mpi.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alive, BIN, hasStackTrace, pt, ROOT, type Run, tempDir, until } from './helpers.js';

function missing(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v mpirun'], { stdio: 'ignore' });
  } catch {
    return 'mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)';
  }
  if (!existsSync(path.join(ROOT, 'native/mpi/build/Release/mpi_transport.node')))
    return 'native/mpi is not built (node native/mpi/build.mjs needs mpicc)';
  return undefined;
}
const skip = missing();

/**
 * OpenMPI's shared-memory transport copies large messages with process_vm_readv, which container
 * seccomp profiles often forbid (CI may run in one): use plain copy-in/copy-out there.
 */
const MPI_ENV = { OMPI_MCA_btl_vader_single_copy_mechanism: 'none' };

/** `mpirun -np N pegasus-ts mpi-cluster ARGS` (no CPU binding: tasks inherit a rank's binding). */
function mpirun(
  np: number,
  args: string[],
): { child: ChildProcess; done: Promise<Run>; stderrSoFar: () => string } {
  const child = spawn(
    'mpirun',
    [
      '--allow-run-as-root',
      '--oversubscribe',
      '--bind-to',
      'none',
      '-np',
      String(np),
      process.execPath,
      BIN,
      'mpi-cluster',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...MPI_ENV } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderrSoFar: () => stderr };
}
const run = (np: number, args: string[]) => mpirun(np, args).done;

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('pt-mpi-'));
});
afterEach(() => cleanup());

const p = (name: string) => path.join(dir, name);
const dagFile = (text: string, name = 'test.dag') => {
  writeFileSync(p(name), text);
  return p(name);
};
const lines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
const task = (name: string, opts = '', more = 'true') =>
  `TASK ${name} ${opts} /bin/sh -c 'echo ${name} >> ${p('runs.log')}; ${more}'`.replace(/ +/g, ' ');
const diamond = () =>
  [
    task('A', '', 'echo out-A; echo err-A >&2'),
    task('B', '', `echo B $PMC_RANK $PMC_HOST_RANK >> ${p('env.log')}`),
    task('C', '', `echo C $PMC_RANK $PMC_HOST_RANK >> ${p('env.log')}`),
    task('D'),
    'EDGE A B',
    'EDGE A C',
    'EDGE B D',
    'EDGE C D',
  ].join('\n');
const OUT = () => ['-o', p('out.txt'), '-e', p('err.txt')];

describe.skipIf(skip !== undefined)(
  `pegasus-ts mpi-cluster under mpirun${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    it('runs the diamond with -np 3: rank 0 the master, two workers sharing the host', async () => {
      const dag = dagFile(diamond());
      const r = await run(3, [...OUT(), dag]);
      expect(r.stderr).toContain('Workflow succeeded');
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/\[info\] Using transport mpi \(.*3 ranks: master \+ 2 worker\(s\)/);
      const joined = [
        ...r.stderr.matchAll(/Worker (\d) joined from (\S+) \(pid \d+, \d+ cpus, \d+ MB, host rank (\d)\)/g),
      ];
      expect(joined.map((m) => m[1]).sort()).toEqual(['1', '2']);
      expect(new Set(joined.map((m) => m[2])).size).toBe(1);
      expect(joined.map((m) => m[3]).sort()).toEqual(['0', '1']);
      const runs = lines(p('runs.log'));
      expect(runs[0]).toBe('A');
      expect(runs[3]).toBe('D');
      expect(readFileSync(`${dag}.rescue`, 'utf8').split('\n').slice(1).sort()).toEqual([
        'DONE A',
        'DONE B',
        'DONE C',
        'DONE D',
      ]);
      const out = readFileSync(p('out.txt'), 'utf8');
      expect(out).toMatch(
        /^out-A\n\[cluster-task name=A, start="[^"]+", duration=\d+\.\d{3}, status=0, app="\/bin\/sh", hostname="[^"]+", slot=[12], cpus=1, memory=0\]\n/,
      );
      expect(r.stdout).toMatch(
        /\[cluster-summary stat="ok", tasks=4, submitted=4, succeeded=4, failed=0, .*slots=2/,
      );
      expect(readFileSync(p('err.txt'), 'utf8')).toBe('err-A\n');
      // PMC_RANK is the MPI rank; PMC_HOST_RANK the worker's index among the workers of its host.
      for (const l of lines(p('env.log'))) {
        const [, rank, hostRank] = l.split(' ');
        expect(joined.find((m) => m[1] === rank)?.[3]).toBe(hostRank);
      }
      const records = parse(readFileSync(`${dag}.invocations.yml`, 'utf8')) as unknown[];
      expect(records).toHaveLength(4);
    });

    it('runs with a single worker (-np 2)', async () => {
      const dag = dagFile(diamond());
      const r = await run(2, [...OUT(), dag]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/2 ranks: master \+ 1 worker\(s\)/);
      expect(lines(p('runs.log')).sort()).toEqual(['A', 'B', 'C', 'D']);
    });

    it('refuses -np 1 like PMC: At least one worker process is required', async () => {
      const dag = dagFile(diamond());
      const r = await run(1, [...OUT(), dag]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('[fatal] At least one worker process is required');
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(existsSync(p('runs.log'))).toBe(false);
    });

    it('reports a bad DAG once (rank 0 reads it; the workers are shut down)', async () => {
      const dag = dagFile('TASK A /bin/true\nEDGE A B\n');
      const r = await run(3, [...OUT(), dag]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.match(/test\.dag:2/g)).toHaveLength(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
    });

    it('retries a failing task up to its tries and blocks its children when it fails for good', async () => {
      const flaky = `n=$(cat ${p('count')} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${p('count')}; [ $n -ge 3 ]`;
      const dag = dagFile(
        [
          task('F', '-t 3', flaky),
          task('X', '-t 2', 'exit 3'),
          task('Y'),
          task('Z'),
          'EDGE X Y',
          'EDGE F Z',
        ].join('\n'),
      );
      const r = await run(2, [...OUT(), dag]);
      expect(r.code).toBe(1);
      const runs = lines(p('runs.log'));
      expect(runs.filter((x) => x === 'F')).toHaveLength(3);
      expect(runs.filter((x) => x === 'X')).toHaveLength(2);
      expect(runs).toContain('Z');
      expect(runs).not.toContain('Y');
      expect(r.stderr).toMatch(/Task X failed with exitcode 768 \(attempt 2 of 2\)/);
      expect(r.stdout).toMatch(/stat="failed", tasks=4, submitted=6, succeeded=2, failed=4/);
    });

    it('dispatches by priority', async () => {
      const dag = dagFile(
        [
          task('N', '-p -5'),
          task('O', '-p -4'),
          task('E', '-p 7'),
          task('D', '-p 8 -c 2'),
          task('I', '-p 9'),
          task('G', '-p 10'),
        ].join('\n'),
      );
      const r = await run(2, ['--host-cpus', '2', ...OUT(), dag]);
      expect(r.code).toBe(0);
      const runs = lines(p('runs.log'));
      expect(runs.slice(0, 2).sort()).toEqual(['G', 'I']);
      expect(runs[2]).toBe('D');
      expect(runs.slice(3, 5).sort()).toEqual(['E', 'O']);
      expect(runs[5]).toBe('N');
    });

    it('workers on one host share its cpus: never more at once than the host has (3 workers, 2 cpus)', async () => {
      const stamp = (name: string) =>
        `echo ${name} start $(date +%s%N) >> ${p('times.log')}; sleep 0.15; echo ${name} end $(date +%s%N) >> ${p('times.log')}`;
      const tasks = [
        ...Array.from({ length: 3 }, (_, i) => task(`big${i}`, '-c 2', stamp(`big${i}`))),
        ...Array.from({ length: 6 }, (_, i) => task(`one${i}`, '-c 1', stamp(`one${i}`))),
      ];
      const dag = dagFile(tasks.join('\n'));
      const r = await run(4, ['--host-cpus', '2', ...OUT(), dag]);
      expect(r.code).toBe(0);
      expect([...r.stderr.matchAll(/host rank (\d)\)/g)].map((m) => m[1]).sort()).toEqual(['0', '1', '2']);
      const events = lines(p('times.log')).map((l) => {
        const [name, what, t] = l.split(' ');
        return { cpus: name.startsWith('big') ? 2 : 1, delta: what === 'start' ? 1 : -1, t: BigInt(t) };
      });
      events.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.delta - b.delta));
      let used = 0;
      let peak = 0;
      for (const e of events) {
        used += e.delta * e.cpus;
        peak = Math.max(peak, used);
      }
      expect(peak).toBe(2);
    });

    it('writes per-task stdio files', async () => {
      const dag = dagFile([task('A', '', 'echo hello; echo oops >&2'), task('B')].join('\n'));
      const r = await run(3, ['--per-task-stdio', dag]);
      expect(r.code).toBe(0);
      expect(readFileSync(p('A.out.000'), 'utf8')).toMatch(/^hello\n\[cluster-task name=A, /);
      expect(readFileSync(p('A.err.000'), 'utf8')).toBe('oops\n');
      expect(existsSync(p('B.out.000'))).toBe(true);
    });

    it('a worker rank killed mid-run ends the job non-zero with the rescue log intact; a rerun resumes', async () => {
      const n = 40;
      const dag = dagFile(Array.from({ length: n }, (_, i) => task(`t${i}`, '', 'sleep 0.05')).join('\n'));
      const job = mpirun(3, [...OUT(), dag]);
      await until(() => lines(`${dag}.rescue`).length >= 6, 20_000, 'some tasks done');
      const pid = Number(/Worker 1 joined from \S+ \(pid (\d+)/.exec(job.stderrSoFar())?.[1]);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGKILL');
      const r = await job.done;
      expect(r.code).not.toBe(0);
      const doneBefore = new Set(lines(`${dag}.rescue`).map((l) => l.replace('DONE ', '')));
      expect(doneBefore.size).toBeGreaterThanOrEqual(6);
      expect(doneBefore.size).toBeLessThan(n);
      const runsBefore = lines(p('runs.log')).length;
      // -n: mpirun may exit before reaping the killed master, and a zombie holds the DAG lock
      // where PID 1 does not reap (containers).
      const again = await run(3, ['-n', ...OUT(), dag]);
      expect(again.stderr).toContain('Workflow succeeded');
      expect(again.code).toBe(0);
      for (const name of lines(p('runs.log')).slice(runsBefore)) expect(doneBefore.has(name)).toBe(false);
      expect(new Set(lines(`${dag}.rescue`)).size).toBe(n);
    });

    it('SIGTERM to mpirun (scancel, wall-time end): the master stops, flushes the rescue log, exits non-zero; a rerun resumes', async () => {
      const dag = dagFile(
        [
          task('quick'),
          ...Array.from({ length: 4 }, (_, i) =>
            task(`slow${i}`, '', `echo $$ >> ${p('pids')}; exec sleep 30`),
          ),
        ].join('\n'),
      );
      const job = mpirun(3, [...OUT(), dag]);
      await until(
        () => lines(p('pids')).length >= 1 && lines(`${dag}.rescue`).length >= 1,
        20_000,
        'slow tasks to start',
      );
      const t0 = Date.now();
      job.child.kill('SIGTERM');
      const r = await job.done;
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('Caught signal SIGTERM');
      expect(lines(`${dag}.rescue`)).toEqual(['DONE quick']);
      await until(() => lines(p('pids')).every((pid) => !alive(Number(pid))), 5000, 'tasks to be killed');
      // The rerun runs the slow tasks only (made quick by then).
      writeFileSync(dag, readFileSync(dag, 'utf8').replaceAll('exec sleep 30', 'true'));
      // -n: mpirun may exit before reaping the killed master, and a zombie holds the DAG lock
      // where PID 1 does not reap (containers).
      const again = await run(3, ['-n', ...OUT(), dag]);
      expect(again.stderr).toContain('Workflow succeeded');
      expect(again.code).toBe(0);
      expect(lines(p('runs.log')).filter((x) => x === 'quick')).toHaveLength(1);
      expect(new Set(lines(`${dag}.rescue`)).size).toBe(5);
    });

    it('the same DAG under MPI and under ZeroMQ gives the same rescue log and outputs', async () => {
      const text = [
        ...Array.from(
          { length: 12 },
          (_, i) => `TASK t${i} -p ${i % 3} /bin/sh -c 'echo task ${i}; echo e${i} >&2'`,
        ),
        "TASK bad -t 2 /bin/sh -c 'echo nope; exit 2'",
        'TASK child /bin/echo never',
        'EDGE bad child',
        'EDGE t11 bad',
        ...Array.from({ length: 11 }, (_, i) => `EDGE t${i} t${i + 1}`),
      ].join('\n');
      const mpiDag = dagFile(text, 'mpi.dag');
      const zmqDag = dagFile(text, 'zmq.dag');
      const a = await run(3, ['-o', p('mpi.out'), '-e', p('mpi.err'), mpiDag]);
      const b = await pt([
        'mpi-cluster',
        '--transport',
        'zmq',
        '--workers',
        '2',
        '-o',
        p('zmq.out'),
        '-e',
        p('zmq.err'),
        zmqDag,
      ]);
      expect(a.code).toBe(1);
      expect(b.code).toBe(1);
      expect(a.stderr).toContain('Using transport mpi');
      expect(b.stderr).toContain('Using transport zmq');
      expect(readFileSync(`${mpiDag}.rescue`, 'utf8')).toBe(readFileSync(`${zmqDag}.rescue`, 'utf8'));
      // Outputs equal but for times, durations, slots and the summary's start/pid.
      const norm = (file: string) =>
        readFileSync(file, 'utf8')
          .replace(/start="[^"]+"/g, 'start=S')
          .replace(/duration=[\d.]+/g, 'duration=D')
          .replace(/slot=\d+/g, 'slot=N')
          .replace(/pid=\d+/g, 'pid=P')
          .replace(/runtime=[\d.]+/g, 'runtime=R');
      expect(norm(p('mpi.out'))).toBe(norm(p('zmq.out')));
      expect(readFileSync(p('mpi.err'), 'utf8')).toBe(readFileSync(p('zmq.err'), 'utf8'));
      expect(readdirSync(dir).filter((f) => f.endsWith('.invocations.yml'))).toHaveLength(2);
    });
  },
);

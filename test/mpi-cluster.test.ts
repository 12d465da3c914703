import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alive, BIN, hasStackTrace, pt, start, tempDir, until } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('pt-cluster-'));
});
afterEach(() => cleanup());

/** Task output to /dev/null. */
const QUIET = ['-o', '/dev/null', '-e', '/dev/null'];
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
/** A task that appends its name to runs.log, then runs `more` (shell). */
const task = (name: string, opts = '', more = 'true') =>
  `TASK ${name} ${opts} /bin/sh -c 'echo ${name} >> ${p('runs.log')}; ${more}'`.replace(/ +/g, ' ');

const diamond = () =>
  [
    task('A', '', 'echo out-A; echo err-A >&2'),
    task('B'),
    task('C'),
    task('D'),
    'EDGE A B',
    'EDGE A C',
    'EDGE B D',
    'EDGE C D',
  ].join('\n');

describe('pegasus-ts mpi-cluster (ZeroMQ, local workers)', () => {
  it('runs the diamond: outputs merged with cluster-task records, rescue log, invocation records', async () => {
    const dag = dagFile(diamond());
    const r = await pt(['mpi-cluster', '--workers', '2', '-o', p('out.txt'), '-e', p('err.txt'), dag]);
    expect(r.stderr).toContain('Workflow succeeded');
    expect(r.code).toBe(0);
    const runs = lines(p('runs.log'));
    expect(runs[0]).toBe('A');
    expect(runs[3]).toBe('D');
    expect(runs.sort()).toEqual(['A', 'B', 'C', 'D']);
    const rescue = readFileSync(`${dag}.rescue`, 'utf8');
    expect(rescue.startsWith('\nDONE A')).toBe(true);
    expect(rescue.endsWith('\nDONE D')).toBe(true);
    expect(rescue.split('\n').slice(1).sort()).toEqual(['DONE A', 'DONE B', 'DONE C', 'DONE D']);
    const out = readFileSync(p('out.txt'), 'utf8');
    expect(out).toMatch(
      /^out-A\n\[cluster-task name=A, start="[^"]+", duration=\d+\.\d{3}, status=0, app="\/bin\/sh", hostname="[^"]+", slot=[12], cpus=1, memory=0\]\n/,
    );
    expect(out.match(/\[cluster-task /g)).toHaveLength(4);
    expect(readFileSync(p('err.txt'), 'utf8')).toBe('err-A\n');
    expect(r.stdout).toMatch(/\[cluster-summary stat="ok", tasks=4, submitted=4, succeeded=4, failed=0/);
    const records = parse(readFileSync(`${dag}.invocations.yml`, 'utf8')) as Record<string, unknown>[];
    expect(records).toHaveLength(4);
    for (const rec of records) {
      expect(rec.invocation).toBe(true);
      const main = rec.mainjob as {
        status: { raw: number; regular_exitcode: number };
        usage?: { maxrss: number };
      };
      expect(main.status.raw).toBe(0);
      expect(main.status.regular_exitcode).toBe(0);
    }
  });

  it('resumes from the rescue log without rerunning finished tasks', async () => {
    const dag = dagFile(diamond());
    writeFileSync(`${dag}.rescue`, '\nDONE A\nDONE B\nDONE C');
    const r = await pt(['mpi-cluster', '--workers', '2', ...QUIET, dag]);
    expect(r.code).toBe(0);
    expect(lines(p('runs.log'))).toEqual(['D']);
    expect(readFileSync(`${dag}.rescue`, 'utf8')).toBe('\nDONE A\nDONE B\nDONE C\nDONE D');
  });

  it('survives kill -9 of the master at any moment: a resumed run reruns no finished task', async () => {
    const n = 120;
    const text = Array.from({ length: n }, (_, i) => task(`t${i}`, '', 'sleep 0.02')).join('\n');
    const dag = dagFile(text);
    for (let round = 0; round < 3; round++) {
      const run = start(['mpi-cluster', '--workers', '2', ...QUIET, dag]);
      await until(() => lines(p('runs.log')).length >= (round + 1) * 25, 20_000, 'some progress');
      const workers = execFileSync('pgrep', ['-P', String(run.child.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map(Number);
      run.child.kill('SIGKILL');
      await run.done;
      // The master's death takes its workers, and their tasks, down.
      await until(() => workers.every((w) => !alive(w)), 5000, 'workers to exit');
      await new Promise((r) => setTimeout(r, 100));
    }
    const doneBefore = new Set(lines(`${dag}.rescue`).map((l) => l.replace('DONE ', '')));
    const runsBefore = lines(p('runs.log')).length;
    const r = await pt(['mpi-cluster', '--workers', '2', ...QUIET, dag]);
    expect(r.code).toBe(0);
    const rerun = lines(p('runs.log')).slice(runsBefore);
    for (const name of rerun) expect(doneBefore.has(name)).toBe(false);
    expect(new Set(lines(p('runs.log'))).size).toBe(n);
    expect(new Set(lines(`${dag}.rescue`)).size).toBe(n);
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
    const r = await pt(['mpi-cluster', '--workers', '1', ...QUIET, dag]);
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
    const r = await pt(['mpi-cluster', '--workers', '1', '--host-cpus', '2', ...QUIET, dag]);
    expect(r.code).toBe(0);
    const runs = lines(p('runs.log'));
    // G and I start together (2 cpus); D needs both; then E and O together; then N.
    expect(runs.slice(0, 2).sort()).toEqual(['G', 'I']);
    expect(runs[2]).toBe('D');
    expect(runs.slice(3, 5).sort()).toEqual(['E', 'O']);
    expect(runs[5]).toBe('N');
  });

  it('never runs more cpus at once than the host has', async () => {
    const stamp = (name: string) =>
      `echo ${name} start $(date +%s%N) >> ${p('times.log')}; sleep 0.15; echo ${name} end $(date +%s%N) >> ${p('times.log')}`;
    const tasks = [
      ...Array.from({ length: 4 }, (_, i) => task(`big${i}`, '-c 2', stamp(`big${i}`))),
      ...Array.from({ length: 6 }, (_, i) => task(`one${i}`, '-c 1', stamp(`one${i}`))),
    ];
    const dag = dagFile(tasks.join('\n'));
    const r = await pt(['mpi-cluster', '--workers', '3', '--host-cpus', '2', ...QUIET, dag]);
    expect(r.code).toBe(0);
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
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2);
  });

  it('gives tasks PMC_TASK, PMC_RANK, PMC_HOST_RANK, PMC_CPUS and PMC_MEMORY, and not the run secret', async () => {
    const dag = dagFile(
      `TASK foobar -c 3 -m 17 /bin/sh -c 'echo $PMC_TASK $PMC_RANK $PMC_HOST_RANK $PMC_CPUS $PMC_MEMORY \${PEGASUS_TS_CLUSTER_SECRET:-no-secret} > ${p('env.txt')}'\n`,
    );
    const r = await pt(['mpi-cluster', '--workers', '1', '--host-cpus', '4', ...QUIET, dag]);
    expect(r.code).toBe(0);
    expect(readFileSync(p('env.txt'), 'utf8').trim()).toBe('foobar 1 0 3 17 no-secret');
  });

  it('writes per-task stdio files, a new NNN per attempt', async () => {
    const dag = dagFile([task('A', '', 'echo hello; echo oops >&2'), task('B')].join('\n'));
    for (const expected of ['000', '001']) {
      const r = await pt(['mpi-cluster', '--workers', '1', '--per-task-stdio', '-s', dag]);
      expect(r.code).toBe(0);
      expect(readFileSync(p(`A.out.${expected}`), 'utf8')).toMatch(/^hello\n\[cluster-task name=A, /);
      expect(readFileSync(p(`A.err.${expected}`), 'utf8')).toBe('oops\n');
      expect(existsSync(p(`B.out.${expected}`))).toBe(true);
    }
  });

  it('requeues the tasks of a worker that dies and finishes the run', async () => {
    const dag = dagFile(Array.from({ length: 8 }, (_, i) => task(`s${i}`, '', 'sleep 0.5')).join('\n'));
    const run = start(['mpi-cluster', '--workers', '2', '--worker-timeout', '3', ...QUIET, dag]);
    await until(() => lines(p('runs.log')).length >= 2, 10_000, 'tasks to start');
    const workers = execFileSync('pgrep', ['-P', String(run.child.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
    expect(workers.length).toBe(2);
    process.kill(workers[0], 'SIGKILL');
    const r = await run.done;
    expect(r.stderr).toMatch(/Worker \d lost/);
    expect(r.code).toBe(0);
    expect(new Set(lines(p('runs.log'))).size).toBe(8);
    expect(lines(`${dag}.rescue`)).toHaveLength(8);
  });

  it('on SIGTERM stops dispatch, ends running tasks, flushes the rescue log and exits non-zero', async () => {
    const dag = dagFile(
      [
        task('quick'),
        ...Array.from({ length: 4 }, (_, i) =>
          task(`slow${i}`, '', `echo $$ >> ${p('pids')}; exec sleep 30`),
        ),
      ].join('\n'),
    );
    const run = start(['mpi-cluster', '--workers', '2', ...QUIET, dag]);
    await until(
      () => lines(p('pids')).length >= 1 && lines(`${dag}.rescue`).length >= 1,
      10_000,
      'slow tasks to start',
    );
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(r.code).toBe(143);
    expect(r.stderr).toContain('Caught signal SIGTERM');
    expect(lines(`${dag}.rescue`)).toEqual(['DONE quick']);
    for (const pid of lines(p('pids')).map(Number)) expect(alive(pid)).toBe(false);
  });

  it('SIGTERM to the whole job before the workers have joined ends it at once (no hang)', async () => {
    const dag = dagFile(Array.from({ length: 4 }, (_, i) => task(`t${i}`)).join('\n'));
    // its own process group, as under kickstart or a batch system that signals every process
    const child = spawn(process.execPath, [BIN, 'mpi-cluster', '--workers', '2', dag], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await until(() => stderr.includes('Using transport'), 10_000, 'the master to bind');
    const t0 = Date.now();
    process.kill(-(child.pid as number), 'SIGTERM');
    const code = await done;
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(code).toBe(143);
    expect(stderr).toContain('Caught signal SIGTERM');
  });

  it('--max-wall-time stops starting tasks that cannot finish and exits so that a rerun resumes', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const edges = names.slice(1).map((n, i) => `EDGE ${names[i]} ${n}`);
    const dag = dagFile([...names.map((n) => task(n, '', 'sleep 0.5')), ...edges].join('\n'));
    const t0 = Date.now();
    const r = await pt(['mpi-cluster', '--workers', '1', '--max-wall-time', '0.05', ...QUIET, dag]);
    expect(r.code).toBe(75);
    expect(Date.now() - t0).toBeLessThan(4500);
    const done = lines(`${dag}.rescue`).map((l) => l.replace('DONE ', ''));
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done.length).toBeLessThan(names.length);
    expect(done).toEqual(names.slice(0, done.length));
    // The chain stopped before a task that could not finish: nothing was killed half way.
    expect(lines(p('runs.log'))).toEqual(done);
    const again = await pt(['mpi-cluster', '--workers', '1', ...QUIET, dag]);
    expect(again.code).toBe(0);
    expect(lines(p('runs.log'))).toEqual(names);
  });
});

describe('pegasus-ts mpi-cluster: PMC features', () => {
  it('runs the host script once per host before any task, and fails the run when it fails', async () => {
    writeFileSync(p('host.sh'), `#!/bin/sh\necho ran >> ${p('host.log')}\n`, { mode: 0o755 });
    const dag = dagFile(task('A', '', `test -f ${p('host.log')}`));
    const r = await pt(['mpi-cluster', '--workers', '2', '--host-script', p('host.sh'), ...QUIET, dag]);
    expect(r.code).toBe(0);
    expect(lines(p('host.log'))).toEqual(['ran']);
    writeFileSync(p('bad.sh'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const bad = await pt([
      'mpi-cluster',
      '--workers',
      '1',
      '-s',
      '--host-script',
      p('bad.sh'),
      ...QUIET,
      dag,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Host script failed with status 768');
  });

  it('enforces -m with --strict-limits', async () => {
    const hog = `TASK hog -m 50 /usr/bin/python3 -c 'b = bytearray(300 * 1024 * 1024)'\n`;
    const dag = dagFile(hog);
    const loose = await pt(['mpi-cluster', '--workers', '1', ...QUIET, dag]);
    expect(loose.code).toBe(0);
    const strict = await pt([
      'mpi-cluster',
      '--workers',
      '1',
      '-s',
      '--strict-limits',
      '-o',
      '/dev/null',
      '-e',
      p('err.txt'),
      dag,
    ]);
    expect(strict.code).toBe(1);
    expect(readFileSync(p('err.txt'), 'utf8')).toMatch(/MemoryError/);
  });

  it('writes the jobstate log and the resource log', async () => {
    const dag = dagFile(diamond());
    const r = await pt(['mpi-cluster', '--workers', '1', '--jobstate-log', ...QUIET, dag]);
    expect(r.code).toBe(0);
    const js = lines(p('jobstate.log'));
    expect(js[0]).toMatch(/^\d+\.\d{6} INTERNAL \*\*\* PMC_STARTED \*\*\*$/);
    expect(js.at(-1)).toMatch(/INTERNAL \*\*\* PMC_FINISHED 0 \*\*\*$/);
    for (const t of ['A', 'B', 'C', 'D']) {
      for (const ev of ['SUBMIT', 'EXECUTE', 'JOB_TERMINATED', 'JOB_SUCCESS']) {
        expect(js.some((l) => new RegExp(`^\\d+\\.\\d{6} ${t} ${ev} `).test(l))).toBe(true);
      }
    }
    const res = lines(`${dag}.resource`);
    expect(res.length).toBeGreaterThanOrEqual(2);
    for (const l of res) expect(l).toMatch(/^\d+\.\d{6},\d+,\d+,\d+,\S+$/);
  });

  it("-v -v traces PMC's scheduling order: priority, then DAG order, within the host's free cpus", async () => {
    // PMC's test/priority.dag and test_priority (one worker, --host-cpus 2).
    const dag = dagFile(
      [
        'TASK N -p -5 -c 1 /bin/echo N',
        'TASK O -p -4 -c 1 /bin/echo O',
        'TASK I -p 9 -c 1 /bin/echo I',
        'TASK E -p 7 -c 1 /bin/echo E',
        'TASK D -p 8 -c 2 /bin/echo D',
        'TASK G -p 10 -c 1 /bin/echo G',
      ].join('\n'),
    );
    const r = await pt(['mpi-cluster', '-v', '-v', '--workers', '1', '--host-cpus', '2', ...QUIET, dag]);
    expect(r.code).toBe(0);
    const trace = r.stderr.split('\n').filter((l) => l.includes('Scheduling task '));
    expect(trace).toEqual(['G', 'I', 'D', 'E', 'O', 'N'].map((t) => `[trace] Scheduling task ${t}`));
    expect(r.stderr).toMatch(/\[trace\] Matched task G to slot 1 on host \S+/);
    const quiet = await pt(['mpi-cluster', '-v', '-s', '--workers', '1', '--host-cpus', '2', ...QUIET, dag]);
    expect(quiet.stderr).not.toContain('Scheduling task');
  });

  it("writes PMC's resource log: one line per host once the workers registered, one per allocation and release", async () => {
    const dag = dagFile('TASK A /bin/true\n');
    const r = await pt([
      'mpi-cluster',
      '--workers',
      '2',
      '--host-cpus',
      '4',
      '--host-memory',
      '100',
      ...QUIET,
      dag,
    ]);
    expect(r.code).toBe(0);
    const res = lines(`${dag}.resource`).map((l) => l.split(','));
    expect(res.map((f) => f.slice(1, 4).join(','))).toEqual(['2,4,100', '1,3,100', '2,4,100']);
    for (const f of res) {
      expect(f[0]).toMatch(/^\d+\.\d{6}$/);
      expect(f[4]).toBe(res[0][4]);
    }
  });

  it("runs the host script with PMC's messages and forwards its stdout and stderr to stderr", async () => {
    writeFileSync(p('hostscript.sh'), '#!/bin/sh\necho "HOSTSCRIPT stdout"\necho "HOSTSCRIPT stderr" >&2\n', {
      mode: 0o755,
    });
    const dag = dagFile(task('A'));
    const r = await pt([
      'mpi-cluster',
      '-v',
      '--workers',
      '1',
      '--host-script',
      p('hostscript.sh'),
      ...QUIET,
      dag,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Worker 1: Launching host script ${p('hostscript.sh')}`);
    expect(r.stderr).toContain('HOSTSCRIPT stdout');
    expect(r.stderr).toContain('HOSTSCRIPT stderr');
    expect(r.stderr).toContain('Worker 1: Host script exited with status 0');
    expect(r.stdout).not.toContain('HOSTSCRIPT');
  });

  it('ends what the host script left running at shutdown: SIGTERM to its group, SIGKILL 5 s later', async () => {
    writeFileSync(
      p('forkscript.sh'),
      [
        '#!/bin/sh',
        `sleep 300 & echo $! > ${p('polite.pid')}`,
        `sh -c 'trap "" TERM; exec sleep 300' & echo $! > ${p('stubborn.pid')}`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const dag = dagFile(task('A'));
    const r = await pt(['mpi-cluster', '--workers', '1', '--host-script', p('forkscript.sh'), ...QUIET, dag]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Worker 1: Sent SIGKILL to resilient host script processes');
    for (const f of ['polite.pid', 'stubborn.pid']) {
      const pid = Number(readFileSync(p(f), 'utf8'));
      await until(() => !alive(pid), 10_000, `${f} to end`);
    }
  });

  it('without -o/-e, appends task output to DAG.out.N / DAG.err.N and merges them after the summary', async () => {
    const dag = dagFile(diamond());
    // What an earlier, killed run left in worker 1's files is kept (PMC's test_append_stdio).
    writeFileSync(`${dag}.out.1`, 'onefish my stdout\n');
    writeFileSync(`${dag}.err.1`, 'twofish my stderr\n');
    const r = await pt(['mpi-cluster', '--workers', '1', dag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^\[cluster-summary stat="ok", tasks=4, [^\n]*\]\nonefish my stdout\nout-A\n\[cluster-task name=A, /,
    );
    expect(r.stdout.match(/\[cluster-task /g)).toHaveLength(4);
    expect(r.stderr).toContain('twofish my stderr\nerr-A\n');
    expect(readdirSync(dir).filter((f) => /\.(out|err)\.\d+$/.test(f))).toEqual([]);
  });

  it("fails a task whose -F source is not a regular file, in PMC's words", async () => {
    const dag = dagFile(`TASK A -F ${p('adir')}=${p('fwd.txt')} /bin/mkdir -p ${p('adir')}\n`);
    const r = await pt(['mpi-cluster', '--workers', '1', ...QUIET, dag]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Task A: ${p('adir')} is not a file`);
    expect(existsSync(p('fwd.txt'))).toBe(false);
  });

  it('gives each task of several CPUs PMC_AFFINITY, never sharing a CPU with a task running beside it', async () => {
    const eight = dagFile(
      `TASK eight -c 8 /bin/sh -c 'echo eight $PMC_AFFINITY > ${p('eight.txt')}'\n`,
      'eight.dag',
    );
    const r8 = await pt(['mpi-cluster', '--workers', '1', '--host-cpus', '8', ...QUIET, eight]);
    expect(r8.code).toBe(0);
    expect(readFileSync(p('eight.txt'), 'utf8')).toBe('eight 0,1,2,3,4,5,6,7\n');
    const stamp = (name: string) =>
      `echo ${name} start $(date +%s%N) $PMC_AFFINITY >> ${p('cores.log')}; sleep 0.2; echo ${name} end $(date +%s%N) >> ${p('cores.log')}`;
    const tasks = [
      // (pairs of CPUs never fragment an 8-CPU host: every task here is bound)
      ...Array.from({ length: 6 }, (_, i) => task(`two${i}`, '-c 2', stamp(`two${i}`))),
      ...Array.from({ length: 3 }, (_, i) => task(`one${i}`, '-c 1', stamp(`one${i}`))),
    ];
    const dag = dagFile(tasks.join('\n'));
    const r = await pt(['mpi-cluster', '--workers', '2', '--host-cpus', '8', ...QUIET, dag]);
    expect(r.code).toBe(0);
    const events = lines(p('cores.log')).map((l) => {
      const [name, what, t, cores] = l.split(' ');
      return {
        name,
        start: what === 'start',
        t: BigInt(t),
        cores: cores ? cores.split(',').map(Number) : [],
      };
    });
    events.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.start ? 1 : -1));
    const inUse = new Map<number, string>();
    let together = 0;
    const coresOf = new Map<string, number[]>();
    for (const e of events) {
      if (e.start) {
        coresOf.set(e.name, e.cores);
        // PMC's rule: a one-CPU task floats; others get as many CPU numbers as they ask for
        expect(e.cores.length).toBe(e.name.startsWith('two') ? 2 : 0);
        for (const c of e.cores) {
          expect(inUse.get(c), `${e.name} and ${inUse.get(c)} share CPU ${c}`).toBeUndefined();
          inUse.set(c, e.name);
        }
        if (e.cores.length > 0 && inUse.size > e.cores.length) together++;
      } else {
        for (const c of coresOf.get(e.name) ?? []) inUse.delete(c);
      }
    }
    expect(together).toBeGreaterThan(0);
  });

  it('gives each task asking for GPUs CUDA_VISIBLE_DEVICES with its own devices (--host-gpus fakes them)', async () => {
    const stamp = (name: string) =>
      `echo ${name} start $(date +%s%N) \${CUDA_VISIBLE_DEVICES:--} >> ${p('gpus.log')}; sleep 0.2; echo ${name} end $(date +%s%N) >> ${p('gpus.log')}`;
    const tasks = [
      task('pair', '-g 2', stamp('pair')),
      ...Array.from({ length: 4 }, (_, i) => task(`one${i}`, '-g 1', stamp(`one${i}`))),
      task('cpu', '', stamp('cpu')),
    ];
    const dag = dagFile(tasks.join('\n'));
    const r = await pt([
      'mpi-cluster',
      '--workers',
      '2',
      '--host-cpus',
      '8',
      '--host-gpus',
      '3',
      ...QUIET,
      dag,
    ]);
    expect(r.code).toBe(0);
    const events = lines(p('gpus.log')).map((l) => {
      const [name, what, t, devices] = l.split(' ');
      return {
        name,
        start: what === 'start',
        t: BigInt(t),
        devices: devices === '-' ? [] : devices?.split(','),
      };
    });
    events.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.start ? 1 : -1));
    const inUse = new Map<string, string>();
    const devicesOf = new Map<string, string[]>();
    for (const e of events) {
      if (!e.start) {
        for (const g of devicesOf.get(e.name) ?? []) inUse.delete(g);
        continue;
      }
      const devices = e.devices ?? [];
      devicesOf.set(e.name, devices);
      expect(devices.length).toBe(e.name === 'pair' ? 2 : e.name === 'cpu' ? 0 : 1);
      for (const g of devices) {
        expect(['0', '1', '2']).toContain(g);
        expect(inUse.get(g), `${e.name} and ${inUse.get(g)} share GPU ${g}`).toBeUndefined();
        inUse.set(g, e.name);
      }
    }
    expect(devicesOf.size).toBe(6);
    // No GPU on the host: a task asking for one fails the run at start, as PMC does for CPUs.
    const none = dagFile(task('gpu', '-g 1'), 'none.dag');
    const r0 = await pt(['mpi-cluster', '--workers', '1', '--host-gpus', '0', ...QUIET, none]);
    expect(r0.code).not.toBe(0);
    expect(r0.stderr).toContain('FATAL ERROR: No host is capable of running task gpu');
    expect(hasStackTrace(r0.stderr)).toBe(false);
  });

  it('--set-affinity binds a task of several CPUs to the CPUs in its PMC_AFFINITY', async () => {
    if (os.cpus().length < 2) return;
    const dag = dagFile(
      `TASK two -c 2 /bin/sh -c 'echo $PMC_AFFINITY $(grep Cpus_allowed_list /proc/self/status) > ${p('bound.txt')}'\n`,
    );
    const r = await pt(['mpi-cluster', '-v', '--set-affinity', '--workers', '1', ...QUIET, dag]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Binding task two to cores: 0,1');
    expect(readFileSync(p('bound.txt'), 'utf8')).toBe('0,1 Cpus_allowed_list: 0-1\n');
  });

  it('forwards -f pipe data and -F files to the master, appended to their destinations', async () => {
    const dag = dagFile(
      [
        `TASK A -f OUT=${p('fwd/pipe.txt')} /bin/bash -c 'echo piped-A >&$OUT'`,
        `TASK B -f OUT=${p('fwd/pipe.txt')} /bin/bash -c 'echo piped-B >&$OUT'`,
        `TASK C -F ${p('c.tmp')}=${p('fwd/file.txt')} /bin/sh -c 'echo from-file > ${p('c.tmp')}'`,
        'EDGE A B',
      ].join('\n'),
    );
    const r = await pt(['mpi-cluster', '--workers', '1', ...QUIET, dag]);
    expect(r.code).toBe(0);
    expect(readFileSync(p('fwd/pipe.txt'), 'utf8')).toBe('piped-A\npiped-B\n');
    expect(readFileSync(p('fwd/file.txt'), 'utf8')).toBe('from-file\n');
    expect(existsSync(p('c.tmp'))).toBe(false);
  });
});

describe('pegasus-ts mpi-cluster: bad input', () => {
  it('reports every error of a malformed DAG with its line, no stack trace', async () => {
    const dag = dagFile('TASK A echo a\nTASK A echo again\nEDGE A B\nTASK C -m\nFOO bar\nTASK D -c 2\n');
    const r = await pt(['mpi-cluster', dag]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dag}:2:`);
    expect(r.stderr).toContain(`${dag}:3:`);
    expect(r.stderr).toContain(`${dag}:5:`);
    expect(r.stderr).toContain(`${dag}:6:`);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('rejects a cycle and a missing file in one clear line', async () => {
    const dag = dagFile('TASK A t\nTASK B t\nEDGE A B\nEDGE B A\n');
    const r = await pt(['mpi-cluster', dag]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cycle/i);
    const missing = await pt(['mpi-cluster', p('nope.dag')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('nope.dag');
    expect(hasStackTrace(missing.stderr)).toBe(false);
  });

  it('rejects unknown options and bad values', async () => {
    const dag = dagFile('TASK A t\n');
    for (const args of [['--bogus'], ['--host-cpus', 'x'], ['-t', '0'], ['--max-wall-time', '-1']]) {
      const r = await pt(['mpi-cluster', ...args, dag]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it('fails a task whose executable does not exist, with a clear message', async () => {
    const dag = dagFile('TASK A /no/such/program\n');
    const r = await pt(['mpi-cluster', '--workers', '1', ...QUIET, dag]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Task A failed with launch failure: .*(No such file|ENOENT)/i);
  });

  it("says which task no host can run, in PMC's words, before running anything", async () => {
    const dag = dagFile(`${task('small')}\nTASK big -c 64 /bin/true\n`);
    const r = await pt(['mpi-cluster', '--workers', '1', '--host-cpus', '2', ...QUIET, dag]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FATAL ERROR: No host is capable of running task big');
    expect(existsSync(p('runs.log'))).toBe(false);
    const mem = dagFile('TASK A -m 100 /bin/true\n', 'mem.dag');
    const enough = await pt(['mpi-cluster', '--workers', '1', '--host-memory', '100', ...QUIET, mem]);
    expect(enough.code).toBe(0);
    const short = await pt(['mpi-cluster', '--workers', '1', '-s', '--host-memory', '99', ...QUIET, mem]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('FATAL ERROR: No host is capable of running task A');
    expect(hasStackTrace(short.stderr)).toBe(false);
  });
});

describe('pegasus-ts mpi-cluster over tcp', () => {
  it('runs with a worker that holds the secret and refuses one that does not', async () => {
    const dag = dagFile([task('A'), task('B'), 'EDGE A B'].join('\n'));
    const secret = p('secret');
    const master = start([
      'mpi-cluster',
      '--bind',
      'tcp://127.0.0.1:0',
      '--secret-file',
      secret,
      '--workers',
      '1',
      ...QUIET,
      dag,
    ]);
    let url = '';
    await until(() => {
      const m = master.stderrSoFar().match(/--connect (tcp:\/\/\S+)/);
      if (m) url = m[1];
      return url !== '';
    });
    writeFileSync(p('wrong'), `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    const intruder = await pt(['mpi-cluster', '--worker', '--connect', url, '--secret-file', p('wrong')]);
    expect(intruder.code).not.toBe(0);
    expect(intruder.stderr).toMatch(/refused/i);
    const worker = start(['mpi-cluster', '--worker', '--connect', url, '--secret-file', secret]);
    const r = await master.done;
    await worker.done;
    expect(r.stderr).toMatch(/refused worker/);
    expect(r.code).toBe(0);
    expect(lines(p('runs.log'))).toEqual(['A', 'B']);
    expect(readdirSync(dir)).toContain('test.dag.rescue');
  });
});

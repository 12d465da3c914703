import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPerTaskStdio, TaskOutput } from '../src/task-output.js';

const tmp = mkdtempSync(join(tmpdir(), 'taskout-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('TaskOutput shared mode', () => {
  it('writes stdout + record and stderr per attempt, on flush', () => {
    const dagFile = join(tmp, 'a.dag');
    const out = join(tmp, 'a.out');
    const err = join(tmp, 'a.err');
    writeFileSync(out, 'old\n');
    const t = new TaskOutput({ dagFile, stdout: out, stderr: err });
    t.addAttempt('A', 1, 'hello A\n', 'oops A\n', '[cluster-task name=A]');
    t.addAttempt('B', 1, Buffer.from('hello B\n'), undefined, '[cluster-task name=B]');
    expect(readFileSync(out, 'utf8')).toBe('');
    t.flush();
    t.addAttempt('C', 1, '', new Uint8Array([0x65, 0x0a]), '[cluster-task name=C]');
    t.close();
    expect(readFileSync(out, 'utf8')).toBe(
      'hello A\n[cluster-task name=A]\nhello B\n[cluster-task name=B]\n[cluster-task name=C]\n',
    );
    expect(readFileSync(err, 'utf8')).toBe('oops A\ne\n');
  });

  it('shares one stream when both paths are equal, and can append', () => {
    const both = join(tmp, 'both.txt');
    writeFileSync(both, 'before\n');
    const t = new TaskOutput({ dagFile: join(tmp, 'b.dag'), stdout: both, stderr: both, append: true });
    t.addAttempt('A', 1, 'o\n', 'e\n', '[r A]');
    t.addAttempt('B', 1, 'o2\n', 'e2\n', '[r B]');
    t.close();
    expect(readFileSync(both, 'utf8')).toBe('before\no\n[r A]\ne\no2\n[r B]\ne2\n');
  });

  it("goes through PMC's DAG.out.N / DAG.err.N, appended, merged by rank into the master's stdout and stderr", () => {
    const dagFile = join(tmp, 'own.dag');
    const o = join(tmp, 'own.out');
    const e = join(tmp, 'own.err');
    const ofd = openSync(o, 'w');
    const efd = openSync(e, 'w');
    // What a killed run left for worker 2 is kept, as PMC's workers append.
    writeFileSync(`${dagFile}.out.2`, 'onefish my stdout\n');
    writeFileSync(`${dagFile}.err.2`, 'twofish my stderr\n');
    const t = new TaskOutput({ dagFile, stdoutFd: ofd, stderrFd: efd });
    t.addWorker(1);
    t.addWorker(2);
    t.addWorker(3);
    expect(existsSync(`${dagFile}.out.3`)).toBe(true);
    t.addAttempt('A', 2, 'out-A\n', 'err-A\n', '[rec A]');
    t.addAttempt('B', 1, 'out-B\n', undefined, '[rec B]');
    t.flush();
    expect(readFileSync(`${dagFile}.out.1`, 'utf8')).toBe('out-B\n[rec B]\n');
    expect(readFileSync(o, 'utf8')).toBe('');
    t.addAttempt('C', 2, undefined, 'err-C\n', '[rec C]');
    t.close();
    writeSync(ofd, 'still open\n');
    closeSync(ofd);
    closeSync(efd);
    expect(readFileSync(o, 'utf8')).toBe(
      'out-B\n[rec B]\nonefish my stdout\nout-A\n[rec A]\n[rec C]\nstill open\n',
    );
    expect(readFileSync(e, 'utf8')).toBe('twofish my stderr\nerr-A\nerr-C\n');
    for (const n of [1, 2, 3]) {
      expect(existsSync(`${dagFile}.out.${n}`)).toBe(false);
      expect(existsSync(`${dagFile}.err.${n}`)).toBe(false);
    }
  });

  it("shares the master's stdout when -e is 'stdout' too", () => {
    const o = join(tmp, 'own2.out');
    const ofd = openSync(o, 'w');
    const t = new TaskOutput({
      dagFile: join(tmp, 'own2.dag'),
      stdout: 'stdout',
      stderr: 'stdout',
      stdoutFd: ofd,
      stderrFd: 999,
    });
    t.addAttempt('A', 1, 'o\n', 'e\n', '[rec A]');
    t.close();
    closeSync(ofd);
    expect(readFileSync(o, 'utf8')).toBe('o\n[rec A]\ne\n');
  });
});

describe('TaskOutput per-task stdio', () => {
  it('creates TASK.out.NNN / TASK.err.NNN beside the DAG, lowest free NNN', () => {
    const dir = join(tmp, 'pt');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const t = new TaskOutput({
      dagFile: join(dir, 'w.dag'),
      perTaskStdio: true,
      stdout: join(dir, 'ignored'),
    });
    t.addAttempt('A', 1, 'a1\n', 'e1\n', '[rec A 1]');
    t.addAttempt('A', 1, undefined, undefined, '[rec A 2]');
    t.addAttempt('B', 1, 'b\n', '', '[rec B]');
    t.close();
    expect(readFileSync(join(dir, 'A.out.000'), 'utf8')).toBe('a1\n[rec A 1]\n');
    expect(readFileSync(join(dir, 'A.err.000'), 'utf8')).toBe('e1\n');
    expect(readFileSync(join(dir, 'A.out.001'), 'utf8')).toBe('[rec A 2]\n');
    expect(readFileSync(join(dir, 'A.err.001'), 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'B.out.000'), 'utf8')).toBe('b\n[rec B]\n');
    expect(existsSync(join(dir, 'B.err.000'))).toBe(true);
    expect(existsSync(join(dir, 'ignored'))).toBe(false);
    rmSync(join(dir, 'A.out.000'));
    const p = openPerTaskStdio(dir, 'A');
    expect(p.seq).toBe(0);
    expect(p.out).toBe(join(dir, 'A.out.000'));
  });
});

describe('TaskOutput.appendForward', () => {
  it('appends through an LRU of fds, creating directories', () => {
    const t = new TaskOutput({ dagFile: join(tmp, 'f.dag'), perTaskStdio: true, maxfds: 2 });
    const f = (n: string) => join(tmp, 'fw', 'sub', n);
    t.appendForward(f('1'), 'a');
    t.appendForward(f('2'), 'b');
    expect(t.openForwards).toBe(2);
    t.appendForward(f('1'), 'c');
    t.appendForward(f('3'), Buffer.from('d'));
    expect(t.openForwards).toBe(2);
    t.appendForward(f('2'), 'e');
    expect(t.forwardHits).toBe(1);
    expect(t.forwardMisses).toBe(4);
    t.close();
    expect(t.openForwards).toBe(0);
    expect(readFileSync(f('1'), 'utf8')).toBe('ac');
    expect(readFileSync(f('2'), 'utf8')).toBe('be');
    expect(readFileSync(f('3'), 'utf8')).toBe('d');
  });

  it('throws on a destination that cannot be written', () => {
    const t = new TaskOutput({ dagFile: join(tmp, 'g.dag'), perTaskStdio: true });
    writeFileSync(join(tmp, 'afile'), '');
    expect(() => t.appendForward(join(tmp, 'afile', 'x'), 'data')).toThrow();
    expect(() => t.appendForward(tmp, 'data')).toThrow(/EISDIR/);
    t.close();
  });
});

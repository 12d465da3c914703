import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterProgress } from '../src/internal/cluster-progress.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('clusterProgress (a clustered job Slurm no longer knows)', () => {
  it('counts the tasks of the .dag and those its rescue log marks DONE', async () => {
    dir = mkdtempSync(join(tmpdir(), 'progress-'));
    const dag = join(dir, 'c.dag');
    writeFileSync(dag, '# a cluster\nTASK a /bin/true\nTASK b /bin/true\nTASK c /bin/true\nEDGE a b\n');
    expect(await clusterProgress(dag)).toEqual({ tasks: 3, done: 0 });
    writeFileSync(`${dag}.rescue`, 'DONE a\nDONE c\n');
    expect(await clusterProgress(dag)).toEqual({ tasks: 3, done: 2 });
    writeFileSync(`${dag}.rescue`, 'DONE a\nDONE b\nDONE c\n');
    expect(await clusterProgress(dag)).toEqual({ tasks: 3, done: 3 });
  });

  it('rejects a rescue log naming a task the .dag does not have, with its line', async () => {
    dir = mkdtempSync(join(tmpdir(), 'progress-'));
    const dag = join(dir, 'c.dag');
    writeFileSync(dag, 'TASK a /bin/true\n');
    writeFileSync(`${dag}.rescue`, 'DONE a\nDONE zz\n');
    await expect(clusterProgress(dag)).rejects.toThrow(/c\.dag\.rescue:2/);
  });
});

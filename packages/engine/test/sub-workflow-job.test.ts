import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlanJob } from '../src/plan-file.js';
import {
  runSubWorkflow,
  subWorkflowCommand,
  subWorkflowDir,
  subWorkflowRunArgs,
} from '../src/sub-workflow-job.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'engine-subwf-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const job = (subWorkflow: string, command: string[]): PlanJob => ({
  name: 'inner',
  kind: 'sub-workflow',
  site: 'local',
  transformation: 'pegasus::pegasus-plan',
  command,
  retries: 1,
  priority: 10,
  inputs: [],
  outputs: [],
  profiles: {},
  subWorkflow,
});

describe('sub-workflow jobs', () => {
  it('run `pegasus-ts sub-workflow DIR -- PLAN-ARGS`, DIR under the submit dir or a pre-planned one', () => {
    const planned = job('sub-workflows/inner', ['plan', '/w/inner.yml', '--sites', 'local']);
    expect(subWorkflowDir(planned, '/s/run0001')).toBe('/s/run0001/sub-workflows/inner');
    expect(subWorkflowCommand(['node', 'pt.js'], planned, '/s/run0001')).toEqual([
      'node',
      'pt.js',
      'sub-workflow',
      '/s/run0001/sub-workflows/inner',
      '--',
      'plan',
      '/w/inner.yml',
      '--sites',
      'local',
    ]);
    expect(subWorkflowDir(job('/old/run0007', []), '/s/run0001')).toBe('/old/run0007');
  });

  it("passes the engine's given run options on to the sub-workflow's engine", () => {
    expect(subWorkflowRunArgs({})).toEqual([]);
    const args = subWorkflowRunArgs({ slots: 3, clusterWorkers: 2, slurm: { pollMs: 200 } });
    expect(args).toEqual(['--slots', '3', '--cluster-workers', '2', '--poll', '200']);
    expect(subWorkflowCommand(['pt'], job('sub-workflows/inner', ['plan', 'i.yml']), '/s', args)).toEqual([
      'pt',
      'sub-workflow',
      ...args,
      '/s/sub-workflows/inner',
      '--',
      'plan',
      'i.yml',
    ]);
  });

  it('plans only through `plan`, and says so when planning fails, after clearing a planning cut short', async () => {
    const sub = join(dir, 'sub-workflows/inner');
    const calls: (readonly string[])[] = [];
    const base = { submitDir: sub, pegasusTs: ['pegasus-ts'] };
    const fake = async (args: readonly string[]) => {
      calls.push(args);
      return 1;
    };
    await expect(runSubWorkflow({ ...base, planCommand: [], pegasusTsInProcess: fake })).rejects.toThrow(
      `${sub}: not a submit directory (no plan.yml; expected a planned sub-workflow)`,
    );
    await expect(
      runSubWorkflow({ ...base, planCommand: ['remove', '/'], pegasusTsInProcess: fake }),
    ).rejects.toThrow(`the sub-workflow's command starts with "remove" (expected plan)`);
    expect(calls).toEqual([]);
    mkdirSync(join(sub, 'catalogs'), { recursive: true });
    writeFileSync(join(sub, 'braindump.yml'), 'half\n');
    let seen: string[] | undefined;
    const planner = async (args: readonly string[]) => {
      seen = existsSync(sub) ? readdirSync(sub) : [];
      return fake(args);
    };
    await expect(
      runSubWorkflow({ ...base, planCommand: ['plan', 'inner.yml'], pegasusTsInProcess: planner }),
    ).rejects.toThrow(`${sub}: planning the sub-workflow failed (exit code 1)`);
    expect(seen).toEqual([]);
    expect(calls).toEqual([['plan', 'inner.yml']]);
  });
});

import { createHash } from 'node:crypto';
import { Properties, ReplicaIndex } from '@pegasus-ts/model';
import { describe, expect, it } from 'vitest';
import { type ExecJob, emptyWorkflow } from '../src/executable-workflow.js';
import { addDataMovement } from '../src/passes/add-data-movement.js';
import { outputUrlOf } from '../src/planning-context.js';
import { context } from './helpers.js';

function compute(name: string, outputs: string[]): ExecJob {
  return {
    name,
    kind: 'compute',
    site: 'a',
    transformation: 't',
    argv: ['/bin/t'],
    stagingSite: 'a',
    inputs: [],
    outputs,
    stageOut: outputs,
    register: outputs,
    profiles: {},
    retries: 0,
    level: 0,
  };
}

describe('pegasus.dir.storage.mapper', () => {
  const props = (m?: string) => new Properties(new Map(m ? [['pegasus.dir.storage.mapper', m]] : []));
  it('Flat (the default) puts every output in the storage dir', () => {
    expect(outputUrlOf(context({ properties: props() }), 'local', 'f.dat')).toBe(
      'file:///scratch/local-out/f.dat',
    );
  });

  it('Hashed spreads thousands of outputs over 256 sub-directories; stage-out and registration agree', () => {
    const ctx = context({
      properties: props('Hashed'),
      outputSites: ['local'],
      replicas: new ReplicaIndex([]),
    });
    const wf = emptyWorkflow('w');
    const lfns = Array.from({ length: 2000 }, (_, i) => `out-${i}.dat`);
    wf.jobs.push(compute('j', lfns));
    addDataMovement(ctx, wf);
    const dests = wf.jobs.flatMap((j) => j.transfers ?? []).map((t) => t.dest.url);
    expect(dests).toHaveLength(2000);
    const dirs = new Set(dests.map((u) => u.split('/').slice(-2, -1)[0]));
    expect(dirs.size).toBeGreaterThan(200);
    const sub = createHash('sha256').update('out-7.dat').digest('hex').slice(0, 2);
    expect(dests).toContain(`file:///scratch/local-out/${sub}/out-7.dat`);
    const regs = wf.jobs.flatMap((j) => j.registrations ?? []).map((r) => r.url);
    expect(new Set(regs)).toEqual(new Set(dests));
  });

  it('an unknown mapper is an error naming the property', () => {
    expect(() => outputUrlOf(context({ properties: props('Replica') }), 'local', 'f')).toThrow(
      'pegasus.dir.storage.mapper is "Replica" (expected Flat or Hashed)',
    );
  });
});

import { api, ReplicaIndex } from '@pegasus-ts/model';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emitPlanYml } from '../src/emit/plan-yml.js';
import { type ExecJob, emptyWorkflow } from '../src/executable-workflow.js';
import { addDataMovement } from '../src/passes/add-data-movement.js';
import { context } from './helpers.js';

const SUM = '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';

function compute(name: string, inputs: string[]): ExecJob {
  return {
    name,
    kind: 'compute',
    site: 'a',
    transformation: 'ns::sim:1.0',
    argv: ['/bin/sim', name],
    abstractId: name,
    stagingSite: 'a',
    inputs,
    outputs: [],
    profiles: {},
    retries: 1,
    level: 0,
  };
}

describe('replica checksums on stage-in transfers', () => {
  it('carries the replica entry checksum onto each of its sources and emits it in plan.yml', () => {
    const rc = new api.ReplicaCatalog()
      .addReplica('local', 'summed', 'file:///data/summed', { checksum: { sha256: SUM } })
      .addReplica('a', 'summed', 'file:///scratch/a/copy/summed')
      .addReplica('local', 'plain', 'file:///data/plain')
      .toModel();
    const ctx = context({ replicas: new ReplicaIndex([rc]) });
    const wf = emptyWorkflow('w');
    wf.jobs.push(compute('j', ['summed', 'plain']));
    addDataMovement(ctx, wf);
    const transfers = wf.jobs.flatMap((j) => j.transfers ?? []);
    const summed = transfers.find((t) => t.lfn === 'summed');
    // the compute site's replica first (selectReplicas), both from the entry with the checksum
    expect(summed?.sources).toEqual([
      { site: 'a', url: 'file:///scratch/a/copy/summed', checksum: { sha256: SUM } },
      { site: 'local', url: 'file:///data/summed', checksum: { sha256: SUM } },
    ]);
    const plain = transfers.find((t) => t.lfn === 'plain');
    expect(plain?.sources).toEqual([{ site: 'local', url: 'file:///data/plain' }]);
    // the catalog's object is not shared with the plan
    expect(summed?.sources[0].checksum).not.toBe(rc.replicas[0].checksum);

    let text = '';
    const header = {
      label: 'w',
      wfUuid: 'u',
      submitDir: '/s',
      relativeDir: 'run0001',
      workflow: '/w.yml',
      timestamp: 't',
    };
    emitPlanYml(wf, header, new Int32Array(wf.jobs.length), new Set(), (s) => {
      text += s;
    });
    expect(text).toContain(`checksum: {sha256: "${SUM}"}`);
    const doc = parse(text) as { jobs: { transfers?: { lfn: string; sources: unknown[] }[] }[] };
    const emitted = doc.jobs.flatMap((j) => j.transfers ?? []);
    expect(emitted.find((t) => t.lfn === 'summed')?.sources).toEqual(summed?.sources);
    expect(emitted.find((t) => t.lfn === 'plain')?.sources).toEqual([
      { site: 'local', url: 'file:///data/plain' },
    ]);
  });
});

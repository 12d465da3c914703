import { api, Properties, WorkflowGraph } from '@pegasus-ts/model';
import { describe, expect, it } from 'vitest';
import { liteSpecOf, liteSpecText, runsInScratch } from '../src/emit/lite-spec.js';
import { mapJobs } from '../src/passes/map-jobs.js';
import { context, sites } from './helpers.js';

/** Maps a one-job workflow (a stageable executable, one input, one output, stdout) onto site `a`. */
function mapOne(config: string) {
  const tc = new api.TransformationCatalog().addTransformations(
    new api.Transformation('sim', { site: 'web', pfn: 'http://example.org/sim', isStageable: true }),
  );
  const wf = new api.Workflow('w')
    .addTransformationCatalog(tc)
    .addJobs(
      new api.Job('sim', { id: 'j1' })
        .addArgs('-o', 'out.dat')
        .addInputs(new api.File('in.dat'))
        .addOutputs([new api.File('out.dat')])
        .setStdout('j1.log'),
    )
    .toModel();
  const sc = sites();
  sc.sites
    .find((s) => s.name === 'a')
    ?.directories.push({
      type: 'localScratch',
      path: '/node/tmp',
      fileServers: [],
    } as never);
  const ctx = context({
    siteCatalog: sc,
    properties: new Properties(new Map([['pegasus.data.configuration', config]])),
    stagingSites: new Map([['a', 'b']]),
  });
  const graph = new WorkflowGraph(wf);
  const keep = new Uint8Array(1).fill(1);
  return mapJobs(ctx, wf, graph, keep, new Int32Array(1), 'random').workflow.jobs[0];
}

describe('lite specs (nonsharedfs)', () => {
  it('a nonsharedfs job pulls every input (the staged executable too) from its staging site and pushes its outputs back', () => {
    const j = mapOne('nonsharedfs');
    expect(runsInScratch(j)).toBe(true);
    expect(j.stagingSite).toBe('b');
    expect(j.directory).toBeUndefined();
    expect(j.argv).toEqual(['./sim', '-o', 'out.dat']);
    const url = (lfn: string) => [{ site_label: 'b', url: `file:///scratch/b/run0001/${lfn}` }];
    expect(liteSpecOf(j)).toEqual({
      job: 'j1',
      scratch: '/node/tmp',
      stdout: 'j1.log',
      inputs: [
        { lfn: 'sim', src_urls: url('sim') },
        { lfn: 'in.dat', src_urls: url('in.dat') },
      ],
      outputs: [
        { lfn: 'out.dat', dest_urls: url('out.dat') },
        { lfn: 'j1.log', dest_urls: url('j1.log') },
      ],
    });
    expect(JSON.parse(liteSpecText(liteSpecOf(j)))).toEqual(liteSpecOf(j));
  });

  it('sharedfs and condorio jobs get no scratch dir', () => {
    expect(runsInScratch(mapOne('sharedfs'))).toBe(false);
    expect(mapOne('sharedfs').argv[0]).toBe('/scratch/a/run0001/sim');
    expect(runsInScratch(mapOne('condorio'))).toBe(false);
  });
});

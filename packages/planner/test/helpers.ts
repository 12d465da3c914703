import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, Properties, ReplicaIndex, type SiteCatalog } from '@pegasus-ts/model';
import type { PlanContext } from '../src/planning-context.js';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'planner-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Two sites besides local: `a` (slurm, shared scratch) and `b`; every site has scratch + storage. */
export function sites(root = '/scratch'): SiteCatalog {
  const site = (name: string, slurm: boolean) => {
    const s = new api.Site(name).addDirectories(
      new api.Directory(api.Directory.SHARED_SCRATCH, `${root}/${name}`, {
        sharedFileSystem: true,
      }).addFileServers(new api.FileServer(`file://${root}/${name}`, 'all')),
      new api.Directory(api.Directory.LOCAL_STORAGE, `${root}/${name}-out`).addFileServers(
        new api.FileServer(`file://${root}/${name}-out`, 'all'),
      ),
    );
    if (slurm) s.addGrids(new api.Grid('batch', 'login', 'slurm', { jobtype: 'compute' }));
    return s;
  };
  return new api.SiteCatalog().addSites(site('local', false), site('a', true), site('b', false)).toModel();
}

export function context(over: Partial<PlanContext> = {}): PlanContext {
  return {
    label: 'w',
    relativeDir: 'run0001',
    siteCatalog: sites(),
    transformationCatalogs: [],
    replicas: new ReplicaIndex([]),
    properties: new Properties(),
    executionSites: ['a'],
    stagingSites: new Map(),
    outputSites: [],
    defaultRetries: 1,
    ...over,
  };
}

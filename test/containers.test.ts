// Jobs in containers end to end, through the real `pegasus-ts` program: a workflow whose
// transformation names a podman container is planned with horizontal clustering (both jobs in one
// clustered job, each task wrapped in `podman run`), its input staged on the host, the tasks run
// by the cluster runner in a tiny image built here from busybox (nothing pulled), the outputs
// staged out. Skips when podman or /bin/busybox is missing (CI installs them: .ci/run).
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { api, SUBMIT_FILES } from '@pegasus-ts/model';
import { afterEach, describe, expect, it } from 'vitest';
import { hasStackTrace, pt, tempDir } from './helpers.js';

const IMAGE = 'localhost/pegasus-ts-test-busybox';

const hasPodman = (() => {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return existsSync('/bin/busybox');
  } catch {
    return false;
  }
})();

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

/** podman as it works on this kind of machine (runc, cgroupfs, rlimits it may not raise). */
function podmanEnv(dir: string): Record<string, string> {
  const file = path.join(dir, 'containers.conf');
  writeFileSync(
    file,
    '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n',
  );
  return { CONTAINERS_CONF: file };
}

function buildImage(dir: string, env: Record<string, string>): void {
  const ctx = path.join(dir, 'image');
  mkdirSync(ctx);
  copyFileSync('/bin/busybox', path.join(ctx, 'busybox'));
  chmodSync(path.join(ctx, 'busybox'), 0o755);
  writeFileSync(path.join(ctx, 'Containerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\n');
  execFileSync('podman', ['build', '-q', '-t', IMAGE, ctx], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
}

async function writeWorkflow(dir: string, type: string, image = `docker://${IMAGE}`): Promise<void> {
  mkdirSync(path.join(dir, 'inputs'));
  writeFileSync(path.join(dir, 'inputs', 'in.txt'), 'staged on the host\n');
  const input = new api.File('in.txt');
  const rc = new api.ReplicaCatalog().addReplica('local', input, `file://${dir}/inputs/in.txt`);
  const tiny = new api.Container('tiny', type as api.Container['type'], image);
  const bb = new api.Transformation('bb', {
    site: 'local',
    pfn: '/bin/busybox',
    container: tiny,
  }).addPegasusProfile({
    'clusters.size': 2,
  });
  const tc = new api.TransformationCatalog().addContainers(tiny).addTransformations(bb);
  const local = new api.Site('local').addDirectories(
    new api.Directory(api.Directory.SHARED_SCRATCH, `${dir}/scratch`).addFileServers(
      new api.FileServer(`file://${dir}/scratch`, 'all'),
    ),
    new api.Directory(api.Directory.LOCAL_STORAGE, `${dir}/outputs`).addFileServers(
      new api.FileServer(`file://${dir}/outputs`, 'all'),
    ),
  );
  const wf = new api.Workflow('containers');
  for (const name of ['a', 'b']) {
    const out = new api.File(`${name}.txt`);
    wf.addJobs(
      new api.Job(bb, { id: `copy_${name}` })
        .addArgs('cp', input, out)
        .addInputs(input)
        .addOutputs([out], { stageOut: true, registerReplica: false }),
    );
  }
  const props = new api.Properties()
    .set('pegasus.data.configuration', 'sharedfs')
    .set('pegasus.catalog.site.file', 'sites.yml')
    .set('pegasus.catalog.transformation.file', 'transformations.yml')
    .set('pegasus.catalog.replica.file', 'replicas.yml');
  await Promise.all([
    wf.write(`${dir}/workflow.yml`),
    new api.SiteCatalog().addSites(local).write(`${dir}/sites.yml`),
    tc.write(`${dir}/transformations.yml`),
    rc.write(`${dir}/replicas.yml`),
    props.write(`${dir}/pegasus.properties`),
  ]);
}

const planArgs = (dir: string) => [
  'plan',
  '--dir',
  path.join(dir, 'submit'),
  '--sites',
  'local',
  '--cluster',
  'horizontal',
  '--output-sites',
  'local',
  '-q',
  'workflow.yml',
];

describe('containers', () => {
  it('rejects an unknown container type naming the catalog file and line', async () => {
    const t = tempDir('containers-bad-');
    cleanup = t.cleanup;
    await writeWorkflow(t.dir, 'docker');
    const tcFile = path.join(t.dir, 'transformations.yml');
    writeFileSync(tcFile, readFileSync(tcFile, 'utf8').replace('type: docker', 'type: rkt'));
    const r = await pt(planArgs(t.dir), { cwd: t.dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /transformations\.yml:\d+:\d+: "type" of container is "rkt" \(expected one of: docker, podman, singularity, apptainer, shifter\)/,
    );
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(existsSync(path.join(t.dir, 'submit'))).toBe(false);
  });

  it.skipIf(!hasPodman)(
    `${hasPodman ? '' : '(skipped: podman or /bin/busybox missing) '}runs clustered tasks in a podman container on inputs staged on the host`,
    async () => {
      const t = tempDir('containers-run-');
      cleanup = t.cleanup;
      const env = podmanEnv(t.dir);
      buildImage(t.dir, env);
      await writeWorkflow(t.dir, 'podman');
      const plan = await pt(planArgs(t.dir), { cwd: t.dir });
      expect(plan.code).toBe(0);
      const submitDir = plan.stdout.trim().split('\n').pop() as string;
      const dags = readdirSync(path.join(submitDir, SUBMIT_FILES.clusters)).filter((f) => f.endsWith('.dag'));
      expect(dags).toHaveLength(1);
      const dag = readFileSync(path.join(submitDir, SUBMIT_FILES.clusters, dags[0]), 'utf8');
      expect(
        dag.match(
          /^TASK .* podman run --rm -v (\S+):\1 -w \1 localhost\/pegasus-ts-test-busybox \/bin\/busybox cp in\.txt [ab]\.txt$/gm,
        ),
      ).toHaveLength(2);
      const r = await pt(['run', '--foreground', submitDir], { env });
      expect(r.stderr, r.stderr).toContain('engine finished: workflow succeeded');
      expect(r.code).toBe(0);
      for (const name of ['a', 'b'])
        expect(readFileSync(path.join(t.dir, 'outputs', `${name}.txt`), 'utf8')).toBe('staged on the host\n');
    },
    300_000,
  );

  it.skipIf(!hasPodman)(
    `${hasPodman ? '' : '(skipped: podman or /bin/busybox missing) '}an image file on the submit host (file://) is staged to the job and loaded with podman load, not pulled`,
    async () => {
      const t = tempDir('containers-file-');
      cleanup = t.cleanup;
      const env = podmanEnv(t.dir);
      const penv = { ...process.env, ...env };
      buildImage(t.dir, env);
      // the image saved to a file under a name the store then forgets (the build's name stays)
      const name = `localhost/pegasus-ts-test-file:${path.basename(t.dir).toLowerCase()}`;
      const tar = path.join(t.dir, 'tiny.tar');
      execFileSync('podman', ['tag', IMAGE, name], { env: penv });
      execFileSync('podman', ['save', '-q', '-o', tar, name], { env: penv });
      execFileSync('podman', ['rmi', name], { env: penv, stdio: 'ignore' });
      const exists = () => {
        try {
          execFileSync('podman', ['image', 'exists', name], { env: penv });
          return true;
        } catch {
          return false;
        }
      };
      expect(exists()).toBe(false);
      await writeWorkflow(t.dir, 'podman', `file://${tar}`);
      const plan = await pt(planArgs(t.dir), { cwd: t.dir });
      expect(plan.code, plan.stderr).toBe(0);
      const submitDir = plan.stdout.trim().split('\n').pop() as string;
      // staged into the work dir like an input, from the submit host
      const planYml = readFileSync(path.join(submitDir, SUBMIT_FILES.plan), 'utf8');
      expect(planYml).toMatch(
        new RegExp(`lfn: tiny\\.tar, linkage: input, sources: \\[\\{site: local, url: "file://${tar}"`),
      );
      try {
        const r = await pt(['run', '--foreground', submitDir], { env });
        expect(r.code, r.stderr).toBe(0);
        for (const n of ['a', 'b'])
          expect(readFileSync(path.join(t.dir, 'outputs', `${n}.txt`), 'utf8')).toBe('staged on the host\n');
        expect(exists()).toBe(true);
      } finally {
        execFileSync('podman', ['rmi', '-i', name], { env: penv, stdio: 'ignore' });
      }
    },
    300_000,
  );
});

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Container, parseTransformationCatalog } from '@pegasus-ts/model';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containerArgv, containerImage, containerImageFile } from '../src/passes/containers.js';
import { plan } from '../src/plan.js';

const container = (over: Partial<Container> = {}): Container => ({
  name: 'c',
  type: 'podman',
  image: 'docker://localhost/tiny',
  mounts: [],
  profiles: {},
  ...over,
});
const job = { workDir: '/scratch/run', describe: 'job "j"' };
const argv = ['/bin/busybox', 'cp', 'a b', 'c'];

describe('containerArgv', () => {
  it('runs docker and podman with the work dir mounted at its own path, mounts, cwd and env names', () => {
    const c = container({ mounts: ['/data:/data:ro', '/opt/x'] });
    expect(
      containerArgv(c, argv, { ...job, cwd: '/scratch/run/sub', profiles: { env: { A: '1', B: '2' } } }),
    ).toEqual([
      'podman',
      'run',
      '--rm',
      '-v',
      '/scratch/run:/scratch/run',
      '-v',
      '/data:/data:ro',
      '-v',
      '/opt/x',
      '-w',
      '/scratch/run/sub',
      '-e',
      'A',
      '-e',
      'B',
      'localhost/tiny',
      ...argv,
    ]);
    expect(containerArgv(container({ type: 'docker', image: 'centos:7' }), ['/bin/true'], job)).toEqual([
      'docker',
      'run',
      '--rm',
      '-v',
      '/scratch/run:/scratch/run',
      '-w',
      '/scratch/run',
      'centos:7',
      '/bin/true',
    ]);
  });

  it('runs singularity and apptainer with exec, binds and --pwd, and shifter with --image and --volume', () => {
    const sif = container({ type: 'singularity', image: 'file:///images/tiny.sif', mounts: ['/data:/in'] });
    expect(containerArgv(sif, ['/bin/true'], job)).toEqual([
      'singularity',
      'exec',
      '--no-home',
      '--bind',
      '/scratch/run:/scratch/run',
      '--bind',
      '/data:/in',
      '--pwd',
      '/scratch/run',
      '/images/tiny.sif',
      '/bin/true',
    ]);
    expect(
      containerArgv(container({ type: 'apptainer', image: 'docker://centos:7' }), ['/bin/true'], job),
    ).toEqual([
      'apptainer',
      'exec',
      '--no-home',
      '--bind',
      '/scratch/run:/scratch/run',
      '--pwd',
      '/scratch/run',
      'docker://centos:7',
      '/bin/true',
    ]);
    expect(
      containerArgv(container({ type: 'shifter', image: 'docker://centos:7' }), ['/bin/true'], job),
    ).toEqual([
      'shifter',
      '--image=docker:centos:7',
      '--volume=/scratch/run:/scratch/run',
      '--',
      '/bin/true',
    ]);
  });

  it('names the catalog file and line of an image or mount it cannot use', () => {
    const tc = parseTransformationCatalog(
      [
        'pegasus: "5.0"',
        'transformations:',
        '  - name: t',
        '    sites: [{name: local, pfn: /bin/true, type: installed, container: web}]',
        'containers:',
        '  - {name: web, type: docker, image: "http://example.org/tiny.tar"}',
        '  - {name: rel, type: podman, image: "localhost/tiny", mounts: ["data:/data"]}',
        '',
      ].join('\n'),
      'tc.yml',
    );
    expect(() => containerImage(tc.containers[0])).toThrow(
      'tc.yml:6:5: container "web": image "http://example.org/tiny.tar" cannot be used by docker (expected docker://NAME, a NAME in the local image store, or file://PATH of a saved image)',
    );
    expect(() => containerArgv(tc.containers[1], ['/bin/true'], job)).toThrow(
      'tc.yml:7:5: container "rel" (for job "j"): mount "data:/data" (expected /HOST/PATH[:/CONTAINER/PATH[:OPTIONS]])',
    );
  });
});

describe('container image files (file://)', () => {
  it('docker/podman load the file, then run the image it loaded; apptainer runs the file', () => {
    const c = container({ image: 'file:///images/tiny.tar' });
    expect(containerImageFile(c)).toBe('/images/tiny.tar');
    expect(containerImageFile(container())).toBeUndefined();
    const cmd = containerArgv(c, ['/bin/true', 'x y'], { ...job, imagePath: '/scratch/run/tiny.tar' });
    expect(cmd.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(cmd.slice(3)).toEqual(['podman-load', '/scratch/run/tiny.tar', '/bin/true', 'x y']);
    expect(cmd[2]).toBe(
      `image=$(podman load -i "$1" | sed -n 's/^Loaded image[^:]*: *//p' | tail -n 1) && [ -n "$image" ] && shift && exec podman run --rm -v /scratch/run:/scratch/run -w /scratch/run "$image" "$@"`,
    );
    // without a staged copy (bypass): the file where its URL says
    expect(containerArgv(c, ['/bin/true'], job).slice(3, 5)).toEqual(['podman-load', '/images/tiny.tar']);
    const sif = container({ type: 'apptainer', image: 'file:///images/tiny.sif' });
    expect(containerArgv(sif, ['/bin/true'], { ...job, imagePath: './tiny.sif' })).toContain('./tiny.sif');
    const tc = parseTransformationCatalog(
      'pegasus: "5.0"\ntransformations:\n  - {name: t, sites: [{name: local, pfn: /bin/true, type: installed, container: s}]}\ncontainers:\n  - {name: s, type: shifter, image: "file:///images/x.tar"}\n',
      'tc.yml',
    );
    expect(() => containerImageFile(tc.containers[0])).toThrow(
      'tc.yml:5:5: container "s": image "file:///images/x.tar" cannot be used by shifter (expected docker://NAME)',
    );
  });

  it('plans the image file as an input staged from its image.site, or used where it is with bypass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'planner-image-'));
    try {
      const wf = (bypass: boolean) => `pegasus: "5.0"
name: img
transformationCatalog:
  pegasus: "5.0"
  transformations:
    - name: t
      sites: [{name: local, pfn: /bin/true, type: installed, container: tiny}]
  containers:
    - {name: tiny, type: apptainer, image: "file://${dir}/images/tiny.sif", image.site: local, bypass: ${bypass}}
jobs:
  - {type: job, id: j, name: t, arguments: [], uses: []}
`;
      const jobsOf = async (bypass: boolean) => {
        writeFileSync(join(dir, 'wf.yml'), wf(bypass));
        const r = await plan({
          cwd: dir,
          workflow: 'wf.yml',
          dir: join(dir, 'runs'),
          sites: ['local'],
          defines: ['pegasus.data.configuration=sharedfs'],
        });
        return parse(readFileSync(r.planFile, 'utf8')).jobs as {
          name: string;
          command: string[];
          directory?: string;
          transfers?: { lfn: string; sources: { site: string; url: string }[] }[];
        }[];
      };
      const staged = await jobsOf(false);
      const j = staged.find((x) => x.name === 'j');
      expect(j?.command).toContain(`${j?.directory}/tiny.sif`);
      const t = staged.flatMap((x) => x.transfers ?? []).find((x) => x.lfn === 'tiny.sif');
      expect(t?.sources).toEqual([{ site: 'local', url: `file://${dir}/images/tiny.sif` }]);
      const bypassed = await jobsOf(true);
      expect(bypassed.find((x) => x.name === 'j')?.command).toContain(`${dir}/images/tiny.sif`);
      expect(bypassed.flatMap((x) => x.transfers ?? []).some((x) => x.lfn === 'tiny.sif')).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** podman as it works on this kind of machine (runc, cgroupfs, rlimits it may not raise). */
function podmanConf(dir: string): string {
  const file = join(dir, 'containers.conf');
  writeFileSync(
    file,
    '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n',
  );
  return file;
}

const hasPodman = (() => {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return existsSync('/bin/busybox');
  } catch {
    return false;
  }
})();

describe.skipIf(!hasPodman)(
  `${hasPodman ? '' : '(skipped: podman or /bin/busybox missing) '}containerArgv with a real podman`,
  () => {
    it('runs a command in a tiny local image on files of the host work dir', () => {
      const dir = mkdtempSync(join(tmpdir(), 'planner-podman-'));
      try {
        const env = { ...process.env, CONTAINERS_CONF: podmanConf(dir) };
        // A tiny image from files on this machine: nothing is pulled.
        const ctx = join(dir, 'image');
        execFileSync('mkdir', ['-p', ctx]);
        execFileSync('cp', ['/bin/busybox', join(ctx, 'busybox')]);
        writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\n');
        execFileSync('podman', ['build', '-q', '-t', 'localhost/pegasus-ts-test-busybox', ctx], {
          env,
          stdio: 'ignore',
        });
        const work = join(dir, 'work');
        execFileSync('mkdir', ['-p', work]);
        writeFileSync(join(work, 'in.txt'), 'from the host\n');
        const cmd = containerArgv(
          container({ image: 'docker://localhost/pegasus-ts-test-busybox' }),
          ['/bin/busybox', 'sh', '-c', 'cp in.txt out.txt && echo "$GREETING" >> out.txt'],
          { workDir: work, describe: 'job "j"', profiles: { env: { GREETING: 'inside' } } },
        );
        execFileSync(cmd[0], cmd.slice(1), {
          env: { ...env, GREETING: 'inside' },
          stdio: 'ignore',
          timeout: 120_000,
        });
        expect(readFileSync(join(work, 'out.txt'), 'utf8')).toBe('from the host\ninside\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 180_000);
  },
);

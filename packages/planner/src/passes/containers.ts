import { fileURLToPath } from 'node:url';
import { type Container, locationOf, type Profiles, shellQuote } from '@pegasus-ts/model';
import { PlanError } from '../errors.js';

/** Where the wrapped command runs on the host, and what of it the container must see. */
export interface ContainerJobContext {
  /** the job's work directory on the host (inputs staged there): mounted at the same path */
  workDir: string;
  /** the directory the command runs in (default: workDir) */
  cwd?: string;
  /** the job's merged profiles: `env` keys are passed into the container */
  profiles?: Profiles;
  /** the job, for errors (`FILE:LINE:COL: job "id"`) */
  describe: string;
  /**
   * Where the job finds the container's image file (a `file://` image: staged into the work dir;
   * default: where the URL says, as with `bypass`): docker/podman load it (`TYPE load -i`) and run
   * what it loaded, singularity/apptainer run it as it is.
   */
  imagePath?: string;
}

/** Where a container was written, for errors: `FILE:LINE:COL: container "name"`. */
function describeContainer(c: Container): string {
  const at = locationOf(c);
  return at ? `${at.file}:${at.line}:${at.column}: container "${c.name}"` : `container "${c.name}"`;
}

/**
 * The image file of a container whose `image` is a `file://` URL (an image saved with `docker
 * save`/`podman save`, or a singularity/apptainer image file), else undefined. The file is on the
 * container's `image.site` (default `local`, the submit host).
 */
export function containerImageFile(c: Container): string | undefined {
  if (!/^file:\/\//i.test(c.image)) return undefined;
  if (c.type === 'shifter')
    throw new PlanError(
      `${describeContainer(c)}: image "${c.image}" cannot be used by shifter (expected docker://NAME)`,
    );
  try {
    return fileURLToPath(c.image);
  } catch {
    throw new PlanError(`${describeContainer(c)}: image "${c.image}" (expected file:///ABSOLUTE/PATH)`);
  }
}

/**
 * The image reference the runtime is given when it is not a file (`containerImageFile`): images
 * are never pulled by the planner: docker/podman take a name in their local store (`docker://`
 * is dropped); singularity/apptainer take a `docker://`, `library://`, `shub://`, `oras://`
 * reference; shifter takes `docker:NAME`.
 */
export function containerImage(c: Container): string {
  const image = c.image;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(image)?.[1]?.toLowerCase();
  const fail = (expected: string): never => {
    throw new PlanError(
      `${describeContainer(c)}: image "${image}" cannot be used by ${c.type} (expected ${expected})`,
    );
  };
  switch (c.type) {
    case 'docker':
    case 'podman':
      if (scheme === undefined) return image;
      if (scheme === 'docker') return image.slice('docker://'.length);
      return fail('docker://NAME, a NAME in the local image store, or file://PATH of a saved image');
    case 'singularity':
    case 'apptainer':
      if (scheme === undefined) return image;
      if (scheme === 'file') return image.slice('file://'.length);
      if (['docker', 'library', 'shub', 'oras'].includes(scheme)) return image;
      return fail('file://PATH, docker://, library://, shub:// or oras://');
    case 'shifter':
      if (scheme === 'docker') return `docker:${image.slice('docker://'.length)}`;
      if (scheme === undefined) return image.startsWith('docker:') ? image : `docker:${image}`;
      return fail('docker://NAME');
  }
  return unknownType(c);
}

function unknownType(c: Container): never {
  throw new PlanError(
    `${describeContainer(c)}: unknown container type "${String(c.type)}" (expected docker, podman, singularity, apptainer or shifter)`,
  );
}

/** A catalog mount `HOST[:CONTAINER[:OPTIONS]]`, checked: both paths absolute. */
function mountOf(c: Container, m: string, job: string): string {
  const [host, inside = host] = m.split(':');
  if (!host.startsWith('/') || !inside.startsWith('/')) {
    throw new PlanError(
      `${describeContainer(c)} (for ${job}): mount "${m}" (expected /HOST/PATH[:/CONTAINER/PATH[:OPTIONS]])`,
    );
  }
  return m;
}

/**
 * The command that runs `argv` inside the container: the work directory is mounted at the same
 * path (inputs were staged there on the host, outputs are left there for the host to stage out),
 * the catalog's mounts are added, the command runs in `cwd`, and the job's `env` profiles are
 * passed in by name (docker/podman `-e KEY` takes the value from the launching environment;
 * singularity/apptainer/shifter pass the environment through). The executable is the
 * transformation's path inside the image (an installed PFN), or a staged one in the work dir.
 */
export function containerArgv(c: Container, argv: readonly string[], job: ContainerJobContext): string[] {
  const file = job.imagePath ?? containerImageFile(c);
  const image = file ?? containerImage(c);
  const work = job.workDir;
  const cwd = job.cwd ?? work;
  const mounts = c.mounts.map((m) => mountOf(c, m, job.describe));
  const envKeys = Object.keys(job.profiles?.env ?? {});
  switch (c.type) {
    case 'docker':
    case 'podman': {
      const out = [c.type, 'run', '--rm', '-v', `${work}:${work}`];
      for (const m of mounts) out.push('-v', m);
      out.push('-w', cwd);
      for (const k of envKeys) out.push('-e', k);
      if (file === undefined) return [...out, image, ...argv];
      // an image file: loaded into the local store first, then the image it loaded is run
      const load =
        `image=$(${c.type} load -i "$1" | sed -n 's/^Loaded image[^:]*: *//p' | tail -n 1)` +
        ` && [ -n "$image" ] && shift && exec ${out.map(shellQuote).join(' ')} "$image" "$@"`;
      return ['/bin/sh', '-c', load, `${c.type}-load`, image, ...argv];
    }
    case 'singularity':
    case 'apptainer': {
      const out = [c.type, 'exec', '--no-home', '--bind', `${work}:${work}`];
      for (const m of mounts) out.push('--bind', m);
      out.push('--pwd', cwd, image, ...argv);
      return out;
    }
    case 'shifter': {
      const out = ['shifter', `--image=${image}`, `--volume=${work}:${work}`];
      for (const m of mounts) out.push(`--volume=${m}`);
      out.push('--', ...argv);
      return out;
    }
  }
  return unknownType(c);
}

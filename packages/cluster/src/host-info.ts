import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface HostInfo {
  hostname: string;
  cpus: number;
  /** Physical memory in MB, rounded up. */
  memoryMb: number;
  /** GPUs `nvidia-smi -L` lists (0 when it is absent or fails). */
  gpus: number;
}

/** This machine's name, CPU count, memory and GPUs (what a worker registers with). */
export function detectHost(): HostInfo {
  return {
    hostname: os.hostname(),
    cpus: Math.max(1, os.availableParallelism()),
    memoryMb: Math.ceil(os.totalmem() / (1024 * 1024)),
    gpus: detectGpus(),
  };
}

/** The GPUs `nvidia-smi -L` reports; 0 when the tool is absent or fails (no driver). */
export function detectGpus(): number {
  // Looked up first: most hosts have no GPU, and a worker should not pay for a failed spawn.
  const tool = onPath('nvidia-smi');
  if (tool === undefined) return 0;
  try {
    const out = execFileSync(tool, ['-L'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    return countGpus(out);
  } catch {
    return 0;
  }
}

/** Counts the `GPU N: NAME (UUID: ...)` lines of `nvidia-smi -L` output (MIG lines are not GPUs). */
export function countGpus(nvidiaSmiList: string): number {
  let n = 0;
  for (const line of nvidiaSmiList.split('\n')) if (/^GPU \d+:/.test(line)) n++;
  return n;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

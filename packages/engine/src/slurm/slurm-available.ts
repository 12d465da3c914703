import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { runSlurmCommand } from './internal/run-command.js';
import { SlurmError } from './slurm-error.js';

/** Whether Slurm can be used from here, and if not, why. */
export type SlurmAvailability =
  | { available: true; partitions: string[] }
  | { available: false; installed: boolean; reason: string };

/** The client commands the engine uses. */
export const SLURM_CLIENTS = ['sbatch', 'squeue', 'scancel', 'sinfo'] as const;

/** Path of `cmd` on `PATH`, or undefined. */
export function findOnPath(cmd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Checks that the Slurm client commands are installed and that a controller answers
 * (`sinfo -h -o %P`, within `timeoutMs`, default 10 s; without SLURM_CONF or
 * /etc/slurm/slurm.conf sinfo fails at once). The reason is one line for a user.
 */
export async function slurmAvailable(
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<SlurmAvailability> {
  const env = opts.env ?? process.env;
  const missing = SLURM_CLIENTS.filter((c) => findOnPath(c, env) === undefined);
  if (missing.length > 0) {
    return {
      available: false,
      installed: false,
      reason: `Slurm client commands not found on PATH: ${missing.join(', ')} (install Slurm, e.g. apt-get install slurm-wlm)`,
    };
  }
  try {
    const out = await runSlurmCommand('sinfo', ['-h', '-o', '%P'], {
      env,
      timeoutMs: opts.timeoutMs ?? 10_000,
      retries: 0,
      retryDelayMs: 0,
    });
    const partitions = out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    return { available: true, partitions };
  } catch (e) {
    const why = e instanceof SlurmError ? e.message : String(e);
    const conf = env.SLURM_CONF ? `SLURM_CONF=${env.SLURM_CONF}` : 'SLURM_CONF is not set';
    return {
      available: false,
      installed: true,
      reason: `no Slurm controller answers (${conf}): ${why}`,
    };
  }
}

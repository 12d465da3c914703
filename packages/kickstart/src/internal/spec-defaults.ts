import { isAbsolute, resolve } from 'node:path';
import type { LaunchSpec } from '../launcher.js';

/** Checks what both launchers need; throws a TypeError naming the bad field. */
export function checkSpec(spec: LaunchSpec): void {
  if (
    !Array.isArray(spec.argv) ||
    spec.argv.length === 0 ||
    typeof spec.argv[0] !== 'string' ||
    !spec.argv[0]
  ) {
    throw new TypeError('LaunchSpec.argv must be a non-empty array whose first element names the executable');
  }
  for (const k of ['timeout', 'killGrace', 'memoryLimitMb'] as const) {
    const v = spec[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw new TypeError(`LaunchSpec.${k} must be a number >= 0, got ${v}`);
    }
  }
  for (const x of spec.extraCaptures ?? []) {
    if (!Number.isInteger(x.fd) || x.fd < 3 || x.fd > 1023) {
      throw new TypeError(`LaunchSpec.extraCaptures fd must be an integer in 3..1023, got ${x.fd}`);
    }
  }
}

/** Absolute working directory of a spec. */
export function specCwd(spec: LaunchSpec): string {
  if (!spec.cwd) return process.cwd();
  return isAbsolute(spec.cwd) ? spec.cwd : resolve(spec.cwd);
}

export function envSnapshot(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(env)) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

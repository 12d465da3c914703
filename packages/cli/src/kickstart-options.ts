import type { KickstartOptions } from '@pegasus-ts/kickstart';
import type { KickstartFlags } from './kickstart-command.js';

/** Maps `pegasus-ts kickstart` flags and the application argv to @pegasus-ts/kickstart options. */
export function toKickstartOptions(application: string[], flags: KickstartFlags): KickstartOptions {
  return {
    argv: application,
    transformation: flags.transformation,
    derivation: flags.derivation,
    resource: flags.resource,
    wfLabel: flags.wfLabel,
    wfStamp: flags.wfStamp,
    omitHeader: flags.omitHeader ?? false,
    stdin: flags.stdin,
    stdout: flags.stdout,
    stderr: flags.stderr,
    logFile: flags.log,
    statBefore: flags.statBefore,
    statAfter: flags.statAfter,
    workdir: flags.createWorkdir ?? flags.workdir,
    createWorkdir: flags.createWorkdir !== undefined,
    tailBytes: flags.tailBytes,
    full: flags.full ?? false,
    quiet: flags.quiet ?? false,
    killAfter: flags.killAfter,
    killGrace: flags.killGrace,
  } as unknown as KickstartOptions;
}

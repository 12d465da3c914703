import type { KickstartOptions } from '@pegasus-ts/kickstart';
import type { KickstartFlags } from './kickstart-command.js';

/** Maps `pegasus-ts kickstart` flags and the application argv to @pegasus-ts/kickstart options. */
export function toKickstartOptions(application: string[], flags: KickstartFlags): KickstartOptions {
  const options: KickstartOptions = {
    argv: application,
    statBefore: flags.statBefore,
    statAfter: flags.statAfter,
  };
  if (flags.transformation !== undefined) options.transformation = flags.transformation;
  if (flags.derivation !== undefined) options.derivation = flags.derivation;
  if (flags.resource !== undefined) options.resource = flags.resource;
  if (flags.wfLabel !== undefined) options.wfLabel = flags.wfLabel;
  if (flags.wfStamp !== undefined) options.wfStamp = flags.wfStamp;
  if (flags.omitHeader) options.noHeader = true;
  if (flags.stdin !== undefined) options.stdin = flags.stdin;
  if (flags.stdout !== undefined) options.stdout = flags.stdout;
  if (flags.stderr !== undefined) options.stderr = flags.stderr;
  if (flags.log !== undefined) options.logFile = flags.log;
  // -W DIR is -w DIR created first; -W wins when both are given.
  if (flags.createWorkdir !== undefined) {
    options.workdir = flags.createWorkdir;
    options.createWorkdir = true;
  } else if (flags.workdir !== undefined) {
    options.workdir = flags.workdir;
  }
  if (flags.tailBytes !== undefined) options.tailBytes = flags.tailBytes;
  if (flags.full) options.full = true;
  if (flags.quiet) options.quiet = true;
  if (flags.killAfter !== undefined) options.timeout = flags.killAfter;
  if (flags.killGrace !== undefined) options.killGrace = flags.killGrace;
  return options;
}

import type { HookEvent, Hooks, Metadata } from '../common.js';
import type { ProfileNamespace, Profiles, ProfileValue } from '../profiles.js';

/** Base of every builder that carries profiles (`addProfiles`, `addEnv`, `addPegasusProfile`, ...). */
export abstract class Profiled {
  readonly profiles: Profiles = {};

  addProfiles(ns: ProfileNamespace, entries: Record<string, ProfileValue>): this {
    const m = this.profiles[ns] ?? {};
    Object.assign(m, entries);
    this.profiles[ns] = m;
    return this;
  }
  addEnv(entries: Record<string, ProfileValue>): this {
    return this.addProfiles('env', entries);
  }
  addCondorProfile(entries: Record<string, ProfileValue>): this {
    return this.addProfiles('condor', entries);
  }
  addDagmanProfile(entries: Record<string, ProfileValue>): this {
    return this.addProfiles('dagman', entries);
  }
  addGlobusProfile(entries: Record<string, ProfileValue>): this {
    return this.addProfiles('globus', entries);
  }
  /** e.g. `{cores: 2, runtime: 600, 'clusters.size': 10, label: 'mc'}` */
  addPegasusProfile(entries: Record<string, ProfileValue>): this {
    return this.addProfiles('pegasus', entries);
  }
  addSelectorProfile(entries: Record<string, ProfileValue>): this {
    return this.addProfiles('selector', entries);
  }
}

/** Profiles + metadata + hooks (workflow, job, transformation). */
export abstract class Annotated extends Profiled {
  metadata: Metadata | undefined;
  hooks: Hooks | undefined;

  addMetadata(entries: Metadata): this {
    this.metadata = { ...this.metadata, ...entries };
    return this;
  }
  addShellHook(on: HookEvent, cmd: string): this {
    this.hooks ??= { shell: [] };
    this.hooks.shell.push({ on, cmd });
    return this;
  }
}

export function copyProfiles(p: Profiles): Profiles {
  const out: Profiles = {};
  for (const [ns, m] of Object.entries(p)) if (m) out[ns as ProfileNamespace] = { ...m };
  return out;
}

/** Vendor extensions: keys starting with `x-`, kept verbatim (the planner ignores them). */
export type Extensions = Record<string, unknown>;

/** Metadata: key -> string | number (schema `common.yml#/$defs/metadata`, at least one entry). */
export type Metadata = Record<string, string | number>;

/** `{sha256: hex}` (the only checksum type the 5.0 schemas define). */
export interface Checksum {
  sha256?: string;
}

/** Events a hook fires on. */
export type HookEvent = 'never' | 'start' | 'error' | 'success' | 'end' | 'all';
export const HOOK_EVENTS: readonly HookEvent[] = ['never', 'start', 'error', 'success', 'end', 'all'];

/** A shell hook: run `cmd` on the submit host when `on` happens. Written as `{_on, cmd}`. */
export interface ShellHook {
  on: HookEvent;
  cmd: string;
}

/** Hooks (notifications) of a workflow, job or transformation. */
export interface Hooks {
  shell: ShellHook[];
}

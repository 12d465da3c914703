import { EnsembleError } from './errors.js';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$/;

/** Checks an ensemble, workflow or trigger name: letters, digits, `_` and `-` (no dot, no slash). */
export function checkName(kind: string, name: string): string {
  if (!NAME.test(name))
    throw new EnsembleError(
      `${kind} name '${name}': expected 1 to 100 letters, digits, '_' or '-' (not starting with '-')`,
    );
  return name;
}

/** `ENS.WF` -> its two names. */
export function parseWorkflowRef(ref: string): { ensemble: string; workflow: string } {
  const dot = ref.indexOf('.');
  if (dot < 0) throw new EnsembleError(`'${ref}': expected ENSEMBLE.WORKFLOW`);
  return {
    ensemble: checkName('ensemble', ref.slice(0, dot)),
    workflow: checkName('workflow', ref.slice(dot + 1)),
  };
}

/** A whole number in [min, max] from a command line or form value. */
export function parseCount(what: string, value: string | number, min: number, max = 1_000_000): number {
  const n = typeof value === 'number' ? value : /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new EnsembleError(`${what} '${value}': expected an integer from ${min} to ${max}`);
  return n;
}

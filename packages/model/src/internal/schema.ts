import type { Path } from './source.js';

/**
 * A small declarative schema, mirroring the Pegasus 5.0 JSON schemas, checked by hand so that every
 * problem gets a path (turned into file:line:column) and a one-line "expected ..." message.
 */
export type Spec =
  | { t: 'str'; pattern?: RegExp; expect?: string; enum?: readonly string[] }
  | { t: 'num'; min?: number; int?: boolean }
  | { t: 'bool' }
  | { t: 'strnum' }
  | { t: 'any' }
  | { t: 'arr'; items: Spec; min?: number }
  | ObjSpec
  | { t: 'union'; name: string; key: string; variants: Record<string, ObjSpec>; missing?: string }
  | { t: 'custom'; check: (v: unknown, path: Path, out: SchemaProblem[]) => void };

export interface ObjSpec {
  t: 'obj';
  name: string;
  props: Record<string, Spec>;
  required?: readonly string[];
  /** key pattern for free-form keys (metadata, profile keys) */
  keys?: { pattern: RegExp; value: Spec; expect: string };
  minProps?: number;
}

export interface SchemaProblem {
  path: Path;
  message: string;
  onKey?: boolean;
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a sequence';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string')
    return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  return typeof v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function label(path: Path, what: string): string {
  const last = path[path.length - 1];
  if (typeof last === 'string') return `"${last}" of ${what}`;
  if (typeof last === 'number') return `item ${last} of ${what}`;
  return what;
}

export function check(spec: Spec, v: unknown, path: Path, out: SchemaProblem[], owner = 'document'): void {
  const where = label(path, owner);
  switch (spec.t) {
    case 'any':
      return;
    case 'str':
      if (typeof v !== 'string') {
        out.push({ path, message: `${where} is ${typeName(v)} (expected ${spec.expect ?? 'a string'})` });
      } else if (spec.enum && !spec.enum.includes(v)) {
        out.push({
          path,
          message: `${where} is ${JSON.stringify(v)} (expected one of: ${spec.enum.join(', ')})`,
        });
      } else if (spec.pattern && !spec.pattern.test(v)) {
        out.push({
          path,
          message: `${where} is ${JSON.stringify(v)} (expected ${spec.expect ?? spec.pattern})`,
        });
      }
      return;
    case 'num':
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        out.push({ path, message: `${where} is ${typeName(v)} (expected a number)` });
      } else if (spec.int && !Number.isInteger(v)) {
        out.push({ path, message: `${where} is ${v} (expected an integer)` });
      } else if (spec.min !== undefined && v < spec.min) {
        out.push({ path, message: `${where} is ${v} (expected a number >= ${spec.min})` });
      }
      return;
    case 'bool':
      if (typeof v !== 'boolean')
        out.push({ path, message: `${where} is ${typeName(v)} (expected true or false)` });
      return;
    case 'strnum':
      if (typeof v !== 'string' && (typeof v !== 'number' || !Number.isFinite(v))) {
        out.push({ path, message: `${where} is ${typeName(v)} (expected a string or a number)` });
      }
      return;
    case 'arr':
      if (!Array.isArray(v)) {
        out.push({ path, message: `${where} is ${typeName(v)} (expected a sequence)` });
        return;
      }
      if (spec.min !== undefined && v.length < spec.min) {
        out.push({ path, message: `${where} has ${v.length} items (expected at least ${spec.min})` });
      }
      for (let i = 0; i < v.length; i++) check(spec.items, v[i], [...path, i], out, owner);
      return;
    case 'obj':
      checkObject(spec, v, path, out, where);
      return;
    case 'union': {
      if (!isPlainObject(v)) {
        out.push({ path, message: `${where} is ${typeName(v)} (expected a ${spec.name} mapping)` });
        return;
      }
      const tag = v[spec.key] ?? spec.missing;
      const variant = typeof tag === 'string' ? spec.variants[tag] : undefined;
      if (!variant) {
        const p = v[spec.key] === undefined ? path : [...path, spec.key];
        out.push({
          path: p,
          message:
            v[spec.key] === undefined
              ? `${spec.name} is missing required key "${spec.key}" (expected one of: ${Object.keys(spec.variants).join(', ')})`
              : `"${spec.key}" of ${spec.name} is ${typeName(tag)} (expected one of: ${Object.keys(spec.variants).join(', ')})`,
        });
        return;
      }
      checkObject(variant, v, path, out, where);
      return;
    }
    case 'custom':
      spec.check(v, path, out);
      return;
  }
}

function checkObject(spec: ObjSpec, v: unknown, path: Path, out: SchemaProblem[], where: string): void {
  if (!isPlainObject(v)) {
    out.push({ path, message: `${where} is ${typeName(v)} (expected a ${spec.name} mapping)` });
    return;
  }
  let n = 0;
  for (const k of Object.keys(v)) {
    n++;
    const child = v[k];
    const p = [...path, k];
    const ps = Object.hasOwn(spec.props, k) ? spec.props[k] : undefined;
    if (ps) {
      check(ps, child, p, out, spec.name);
    } else if (k.startsWith('x-')) {
      // vendor extension: anything goes
    } else if (spec.keys) {
      if (!spec.keys.pattern.test(k)) {
        out.push({
          path: p,
          onKey: true,
          message: `key "${k}" in ${spec.name} (expected ${spec.keys.expect})`,
        });
      } else check(spec.keys.value, child, p, out, spec.name);
    } else {
      out.push({
        path: p,
        onKey: true,
        message: `unknown key "${k}" in ${spec.name} (expected one of: ${Object.keys(spec.props).join(', ')}, or x-*)`,
      });
    }
  }
  for (const r of spec.required ?? []) {
    if (!Object.hasOwn(v, r)) out.push({ path, message: `${spec.name} is missing required key "${r}"` });
  }
  if (spec.minProps !== undefined && n < spec.minProps) {
    out.push({ path, message: `${where} is empty (expected at least ${spec.minProps} entry)` });
  }
}

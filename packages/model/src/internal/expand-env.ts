import type { SchemaProblem } from './schema.js';
import type { Path } from './source.js';

const VAR_RE = /\$\{([^}]*)\}/g;

/**
 * Expands `${VAR}` in every string value (catalog files): braces are required, `$VAR` is left
 * alone, an undefined variable is a problem. Returns the expanded copy (the input is not changed).
 */
export function expandEnv(
  v: unknown,
  env: Record<string, string | undefined>,
  path: Path,
  out: SchemaProblem[],
): unknown {
  if (typeof v === 'string') {
    if (!v.includes('${')) return v;
    return v.replace(VAR_RE, (all, name: string) => {
      const val = env[name];
      if (val === undefined) {
        out.push({ path, message: `undefined environment variable \${${name}} (expected it to be set)` });
        return all;
      }
      return val;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => expandEnv(x, env, [...path, i], out));
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = expandEnv(x, env, [...path, k], out);
    return o;
  }
  return v;
}

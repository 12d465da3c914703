/** Profile namespaces allowed by `common.yml#/$defs/profiles` (`hints` is a deprecated alias of `selector`). */
export type ProfileNamespace = 'env' | 'condor' | 'globus' | 'dagman' | 'pegasus' | 'selector' | 'hints';
export const PROFILE_NAMESPACES: readonly ProfileNamespace[] = [
  'env',
  'condor',
  'globus',
  'dagman',
  'pegasus',
  'selector',
  'hints',
];

export type ProfileValue = string | number;

/**
 * Profiles: namespace -> key -> value, as in the YAML. Keys are kept as written, except that `x-`
 * keys inside a namespace are vendor extensions and are dropped at load time.
 */
export type Profiles = Partial<Record<ProfileNamespace, Record<string, ProfileValue>>>;

export function isProfileNamespace(ns: string): ns is ProfileNamespace {
  return (PROFILE_NAMESPACES as readonly string[]).includes(ns);
}

/** The canonical form of a key: dagman keys are case-insensitive (upper-cased), `hints` is `selector`. */
export function canonicalProfile(ns: ProfileNamespace, key: string): [ProfileNamespace, string] {
  if (ns === 'dagman') return ['dagman', key.toUpperCase()];
  if (ns === 'hints') return ['selector', key];
  return [ns, key];
}

/** Looks a profile up (dagman keys case-insensitively; `selector` also looks in `hints`). */
export function getProfile(
  p: Profiles | undefined,
  ns: ProfileNamespace,
  key: string,
): ProfileValue | undefined {
  if (!p) return undefined;
  if (ns === 'dagman') {
    const m = p.dagman;
    if (!m) return undefined;
    const up = key.toUpperCase();
    for (const k in m) if (k.toUpperCase() === up) return m[k];
    return undefined;
  }
  const v = p[ns]?.[key];
  if (v === undefined && ns === 'selector') return p.hints?.[key];
  return v;
}

/** Sets a profile in place and returns the same object. */
export function setProfile(p: Profiles, ns: ProfileNamespace, key: string, value: ProfileValue): Profiles {
  let m = p[ns];
  if (!m) {
    m = {};
    p[ns] = m;
  }
  m[key] = value;
  return p;
}

/** Number of profile entries. */
export function profileCount(p: Profiles | undefined): number {
  if (!p) return 0;
  let n = 0;
  for (const ns of PROFILE_NAMESPACES) {
    const m = p[ns];
    if (m) n += Object.keys(m).length;
  }
  return n;
}

/**
 * Overlays profiles: returns a new object with every entry of `lower`, replaced or extended by
 * `higher` (`mode: 'replace'`, the default), or only filled in where `lower` lacks the key
 * (`mode: 'fill'`, how properties apply). dagman keys compare case-insensitively.
 */
export function mergeProfiles(
  lower: Profiles | undefined,
  higher: Profiles | undefined,
  mode: 'replace' | 'fill' = 'replace',
): Profiles {
  const out: Profiles = {};
  for (const ns of PROFILE_NAMESPACES) {
    const a = lower?.[ns];
    const b = higher?.[ns];
    if (!a && !b) continue;
    const m: Record<string, ProfileValue> = { ...a };
    if (b) {
      for (const k in b) {
        const existing = ns === 'dagman' ? findDagmanKey(m, k) : k in m ? k : undefined;
        if (mode === 'fill' && existing !== undefined) continue;
        if (existing !== undefined && existing !== k) delete m[existing];
        m[k] = b[k];
      }
    }
    out[ns] = m;
  }
  return out;
}

function findDagmanKey(m: Record<string, ProfileValue>, key: string): string | undefined {
  const up = key.toUpperCase();
  for (const k in m) if (k.toUpperCase() === up) return k;
  return undefined;
}

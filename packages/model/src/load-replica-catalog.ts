import { type Issue, throwIfIssues } from './errors.js';
import { expandEnv } from './internal/expand-env.js';
import {
  asArr,
  asBool,
  asObj,
  asStr,
  put,
  readChecksum,
  readExtensions,
  readMetadata,
  readYaml,
  readYamlFile,
  type YamlRead,
} from './internal/read.js';
import { check, type SchemaProblem } from './internal/schema.js';
import { type Path, type Source, setOrigin } from './internal/source.js';
import { replicaCatalogSpec } from './internal/specs.js';
import type { CatalogLoadOptions } from './load-site-catalog.js';
import { compileReplicaRegex, type Replica, type ReplicaCatalog } from './replica-catalog.js';

/** Parses a standalone replica catalog (`replicas.yml`). Throws ModelError. */
export function parseReplicaCatalog(
  text: string,
  file = 'replicas.yml',
  options: CatalogLoadOptions = {},
): ReplicaCatalog {
  const { catalog, issues } = parseReplicaCatalogIssues(text, file, options);
  throwIfIssues(issues);
  return catalog;
}

export function parseReplicaCatalogIssues(
  text: string,
  file = 'replicas.yml',
  options: CatalogLoadOptions = {},
): { catalog: ReplicaCatalog; issues: Issue[] } {
  return replicaCatalogFromRead(readYaml(text, file), options);
}

/** @internal reads a replica catalog file (streamed) and returns the problems instead of throwing. */
export async function readReplicaCatalogIssues(
  path: string,
  options: CatalogLoadOptions = {},
): Promise<{ catalog: ReplicaCatalog; issues: Issue[] }> {
  return replicaCatalogFromRead(await readYamlFile(path), options);
}

function replicaCatalogFromRead(
  read: YamlRead,
  options: CatalogLoadOptions,
): { catalog: ReplicaCatalog; issues: Issue[] } {
  const { value, source, issues } = read;
  if (issues.length > 0) return { catalog: { replicas: [] }, issues };
  const problems: SchemaProblem[] = [];
  const v = options.env === false ? value : expandEnv(value, options.env ?? process.env, [], problems);
  check(replicaCatalogSpec, v, [], problems, 'replica catalog');
  const catalog = replicaCatalogFromObject(v, source, []);
  problems.push(...replicaCatalogProblems(catalog, [], false));
  return { catalog, issues: problems.map((p) => source.issue(p.path, p.message, p.onKey)) };
}

export async function loadReplicaCatalog(
  path: string,
  options: CatalogLoadOptions = {},
): Promise<ReplicaCatalog> {
  const { catalog, issues } = await readReplicaCatalogIssues(path, options);
  throwIfIssues(issues);
  return catalog;
}

/** @internal regex entries must compile; an inline catalog may not hold regex entries. */
export function replicaCatalogProblems(rc: ReplicaCatalog, path: Path, inline: boolean): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  rc.replicas.forEach((r, i) => {
    if (!r.regex) return;
    if (inline) {
      out.push({
        path: [...path, 'replicas', i, 'regex'],
        message:
          'regex replica entries are not allowed in a replica catalog inlined in the workflow (expected a separate replicas.yml)',
      });
    } else if (!compileReplicaRegex(r.lfn)) {
      out.push({
        path: [...path, 'replicas', i, 'lfn'],
        message: `"lfn" ${JSON.stringify(r.lfn)} (expected a valid regular expression)`,
      });
    }
  });
  return out;
}

/** @internal */
export function replicaCatalogFromObject(v: unknown, source: Source, path: Path): ReplicaCatalog {
  const o = asObj(v);
  const rc: ReplicaCatalog = {
    replicas: asArr(o.replicas).map((r, i) => readReplica(r, source, [...path, 'replicas', i])),
  };
  put(rc, 'pegasus', asStr(o.pegasus));
  put(rc, 'extensions', readExtensions(o));
  setOrigin(rc, source, path);
  return rc;
}

function readReplica(v: unknown, source: Source, path: Path): Replica {
  const o = asObj(v);
  const r: Replica = {
    lfn: asStr(o.lfn) ?? '',
    pfns: asArr(o.pfns).map((p) => {
      const po = asObj(p);
      return { site: asStr(po.site) ?? '', pfn: asStr(po.pfn) ?? '' };
    }),
    regex: asBool(o.regex) ?? false,
  };
  put(r, 'checksum', readChecksum(o.checksum));
  put(r, 'metadata', readMetadata(o.metadata));
  put(r, 'extensions', readExtensions(o));
  setOrigin(r, source, path);
  return r;
}

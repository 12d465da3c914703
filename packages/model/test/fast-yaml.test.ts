import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as api from '../src/api/index.js';
import type { ModelError } from '../src/errors.js';
import { parseYamlSubset, YamlSubsetDecline } from '../src/internal/fast-yaml.js';
import { readYamlFile } from '../src/internal/read.js';
import { streamYamlSubset } from '../src/internal/yaml-file.js';
import { loadInputs } from '../src/load-inputs.js';
import { loadReplicaCatalog, parseReplicaCatalog } from '../src/load-replica-catalog.js';
import { loadSiteCatalog, parseSiteCatalog } from '../src/load-site-catalog.js';
import { loadTransformationCatalog, parseTransformationCatalog } from '../src/load-transformation-catalog.js';
import { loadWorkflow, parseWorkflow } from '../src/load-workflow.js';
import { locationOf } from '../src/location.js';
import { replicaCatalogToYaml } from '../src/write-replica-catalog.js';
import { siteCatalogToYaml } from '../src/write-site-catalog.js';
import { transformationCatalogToYaml } from '../src/write-transformation-catalog.js';
import { workflowToYaml } from '../src/write-workflow.js';
import { ANCHORS } from './schemas.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'model-fast-yaml-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The fast reader either declines or gives exactly what yaml.parse gives. */
function same(text: string): 'equal' | 'declined' {
  let fast: unknown;
  try {
    fast = parseYamlSubset(text);
  } catch (e) {
    if (e instanceof YamlSubsetDecline) return 'declined';
    throw e;
  }
  const full = parse(text);
  expect(fast).toEqual(full);
  expect(isDeepStrictEqual(fast, full)).toBe(true);
  return 'equal';
}

function anchorFiles(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? anchorFiles(join(d, e.name)) : e.name.endsWith('.yml') ? [join(d, e.name)] : [],
  );
}

const ACCEPTED: Record<string, string> = {
  ints: 'a: 1\nb: -2\nc: +3\nd: 0o17\ne: 0x1F\nf: 007\ng: -0\nh: 12345678901234567890\ni: 0x\nj: 1_000\n',
  floats: 'a: 1.5\nb: 1.50\nc: .5\nd: 1e3\ne: -1.2E-3\nf: .inf\ng: -.Inf\nh: .NaN\ni: 1.\nj: 1e\nk: +.5\n',
  'nulls and bools':
    'a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: true\ng: True\nh: TRUE\ni: yes\nj: no\nk: on\nl: nULL\nm: tRue\nn: False\n',
  strings:
    'a: hello world\nb: "q \\" \\\\ \\n \\t \\x41 \\u00e9 \\U0001F600 \\/ \\0 \\e"\nc: \'it\'\'s\'\nd: "5.0"\ne: \'1\'\nf: a#b\ng: a   # comment\nh: http://x:80/y\ni: -a\nj: --seed\nk: :x\nl: ?x\nm: a:b\nn: "with: colon"\no: é ü 漢字\np: ""\nq: \'\'\nr: a, b]\n',
  'block sequences': 'a:\n  - 1\n  - x\n  -\n  - "y"\nb:\n- 1\n- two\nc: 3\n',
  'jobs like a writer makes them':
    'jobs:\n  - id: a\n    uses:\n      - lfn: f\n        type: input\n      - {lfn: g, type: output, stageOut: false}\n  - id: b\n    arguments: [-a, "b c", 1, \'d\', 2.5, ]\njobDependencies: []\nm: {}\n',
  'nested empty values': 'a:\n  b:\n    c:\n  d: 1\ne:\n',
  'pending items': '-\n  a: 1\n-\n- x\n- a: 1\n  b:\n  c: [ ]\n',
  'root sequence': '- a\n- b: 1\n  c: 2\n',
  'document markers': '---\na: 1\n...\n',
  'marker with comment': '--- # c\na: 1\n',
  'only a comment': '# only comment\n',
  empty: '',
  'blank lines': '\n\n  \n',
  crlf: 'a: 1\r\nb:\r\n  - x\r\n',
  'quoted keys': '"a b": 1\n\'c\': 2\n"1": x\n"x:y" : 3\n',
  'merge key is a plain key': '<<: 1\n',
  'indented root': '  a: 1\n  b: 2\n',
  'values on the next line': 'a:\n  [1, 2]\nb:\n  "x"\nc:\n  plain\nd:\n  {k: v}\n',
  'comments anywhere': 'a:\n# c\n    # d\n  b: 1 # e\n  c: "x" # f\n  d: [1] # g\n',
  'trailing spaces': 'a: 1   \nb:   x  \n',
  'keys with spaces and dots': 'a b: c\npegasus.clusters.size: 3\n$ref: x\nx-pegasus: {apiLang: python}\n',
  bom: '\uFEFFa: 1\n',
  'seq of maps under a compact seq': 'jobs:\n- id: a\n  uses:\n  - lfn: x\n  next: 1\n- id: b\nname: w\n',
  'flow map values': 'a: {x: 1, "y": "2", z: true, w: ~, v: -3}\n',
  'no final newline': 'a: 1\nb: [x]',
};

const DECLINED: Record<string, string> = {
  anchors: 'a: &x 1\nb: *x\n',
  tags: 'a: !!str 1\n',
  'literal block scalar': 'a: |\n  x\n',
  'folded block scalar': 'a: >-\n  x\n',
  'multi-line plain': 'a: b\n  c\n',
  'multi-line plain item': '- b\n  c\n',
  'multi-line double-quoted': 'a: "b\n  c"\n',
  'multi-line single-quoted': "a: 'b\n  c'\n",
  'multi-line flow': 'a: [1,\n  2]\n',
  'complex key': '? a\n: b\n',
  'nested flow': 'a: [[1], 2]\n',
  'flow map in flow seq': 'a: [{x: 1}]\n',
  'pair in flow seq': 'a: [x: 1]\n',
  tab: 'a:\tb\n',
  'duplicate key': 'a: 1\na: 2\n',
  'two documents': 'a: 1\n---\nb: 2\n',
  directive: '%YAML 1.2\n---\na: 1\n',
  'non-string key': '1: a\n',
  'null key': '~: a\n',
  'compact nested sequence': '- - a\n',
  'root scalar': 'hello\n',
  'root flow': '{a: 1}\n',
  proto: '__proto__: 1\n',
  'bad indentation': 'a:\n    b: 1\n  c: 2\n',
  'mapping in a value': 'a: b: c\n',
  'text after a quoted value': 'a: "b" c\n',
  'flow key without value': 'a: {x, y}\n',
  'JSON-style flow map': 'a: {"x":1}\n',
  'empty flow item': 'a: [x, , y]\n',
  'comment inside flow': 'a: [x # c\n  ]\n',
  'unknown escape': 'a: "\\q"\n',
  'dash value': 'a: -\n',
  'content after end': 'a: 1\n...\nb: 2\n',
  'sequence entry in a mapping': 'a: 1\n- b\n',
};

describe('the fast YAML reader gives what yaml.parse gives', () => {
  it.each(anchorFiles(ANCHORS))('anchor %s', (f) => {
    expect(same(readFileSync(f, 'utf8'))).toBe('equal');
  });

  it('everything our writers produce (anchors re-written, tricky strings)', () => {
    const texts = [
      workflowToYaml(
        parseWorkflow(
          readFileSync(join(ANCHORS, '01-reference-diamond-inline-catalogs/workflow.yml'), 'utf8'),
        ),
      ),
      siteCatalogToYaml(
        parseSiteCatalog(readFileSync(join(ANCHORS, '02-reference-catalogs/sites.yml'), 'utf8')),
      ),
      transformationCatalogToYaml(
        parseTransformationCatalog(
          readFileSync(join(ANCHORS, '02-reference-catalogs/transformations.yml'), 'utf8'),
        ),
      ),
      replicaCatalogToYaml(
        parseReplicaCatalog(readFileSync(join(ANCHORS, '02-reference-catalogs/replicas.yml'), 'utf8')),
      ),
    ];
    const odd = [
      'a b',
      'x: y',
      '#c',
      "it's",
      '"q"',
      '007',
      'true',
      '~',
      '1.0',
      '-',
      '- x',
      '[a]',
      '{b}',
      'é漢',
      '',
      ' lead',
      'trail ',
    ];
    const f = new api.File('in put.dat');
    const tr = new api.Transformation('t', { site: 'local', pfn: '/bin/t' });
    const wf = new api.Workflow('tricky')
      .addJobs(
        new api.Job(tr, { id: 'j1', nodeLabel: 'a: b # c' })
          .addArgs(...odd, 5, 2.5, -1, f)
          .addInputs(f)
          .addMetadata({ 'k: x': 'v # w', n: 3 }),
      )
      .addEnv({ PATH: '/bin:/usr/bin', Q: "'x'" });
    texts.push(wf.toYaml());
    for (const t of texts) expect(same(t)).toBe('equal');
  });

  it.each(Object.entries(ACCEPTED))('accepts %s', (_name, text) => {
    expect(same(text)).toBe('equal');
  });

  it.each(Object.entries(DECLINED))('declines %s rather than mis-parse', (_name, text) => {
    expect(() => parseYamlSubset(text)).toThrow(YamlSubsetDecline);
  });
});

/** A workflow text with `n` jobs (non-ASCII names so that byte offsets differ from characters). */
function bigWorkflow(n: number, extra: { badJob?: number; badUse?: number; tail?: string } = {}): string {
  const out = ['# a generated workflow', 'pegasus: "5.0"', 'name: big', 'jobs:'];
  for (let i = 0; i < n; i++) {
    out.push(
      `  - type: job`,
      `    id: j${i}`,
      `    name: sim`,
      `    nodeLabel: "simulé ${i} 漢"`,
      `    arguments: [--seed, ${i}, -o, "out ${i}.root"]`,
      ...(i === extra.badJob ? ['    colour: blue'] : []),
      `    uses:`,
      `      - lfn: geometry`,
      `        type: input`,
      `      - lfn: out${i}.root`,
      `        type: ${i === extra.badUse ? 'outptu' : 'output'}`,
      `        stageOut: false`,
    );
  }
  out.push('jobDependencies:');
  for (let i = 1; i < n; i++) out.push(`  - id: j${i - 1}`, `    children: [j${i}]`);
  if (extra.tail) out.push(extra.tail);
  return `${out.join('\n')}\n`;
}

describe('streaming files', () => {
  it('reads a multi-chunk file with non-ASCII text like yaml.parse', async () => {
    const text = bigWorkflow(12000);
    expect(text.length).toBeGreaterThan(2 << 20);
    const path = join(dir, 'big.yml');
    await writeFile(path, text);
    expect(isDeepStrictEqual(await streamYamlSubset(path), parse(text))).toBe(true);
  });

  it('reports the same FILE:LINE:COL for a streamed file as for its text', async () => {
    const text = bigWorkflow(5000, { badJob: 4321, badUse: 17, tail: 'colour: red' });
    const path = join(dir, 'bad.yml');
    await writeFile(path, text);
    let fromText = '';
    try {
      parseWorkflow(text, path);
    } catch (e) {
      fromText = (e as ModelError).message;
    }
    const fromFile = await loadWorkflow(path).catch((e: unknown) => (e as ModelError).message);
    expect(fromText.split('\n')).toHaveLength(3);
    expect(fromText).toContain(`${path}:`);
    expect(fromFile).toBe(fromText);
    // and the positions are the ones in the file
    const lines = text.split('\n');
    for (const l of fromText.split('\n')) {
      const [, line, col] = /:(\d+):(\d+): /.exec(l) as RegExpExecArray;
      const at = lines[Number(line) - 1]?.slice(Number(col) - 1) ?? '';
      expect(at.startsWith('colour') || at.startsWith('outptu')).toBe(true);
    }
  });

  it('locates loaded objects (jobs, uses, dependencies, the workflow) as the text loader does', async () => {
    const text = bigWorkflow(300);
    const path = join(dir, 'ok.yml');
    await writeFile(path, text);
    const a = parseWorkflow(text, path);
    const b = await loadWorkflow(path);
    expect(b).toEqual(a);
    const pick = <T extends object>(f: (w: typeof a) => T): [T, T] => [f(a), f(b)];
    for (const [x, y] of [
      pick((w) => w.jobs[250] as object),
      pick((w) => w.jobs[0]?.uses[1] as object),
      pick((w) => w.dependencies[123] as object),
      pick((w) => w),
    ]) {
      expect(locationOf(y)).toEqual(locationOf(x));
      expect(locationOf(y, 'id')).toEqual(locationOf(x, 'id'));
    }
    expect(locationOf(b.jobs[250] as object)).toMatchObject({ line: 5 + 250 * 11, column: 5 });
  });

  it('falls back to the yaml package for files outside the subset, and refuses that for big ones', async () => {
    const text =
      'pegasus: "5.0"\nname: w\nx-a: &a 1\njobs:\n  - id: a\n    name: t\n    arguments: []\n    uses: []\n';
    const path = join(dir, 'anchored.yml');
    await writeFile(path, text);
    expect((await loadWorkflow(path)).jobs[0]?.id).toBe('a');
    const r = await readYamlFile(path, undefined, 10);
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ file: path, line: 3, column: 1 });
    expect(r.issues[0]?.message).toMatch(/plain block-style YAML/);
  });

  it('loads catalogs and inputs through the streaming reader', async () => {
    const files = {
      sites: join(ANCHORS, '02-reference-catalogs/sites.yml'),
      transformations: join(ANCHORS, '02-reference-catalogs/transformations.yml'),
      replicas: join(ANCHORS, '02-reference-catalogs/replicas.yml'),
    };
    const env = { ...process.env, HOME: '/home/u', USER: 'u', PEGASUS_HOME: '/p', PWD: '/w' };
    expect(await loadSiteCatalog(files.sites, { env })).toEqual(
      parseSiteCatalog(readFileSync(files.sites, 'utf8'), files.sites, { env }),
    );
    expect(await loadTransformationCatalog(files.transformations, { env })).toEqual(
      parseTransformationCatalog(readFileSync(files.transformations, 'utf8'), files.transformations, { env }),
    );
    expect(await loadReplicaCatalog(files.replicas, { env })).toEqual(
      parseReplicaCatalog(readFileSync(files.replicas, 'utf8'), files.replicas, { env }),
    );
    const missing = join(dir, 'missing.yml');
    await expect(loadInputs({ workflow: missing })).rejects.toThrow(/cannot read the file \(ENOENT/);
  });

  it('converts jobs given as a one-line flow sequence too', async () => {
    const path = join(dir, 'flow.yml');
    await writeFile(
      path,
      'pegasus: "5.0"\nname: w\njobs: [{id: a, name: t, arguments: [], uses: []}]\njobDependencies: []\n',
    );
    // nested flow collections are outside the subset: the yaml package reads this one
    const wf = await loadWorkflow(path);
    expect(wf.jobs[0]).toMatchObject({ id: 'a', type: 'job', name: 't' });
  });
});

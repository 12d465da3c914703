import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../src/errors.js';
import { loadInputs } from '../src/load-inputs.js';
import { parseReplicaCatalog } from '../src/load-replica-catalog.js';
import { parseSiteCatalog } from '../src/load-site-catalog.js';
import { parseTransformationCatalog } from '../src/load-transformation-catalog.js';
import { parseWorkflow } from '../src/load-workflow.js';
import { validateWorkflow, workflowIssues } from '../src/validate-workflow.js';

function errorOf(fn: () => unknown): ModelError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelError) return e;
    throw e;
  }
  throw new Error('expected a ModelError');
}

const lines = (e: ModelError): string[] => e.message.split('\n');

describe('workflow errors: file:line:col, what was expected, all at once', () => {
  it('reports schema problems (unknown key, wrong type, missing key, bad enum, unquoted version) together', () => {
    const text = [
      'pegasus: 5.0', //                                   1
      'name: w',
      'colour: blue', //                                   3 unknown key
      'jobs:',
      '  - type: job', //                                  5
      '    id: a',
      '    name: t',
      '    arguments: -x', //                              8 wrong type
      '    uses:',
      '      - {lfn: f, type: outptu}', //                 10 bad enum
      '  - type: job', //                                  11 missing name
      '    id: b',
      '    arguments: []',
      '    uses: []',
      '    profiles: {envv: {A: 1}}', //                   15 unknown namespace
    ].join('\n');
    const e = errorOf(() => parseWorkflow(text, 'wf.yml'));
    expect(lines(e)).toEqual([
      'wf.yml:1:10: "pegasus" of workflow is the number 5 (expected a quoted version string such as "5.0")',
      'wf.yml:3:1: unknown key "colour" in workflow (expected one of: pegasus, name, version, siteCatalog, replicaCatalog, transformationCatalog, jobs, jobDependencies, profiles, hooks, metadata, or x-*)',
      'wf.yml:8:16: "arguments" of job is the string "-x" (expected a sequence)',
      'wf.yml:10:24: "type" of use is "outptu" (expected one of: none, input, output, inout, checkpoint)',
      'wf.yml:11:5: job is missing required key "name"',
      'wf.yml:15:16: unknown key "envv" in profiles (expected one of: env, condor, globus, dagman, pegasus, hints, selector, or x-*)',
    ]);
    expect(e.issues).toHaveLength(6);
    expect(e.issues[0]).toEqual({ file: 'wf.yml', line: 1, column: 10, message: e.issues[0].message });
  });

  it('reports graph problems: duplicate ids, dangling ids, a cycle, input and output at once', () => {
    const text = [
      'pegasus: "5.0"',
      'name: w',
      'jobs:',
      '  - {type: job, id: a, name: t, arguments: [], uses: [{lfn: x, type: input}]}', //   4
      '  - {type: job, id: b, name: t, arguments: [], uses: [{lfn: y, type: input}, {lfn: y, type: output}]}', // 5
      '  - {type: job, id: a, name: t, arguments: [], uses: []}', //   6 duplicate
      '  - {type: job, id: c, name: t, arguments: [], uses: []}', //   7
      'jobDependencies:',
      '  - id: a', //                                                     9
      '    children: [c, ghost]', //                                    10 dangling child
      '  - id: nobody', //                                                11 dangling parent
      '    children: [a]',
      '  - id: c',
      '    children: [a]', //                                             14 cycle a -> c -> a
    ].join('\n');
    const e = errorOf(() => parseWorkflow(text, 'g.yml'));
    expect(lines(e)).toEqual([
      'g.yml:5:78: file "y" is both input and output of job b (expected type inout or checkpoint)',
      'g.yml:6:21: duplicate job id "a" (first defined at line 4) (expected unique ids)',
      'g.yml:10:19: jobDependencies names unknown child job id "ghost" (expected the id of a job)',
      'g.yml:11:9: jobDependencies names unknown job id "nobody" (expected the id of a job)',
      'g.yml:14:16: dependency cycle a -> c -> a (expected an acyclic graph)',
    ]);
  });

  it('finds a cycle made of data dependencies and points at the consuming use', () => {
    const text = [
      'pegasus: "5.0"',
      'name: w',
      'jobs:',
      '  - {type: job, id: a, name: t, arguments: [], uses: [{lfn: y, type: input}, {lfn: x, type: output}]}',
      '  - {type: job, id: b, name: t, arguments: [], uses: [{lfn: x, type: input}, {lfn: y, type: output}]}',
    ].join('\n');
    expect(lines(errorOf(() => parseWorkflow(text, 'c.yml')))).toEqual([
      'c.yml:4:55: dependency cycle a -> b -> a (expected an acyclic graph)',
    ]);
    expect(() => parseWorkflow(text, 'c.yml', { dataDependencies: false })).not.toThrow();
  });

  it('reports inputs with no producer and no replica, and unknown transformations', () => {
    const text = [
      'pegasus: "5.0"',
      'name: w',
      'jobs:',
      '  - type: job',
      '    id: a',
      '    name: gen', //                                          6
      '    arguments: []',
      '    uses:',
      '      - {lfn: raw.dat, type: input}', //                  9
      '      - {lfn: known.dat, type: input}',
      '      - {lfn: opt.dat, type: input, optional: true}',
      '      - {lfn: mid.dat, type: output}',
      '  - type: job',
      '    id: b',
      '    namespace: ns',
      '    name: use', //                                          16
      '    arguments: []',
      '    uses: [{lfn: mid.dat, type: input}]',
      '  - type: job',
      '    id: c',
      '    name: pinned',
      '    arguments: []',
      '    uses: []',
      '    profiles: {selector: {pfn: /bin/true}}',
    ].join('\n');
    const wf = parseWorkflow(text, 'r.yml');
    const tc = parseTransformationCatalog(
      'pegasus: "5.0"\ntransformations:\n  - {name: gen, sites: [{name: local, pfn: /bin/gen, type: installed}]}\n  - {namespace: other, name: use, sites: [{name: local, pfn: /bin/use, type: installed}]}\n',
    );
    const rc = parseReplicaCatalog(
      'pegasus: "5.0"\nreplicas:\n  - {lfn: known.dat, pfns: [{site: local, pfn: /k}]}\n',
    );
    const e = errorOf(() => validateWorkflow(wf, { transformationCatalog: tc, replicaCatalog: rc }));
    expect(lines(e)).toEqual([
      'r.yml:9:15: input "raw.dat" of job a is produced by no job and has no replica (expected a replica catalog entry, a producing job, or optional: true)',
      'r.yml:16:11: unknown transformation "ns::use" for job b (expected an entry in the transformation catalog)',
    ]);
    // without a transformation catalog the TC check is skipped; without the RC known.dat is missing too
    expect(workflowIssues(wf).map((i) => i.line)).toEqual([9, 10]);
  });

  it('reports YAML syntax errors with positions', () => {
    const e = errorOf(() => parseWorkflow('pegasus: "5.0"\nname: [x\njobs: []\n', 'y.yml'));
    expect(e.issues[0].file).toBe('y.yml');
    expect(e.issues[0].line).toBeGreaterThan(1);
    expect(e.message).toMatch(/^y\.yml:\d+:\d+: YAML syntax: /);
  });

  it('reports catalog problems (unknown key, wrong type, missing key, unknown container, inline regex)', () => {
    expect(
      lines(
        errorOf(() =>
          parseSiteCatalog(
            'pegasus: "5.0"\nsites:\n  - name: s\n    arch: x86-64\n    grids:\n      - {type: batch, contact: h, scheduler: slurm, idleNodes: -1}\n    directories:\n      - {type: sharedScratch, path: /x}\n',
            's.yml',
          ),
        ),
      ),
    ).toEqual([
      's.yml:4:11: "arch" of site is "x86-64" (expected one of: x86, x86_64, ppc, ppc_64, ppc64le, ia64, sparcv7, sparcv9, amd64, aarch64)',
      's.yml:6:64: "idleNodes" of grid is -1 (expected a number >= 0)',
      's.yml:8:9: directory is missing required key "fileServers"',
    ]);
    expect(
      lines(
        errorOf(() =>
          parseTransformationCatalog(
            'pegasus: "5.0"\ntransformations:\n  - name: t\n    sites:\n      - {name: s, pfn: /t, type: installed, container: nope, colour: red}\n',
            't.yml',
          ),
        ),
      ),
    ).toEqual([
      't.yml:5:56: unknown container "nope" (expected one of the catalog\'s containers: none)',
      't.yml:5:62: unknown key "colour" in transformation site (expected one of: name, arch, os.type, os.release, os.version, pfn, profiles, metadata, type, bypass, container, or x-*)',
    ]);
    expect(
      lines(
        errorOf(() =>
          parseTransformationCatalog(
            'pegasus: "5.0"\ntransformations:\n  - name: t\n    sites:\n      - {name: s, pfn: /t, type: installed, container: c}\ncontainers:\n  - {name: c, type: rkt, image: "docker://x"}\n',
            't.yml',
          ),
        ),
      ),
    ).toEqual([
      't.yml:7:21: "type" of container is "rkt" (expected one of: docker, podman, singularity, apptainer, shifter)',
    ]);
    const wf =
      'pegasus: "5.0"\nname: w\nreplicaCatalog:\n  replicas:\n    - {lfn: "a.*", regex: true, pfns: []}\njobs:\n  - {type: job, id: a, name: t, arguments: [], uses: []}\n';
    expect(lines(errorOf(() => parseWorkflow(wf, 'w.yml')))).toEqual([
      'w.yml:5:27: regex replica entries are not allowed in a replica catalog inlined in the workflow (expected a separate replicas.yml)',
    ]);
  });

  it('loadInputs reports the problems of every file in one error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'model-errors-'));
    try {
      await writeFile(
        join(dir, 'workflow.yml'),
        'pegasus: "5.0"\nname: w\njobs:\n  - {type: job, id: a, name: t, arguments: [], uses: []}\n',
      );
      await writeFile(join(dir, 'sites.yml'), 'pegasus: "5.0"\nsites: []\n');
      await writeFile(join(dir, 'pegasus.properties'), 'a = \\u12\n');
      const e = await loadInputs({
        workflow: join(dir, 'workflow.yml'),
        sites: join(dir, 'sites.yml'),
        replicas: join(dir, 'missing.yml'),
        properties: join(dir, 'pegasus.properties'),
      }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ModelError);
      const msgs = (e as ModelError).issues.map(
        (i) => `${i.file.slice(dir.length + 1)}:${i.line}:${i.column}`,
      );
      expect(msgs).toEqual(['missing.yml:0:0', 'pegasus.properties:1:1', 'sites.yml:2:8']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

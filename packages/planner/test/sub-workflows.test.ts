import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PlanError } from '../src/errors.js';
import { plan } from '../src/plan.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

const TC = `transformationCatalog:
  pegasus: "5.0"
  transformations:
    - name: echo
      sites: [{name: local, pfn: /bin/echo, type: installed}]
`;

/** A workflow `name` with an echo job and a sub-workflow job per entry of `subs` ([id, type, file]). */
function workflow(name: string, subs: [string, string, string][], args = '[--sites, local]'): string {
  let s = `pegasus: "5.0"\nname: ${name}\n${TC}jobs:\n  - {type: job, id: pre, name: echo, arguments: [x], uses: []}\n`;
  for (const [id, type, file] of subs)
    s += `  - type: ${type}\n    id: ${id}\n    file: ${file}\n    arguments: ${args}\n    uses: [{lfn: ${file}, type: input}]\n`;
  if (subs.length) s += `jobDependencies:\n  - {id: pre, children: [${subs.map((x) => x[0]).join(', ')}]}\n`;
  return s;
}

/** Plans `outer` (with an empty inner.yml beside it) into runs/top; the parsed plan.yml. */
async function planOuter(outer: string) {
  await writeFile(join(dir, 'outer.yml'), outer);
  await writeFile(join(dir, 'inner.yml'), workflow('inner', []));
  const r = await plan({
    cwd: dir,
    workflow: 'outer.yml',
    dir: join(dir, 'runs'),
    relativeDir: 'top',
    outputSites: ['local'],
  });
  return parse(await readFile(r.planFile, 'utf8'));
}

describe('plan: hierarchical workflows', () => {
  it('writes a sub-workflow job that plans the file beside the workflow into sub-workflows/ID, with the parent catalogs', async () => {
    await writeFile(join(dir, 'outer.yml'), workflow('outer', [['inner', 'pegasusWorkflow', 'inner.yml']]));
    await writeFile(join(dir, 'inner.yml'), workflow('inner', []));
    const r = await plan({ cwd: dir, workflow: 'outer.yml', dir: join(dir, 'runs'), relativeDir: 'top' });
    const p = parse(await readFile(r.planFile, 'utf8'));
    const job = p.jobs.find((j: { name: string }) => j.name === 'inner');
    expect(job).toMatchObject({ kind: 'sub-workflow', site: 'local', subWorkflow: 'sub-workflows/inner' });
    expect(job.command).toEqual([
      'plan',
      join(dir, 'inner.yml'),
      '--dir',
      join(dir, 'runs'),
      '--relative-dir',
      'top/sub-workflows/inner',
      '--conf',
      join(r.submitDir, 'pegasus.properties'),
      '-D',
      `pegasus.catalog.site.file=${join(r.submitDir, 'catalogs/sites.yml')}`,
      '-D',
      `pegasus.catalog.transformation.file=${join(r.submitDir, 'catalogs/transformations.yml')}`,
      '--sites',
      'local',
    ]);
    expect(p.edges).toContainEqual(['pre', 'inner']);
    // planned when it runs, not now
    expect(existsSync(join(r.submitDir, 'sub-workflows'))).toBe(false);
  });

  it("finds the sub-workflow's file through the replica catalog first", async () => {
    await mkdir(join(dir, 'elsewhere'));
    await writeFile(join(dir, 'elsewhere/inner.yml'), workflow('inner', []));
    const rc = `replicaCatalog:\n  pegasus: "5.0"\n  replicas:\n    - {lfn: inner.yml, pfns: [{site: local, pfn: "file://${dir}/elsewhere/inner.yml"}]}\n`;
    await writeFile(
      join(dir, 'outer.yml'),
      workflow('outer', [['inner', 'pegasusWorkflow', 'inner.yml']]).replace('jobs:\n', `${rc}jobs:\n`),
    );
    const r = await plan({ cwd: dir, workflow: 'outer.yml', dir: join(dir, 'runs'), relativeDir: 'top' });
    const p = parse(await readFile(r.planFile, 'utf8'));
    const job = p.jobs.find((j: { name: string }) => j.name === 'inner');
    expect(job.command[1]).toBe(join(dir, 'elsewhere/inner.yml'));
    expect(job.command).toContain(
      `pegasus.catalog.replica.file=${join(r.submitDir, 'catalogs/replicas.yml')}`,
    );
  });

  it('a condorWorkflow job runs a submit dir planned beforehand, as it is', async () => {
    await writeFile(join(dir, 'inner.yml'), workflow('inner', []));
    const inner = await plan({ cwd: dir, workflow: 'inner.yml', dir: join(dir, 'pre'), relativeDir: 'x' });
    await writeFile(join(dir, 'outer.yml'), workflow('outer', [['old', 'condorWorkflow', 'pre/x/plan.yml']]));
    const r = await plan({ cwd: dir, workflow: 'outer.yml', dir: join(dir, 'runs'), relativeDir: 'top' });
    const p = parse(await readFile(r.planFile, 'utf8'));
    const job = p.jobs.find((j: { name: string }) => j.name === 'old');
    expect(job).toMatchObject({ kind: 'sub-workflow', command: [], subWorkflow: inner.submitDir });
  });

  it('a missing sub-workflow file names the job, its file and line, and leaves no submit dir', async () => {
    await writeFile(join(dir, 'outer.yml'), workflow('outer', [['inner', 'pegasusWorkflow', 'nowhere.yml']]));
    const err = await plan({ cwd: dir, workflow: 'outer.yml', dir: join(dir, 'runs') }).catch((e) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect(err.message).toBe(
      `${join(dir, 'outer.yml')}:10:5: job "inner": sub-workflow file "nowhere.yml" not found (looked for ${join(dir, 'nowhere.yml')}; expected a workflow YAML there or a replica catalog entry for it)`,
    );
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('a missing file two levels down, and a condorWorkflow dir without plan.yml, are found at plan time', async () => {
    await writeFile(join(dir, 'outer.yml'), workflow('outer', [['mid', 'pegasusWorkflow', 'mid.yml']]));
    await writeFile(join(dir, 'mid.yml'), workflow('mid', [['deep', 'pegasusWorkflow', 'gone.yml']]));
    await expect(plan({ cwd: dir, workflow: 'outer.yml', dir: join(dir, 'runs') })).rejects.toThrow(
      `${join(dir, 'mid.yml')}:10:5: job "deep": sub-workflow file "gone.yml" not found`,
    );
    await mkdir(join(dir, 'empty'));
    await writeFile(join(dir, 'mid.yml'), workflow('mid', [['deep', 'condorWorkflow', 'empty']]));
    await expect(plan({ cwd: dir, workflow: 'outer.yml', dir: join(dir, 'runs') })).rejects.toThrow(
      `${join(dir, 'mid.yml')}:10:5: job "deep": sub-workflow "empty": no plan.yml in ${join(dir, 'empty')} (expected a submit dir planned beforehand)`,
    );
  });

  it('a cycle across levels names the job that closes it and the chain of files', async () => {
    await writeFile(join(dir, 'a.yml'), workflow('a', [['to_b', 'pegasusWorkflow', 'b.yml']]));
    await writeFile(join(dir, 'b.yml'), workflow('b', [['to_a', 'pegasusWorkflow', 'a.yml']]));
    const err = await plan({ cwd: dir, workflow: 'a.yml', dir: join(dir, 'runs') }).catch((e) => e);
    expect(err).toBeInstanceOf(PlanError);
    expect(err.message).toMatch(
      new RegExp(
        `^${join(dir, 'b.yml')}:10:5: job "to_a": sub-workflow cycle: \\S*a.yml -> \\S*b.yml -> \\S*a.yml`,
      ),
    );
    // a workflow naming itself is the shortest cycle
    await writeFile(join(dir, 'self.yml'), workflow('self', [['me', 'pegasusWorkflow', 'self.yml']]));
    await expect(plan({ cwd: dir, workflow: 'self.yml', dir: join(dir, 'runs') })).rejects.toThrow(
      /self.yml:10:5: job "me": sub-workflow cycle: \S*self.yml -> \S*self.yml/,
    );
    expect(await readdir(dir)).not.toContain('runs');
  });

  it('refuses arguments the planner sets for a sub-workflow', async () => {
    await writeFile(
      join(dir, 'outer.yml'),
      workflow('outer', [['inner', 'pegasusWorkflow', 'inner.yml']], '[--dir, /elsewhere]'),
    );
    await writeFile(join(dir, 'inner.yml'), workflow('inner', []));
    await expect(plan({ cwd: dir, workflow: 'outer.yml', dir: join(dir, 'runs') })).rejects.toThrow(
      /outer.yml:10:5: job "inner": argument --dir is set by the planner for a sub-workflow/,
    );
  });
  it("makes a sub-workflow's declared outputs available to the parent's jobs: an edge, no stage-in, staged out and registered from the parent's work dir", async () => {
    const outer = `pegasus: "5.0"\nname: outer\n${TC}jobs:
  - type: pegasusWorkflow
    id: inner
    file: inner.yml
    arguments: [--sites, local]
    uses: [{lfn: inner.yml, type: input}, {lfn: made.txt, type: output, stageOut: true, registerReplica: true}]
  - {type: job, id: use, name: echo, arguments: [made.txt], uses: [{lfn: made.txt, type: input}]}
`;
    const p = await planOuter(outer);
    const inner = p.jobs.find((j: { name: string }) => j.name === 'inner');
    expect(inner.command.slice(-2)).toEqual(['--output-dir', inner.command.at(-1)]);
    const workDir = inner.command.at(-1) as string;
    expect(workDir.endsWith('/top')).toBe(true);
    expect(inner.outputs).toEqual(['made.txt']);
    // the data edge, and no stage-in: made.txt is not looked for in a replica catalog
    expect(p.edges).toContainEqual(['inner', 'use']);
    const transfers = p.jobs.flatMap((j: { name: string; transfers?: { lfn: string }[] }) =>
      (j.transfers ?? []).map((t) => ({ job: j.name, ...t })),
    );
    expect(transfers.filter((t: { job: string }) => t.job.startsWith('stage_in'))).toEqual([]);
    // staged out from the parent's work dir on local, after the sub-workflow, and registered
    const out = transfers.find(
      (t: { job: string; lfn: string }) => t.job.startsWith('stage_out') && t.lfn === 'made.txt',
    );
    expect(out.sources[0].url).toBe(`file://${workDir}/made.txt`);
    expect(p.edges).toContainEqual(['inner', out.job]);
    const reg = p.jobs.find((j: { kind: string }) => j.kind === 'registration');
    expect(reg.registrations[0]).toMatchObject({ lfn: 'made.txt', site: 'local' });
    // the parent's work dir exists before the sub-workflow stages into it
    const mk = p.jobs.find((j: { kind: string }) => j.kind === 'create-dir');
    expect(p.edges).toContainEqual([mk.name, 'inner']);
  });

  it("brings an input of the sub-workflow made by a parent's job to the parent's work dir, where the sub-workflow's planner finds it (--input-dir)", async () => {
    const outer = `pegasus: "5.0"\nname: outer\n${TC}jobs:
  - {type: job, id: pre, name: echo, arguments: [x], stdout: seed.txt, uses: [{lfn: seed.txt, type: output}]}
  - type: pegasusWorkflow
    id: inner
    file: inner.yml
    arguments: []
    uses: [{lfn: inner.yml, type: input}, {lfn: seed.txt, type: input}]
`;
    const p = await planOuter(outer);
    const inner = p.jobs.find((j: { name: string }) => j.name === 'inner');
    expect(inner.command.slice(-2)[0]).toBe('--input-dir');
    expect(inner.command.at(-1).endsWith('/top')).toBe(true);
    // the parent-made file is the job's input (inner.yml is for planning only)
    expect(inner.inputs).toEqual(['seed.txt']);
    expect(p.edges).toContainEqual(['pre', 'inner']);
    // the parent's in-place cleanup removes seed.txt only after the sub-workflow job
    const clean = p.jobs.find((j: { kind: string; targets?: { url: string }[] }) =>
      j.targets?.some((t) => t.url.endsWith('/seed.txt')),
    );
    expect(clean.kind).toBe('cleanup');
    expect(p.edges).toContainEqual(['inner', clean.name]);
    // and the planner lists such a directory as replicas on local
    await mkdir(join(dir, 'made/sub'), { recursive: true });
    await writeFile(join(dir, 'made/sub/deep.txt'), 'x');
    await writeFile(
      join(dir, 'one.yml'),
      `pegasus: "5.0"\nname: one\n${TC}jobs:\n  - {type: job, id: j, name: echo, arguments: [x], uses: [{lfn: sub/deep.txt, type: input}]}\n`,
    );
    const one = await plan({ cwd: dir, workflow: 'one.yml', dir: join(dir, 'runs'), inputDirs: ['made'] });
    const transfers = parse(await readFile(one.planFile, 'utf8')).jobs.flatMap(
      (j: { transfers?: { lfn: string; sources: { url: string }[] }[] }) => j.transfers ?? [],
    );
    expect(transfers.find((t: { lfn: string }) => t.lfn === 'sub/deep.txt').sources[0].url).toBe(
      `file://${join(dir, 'made/sub/deep.txt')}`,
    );
    await expect(
      plan({ cwd: dir, workflow: 'one.yml', dir: join(dir, 'runs'), inputDirs: ['nowhere'] }),
    ).rejects.toThrow(`--input-dir ${join(dir, 'nowhere')}: ENOENT (expected a readable directory)`);
  });

  it("--output-dir: outputs staged to local go to that directory; refused in a sub-workflow job's arguments", async () => {
    await writeFile(
      join(dir, 'one.yml'),
      `pegasus: "5.0"\nname: one\n${TC}jobs:\n  - {type: job, id: mk, name: echo, arguments: [x], stdout: o.txt, uses: [{lfn: o.txt, type: output}]}\n`,
    );
    const r = await plan({ cwd: dir, workflow: 'one.yml', dir: join(dir, 'runs'), outputDir: 'outs' });
    const p = parse(await readFile(r.planFile, 'utf8'));
    const out = p.jobs.flatMap(
      (j: { transfers?: { lfn: string; dest: { url: string } }[] }) => j.transfers ?? [],
    );
    expect(out.find((t: { lfn: string }) => t.lfn === 'o.txt').dest.url).toBe(
      `file://${join(dir, 'outs')}/o.txt`,
    );
    await writeFile(
      join(dir, 'outer.yml'),
      workflow('outer', [['inner', 'pegasusWorkflow', 'inner.yml']], '[--output-dir, /x]'),
    );
    await writeFile(join(dir, 'inner.yml'), workflow('inner', []));
    await expect(plan({ cwd: dir, workflow: 'outer.yml', dir: join(dir, 'runs') })).rejects.toThrow(
      /outer.yml:10:5: job "inner": argument --output-dir is set by the planner for a sub-workflow/,
    );
  });
});

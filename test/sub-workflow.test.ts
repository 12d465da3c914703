// Hierarchical workflows end to end, through the real `pegasus-ts` program: a 2-level workflow
// whose pegasusWorkflow job is planned when it becomes ready, into sub-workflows/ID of the
// parent's submit dir, and run by an engine of its own; failures, retries and rescue across the
// levels; kill -9 of both engines mid sub-workflow, then resume. Needs the packages built.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readLockHolder } from '@pegasus-ts/engine';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, hasStackTrace, pt, tempDir, until } from './helpers.js';
import { eventCounts, jobstate } from './koto-workflow.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const TC = `transformationCatalog:
  pegasus: "5.0"
  transformations:
    - name: echo
      sites: [{name: local, pfn: /bin/echo, type: installed}]
    - name: test
      sites: [{name: local, pfn: /usr/bin/test, type: installed}]
    - name: sleep
      sites: [{name: local, pfn: /bin/sleep, type: installed}]
    - name: cat
      sites: [{name: local, pfn: /bin/cat, type: installed}]
`;

/**
 * outer.yml: pre (echo) -> inner (pegasusWorkflow inner.yml) -> post (echo); inner.yml: a (echo)
 * -> check (`test -e CHECK`, no retry of its own) -> b (`sleep SLEEP`).
 */
function writeWorkflows(dir: string, o: { check: string; sleep: number }): void {
  writeFileSync(
    path.join(dir, 'outer.yml'),
    `pegasus: "5.0"\nname: outer\n${TC}jobs:
  - {type: job, id: pre, name: echo, arguments: [before], uses: []}
  - {type: pegasusWorkflow, id: inner, file: inner.yml, arguments: [--sites, local], uses: [{lfn: inner.yml, type: input}]}
  - {type: job, id: post, name: echo, arguments: [after], uses: []}
jobDependencies:
  - {id: pre, children: [inner]}
  - {id: inner, children: [post]}
`,
  );
  writeFileSync(
    path.join(dir, 'inner.yml'),
    `pegasus: "5.0"\nname: inner\n${TC}jobs:
  - {type: job, id: a, name: echo, arguments: [inner-a], uses: []}
  - {type: job, id: check, name: test, arguments: [-e, ${o.check}], uses: [], profiles: {dagman: {RETRY: 0}}}
  - {type: job, id: b, name: sleep, arguments: [${o.sleep}], uses: []}
jobDependencies:
  - {id: a, children: [check]}
  - {id: check, children: [b]}
`,
  );
}

async function planOuter(dir: string): Promise<{ top: string; sub: string }> {
  const r = await pt(['plan', 'outer.yml', '--dir', path.join(dir, 'runs'), '--relative-dir', 'top', '-q'], {
    cwd: dir,
  });
  expect(r.code, r.stderr).toBe(0);
  const top = path.join(dir, 'runs/top');
  return { top, sub: path.join(top, 'sub-workflows/inner') };
}

describe('hierarchical workflows (pegasusWorkflow jobs)', () => {
  it('plans the sub-workflow when it becomes ready and runs it with its own submit dir', async () => {
    const t = tempDir('subwf-ok-');
    cleanup = t.cleanup;
    writeWorkflows(t.dir, { check: t.dir, sleep: 0 });
    const { top, sub } = await planOuter(t.dir);
    expect(existsSync(sub)).toBe(false);
    const r = await pt(['run', '--foreground', '-q', top]);
    expect(r.stderr).toContain('engine finished: workflow succeeded');
    expect(r.code).toBe(0);
    // the sub-workflow: planned into the parent's submit dir, run to its end by its own engine
    expect(readFileSync(path.join(sub, 'plan.yml'), 'utf8')).toContain('label: inner');
    const inner = jobstate(sub);
    expect(inner[inner.length - 1].slice(1, 5)).toEqual(['INTERNAL', '***', 'DAGMAN_FINISHED', '0']);
    for (const j of ['a', 'check', 'b']) expect(eventCounts(sub, 'POST_SCRIPT_SUCCESS').get(j), j).toBe(1);
    expect(readFileSync(path.join(sub, 'jobs/a.out.000'), 'utf8')).toBe('inner-a\n');
    // the parent: the sub-workflow job ran once, between pre and post
    const ok = eventCounts(top, 'POST_SCRIPT_SUCCESS');
    for (const j of ['pre', 'inner', 'post']) expect(ok.get(j), j).toBe(1);
    const order = jobstate(top)
      .filter((f) => f[2] === 'POST_SCRIPT_SUCCESS' && ['pre', 'inner', 'post'].includes(f[1]))
      .map((f) => f[1]);
    expect(order).toEqual(['pre', 'inner', 'post']);
    expect(readFileSync(path.join(top, 'jobs/inner.err.000'), 'utf8')).toContain(
      'engine finished: workflow succeeded',
    );
    // status -l: a row per workflow, the sub-workflow nested under its parent
    const status = await pt(['status', '-l', top]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\s5\s+0\s+100\.0\s+Success\s+outer\n/);
    expect(status.stdout).toMatch(/\s5\s+0\s+100\.0\s+Success\s+inner \(inner\)\n/);
    expect(status.stdout).toContain('Summary: 2 DAGs total (Success:2)');
    const json = JSON.parse((await pt(['status', '-l', '-j', top])).stdout);
    expect(Object.keys(json.dags)).toEqual(['root', 'inner']);
    expect(json.dags.inner).toMatchObject({ dagname: 'inner', state: 'Success', succeeded: 5 });
    // statistics summed over the levels: tasks pre, post + a, check, b; jobs 4 + 5 (the
    // sub-workflow job under Sub-Workflows); workflow.txt has each level's rows, then All
    const stats = await pt(['statistics', '-s', 'all', top, '-o', path.join(t.dir, 'stats')]);
    expect(stats.code, stats.stderr).toBe(0);
    const summary = readFileSync(path.join(t.dir, 'stats/summary.txt'), 'utf8');
    expect(summary).toMatch(/\nTasks\s+5\s+0\s+0\s+5\s+0\s+5\n/);
    expect(summary).toMatch(/\nJobs\s+9\s+0\s+0\s+9\s+0\s+9\n/);
    expect(summary).toMatch(/\nSub-Workflows\s+1\s+0\s+0\s+1\s+0\s+1\n/);
    const wfs = readFileSync(path.join(t.dir, 'stats/workflow.txt'), 'utf8');
    expect(wfs).toMatch(/\nroot\s+outer\s+Jobs\s+4\s+0\s+0\s+4\s+0\s+4\n/);
    expect(wfs).toMatch(/\ninner\s+inner\s+Jobs\s+5\s+0\s+0\s+5\s+0\s+5\n/);
    expect(wfs).toMatch(/\nAll\s+All\s+Sub-Workflows\s+1\s+0\s+0\s+1\s+0\s+1\n/);
  }, 180_000);

  it('a failing job fails the sub-workflow and its parent job; the parent retries it; a rescue run after the fix reruns only what failed', async () => {
    const t = tempDir('subwf-fail-');
    cleanup = t.cleanup;
    const fixed = path.join(t.dir, 'fixed');
    writeWorkflows(t.dir, { check: fixed, sleep: 0 });
    const { top, sub } = await planOuter(t.dir);
    const first = await pt(['run', '--foreground', '-q', top]);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/inner: failed for good after 2 attempt\(s\)/);
    expect(hasStackTrace(first.stderr)).toBe(false);
    // dagman.retry 1 at the parent: 2 attempts of the sub-workflow; each ran check once (RETRY 0)
    expect(eventCounts(top, 'POST_SCRIPT_FAILURE').get('inner')).toBe(2);
    expect(eventCounts(sub, 'POST_SCRIPT_FAILURE').get('check')).toBe(2);
    expect(eventCounts(top, 'SUBMIT').get('post')).toBeUndefined();
    expect(eventCounts(sub, 'SUBMIT').get('b')).toBeUndefined();
    const subEnds = jobstate(sub).filter((f) => f[3] === 'DAGMAN_FINISHED');
    expect(subEnds.map((f) => f[4])).toEqual(['1', '1']);
    // analyzer descends into the failed sub-workflow and shows its failed job
    const an = await pt(['analyzer', top]);
    expect(an.code).toBe(1);
    expect(an.stdout).toContain(`inner is a sub-workflow (${sub}); its analysis:`);
    // the job runs as a lite job (condorio, the default): its command ends in the task's
    expect(an.stdout).toMatch(/=+check=+\n[\s\S]*command: [^\n]* -- \/usr\/bin\/test -e \S+fixed/);
    expect(an.stdout).toMatch(/1 failed job\(s\) in workflow inner/);
    expect(hasStackTrace(an.stdout + an.stderr)).toBe(false);
    // summed over the levels: check failed (2 attempts, one per sub-workflow run), b and post never ran
    const failedStats = await pt(['statistics', top, '-o', path.join(t.dir, 'stats')]);
    const failedSummary = readFileSync(path.join(t.dir, 'stats/summary.txt'), 'utf8');
    expect(failedSummary).toMatch(/\nSub-Workflows\s+0\s+1\s+0\s+1\s+1\s+2\n/);
    expect(failedSummary).toMatch(/\nTasks\s+2\s+1\s+2\s+5\s+1\s+4\n/);
    expect(failedStats.code).toBe(0);
    writeFileSync(fixed, 'ok\n');
    const second = await pt(['run', '--foreground', '-q', top]);
    expect(second.code, second.stderr).toBe(0);
    // a ran once in all; check once more and now succeeded; b and post ran
    expect(eventCounts(sub, 'SUBMIT').get('a')).toBe(1);
    expect(eventCounts(sub, 'POST_SCRIPT_SUCCESS').get('check')).toBe(1);
    expect(eventCounts(sub, 'POST_SCRIPT_SUCCESS').get('b')).toBe(1);
    expect(eventCounts(top, 'SUBMIT').get('pre')).toBe(1);
    expect(eventCounts(top, 'POST_SCRIPT_SUCCESS').get('post')).toBe(1);
  }, 240_000);

  it("files across levels: the parent's file is read below, and what the sub-workflow makes (its job's output) is read by the parent's child and staged out", async () => {
    const t = tempDir('subwf-files-');
    cleanup = t.cleanup;
    writeFileSync(
      path.join(t.dir, 'outer.yml'),
      `pegasus: "5.0"\nname: outer\n${TC}jobs:
  - {type: job, id: pre, name: echo, arguments: [from-parent], stdout: seed.txt, uses: [{lfn: seed.txt, type: output}]}
  - type: pegasusWorkflow
    id: inner
    file: inner.yml
    arguments: [--sites, local]
    uses: [{lfn: inner.yml, type: input}, {lfn: seed.txt, type: input}, {lfn: made.txt, type: output, stageOut: true, registerReplica: true}]
  - {type: job, id: use, name: cat, arguments: [made.txt], uses: [{lfn: made.txt, type: input}]}
`,
    );
    writeFileSync(
      path.join(t.dir, 'inner.yml'),
      `pegasus: "5.0"\nname: inner\n${TC}jobs:
  - {type: job, id: mk, name: cat, arguments: [seed.txt], stdout: made.txt, uses: [{lfn: seed.txt, type: input}, {lfn: made.txt, type: output}]}
`,
    );
    const p = await pt(
      [
        ...['plan', 'outer.yml', '--dir', path.join(t.dir, 'runs'), '--relative-dir', 'top', '-o', 'local'],
        ...['-D', 'pegasus.data.configuration=sharedfs', '-q'],
      ],
      { cwd: t.dir },
    );
    expect(p.code, p.stderr).toBe(0);
    const top = path.join(t.dir, 'runs/top');
    const r = await pt(['run', '--foreground', '-q', top]);
    expect(r.code, r.stderr).toBe(0);
    // the sub-workflow staged the parent's seed.txt in; the parent's child read what it made
    expect(readFileSync(path.join(top, 'jobs/use.out.000'), 'utf8')).toBe('from-parent\n');
    const order = jobstate(top)
      .filter((f) => f[2] === 'POST_SCRIPT_SUCCESS' && ['pre', 'inner', 'use'].includes(f[1]))
      .map((f) => f[1]);
    expect(order).toEqual(['pre', 'inner', 'use']);
    // staged out and registered by the parent
    const replicas = readFileSync(path.join(top, 'output-replicas.yml'), 'utf8');
    const url = /lfn: made\.txt[\s\S]*?pfn: "?file:\/\/([^"\s]+)/.exec(replicas)?.[1];
    expect(url, replicas).toBeDefined();
    expect(readFileSync(url as string, 'utf8')).toBe('from-parent\n');
  }, 120_000);

  it('a condorWorkflow job runs a submit dir planned beforehand, where it is', async () => {
    const t = tempDir('subwf-pre-');
    cleanup = t.cleanup;
    writeWorkflows(t.dir, { check: t.dir, sleep: 0 });
    const pre = await pt(
      ['plan', 'inner.yml', '--dir', path.join(t.dir, 'pre'), '--relative-dir', 'x', '-q'],
      {
        cwd: t.dir,
      },
    );
    expect(pre.code, pre.stderr).toBe(0);
    const planned = path.join(t.dir, 'pre/x');
    writeFileSync(
      path.join(t.dir, 'outer.yml'),
      readFileSync(path.join(t.dir, 'outer.yml'), 'utf8').replace(
        '{type: pegasusWorkflow, id: inner, file: inner.yml, arguments: [--sites, local], uses: [{lfn: inner.yml, type: input}]}',
        '{type: condorWorkflow, id: inner, file: pre/x, arguments: [], uses: []}',
      ),
    );
    const { top } = await planOuter(t.dir);
    const r = await pt(['run', '--foreground', '-q', top]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(top, 'sub-workflows'))).toBe(false);
    const inner = jobstate(planned);
    expect(inner[inner.length - 1].slice(1, 5)).toEqual(['INTERNAL', '***', 'DAGMAN_FINISHED', '0']);
    expect(eventCounts(top, 'POST_SCRIPT_SUCCESS').get('inner')).toBe(1);
  }, 120_000);

  it('plan names the file and line of a missing sub-workflow file and of a cycle across levels, in one line', async () => {
    const t = tempDir('subwf-bad-');
    cleanup = t.cleanup;
    writeWorkflows(t.dir, { check: t.dir, sleep: 0 });
    const inner = readFileSync(path.join(t.dir, 'inner.yml'), 'utf8');
    rmSync(path.join(t.dir, 'inner.yml'));
    const r = await pt(['plan', 'outer.yml', '--dir', 'runs2'], { cwd: t.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `pegasus-ts plan: ${path.join(t.dir, 'outer.yml')}:16:5: job "inner": sub-workflow file "inner.yml" not found (looked for ${path.join(t.dir, 'inner.yml')}; expected a workflow YAML there or a replica catalog entry for it)\n`,
    );
    expect(existsSync(path.join(t.dir, 'runs2'))).toBe(false);
    // inner.yml names outer.yml again: a cycle across levels
    writeFileSync(
      path.join(t.dir, 'inner.yml'),
      inner.replace(
        '  - {type: job, id: a,',
        '  - {type: pegasusWorkflow, id: back, file: outer.yml, arguments: [], uses: []}\n  - {type: job, id: a,',
      ),
    );
    const c = await pt(['plan', 'outer.yml', '--dir', 'runs3'], { cwd: t.dir });
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(
      /^pegasus-ts plan: \S+inner\.yml:\d+:5: job "back": sub-workflow cycle: \S*outer\.yml -> \S*inner\.yml -> \S*outer\.yml \(expected a hierarchy without cycles\)\n$/,
    );
    expect(hasStackTrace(r.stderr + c.stderr)).toBe(false);
  }, 60_000);

  it('remove of the parent stops the sub-workflow engine too; both say stopped; the rerun resumes both levels', async () => {
    const t = tempDir('subwf-remove-');
    cleanup = t.cleanup;
    writeWorkflows(t.dir, { check: t.dir, sleep: 12 });
    const { top, sub } = await planOuter(t.dir);
    const r = await pt(['run', '--slots', '3', top]);
    expect(r.code, r.stderr).toBe(0);
    const topPid = readLockHolder(top)?.pid as number;
    await until(
      () => existsSync(path.join(sub, 'jobstate.log')) && eventCounts(sub, 'EXECUTE').has('b'),
      120_000,
      'the sub-workflow to run b',
    );
    const subPid = readLockHolder(sub)?.pid as number;
    expect(subPid).toBeGreaterThan(0);
    // the parent's --slots went down to the sub-workflow's engine
    expect(readFileSync(path.join(top, 'jobs/inner.err.000'), 'utf8')).toMatch(/done before, 3 slots/);
    const rm = await pt(['remove', top]);
    expect(rm.code, rm.stderr).toBe(0);
    await until(() => !alive(topPid) && !alive(subPid), 60_000, 'both engines to end');
    for (const dir of [top, sub]) {
      const ends = jobstate(dir).filter((f) => f[3] === 'DAGMAN_FINISHED');
      expect(
        ends.map((f) => f[4]),
        dir,
      ).toEqual(['2']);
    }
    expect(eventCounts(sub, 'JOB_ABORTED').get('b')).toBe(1);
    expect(eventCounts(top, 'JOB_ABORTED').get('inner')).toBe(1);
    const status = await pt(['status', '-l', top]);
    expect(status.stdout).toMatch(/Failure \(stopped\)\s+outer\n/);
    expect(status.stdout).toMatch(/Failure \(stopped\)\s+inner \(inner\)\n/);
    const last = await pt(['run', '--foreground', '-q', top]);
    expect(last.code, last.stderr).toBe(0);
    for (const j of ['a', 'check']) expect(eventCounts(sub, 'SUBMIT').get(j), j).toBe(1);
    expect(eventCounts(sub, 'SUBMIT').get('b')).toBe(2);
    expect(eventCounts(top, 'SUBMIT').get('pre')).toBe(1);
    expect(eventCounts(top, 'POST_SCRIPT_SUCCESS').get('post')).toBe(1);
  }, 240_000);

  it('kill -9 of both engines mid sub-workflow, then run: both levels resume, no finished job runs again', async () => {
    const t = tempDir('subwf-kill-');
    cleanup = t.cleanup;
    writeWorkflows(t.dir, { check: t.dir, sleep: 8 });
    const { top, sub } = await planOuter(t.dir);
    const r = await pt(['run', top]);
    expect(r.code, r.stderr).toBe(0);
    const topPid = readLockHolder(top)?.pid;
    expect(topPid).toBeDefined();
    // wait until the sub-workflow's engine runs b (the sleep), then kill both engines
    await until(
      () => existsSync(path.join(sub, 'jobstate.log')) && eventCounts(sub, 'EXECUTE').has('b'),
      120_000,
      'the sub-workflow to run b',
    );
    const subPid = readLockHolder(sub)?.pid;
    expect(subPid).toBeDefined();
    process.kill(topPid as number, 'SIGKILL');
    process.kill(subPid as number, 'SIGKILL');
    await until(() => !alive(topPid as number) && !alive(subPid as number), 10_000, 'the engines to die');
    const last = await pt(['run', '--foreground', '-q', top]);
    expect(last.code, last.stderr).toBe(0);
    for (const j of ['a', 'check', 'b']) expect(eventCounts(sub, 'SUBMIT').get(j), j).toBe(1);
    for (const j of ['pre', 'post']) expect(eventCounts(top, 'SUBMIT').get(j), j).toBe(1);
    expect(eventCounts(sub, 'POST_SCRIPT_SUCCESS').get('b')).toBe(1);
    expect(jobstate(top).filter((f) => f[3] === 'DAGMAN_STARTED').length).toBe(2);
    expect(jobstate(sub).filter((f) => f[3] === 'DAGMAN_STARTED').length).toBe(2);
  }, 240_000);
});

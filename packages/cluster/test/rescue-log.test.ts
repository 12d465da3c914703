import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDag, parseDag } from '../src/dag-file.js';
import { DagError } from '../src/errors.js';
import { parseRescue, RescueLog, readRescue } from '../src/rescue-log.js';

const fx = (name: string) => join(import.meta.dirname, 'fixtures', name);
const tmp = mkdtempSync(join(tmpdir(), 'rescue-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const diamond = () => loadDag(fx('diamond.dag'), { defaultTries: 1 });

describe('readRescue', () => {
  it('a missing file means nothing is done', async () => {
    const dag = await diamond();
    expect([...(await readRescue(join(tmp, 'none.rescue'), dag))]).toEqual([0, 0, 0, 0]);
  });

  it("reads PMC's sample rescue file", async () => {
    const dag = await diamond();
    expect([...(await readRescue(fx('diamond.rescue'), dag))]).toEqual([1, 1, 1, 0]);
  });

  it('accepts comments, blank lines, CRLF and duplicate records', async () => {
    const dag = await diamond();
    const done = parseRescue('# hi\n\nDONE A\r\n  DONE\tC  \nDONE A\nDONE A', 'r', dag);
    expect([...done]).toEqual([1, 0, 1, 0]);
  });

  it('rejects unknown tasks and garbage with file:line', async () => {
    const dag = await diamond();
    const p = join(tmp, 'bad.rescue');
    writeFileSync(p, '\nDONE A\nDONE Q\nFOO bar\nDONEX A\nDONE A B\nDONE B\n');
    const err = await readRescue(p, dag).then(
      () => undefined,
      (e: unknown) => e as DagError,
    );
    expect(err).toBeInstanceOf(DagError);
    const lines = err!.message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(`${p}:3: unknown task Q in rescue file (expected a task of ${fx('diamond.dag')})`);
    expect(lines[1]).toBe(`${p}:4: invalid rescue record "FOO bar" (expected DONE TASKNAME)`);
    expect(lines[2]).toMatch(/:5: invalid rescue record "DONEX A"/);
    expect(lines[3]).toMatch(/:6: invalid rescue record "DONE A B"/);
  });

  it('ignores a torn last record but not a torn middle one', () => {
    const dag = parseDag('TASK alpha x\nTASK beta x\n', 'd', { defaultTries: 1 });
    expect([...parseRescue('\nDONE alpha\nDONE be', 'r', dag)]).toEqual([1, 0]);
    expect([...parseRescue('\nDONE alpha\nDON', 'r', dag)]).toEqual([1, 0]);
    expect(() => parseRescue('\nDONE be\nDONE alpha', 'r', dag)).toThrow(/r:2: unknown task be/);
    expect(() => parseRescue('\nDONE alpha\nDONE zz', 'r', dag)).toThrow(/r:3: unknown task zz/);
  });
});

describe('RescueLog', () => {
  it('writes exactly PMC bytes after a diamond run', async () => {
    const dag = await diamond();
    const p = join(tmp, 'run.rescue');
    const log = await RescueLog.open(p, dag, new Uint8Array(dag.size));
    expect(readFileSync(p, 'utf8')).toBe('');
    log.markDone(0);
    log.flush();
    log.markDone(1);
    log.markDone(2);
    expect(log.pending).toBe(2);
    expect(readFileSync(p, 'utf8')).toBe('\nDONE A');
    log.flush();
    log.markDone(3);
    log.close();
    expect(readFileSync(p, 'utf8')).toBe('\nDONE A\nDONE B\nDONE C\nDONE D');
  });

  it('resumes: rewrites the done records once, then appends', async () => {
    const dag = await diamond();
    const p = join(tmp, 'resume.rescue');
    writeFileSync(p, '\nDONE A\nDONE B\nDONE A\nDONE C\nDONE B');
    const done = await readRescue(p, dag);
    expect([...done]).toEqual([1, 1, 1, 0]);
    const log = await RescueLog.open(p, dag, done);
    expect(readFileSync(p, 'utf8')).toBe('\nDONE A\nDONE B\nDONE C');
    log.markDone(3);
    log.close();
    expect(readFileSync(p, 'utf8')).toBe('\nDONE A\nDONE B\nDONE C\nDONE D');
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp.'))).toEqual([]);
    expect([...(await readRescue(p, dag))]).toEqual([1, 1, 1, 1]);
  });

  it('appends to a non-regular file such as /dev/null without replacing it', async () => {
    const dag = await diamond();
    const log = await RescueLog.open('/dev/null', dag, new Uint8Array([1, 0, 0, 0]));
    log.markDone(1);
    log.close();
    expect(readFileSync('/dev/null', 'utf8')).toBe('');
  });

  it('fails with a UserError when the directory does not exist', async () => {
    const dag = await diamond();
    await expect(RescueLog.open(join(tmp, 'no', 'such', 'r'), dag, new Uint8Array(4))).rejects.toThrow(
      /cannot write rescue file/,
    );
  });
});

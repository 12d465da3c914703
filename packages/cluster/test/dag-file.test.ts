import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDag, generateDag, loadDag, parseDag } from '../src/dag-file.js';
import { DagError, UserError } from '../src/errors.js';

const fx = (name: string) => join(import.meta.dirname, 'fixtures', name);
const tmp = mkdtempSync(join(tmpdir(), 'dagfile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function errorOf(text: string): DagError {
  try {
    parseDag(text, 'x.dag', { defaultTries: 1 });
  } catch (e) {
    expect(e).toBeInstanceOf(DagError);
    return e as DagError;
  }
  throw new Error('no error');
}

describe('parseDag / loadDag', () => {
  it('loads the diamond', async () => {
    const dag = await loadDag(fx('diamond.dag'), { defaultTries: 1 });
    expect(dag.file).toBe(fx('diamond.dag'));
    expect(dag.size).toBe(4);
    expect(dag.names).toEqual(['A', 'B', 'C', 'D']);
    expect(dag.argv[0]).toEqual(['echo', 'A']);
    expect(dag.edgeCount).toBe(4);
    expect([...dag.children(0)]).toEqual([1, 2]);
    expect([...dag.children(1)]).toEqual([3]);
    expect([...dag.children(3)]).toEqual([]);
    expect([...dag.parentCount]).toEqual([0, 1, 1, 2]);
    expect(dag.indexOf('C')).toBe(2);
    expect(dag.indexOf('nope')).toBe(-1);
    expect([...dag.cpus]).toEqual([1, 1, 1, 1]);
    expect([...dag.memory]).toEqual([0, 0, 0, 0]);
    expect([...dag.tries]).toEqual([1, 1, 1, 1]);
  });

  it('attaches #@ ids to the next TASK only', async () => {
    const dag = await loadDag(fx('pegasus.dag'), { defaultTries: 1 });
    expect(dag.pegasusId(0)).toBe('1');
    expect(dag.pegasusId(1)).toBe('2');
    expect(dag.pegasusId(2)).toBeUndefined();
    expect(dag.memory[0]).toBe(100);
    expect(dag.cpus[0]).toBe(2);
    expect(dag.priority[0]).toBe(5);
    expect(dag.argv[2]).toEqual(['/bin/echo', 'no', 'id']);
  });

  it('parses every task option', async () => {
    const dag = await loadDag(fx('options.dag'), { defaultTries: 3 });
    const t = (n: string) => {
      const i = dag.indexOf(n);
      expect(i).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(dag.memory[t('mem')]).toBe(100);
    expect(dag.cpus[t('cpu')]).toBe(2);
    expect(dag.cpus[t('zerocpu')]).toBe(0);
    expect(dag.memory[t('zerocpu')]).toBe(0);
    expect(dag.tries[t('t5')]).toBe(5);
    expect(dag.tries[t('t0')]).toBe(1);
    expect(dag.tries[t('tdef')]).toBe(3);
    expect(dag.priority[t('pri')]).toBe(-4);
    expect(dag.priority[t('prilong')]).toBe(10);
    expect(dag.pipeForwards(t('fwd'))).toEqual([
      ['FOO', './foo2.out'],
      ['BAR', '/tmp/bar'],
    ]);
    expect(dag.fileForwards(t('ffwd'))).toEqual([
      ['./a', './b'],
      ['c', 'd=e'],
    ]);
    expect(dag.pipeForwards(t('ffwd'))).toEqual([]);
    expect(dag.argv[t('args')]).toEqual([
      '/bin/sh',
      '-c',
      'for a in "$@"; do echo "[$a]"; done',
      'sh',
      'ab c',
      'x',
      'y',
      '',
      'e f',
      'unterminated  two',
    ]);
    expect(dag.argv[t('dash')]).toEqual(['/bin/echo', '-n', '-m', '10']);
    expect(dag.argv[t('tabbed')]).toEqual(['/bin/echo', 'x']);
  });

  it('trims CR/LF', async () => {
    const dag = await loadDag(fx('crlf.dag'), { defaultTries: 1 });
    expect(dag.names).toEqual(['crlf', 'crlf2']);
    expect(dag.argv[0]).toEqual(['/bin/echo', 'a']);
    expect(dag.edgeCount).toBe(1);
  });

  it('reports every error of a file with its line', async () => {
    const err = await loadDag(fx('errors.dag'), { defaultTries: 1 }).then(
      () => undefined,
      (e: unknown) => e as DagError,
    );
    expect(err).toBeInstanceOf(DagError);
    const f = fx('errors.dag');
    const lines = err!.message.split('\n');
    const expected: [number, RegExp][] = [
      [2, /duplicate task A/],
      [3, /task B: no executable/],
      [4, /task C: unknown option -x/],
      [5, /task D: option -m needs a value/],
      [6, /task E: invalid -m value "10abc"/],
      [7, /task F: invalid -m value "-5" \(expected a number of MB >= 0\)/],
      [8, /task G: invalid -c value "-1"/],
      [9, /task H: invalid -t value "1.5"/],
      [10, /task I: invalid -p value "x"/],
      [11, /task J: invalid -f value "NOEQUALS" \(expected VAR=PATH\)/],
      [12, /invalid record "TASKS"/],
      [13, /invalid record "EDGEX"/],
      [14, /unknown task nosuch in EDGE/],
      [15, /self edge A -> A/],
      [17, /duplicate edge A -> B/],
      [18, /invalid #@ annotation/],
      [19, /invalid record "MEMORY"/],
      [20, /EDGE with 1 task name \(expected EDGE PARENT CHILD\)/],
      [21, /TASK without a name/],
    ];
    expect(lines).toHaveLength(expected.length);
    expected.forEach(([line, re], k) => {
      expect(lines[k].startsWith(`${f}:${line}: `), lines[k]).toBe(true);
      expect(lines[k]).toMatch(re);
    });
    expect(err!.line).toBe(2);
  });

  it('lists at most 20 errors', () => {
    const text = Array.from({ length: 30 }, (_, i) => `BAD ${i}`).join('\n');
    const e = errorOf(text);
    const lines = e.message.split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe('... and 10 more');
    expect(lines[0]).toMatch(/^x\.dag:1: invalid record "BAD"/);
  });

  it('names the tasks of a cycle and the line of one of its edges', async () => {
    const err = await loadDag(fx('cycle.dag'), { defaultTries: 1 }).then(
      () => undefined,
      (e: unknown) => e as DagError,
    );
    expect(err).toBeInstanceOf(DagError);
    expect(err!.message).toMatch(
      /:9: cycle (B -> C -> D -> B|C -> D -> B -> C|D -> B -> C -> D) \(3 tasks; 4 tasks can never run/,
    );
  });

  it('rejects a 2-cycle and accepts a DAG with a long chain', () => {
    expect(errorOf('TASK a x\nTASK b x\nEDGE a b\nEDGE b a\n').message).toMatch(
      /^x\.dag:4: cycle (a -> b -> a|b -> a -> b)/,
    );
    const text = generateDag({ tasks: 100_000, shape: 'chains', chainLength: 100_000, command: ['true'] });
    const dag = parseDag(text, 'chain.dag', { defaultTries: 1 });
    expect(dag.edgeCount).toBe(99_999);
  });

  it('says when an EDGE comes before its TASK', () => {
    expect(errorOf('EDGE a b\nTASK a x\nTASK b x\n').message).toMatch(/^x\.dag:1: unknown task a in EDGE/);
  });

  it('allows TASK options with long names and forwards with repeated keys', () => {
    const dag = parseDag('TASK a -F x=1 -F x=2 true', 'y.dag', { defaultTries: 1 });
    expect(dag.fileForwards(0)).toEqual([['x', '2']]);
  });

  it('rejects a huge or non-finite number', () => {
    expect(errorOf('TASK a -m 1e300 true').message).toMatch(/invalid -m value/);
    expect(errorOf('TASK a -p 99999999999 true').message).toMatch(/invalid -p value/);
    expect(errorOf('TASK a -c inf true').message).toMatch(/invalid -c value/);
    expect(errorOf('TASK a -g two true').message).toMatch(
      /invalid -g value "two" \(expected a number of GPUs >= 0\)/,
    );
    expect(parseDag('TASK a --request-gpus 1.5 true', 'g.dag', { defaultTries: 1 }).gpus[0]).toBe(2);
  });

  it('a file that cannot be read is a UserError naming it', async () => {
    const p = join(tmp, 'missing.dag');
    await expect(loadDag(p, { defaultTries: 1 })).rejects.toThrow(UserError);
    await expect(loadDag(p, { defaultTries: 1 })).rejects.toThrow(p);
  });

  it('loadDag handles a file without a final newline and lines across chunk boundaries', async () => {
    const text = generateDag({ tasks: 60_000, shape: 'diamonds', command: ['/bin/echo', 'a b', "it's"] });
    const p = join(tmp, 'big.dag');
    writeFileSync(p, text.trimEnd());
    const dag = await loadDag(p, { defaultTries: 1 });
    expect(dag.size).toBe(60_000);
    expect(dag.edgeCount).toBe(60_000);
    expect(dag.argv[59_999]).toEqual(['/bin/echo', 'a b', "it's"]);
  });
});

describe('formatDag', () => {
  it('round-trips', async () => {
    for (const f of ['diamond.dag', 'pegasus.dag', 'options.dag', 'crlf.dag']) {
      const a = await loadDag(fx(f), { defaultTries: 2 });
      const text = formatDag(a, { defaultTries: 2 });
      const b = parseDag(text, 'again.dag', { defaultTries: 2 });
      expect(b.names).toEqual(a.names);
      expect(b.argv).toEqual(a.argv);
      expect(b.memory).toEqual(a.memory);
      expect(b.cpus).toEqual(a.cpus);
      expect(b.tries).toEqual(a.tries);
      expect(b.priority).toEqual(a.priority);
      expect(b.childIndex).toEqual(a.childIndex);
      expect(b.childOffsets).toEqual(a.childOffsets);
      for (let i = 0; i < a.size; i++) {
        expect(b.pegasusId(i)).toBe(a.pegasusId(i));
        expect(b.pipeForwards(i)).toEqual(a.pipeForwards(i));
        expect(b.fileForwards(i)).toEqual(a.fileForwards(i));
      }
      expect(formatDag(b, { defaultTries: 2 })).toBe(text);
    }
  });

  it('writes the diamond in PMC form', async () => {
    const a = await loadDag(fx('diamond.dag'), { defaultTries: 1 });
    expect(formatDag(a)).toBe(
      'TASK A echo A\nTASK B echo B\nTASK C echo C\nTASK D echo D\n\nEDGE A B\nEDGE A C\nEDGE B D\nEDGE C D\n',
    );
  });
});

describe('generateDag', () => {
  const gen = (shape: 'independent' | 'chains' | 'diamonds' | 'fan', tasks: number, chainLength?: number) =>
    parseDag(generateDag({ tasks, shape, command: ['/bin/true'], chainLength }), 'g.dag', {
      defaultTries: 1,
    });

  it('makes each shape', () => {
    expect(gen('independent', 10).edgeCount).toBe(0);
    const ch = gen('chains', 10, 4);
    expect(ch.edgeCount).toBe(7);
    expect([...ch.children(3)]).toEqual([]);
    expect([...ch.children(4)]).toEqual([5]);
    const di = gen('diamonds', 10);
    expect(di.edgeCount).toBe(8 + 1);
    expect([...di.parentCount.slice(0, 4)]).toEqual([0, 1, 1, 2]);
    const fan = gen('fan', 10);
    expect(fan.edgeCount).toBe(16);
    expect(fan.parentCount[9]).toBe(8);
    expect(gen('fan', 2).edgeCount).toBe(1);
    expect(gen('fan', 1).edgeCount).toBe(0);
    expect(gen('independent', 0).size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { parseDag } from '../src/dag-file.js';
import { annotationLine, edgeLine, parseAnnotation, parseTaskLine, taskLine } from '../src/dag-format.js';

describe('the .dag lines', () => {
  const argv = ['/bin/echo', 'a b', "it's", 'say "x"', 'back\\slash', ''];

  it('a TASK line reads back the same, through the runner and through parseTaskLine', () => {
    const line = taskLine({
      name: 't1',
      memory: 64,
      cpus: 2,
      gpus: 1,
      tries: 3,
      priority: -1,
      pipeForwards: [['OUT', '/tmp/o u t']],
      fileForwards: [['a', 'b']],
      extra: '  ',
      argv,
    });
    const dag = parseDag(
      `${annotationLine(7, 'ns::tr', 'ID7')}\n${line}\nTASK t2 /bin/true\n${edgeLine('t1', 't2')}\n`,
      'x.dag',
      { defaultTries: 1 },
    );
    expect(dag.argv[0]).toEqual(argv);
    expect([dag.memory[0], dag.cpus[0], dag.gpus[0], dag.tries[0], dag.priority[0]]).toEqual([
      64, 2, 1, 3, -1,
    ]);
    expect(dag.gpus[1]).toBe(0);
    expect(dag.pipeForwards(0)).toEqual([['OUT', '/tmp/o u t']]);
    expect(dag.pegasusId(0)).toBe('7');
    expect(dag.edgeCount).toBe(1);
    expect(parseTaskLine(line)).toEqual({ name: 't1', argv });
    expect(parseAnnotation(annotationLine(7, 'ns::tr', 'ID7'))).toEqual({
      taskId: '7',
      transformation: 'ns::tr',
      daxId: 'ID7',
    });
  });

  it('tells every option, long ones and -f/-F included, from the command', () => {
    expect(parseTaskLine('TASK x --tries 2 -F a=b --pipe-forward "O=/p q" -c 1 prog -m 5')).toEqual({
      name: 'x',
      argv: ['prog', '-m', '5'],
    });
    expect(parseTaskLine('EDGE a b')).toBeUndefined();
    expect(parseTaskLine('TASKS x')).toBeUndefined();
    expect(() => taskLine({ name: 'n', argv: ['a\nb'] })).toThrow('task n: an argument contains a newline');
  });
});

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { InvocationRecord } from '../src/invocation-record.js';
import { formatRecordYaml, quote } from '../src/record-yaml.js';

const usage = {
  utime: 0.25,
  stime: 0.125,
  maxrss: 2048,
  minflt: 1,
  majflt: 0,
  nswap: 0,
  inblock: 8,
  outblock: 16,
  msgsnd: 0,
  msgrcv: 0,
  nsignals: 0,
  nvcsw: 3,
  nivcsw: 4,
};

const tricky = [
  '',
  'plain',
  'with "quotes" and \\backslashes\\',
  'multi\nline\r\nwith\ttabs',
  'yes',
  'null',
  '~',
  '- leading dash',
  'key: value # not a comment',
  '  leading and trailing spaces  ',
  '\u0000\u0001\u001f\u007f\u0085\u009f control',
  'unicode: é ü 漢字 🎉 \u2028 \ufeff',
  '0o755',
  '12',
  '@&*!%`|>',
];

function record(data: string): InvocationRecord {
  return {
    version: '3.0',
    start: Date.UTC(2024, 4, 2, 17, 15, 1, 120),
    duration: 2.5144,
    transformation: tricky[2],
    derivation: 'ID02',
    wfLabel: 'diamond',
    hostname: 'node17',
    pid: 40112,
    uid: 1000,
    user: 'alice',
    gid: 1000,
    umask: 0o022,
    mainjob: {
      start: Date.UTC(2024, 4, 2, 17, 15, 1, 150),
      duration: 2.48,
      pid: 40113,
      usage,
      status: { raw: 9, signalled_signal: 9, singalled_name: 'Killed', corefile: false },
      executable: { file_name: '/opt/demo/bin/findrange', mode: 0o100755, size: 81920 },
      argument_vector: tricky,
    },
    cwd: '/var/tmp/dir with space',
    usage,
    machine: { 'page-size': 4096, uname_system: 'linux', cpu_count: 8 },
    files: [
      ['f.c1', { lfn: 'f.c1', error: 2 }],
      ['yes', { file_name: 'x', size: 1 }],
      ['empty', {}],
      ['stdout', { descriptor: 1, size: data.length, data_truncated: false, data }],
    ],
    environment: Object.fromEntries(tricky.map((t, i) => [`K${i}${t.slice(0, 3)}`, t])),
    limits: { RLIMIT_NOFILE_soft: '1024' },
  };
}

describe('formatRecordYaml', () => {
  it.each([
    ['a literal block', 'cannot open input f.b1\nsecond line\n'],
    ['no final newline', 'no newline at the end'],
    ['several final newlines', 'text\n\n\n'],
    ['a whitespace-only line', 'a\n   \nb\n'],
    ['leading spaces', '   indented first line\n'],
    ['binary bytes', '\u0000\u00ff\r\n\u001b[31mred\u001b[0m\n'],
    ['a lone surrogate', 'bad \ud800 half\n'],
  ])('round-trips through the yaml package with %s', (_, data) => {
    const text = formatRecordYaml(record(data));
    const doc = parse(text);
    expect(Array.isArray(doc)).toBe(true);
    const r = doc[0];
    expect(r.invocation).toBe(true);
    expect(r.version).toBe(3);
    expect(r.duration).toBe(2.514);
    expect(r.transformation).toBe(tricky[2]);
    expect(r['wf-label']).toBe('diamond');
    expect(r.umask).toBe(0o022);
    expect(r.mainjob.usage).toEqual({ ...usage, utime: 0.25, stime: 0.125 });
    expect(r.mainjob.status).toEqual({
      raw: 9,
      signalled_signal: 9,
      singalled_name: 'Killed',
      corefile: false,
    });
    expect(r.mainjob.executable.mode).toBe(0o100755);
    expect(r.mainjob.argument_vector).toEqual(tricky);
    expect(r.cwd).toBe('/var/tmp/dir with space');
    expect(r.files['f.c1']).toEqual({ lfn: 'f.c1', error: 2 });
    expect(r.files.yes).toEqual({ file_name: 'x', size: 1 });
    expect(r.files.empty).toEqual({});
    expect(r.files.stdout.data).toBe(data);
    expect(r.environment).toEqual(record(data).environment);
    expect(typeof r.start).toBe('string');
    expect(r.machine['page-size']).toBe(4096);
  });

  it('writes data as a literal block when it is plain text', () => {
    const text = formatRecordYaml(record('hello\nworld\n'));
    expect(text).toContain('      data: |\n        hello\n        world\n');
  });

  it('forms one YAML sequence when records are concatenated', () => {
    const two = formatRecordYaml(record('a\n')) + formatRecordYaml(record('b\n'));
    const doc = parse(two);
    expect(doc).toHaveLength(2);
    expect(doc[1].files.stdout.data).toBe('b\n');
  });

  it('says so when rusage is unavailable', () => {
    const r = record('x\n');
    r.mainjob.usage = null;
    const doc = parse(formatRecordYaml(r));
    expect(doc[0].mainjob.rusage).toBe('unavailable');
    expect(doc[0].mainjob.usage).toBeUndefined();
  });

  it('quotes every string so that it parses back unchanged', () => {
    for (const s of tricky) expect(parse(`v: ${quote(s)}`).v).toBe(s);
  });
});

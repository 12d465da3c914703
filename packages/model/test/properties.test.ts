import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../src/errors.js';
import { Properties, parseDefines, propertiesFromEnv } from '../src/properties.js';

describe('Properties (java.util.Properties format)', () => {
  it('parses separators, comments, continuation lines and escapes', () => {
    const text = [
      '# a comment',
      '! another comment',
      '   ',
      'pegasus.data.configuration = condorio',
      'dagman.retry:3',
      'env.PATH /usr/bin:/bin',
      '  condor.request_memory   =   2048  ',
      'pegasus.long = one, \\',
      '               two, \\',
      '   three',
      'key\\ with\\ spaces = v',
      'esc = tab\\there\\nnewline \\u00e9 \\\\ back',
      'empty =',
      'alone',
      'a\\=b = c',
      'colon\\:key = x:y',
      'odd = ends with backslash\\\\',
      'next = n',
    ].join('\r\n');
    const p = Properties.parse(text, 'p.properties');
    expect(p.toObject()).toEqual({
      'pegasus.data.configuration': 'condorio',
      'dagman.retry': '3',
      'env.PATH': '/usr/bin:/bin',
      'condor.request_memory': '2048  ',
      'pegasus.long': 'one, two, three',
      'key with spaces': 'v',
      esc: 'tab\there\nnewline é \\ back',
      empty: '',
      alone: '',
      'a=b': 'c',
      'colon:key': 'x:y',
      odd: 'ends with backslash\\',
      next: 'n',
    });
    expect(p.locate('pegasus.long')).toEqual({ file: 'p.properties', line: 8, column: 1 });
    expect(p.locate('condor.request_memory')).toEqual({ file: 'p.properties', line: 7, column: 3 });
  });

  it('writes text that parses back to the same map', async () => {
    const p = new Properties({ 'a b': ' lead', 'x=y': 'é\tz', 'pegasus.mode': 'development', n: 3, t: true });
    expect(Properties.parse(p.toString()).toObject()).toEqual(p.toObject());
    const dir = await mkdtemp(join(tmpdir(), 'model-props-'));
    try {
      await p.write(join(dir, 'pegasus.properties'));
      expect((await Properties.load(join(dir, 'pegasus.properties'))).toObject()).toEqual(p.toObject());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a malformed \\u escape with file and line', () => {
    try {
      Properties.parse('ok = 1\nbad = \\u12x4\n', 'x.properties');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      expect((e as ModelError).message).toBe(
        'x.properties:2:1: malformed \\u escape "\\u12x4" (expected \\u and 4 hex digits)',
      );
    }
  });

  it('merges sources in order and applies -D overrides', () => {
    const site = Properties.parse('pegasus.mode = production\ndagman.retry = 1\n');
    const conf = new Properties({ 'dagman.retry': '2' });
    const merged = new Properties().merge(site, conf).withDefines(['-Dpegasus.mode=development', 'x.y=a=b']);
    expect(merged.toObject()).toEqual({ 'pegasus.mode': 'development', 'dagman.retry': '2', 'x.y': 'a=b' });
    expect(merged.getNumber('dagman.retry', 0)).toBe(2);
    expect(merged.getBoolean('pegasus.transfer.links', false)).toBe(false);
    expect(() => parseDefines(['-Dnovalue'])).toThrow(/expected -Dkey=value/);
    expect(parseDefines(['-Da=1', 'b=2'])).toEqual(
      new Map([
        ['a', '1'],
        ['b', '2'],
      ]),
    );
  });

  it('turns namespace keys into profiles and reads environment overrides', () => {
    const p = new Properties({
      'env.JAVA_HOME': '/opt/java',
      'condor.request_memory': '2048',
      'dagman.retry': '3',
      'pegasus.clusters.size': '5',
      'other.key': 'x',
    });
    expect(p.profiles()).toEqual({
      env: { JAVA_HOME: '/opt/java' },
      condor: { request_memory: '2048' },
      dagman: { retry: '3' },
      pegasus: { 'clusters.size': '5' },
    });
    expect(p.subset('pegasus.').toObject()).toEqual({ 'clusters.size': '5' });
    expect(
      propertiesFromEnv({ _PEGASUS__CATALOG__REPLICA__FILE: 'rc.yml', PATH: '/bin' }).toObject(),
    ).toEqual({
      'pegasus.catalog.replica.file': 'rc.yml',
    });
  });
});

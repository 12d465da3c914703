import { describe, expect, it } from 'vitest';
import { exitFromRecordText } from '../src/internal/record-exit.js';
import { Throttles } from '../src/throttles.js';

describe('Throttles', () => {
  it("applies Pegasus's default category limits and dagman.maxjobs", () => {
    const props = new Map([['dagman.maxjobs', '3']]);
    const t = Throttles.fromProperties((k) => props.get(k));
    expect(t.categoryLimits.get('registration')).toBe(1);
    expect(t.categoryLimits.get('stagein')).toBe(10);
    t.take('registration');
    expect(t.allows('registration')).toBe(false);
    expect(t.allows(undefined)).toBe(true);
    t.take(undefined);
    t.take(undefined);
    expect(t.allows(undefined)).toBe(false);
    t.release('registration');
    expect(t.allows('registration')).toBe(true);
  });

  it('reads dagman.<category>.maxjobs and rejects bad values', () => {
    const props = new Map([
      ['dagman.cleanup.maxjobs', '0'],
      ['dagman.stagein.maxjobs', '2'],
    ]);
    const t = Throttles.fromProperties((k) => props.get(k));
    expect(t.categoryLimits.has('cleanup')).toBe(false);
    expect(t.categoryLimits.get('stagein')).toBe(2);
    expect(() => Throttles.fromProperties((k) => (k === 'dagman.maxjobs' ? 'many' : undefined))).toThrow(
      'property dagman.maxjobs=many (expected an integer >= 0)',
    );
  });
});

describe('exitFromRecordText', () => {
  it("reads the main job's exit code, signal or launch failure from a kickstart record", () => {
    const rec = (status: string) => `- invocation: true\n  mainjob:\n    pid: 1\n    status:\n${status}\n`;
    expect(exitFromRecordText(rec('      raw: 768\n      regular_exitcode: 3'))).toBe(3);
    expect(exitFromRecordText(rec('      raw: 9\n      signalled_signal: 9'))).toBe(137);
    expect(exitFromRecordText(rec('      raw: -1'))).toBe(127);
    expect(exitFromRecordText('garbage')).toBeUndefined();
  });
});

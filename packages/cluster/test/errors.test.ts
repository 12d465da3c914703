import { describe, expect, it } from 'vitest';
import { DagError, UsageError, UserError } from '../src/errors.js';

describe('errors', () => {
  it('UserError defaults to exit code 2', () => {
    const e = new UserError('bad thing');
    expect(e.message).toBe('bad thing');
    expect(e.exitCode).toBe(2);
    expect(new UserError('x', { exitCode: 1 }).exitCode).toBe(1);
  });

  it('DagError is FILE:LINE: message', () => {
    const e = new DagError('a.dag', 3, 'oops (expected fine)');
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toBe('a.dag:3: oops (expected fine)');
    expect(e.file).toBe('a.dag');
    expect(e.line).toBe(3);
  });

  it('DagError.fromIssues sorts, lists up to 20 and counts the rest', () => {
    const issues = Array.from({ length: 25 }, (_, i) => ({ file: 'f', line: 25 - i, message: `m${25 - i}` }));
    const e = DagError.fromIssues(issues, 30);
    const lines = e.message.split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe('f:1: m1');
    expect(lines[19]).toBe('f:20: m20');
    expect(lines[20]).toBe('... and 10 more');
    expect(e.line).toBe(1);
    expect(e.total).toBe(30);
  });

  it('UsageError is a UserError', () => {
    expect(new UsageError('u')).toBeInstanceOf(UserError);
  });
});

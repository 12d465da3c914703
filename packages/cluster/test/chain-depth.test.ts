import { describe, expect, it } from 'vitest';
import { ChainDepth } from '../src/chain-depth.js';

describe('ChainDepth', () => {
  it('chains nothing until a duration has been seen', () => {
    expect(new ChainDepth(8).value).toBe(0);
  });

  it('covers the hold plus the margin at the mean duration, plus one', () => {
    const d = new ChainDepth(8, 2, 32);
    d.observe(0.001); // 1 ms tasks: 10 ms need 10, plus one
    expect(d.value).toBe(11);
  });

  it('keeps two for tasks longer than the hold, none for long tasks', () => {
    const d = new ChainDepth(8, 2, 32, 0.25);
    d.observe(0.1);
    expect(d.value).toBe(2);
    const long = new ChainDepth(8, 2, 32, 0.25);
    long.observe(60);
    expect(long.value).toBe(0);
    for (let i = 0; i < 100; i++) long.observe(0.001); // the short ones chain again
    expect(long.value).toBe(11);
  });

  it('hardly moves for one long task among short ones', () => {
    const d = new ChainDepth(8, 2, 32, 0.25);
    for (let i = 0; i < 50; i++) d.observe(0.001);
    expect(d.value).toBe(11);
    d.observe(3600);
    expect(d.value).toBeGreaterThanOrEqual(6);
  });

  it('never exceeds its maximum', () => {
    const d = new ChainDepth(8, 2, 32);
    d.observe(0);
    expect(d.value).toBe(32);
  });

  it('follows a change of durations gradually and ignores nonsense', () => {
    const d = new ChainDepth(8, 2, 64);
    d.observe(0.01);
    expect(d.value).toBe(2);
    d.observe(Number.NaN);
    d.observe(-1);
    expect(d.value).toBe(2);
    for (let i = 0; i < 200; i++) d.observe(0.0005);
    expect(d.value).toBe(21);
  });
});

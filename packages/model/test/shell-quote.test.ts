import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../src/shell-quote.js';

describe('shellQuote', () => {
  it('leaves plain words alone', () => {
    for (const w of ['pegasus-ts', '/a/b.c', 'k=v', 'x@y:1,2%+']) expect(shellQuote(w)).toBe(w);
  });

  it('single-quotes anything else, the empty word included', () => {
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it('gives every word back unchanged through a real shell', () => {
    const words = ['plain', 'two words', "it's", '$HOME `x` "q" \\ *?[]', 'tab\there', 'new\nline', '', 'ü'];
    const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`]);
    expect(out.toString('utf8').split('\0').slice(0, -1)).toEqual(words);
  });
});

import { describe, expect, it } from 'vitest';
import { quoteArg, splitArgs } from '../src/split-args.js';

describe('splitArgs (PMC split_args)', () => {
  it('splits on whitespace', () => {
    expect(splitArgs('foo bar')).toEqual(['foo', 'bar']);
    expect(splitArgs('  foo \t bar\v\fbaz  ')).toEqual(['foo', 'bar', 'baz']);
    expect(splitArgs('')).toEqual([]);
    expect(splitArgs('   ')).toEqual([]);
  });

  it('handles the quotes like PMC', () => {
    expect(splitArgs('"a b c"')).toEqual(['a b c']);
    expect(splitArgs(`"first one" 'second one'`)).toEqual(['first one', 'second one']);
    expect(splitArgs(`'x'y`)).toEqual(['x', 'y']);
    expect(splitArgs(`a'b c'`)).toEqual(['ab c']);
    expect(splitArgs(`''`)).toEqual(['']);
    expect(splitArgs(`a '' b`)).toEqual(['a', '', 'b']);
    expect(splitArgs(`'it"s'`)).toEqual(['it', 's']);
    expect(splitArgs('"unterminated quoted string')).toEqual(['unterminated quoted string']);
    expect(splitArgs('"')).toEqual([]);
  });

  it('handles backslashes like PMC', () => {
    expect(splitArgs('"with \\" quote"')).toEqual(['with " quote']);
    expect(splitArgs('escapeatend\\')).toEqual(['escapeatend\\']);
    expect(splitArgs('escape\\b')).toEqual(['escapeb']);
    expect(splitArgs('e\\ f')).toEqual(['e f']);
  });

  it("gives the spec's example arguments", () => {
    const line = `/bin/sh -c 'for a in \\"$@\\"; do echo \\"[$a]\\"; done' sh a'b c' 'x'y '' e\\ f "unterminated  two`;
    expect(splitArgs(line)).toEqual([
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
  });

  it('quoteArg round-trips through splitArgs', () => {
    const args = ['plain', '', 'a b', `it's`, 'say "hi"', 'back\\slash', '\t', '-x', 'a=b'];
    expect(splitArgs(args.map(quoteArg).join(' '))).toEqual(args);
    expect(quoteArg('plain')).toBe('plain');
  });
});

import { isAbsolute } from 'node:path';
import { EnsembleError } from './errors.js';

/** A file-pattern trigger's pattern: a literal absolute directory and a glob for the file names. */
export interface FilePattern {
  pattern: string;
  dir: string;
  glob: string;
  regex: RegExp;
}

/**
 * Parses an absolute pattern such as `/data/incoming/*.h5`. Wildcards (`*`, `?`, `[...]`) are
 * allowed in the last component only, as the manager lists one directory per pattern.
 */
export function parseFilePattern(pattern: string): FilePattern {
  if (!isAbsolute(pattern))
    throw new EnsembleError(`file pattern '${pattern}': expected an absolute path such as /data/in/*.txt`);
  const slash = pattern.lastIndexOf('/');
  const dir = pattern.slice(0, slash) || '/';
  const glob = pattern.slice(slash + 1);
  if (/[*?[\]]/.test(dir))
    throw new EnsembleError(
      `file pattern '${pattern}': wildcards are allowed in the file name only, not in the directory ${dir}`,
    );
  if (glob === '' || glob === '.' || glob === '..')
    throw new EnsembleError(`file pattern '${pattern}': expected a file name or glob after the last '/'`);
  return { pattern, dir, glob, regex: globRegex(pattern, glob) };
}

/** A file-name glob as a RegExp: `*` any run, `?` one character, `[abc]`/`[!abc]` a class; dot files only when asked for. */
export function globRegex(pattern: string, glob: string): RegExp {
  let re = glob.startsWith('.') ? '' : '(?!\\.)';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new EnsembleError(`file pattern '${pattern}': '[' without a closing ']'`);
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * The names in `names` (a listing of `p.dir`) that match, sorted (the order they are passed on).
 * Every match is new: a file the trigger passed on was moved out of the directory.
 */
export function newMatches(p: FilePattern, names: readonly string[]): string[] {
  return names.filter((n) => p.regex.test(n)).sort();
}

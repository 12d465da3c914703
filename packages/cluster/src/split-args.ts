/**
 * PMC's `split_args`: split the command part of a TASK line into arguments.
 *
 * - C `isspace` characters separate arguments outside quotes.
 * - `'` and `"` are interchangeable: either opens a quote and either closes it.
 * - A closing quote always ends the current argument, even an empty one: `''` is an empty
 *   argument and `'x'y` gives `x` and `y`. Text just before an opening quote is joined to the
 *   quoted text: `a'b c'` gives `ab c`.
 * - A backslash escapes the next character, inside and outside quotes; a backslash at the
 *   very end is kept literally.
 * - An unterminated quote makes the rest of the line one argument (if it is non-empty).
 */
export function splitArgs(s: string): string[] {
  const args: string[] = [];
  const n = s.length;
  // Fast path: no quotes or backslashes, so only whitespace matters.
  if (!hasSpecial(s)) {
    let start = -1;
    for (let i = 0; i < n; i++) {
      if (isSpace(s.charCodeAt(i))) {
        if (start >= 0) {
          args.push(s.slice(start, i));
          start = -1;
        }
      } else if (start < 0) {
        start = i;
      }
    }
    if (start >= 0) args.push(s.slice(start));
    return args;
  }
  let arg = '';
  let inQuote = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x27 || c === 0x22) {
      if (inQuote) {
        args.push(arg);
        arg = '';
        inQuote = false;
      } else {
        inQuote = true;
      }
    } else if (c === 0x5c) {
      if (i + 1 < n) {
        i++;
        arg += s[i];
      } else {
        arg += '\\';
      }
    } else if (isSpace(c)) {
      if (inQuote) arg += s[i];
      else if (arg.length > 0) {
        args.push(arg);
        arg = '';
      }
    } else {
      arg += s[i];
    }
  }
  if (arg.length > 0) args.push(arg);
  return args;
}

/** C `isspace` in the C locale: space, \t, \n, \v, \f, \r. */
export function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function hasSpecial(s: string): boolean {
  return s.indexOf("'") >= 0 || s.indexOf('"') >= 0 || s.indexOf('\\') >= 0;
}

/**
 * Quote one argument so that `splitArgs` gives it back unchanged (used when writing DAG files).
 * Plain arguments are written as they are; others are put in double quotes with `"`, `'` and
 * `\` escaped.
 */
export function quoteArg(a: string): string {
  if (a.length > 0 && !hasSpecial(a)) {
    let plain = true;
    for (let i = 0; i < a.length; i++) {
      if (isSpace(a.charCodeAt(i))) {
        plain = false;
        break;
      }
    }
    if (plain) return a;
  }
  return `"${a.replace(/["'\\]/g, '\\$&')}"`;
}

/**
 * Calls `fn` with each complete line of `text` (without its newline); returns the index after the
 * last newline, where an incomplete last line (if any) starts.
 */
export function eachLine(text: string, fn: (line: string) => void): number {
  let pos = 0;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return pos;
    fn(text.slice(pos, nl));
    pos = nl + 1;
  }
}

/**
 * One word for a POSIX shell: as it is when it holds only characters no shell treats specially,
 * else in single quotes (a `'` inside becomes `'\''`). Used for the commands we write into
 * scripts (Slurm batch scripts) and print for people to paste (the analyzer).
 */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

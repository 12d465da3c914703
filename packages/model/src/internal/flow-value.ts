// The subset of YAML plan.yml is written in: one flow value per line, written by yamlFlow and read
// back by parseFlowValue without a general YAML parser.

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@+-]*$/;
/** Words a plain scalar must not be (YAML would read them as booleans or null). */
export const RESERVED = /^(?:true|false|null|yes|no|on|off|y|n|~)$/i;

/** A YAML scalar: plain when unambiguous, else a JSON (double-quoted YAML) string. */
export function yamlString(s: string): string {
  return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

/** A YAML flow value for plain data (strings, numbers, booleans, arrays, objects). */
export function yamlFlow(v: unknown): string {
  if (typeof v === 'string') return yamlString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(yamlFlow).join(', ')}]`;
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x !== undefined) parts.push(`${yamlString(k)}: ${yamlFlow(x)}`);
  }
  return `{${parts.join(', ')}}`;
}

/** Returned when a value is outside the subset yamlFlow writes (the caller falls back to `yaml`). */
export const UNSUPPORTED: unique symbol = Symbol('unsupported');

/** PLAIN_CHAR[c]: whether char code c may be in a plain scalar (`[A-Za-z0-9_./@+-]`). */
export const PLAIN_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./@+-')
  PLAIN_CHAR[c.charCodeAt(0)] = 1;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Parses one YAML value in the subset yamlFlow writes: plain
 * scalars of `[A-Za-z0-9_./@+-]`, JSON-quoted strings, numbers, true/false/null, and flow
 * sequences/mappings of those, on one line. Anything else gives UNSUPPORTED. Much faster than a
 * general YAML parser, which matters for plans of 100,000s of jobs.
 */
export function parseFlowValue(text: string): unknown {
  const p = new FlowParser(text);
  try {
    const v = p.value();
    p.space();
    return p.pos === text.length ? v : UNSUPPORTED;
  } catch {
    return UNSUPPORTED;
  }
}

class FlowParser {
  pos = 0;
  constructor(private readonly s: string) {}

  space(): void {
    while (this.s.charCodeAt(this.pos) === 32) this.pos++;
  }

  value(): unknown {
    this.space();
    const c = this.s.charCodeAt(this.pos);
    if (c === 91) return this.seq(); // [
    if (c === 123) return this.map(); // {
    if (c === 34) return this.quoted(); // "
    return this.scalar();
  }

  private seq(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.space();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const c = this.s[this.pos++];
      if (c === ']') return out;
      if (c !== ',') throw new Error('expected , or ]');
    }
  }

  private map(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.space();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.space();
      const key = this.s[this.pos] === '"' ? this.quoted() : this.plain();
      if (this.s[this.pos] !== ':' || this.s[this.pos + 1] !== ' ') throw new Error('expected ": "');
      this.pos += 2;
      out[key] = this.value();
      this.space();
      const c = this.s[this.pos++];
      if (c === '}') return out;
      if (c !== ',') throw new Error('expected , or }');
    }
  }

  private quoted(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const c = this.s.charCodeAt(this.pos);
      if (Number.isNaN(c)) throw new Error('unterminated string');
      this.pos++;
      if (c === 92) this.pos++;
      else if (c === 34) break;
    }
    return JSON.parse(this.s.slice(start, this.pos)) as string;
  }

  private plain(): string {
    const start = this.pos;
    const s = this.s;
    while (this.pos < s.length && PLAIN_CHAR[s.charCodeAt(this.pos)] === 1) this.pos++;
    if (this.pos === start) throw new Error('expected a value');
    return this.s.slice(start, this.pos);
  }

  private scalar(): unknown {
    const word = this.plain();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null' || word === '~') return null;
    const c = word.charCodeAt(0);
    if (((c >= 48 && c <= 57) || c === 45) && NUMBER.test(word)) return Number(word);
    return word;
  }
}

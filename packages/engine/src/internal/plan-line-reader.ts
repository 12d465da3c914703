import { parse as parseYaml } from 'yaml';
import { failAt as fail } from '../errors.js';
import { parseFlowValue, UNSUPPORTED } from './flow-value.js';

/** plan.yml as read, before validation: what both readers (fast lines, full YAML) produce. */
export interface RawPlan {
  header: Record<string, unknown>;
  headerLines: Record<string, number>;
  /** false when `jobs` is not a list */
  jobsIsList: boolean;
  jobsLine?: number;
  jobs: { fields: Record<string, unknown>; line?: number }[];
  edgesIsList: boolean;
  edgesLine?: number;
  edges: { value: unknown; line?: number }[];
}

/**
 * Reads plan.yml in the planner's line layout: header `key: value` lines, `jobs:` with
 * `  - name: ...` items and `    key: value` fields (one flow value per line; `transfers:` followed
 * by `      - {...}` items), then `edges:` with `  - [parent, child]`. `line()` returns false at
 * the first line outside that layout (the caller then reads the file as a whole document).
 */
export class PlanLineReader {
  private readonly raw: RawPlan = {
    header: {},
    headerLines: {},
    jobsIsList: true,
    jobs: [],
    edgesIsList: true,
    edges: [],
  };
  private section: 'header' | 'jobs' | 'edges' = 'header';
  private job: Record<string, unknown> | undefined;
  private list: unknown[] | undefined;

  constructor(private readonly file: string) {}

  line(text: string, no: number): boolean {
    if (text.length === 0 || text[0] === '#' || text.trim() === '') return true;
    if (text[0] !== ' ') return this.top(text, no);
    if (this.section === 'edges') {
      if (!text.startsWith('  - ')) return false;
      this.raw.edges.push({ value: this.value(text.slice(4), no), line: no });
      return true;
    }
    if (this.section !== 'jobs') return false;
    if (text.startsWith('  - ')) {
      const kv = keyValue(text.slice(4));
      if (kv?.[0] !== 'name' || kv[1] === '') return false;
      this.job = { name: this.value(kv[1], no) };
      this.raw.jobs.push({ fields: this.job, line: no });
      this.list = undefined;
      return true;
    }
    if (!this.job) return false;
    if (text.startsWith('      - ')) {
      if (!this.list) return false;
      this.list.push(this.value(text.slice(8), no));
      return true;
    }
    if (!text.startsWith('    ') || text[4] === ' ') return false;
    const kv = keyValue(text.slice(4));
    if (!kv) return false;
    if (kv[1] === '') {
      this.list = [];
      this.job[kv[0]] = this.list;
    } else {
      this.list = undefined;
      this.job[kv[0]] = this.value(kv[1], no);
    }
    return true;
  }

  result(): RawPlan {
    return this.raw;
  }

  private top(text: string, no: number): boolean {
    const kv = keyValue(text);
    if (!kv) return false;
    const [key, v] = kv;
    this.raw.headerLines[key] = no;
    if (key === 'jobs' || key === 'edges') {
      this.section = key;
      this.job = undefined;
      const value = v === '' ? [] : this.value(v, no);
      if (!Array.isArray(value) || (v !== '' && value.length > 0)) return false;
      if (key === 'jobs') this.raw.jobsLine = no;
      else this.raw.edgesLine = no;
      return true;
    }
    if (this.section !== 'header' || v === '') return false;
    this.raw.header[key] = this.value(v, no);
    return true;
  }

  private value(text: string, no: number): unknown {
    const v = parseFlowValue(text);
    if (v !== UNSUPPORTED) return v;
    try {
      return parseYaml(text);
    } catch (e) {
      fail(this.file, no, `${(e as Error).message.split('\n')[0]}`);
    }
  }
}

/** `key: value` (value may be empty); undefined when the line is not one. */
function keyValue(text: string): [string, string] | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_.-]*):(?: (.*))?$/.exec(text);
  return m ? [m[1], (m[2] ?? '').trim()] : undefined;
}

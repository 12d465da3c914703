import type { Db } from './database.js';

const COLORS = {
  success: '#2ca02c',
  failure: '#d62728',
  evicted: '#ff7f0e',
  aborted: '#9467bd',
  running: '#1f77b4',
  queued: '#c7c7c7',
} as const;

const CURVE = '#4a5a7a';

/** A duration for a tooltip: `0.365 s`, `42.1 s`, else clock time. */
function spanText(sec: number): string {
  if (sec < 10) return `${sec.toFixed(3)} s`;
  if (sec < 60) return `${sec.toFixed(1)} s`;
  return clock(sec);
}

/** Jobs above which rows are groups of consecutive jobs instead of one row per job. */
export const GANTT_MAX_ROWS = 200;
/** Rows of a grouped chart (at most). */
const GROUP_ROWS = 150;

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const px = (n: number) => (Math.round(n * 10) / 10).toString();

function niceStep(span: number, target: number): number {
  const steps = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
  ];
  for (const s of steps) if (span / s <= target) return s;
  return Math.ceil(span / target / 86400) * 86400;
}

function clock(sec: number): string {
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const p = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${p(m)}:${p(r)}` : `${m}:${p(r)}`;
}

/** What the chart covers: the first submit, the last end, attempts, jobs, attempts still open. */
interface Span {
  t0: number | null;
  t1: number | null;
  n: number;
  jobs: number;
  open: number | null;
}

/** Where everything goes: the time scale, the rows and the page. */
interface Layout {
  t0: number;
  t1: number;
  /** x of time t */
  x: (t: number) => number;
  grouped: boolean;
  /** jobs per row */
  perRow: number;
  rows: number;
  rowH: number;
  /** y of the first row */
  top: number;
  height: number;
}

const W = 1200;
const LEFT = 260;
const RIGHT = 20;
const PLOT_W = W - LEFT - RIGHT;
/** Height of the attempts-running plot above the rows. */
const CONC_H = 80;
/** Buckets of the attempts-running plot. */
const B = 400;

/**
 * A Gantt chart of the job attempts as SVG, written in pieces through `write`: one row per job
 * (attempts side by side, a grey queue segment then a bar coloured by outcome), time axis in
 * minutes:seconds from the first submit, and above it the number of attempts running over time.
 * With more than GANTT_MAX_ROWS jobs each row stands for a group of consecutive jobs (by first
 * submit): the span of their attempts, red when any failed, labelled with counts.
 */
export function renderGantt(
  db: Db,
  title: string,
  write: (s: string) => void,
  now = Date.now() / 1000,
): void {
  const span = querySpan(db);
  if (span.t0 === null || span.n === 0) {
    write(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="80" font-family="sans-serif" font-size="12"><text x="10" y="40">${esc(title)}: no job has run yet</text></svg>\n`,
    );
    return;
  }
  const L = layoutOf(span, span.t0, now);
  writeHeading(L, span, title, write);
  const jobs = jobRows(db, L);
  const running = new RunningCount(L.t0, L.t1);
  write('<g>\n');
  const groups = writeAttempts(db, L, jobs.rowOf, jobs.names, running, write);
  if (groups) writeGroups(L, groups, write);
  write('</g>\n');
  writeRowLabels(L, span.jobs, jobs.names, write);
  writeRunningPlot(L, running, write);
  writeTimeAxis(L, write);
  write('</svg>\n');
}

function querySpan(db: Db): Span {
  return db
    .prepare(
      `SELECT min(submit_time) AS t0, max(coalesce(record_start + record_duration, end_time, state_time)) AS t1, count(*) AS n,
         count(DISTINCT job_id) AS jobs, sum(end_time IS NULL AND final IS NULL) AS open
       FROM job_instance WHERE submit_time IS NOT NULL`,
    )
    .get() as Span;
}

/** The time scale (to `now` while attempts are open) and the rows: one per job, or per group. */
function layoutOf(span: Span, t0: number, now: number): Layout {
  const t1 = Math.max(t0 + 1, span.t1 ?? t0, span.open ? now : t0);
  const grouped = span.jobs > GANTT_MAX_ROWS;
  const perRow = grouped ? Math.ceil(span.jobs / GROUP_ROWS) : 1;
  const rows = Math.ceil(span.jobs / perRow);
  const rowH = grouped ? 8 : rows > 100 ? 10 : 16;
  const top = 50 + CONC_H + 30;
  return {
    t0,
    t1,
    x: (t: number) => LEFT + ((t - t0) / (t1 - t0)) * PLOT_W,
    grouped,
    perRow,
    rows,
    rowH,
    top,
    height: top + rows * rowH + 60,
  };
}

/** The svg element, the background, the title and the legend. */
function writeHeading(L: Layout, span: Span, title: string, write: (s: string) => void): void {
  const H = L.height;
  write(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">\n`,
  );
  write(`<rect width="${W}" height="${H}" fill="white"/>\n`);
  write(
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}: ${span.n} job attempts of ${span.jobs} jobs${L.grouped ? ` (${L.perRow} jobs per row)` : ''}</text>\n`,
  );
  let lx = 10;
  for (const [name, color] of Object.entries(COLORS)) {
    write(
      `<rect x="${lx}" y="30" width="12" height="10" fill="${color}"/><text x="${lx + 16}" y="39">${name}</text>\n`,
    );
    lx += 90;
  }
}

/** Each job's row, in order of first submit; the job names when there is a row per job. */
function jobRows(db: Db, L: Layout): { rowOf: Map<number, number>; names: string[] } {
  const rowOf = new Map<number, number>();
  const names: string[] = [];
  let k = 0;
  for (const r of db
    .prepare(
      `SELECT j.job_id AS id, j.exec_job_id AS name FROM job j JOIN job_instance ji ON ji.job_id = j.job_id
       WHERE ji.submit_time IS NOT NULL GROUP BY j.job_id ORDER BY min(ji.submit_time), j.exec_job_id`,
    )
    .iterate() as IterableIterator<{ id: number; name: string }>) {
    rowOf.set(r.id, Math.floor(k / L.perRow));
    if (!L.grouped) names.push(r.name);
    k++;
  }
  return { rowOf, names };
}

/**
 * The average number of attempts running in each of B intervals: whole intervals through a
 * difference array, the partly covered first and last ones directly (O(attempts + B)).
 */
class RunningCount {
  private readonly whole = new Float64Array(B + 1);
  private readonly partial = new Float64Array(B + 1);

  constructor(
    private readonly t0: number,
    private readonly t1: number,
  ) {}

  private unit(t: number): number {
    return Math.min(B, Math.max(0, ((t - this.t0) / (this.t1 - this.t0)) * B));
  }

  /** One attempt running from a to b. */
  cover(a: number, b: number): void {
    const u0 = this.unit(a);
    const u1 = this.unit(Math.max(a, b));
    const k0 = Math.floor(u0);
    const k1 = Math.floor(u1);
    if (k0 === k1) {
      this.partial[k0] += u1 - u0;
      return;
    }
    this.partial[k0] += k0 + 1 - u0;
    this.partial[k1] += u1 - k1;
    this.whole[k0 + 1] += 1;
    this.whole[k1] -= 1;
  }

  /** The mean per bucket. */
  series(): number[] {
    let cur = 0;
    const pts: number[] = [];
    for (let b = 0; b < B; b++) {
      cur += this.whole[b];
      pts.push(cur + this.partial[b]);
    }
    return pts;
  }
}

/** Per group row: the span of its attempts and their counts (attempts, failed, retries). */
interface Groups {
  span: Float64Array;
  counts: Int32Array;
}

interface Inst {
  job_id: number;
  seq: number;
  s: number;
  x: number | null;
  e: number | null;
  final: string | null;
  /** the engine's duration of the attempt (launch to end) */
  ld: number | null;
}

type Outcome = Exclude<keyof typeof COLORS, 'queued'>;

function outcomeOf(final: string | null): Outcome {
  if (final === 'success' || final === 'evicted' || final === 'aborted') return final;
  return final === 'failure' ? 'failure' : 'running';
}

/**
 * Every attempt, counted in `running`; with a row per job drawn as its bars (queued, then ran),
 * else summed into the groups returned.
 */
function writeAttempts(
  db: Db,
  L: Layout,
  rowOf: Map<number, number>,
  names: string[],
  running: RunningCount,
  write: (s: string) => void,
): Groups | undefined {
  const groups = L.grouped
    ? { span: new Float64Array(L.rows * 2).fill(Number.NaN), counts: new Int32Array(L.rows * 3) }
    : undefined;
  let prevJob = -1;
  let prevEnd = Number.NEGATIVE_INFINITY;
  for (const i of db
    .prepare(
      `SELECT job_id, job_submit_seq AS seq, submit_time AS s, coalesce(record_start, execute_time) AS x,
         coalesce(record_start + record_duration, end_time, CASE WHEN final IS NOT NULL THEN state_time END) AS e, final,
         local_duration AS ld
       FROM job_instance WHERE submit_time IS NOT NULL ORDER BY job_id, job_submit_seq`,
    )
    .iterate() as IterableIterator<Inst>) {
    const row = rowOf.get(i.job_id) ?? 0;
    const end = i.e ?? L.t1;
    const start = Math.max(i.s, i.x ?? i.s);
    // jobstate.log times are whole seconds: the launch is the end less the engine's duration
    // when both are known; never before the job's previous attempt ended
    if (i.job_id !== prevJob) {
      prevJob = i.job_id;
      prevEnd = Number.NEGATIVE_INFINITY;
    }
    const launched = i.e !== null && i.ld !== null ? i.e - i.ld : i.s;
    const queuedFrom = Math.min(start, Math.max(i.s, prevEnd, launched));
    prevEnd = end;
    running.cover(start, end);
    const outcome = outcomeOf(i.final);
    if (groups) addToGroup(groups, row, i, end);
    else writeAttemptBar(L, row, names[row], i.seq, outcome, queuedFrom, start, end, write);
  }
  return groups;
}

function addToGroup(g: Groups, row: number, i: Inst, end: number): void {
  const a = g.span[row * 2];
  g.span[row * 2] = Number.isNaN(a) ? i.s : Math.min(a, i.s);
  const b = g.span[row * 2 + 1];
  g.span[row * 2 + 1] = Number.isNaN(b) ? end : Math.max(b, end);
  g.counts[row * 3]++;
  if (i.final === 'failure') g.counts[row * 3 + 1]++;
  if (i.seq > 1) g.counts[row * 3 + 2]++;
}

/** One attempt: a grey queue segment (when a pixel or more), then its bar with a tooltip. */
function writeAttemptBar(
  L: Layout,
  row: number,
  name: string | undefined,
  seq: number,
  outcome: Outcome,
  queuedFrom: number,
  start: number,
  end: number,
  write: (s: string) => void,
): void {
  const { x } = L;
  const y = L.top + row * L.rowH + 2;
  const h = L.rowH - 4;
  const queued = start - queuedFrom;
  if (x(start) - x(queuedFrom) >= 1)
    write(
      `<rect x="${px(x(queuedFrom))}" y="${y}" width="${px(Math.max(0.5, x(start) - x(queuedFrom)))}" height="${h}" fill="${COLORS.queued}"/>`,
    );
  write(
    `<rect x="${px(x(start))}" y="${y}" width="${px(Math.max(1, x(end) - x(start)))}" height="${h}" fill="${COLORS[outcome]}" stroke="white" stroke-width="0.5"><title>${esc(name ?? '')} try ${seq}: ${outcome}, ran ${spanText(end - start)}${queued > 0 ? `, queued ${spanText(queued)}` : ''}</title></rect>\n`,
  );
}

/** One bar per group row: the span of its attempts, red when any failed. */
function writeGroups(L: Layout, g: Groups, write: (s: string) => void): void {
  const { x } = L;
  for (let r = 0; r < L.rows; r++) {
    const a = g.span[r * 2];
    if (Number.isNaN(a)) continue;
    const b = g.span[r * 2 + 1];
    const y = L.top + r * L.rowH + 1;
    const failed = g.counts[r * 3 + 1];
    write(
      `<rect x="${px(x(a))}" y="${y}" width="${px(Math.max(1, x(b) - x(a)))}" height="${L.rowH - 2}" fill="${failed ? COLORS.failure : COLORS.success}"><title>jobs ${r * L.perRow + 1}-${(r + 1) * L.perRow}: ${g.counts[r * 3]} attempts, ${failed} failed, ${g.counts[r * 3 + 2]} retries</title></rect>\n`,
    );
  }
}

/** Row labels, at least 12 px apart: job names, or `jobs A-B` for groups. */
function writeRowLabels(L: Layout, jobs: number, names: string[], write: (s: string) => void): void {
  const labelEvery = Math.ceil(12 / L.rowH);
  for (let r = 0; r < L.rows; r += labelEvery) {
    const text = L.grouped ? `jobs ${r * L.perRow + 1}-${Math.min(jobs, (r + 1) * L.perRow)}` : names[r];
    const t = text.length > 38 ? `${text.slice(0, 36)}..` : text;
    write(
      `<text x="${LEFT - 6}" y="${L.top + r * L.rowH + L.rowH - 3}" text-anchor="end" font-size="${Math.min(11, L.rowH * labelEvery - 3)}">${esc(t)}</text>\n`,
    );
  }
}

/** Attempts running over time: a step area with its own small axis (0 and the peak). */
function writeRunningPlot(L: Layout, running: RunningCount, write: (s: string) => void): void {
  const pts = running.series();
  let peak = 1;
  for (const v of pts) peak = Math.max(peak, v);
  peak = Math.ceil(peak * 10) / 10;
  const cy = 50 + CONC_H;
  const yOf = (v: number) => cy - (v / peak) * (CONC_H - 10);
  let d = `M${LEFT},${cy}`;
  pts.forEach((v, b) => {
    d += ` L${px(LEFT + (b / B) * PLOT_W)},${px(yOf(v))} L${px(LEFT + ((b + 1) / B) * PLOT_W)},${px(yOf(v))}`;
  });
  d += ` L${LEFT + PLOT_W},${cy} Z`;
  write(`<path d="${d}" fill="${CURVE}" fill-opacity="0.35" stroke="${CURVE}" stroke-width="1"/>\n`);
  write(
    `<line x1="${LEFT}" y1="${cy}" x2="${LEFT + PLOT_W}" y2="${cy}" stroke="#555"/><line x1="${LEFT}" y1="${px(yOf(peak))}" x2="${LEFT + PLOT_W}" y2="${px(yOf(peak))}" stroke="#555" stroke-dasharray="3,3" stroke-opacity="0.5"/>\n`,
  );
  write(`<text x="${LEFT - 6}" y="${px(yOf(peak) + 4)}" text-anchor="end">${peak}</text>`);
  write(`<text x="${LEFT - 6}" y="${cy + 4}" text-anchor="end">0</text>`);
  write(`<text x="${LEFT - 30}" y="${px(cy - CONC_H / 2 - 3)}" text-anchor="end">attempts running</text>`);
  write(
    `<text x="${LEFT - 30}" y="${px(cy - CONC_H / 2 + 10)}" text-anchor="end" font-size="9">(mean per ${spanText((L.t1 - L.t0) / B)})</text>\n`,
  );
}

/** The time axis under the rows, with grid lines up through the running plot. */
function writeTimeAxis(L: Layout, write: (s: string) => void): void {
  const { t0, t1, x } = L;
  const cy = 50 + CONC_H;
  const step = niceStep(t1 - t0, 12);
  const axisY = L.top + L.rows * L.rowH + 5;
  write(`<line x1="${LEFT}" y1="${axisY}" x2="${LEFT + PLOT_W}" y2="${axisY}" stroke="black"/>\n`);
  for (let t = 0; t <= t1 - t0 + 1e-9; t += step) {
    const xx = px(x(t0 + t));
    write(
      `<line x1="${xx}" y1="${cy - CONC_H}" x2="${xx}" y2="${axisY + 4}" stroke="#000" stroke-opacity="0.12"/>`,
    );
    write(`<text x="${xx}" y="${axisY + 16}" text-anchor="middle">${clock(t)}</text>\n`);
  }
  write(
    `<text x="${LEFT}" y="${axisY + 34}">time since the first submit (${new Date(t0 * 1000).toISOString().replace('.000Z', 'Z')})</text>\n`,
  );
}

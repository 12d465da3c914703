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
  const span = db
    .prepare(
      `SELECT min(submit_time) AS t0, max(coalesce(record_start + record_duration, end_time, state_time)) AS t1, count(*) AS n,
         count(DISTINCT job_id) AS jobs, sum(end_time IS NULL AND final IS NULL) AS open
       FROM job_instance WHERE submit_time IS NOT NULL`,
    )
    .get() as { t0: number | null; t1: number | null; n: number; jobs: number; open: number | null };
  const W = 1200;
  const left = 260;
  const right = 20;
  const plotW = W - left - right;
  if (span.t0 === null || span.n === 0) {
    write(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="80" font-family="sans-serif" font-size="12"><text x="10" y="40">${esc(title)}: no job has run yet</text></svg>\n`,
    );
    return;
  }
  const t0 = span.t0;
  const t1 = Math.max(t0 + 1, span.t1 ?? t0, span.open ? now : t0);
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * plotW;
  const grouped = span.jobs > GANTT_MAX_ROWS;
  const perRow = grouped ? Math.ceil(span.jobs / GROUP_ROWS) : 1;
  const rows = Math.ceil(span.jobs / perRow);
  const rowH = grouped ? 8 : rows > 100 ? 10 : 16;
  const concH = 80;
  const top = 50 + concH + 30;
  const H = top + rows * rowH + 60;
  write(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">\n`,
  );
  write(`<rect width="${W}" height="${H}" fill="white"/>\n`);
  write(
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}: ${span.n} job attempts of ${span.jobs} jobs${grouped ? ` (${perRow} jobs per row)` : ''}</text>\n`,
  );
  // legend
  let lx = 10;
  for (const [name, color] of Object.entries(COLORS)) {
    write(
      `<rect x="${lx}" y="30" width="12" height="10" fill="${color}"/><text x="${lx + 16}" y="39">${name}</text>\n`,
    );
    lx += 90;
  }
  // job order: first submit
  const order = new Map<number, number>();
  const labels: string[] = [];
  let k = 0;
  for (const r of db
    .prepare(
      `SELECT j.job_id AS id, j.exec_job_id AS name FROM job j JOIN job_instance ji ON ji.job_id = j.job_id
       WHERE ji.submit_time IS NOT NULL GROUP BY j.job_id ORDER BY min(ji.submit_time), j.exec_job_id`,
    )
    .iterate() as IterableIterator<{ id: number; name: string }>) {
    order.set(r.id, Math.floor(k / perRow));
    if (!grouped) labels.push(r.name);
    k++;
  }
  // bars, and the running count over time (difference arrays over B buckets)
  const B = 400;
  const running = new Float64Array(B + 1);
  let prevJob = -1;
  let prevEnd = Number.NEGATIVE_INFINITY;
  // the average number of attempts running in each of B intervals: whole intervals through a
  // difference array, the partly covered first and last ones directly (O(attempts + B))
  const partial = new Float64Array(B + 1);
  const unit = (t: number) => Math.min(B, Math.max(0, ((t - t0) / (t1 - t0)) * B));
  const cover = (a: number, b: number) => {
    const u0 = unit(a);
    const u1 = unit(Math.max(a, b));
    const k0 = Math.floor(u0);
    const k1 = Math.floor(u1);
    if (k0 === k1) {
      partial[k0] += u1 - u0;
      return;
    }
    partial[k0] += k0 + 1 - u0;
    partial[k1] += u1 - k1;
    running[k0 + 1] += 1;
    running[k1] -= 1;
  };
  const groupSpan = grouped ? new Float64Array(rows * 2).fill(Number.NaN) : undefined;
  const groupCounts = grouped ? new Int32Array(rows * 3) : undefined; // attempts, failed, retries
  write('<g>\n');
  for (const i of db
    .prepare(
      `SELECT job_id, job_submit_seq AS seq, submit_time AS s, coalesce(record_start, execute_time) AS x,
         coalesce(record_start + record_duration, end_time, CASE WHEN final IS NOT NULL THEN state_time END) AS e, final,
         local_duration AS ld
       FROM job_instance WHERE submit_time IS NOT NULL ORDER BY job_id, job_submit_seq`,
    )
    .iterate() as IterableIterator<Inst>) {
    const row = order.get(i.job_id) ?? 0;
    const end = i.e ?? t1;
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
    const bad = i.final === 'failure';
    cover(start, end);
    const outcome =
      i.final === 'success' || i.final === 'evicted' || i.final === 'aborted'
        ? i.final
        : bad
          ? 'failure'
          : 'running';
    if (groupSpan && groupCounts) {
      const a = groupSpan[row * 2];
      groupSpan[row * 2] = Number.isNaN(a) ? i.s : Math.min(a, i.s);
      const b = groupSpan[row * 2 + 1];
      groupSpan[row * 2 + 1] = Number.isNaN(b) ? end : Math.max(b, end);
      groupCounts[row * 3]++;
      if (bad) groupCounts[row * 3 + 1]++;
      if (i.seq > 1) groupCounts[row * 3 + 2]++;
      continue;
    }
    const y = top + row * rowH + 2;
    const h = rowH - 4;
    const queued = start - queuedFrom;
    if (x(start) - x(queuedFrom) >= 1)
      write(
        `<rect x="${px(x(queuedFrom))}" y="${y}" width="${px(Math.max(0.5, x(start) - x(queuedFrom)))}" height="${h}" fill="${COLORS.queued}"/>`,
      );
    write(
      `<rect x="${px(x(start))}" y="${y}" width="${px(Math.max(1, x(end) - x(start)))}" height="${h}" fill="${COLORS[outcome]}" stroke="white" stroke-width="0.5"><title>${esc(labels[row] ?? '')} try ${i.seq}: ${outcome}, ran ${spanText(end - start)}${queued > 0 ? `, queued ${spanText(queued)}` : ''}</title></rect>\n`,
    );
  }
  if (groupSpan && groupCounts) {
    for (let r = 0; r < rows; r++) {
      const a = groupSpan[r * 2];
      if (Number.isNaN(a)) continue;
      const b = groupSpan[r * 2 + 1];
      const y = top + r * rowH + 1;
      const failed = groupCounts[r * 3 + 1];
      write(
        `<rect x="${px(x(a))}" y="${y}" width="${px(Math.max(1, x(b) - x(a)))}" height="${rowH - 2}" fill="${failed ? COLORS.failure : COLORS.success}"><title>jobs ${r * perRow + 1}-${(r + 1) * perRow}: ${groupCounts[r * 3]} attempts, ${failed} failed, ${groupCounts[r * 3 + 2]} retries</title></rect>\n`,
      );
    }
  }
  write('</g>\n');
  // row labels
  // labels at least 12 px apart
  const labelEvery = Math.ceil(12 / rowH);
  for (let r = 0; r < rows; r += labelEvery) {
    const text = grouped ? `jobs ${r * perRow + 1}-${Math.min(span.jobs, (r + 1) * perRow)}` : labels[r];
    const t = text.length > 38 ? `${text.slice(0, 36)}..` : text;
    write(
      `<text x="${left - 6}" y="${top + r * rowH + rowH - 3}" text-anchor="end" font-size="${Math.min(11, rowH * labelEvery - 3)}">${esc(t)}</text>\n`,
    );
  }
  // attempts running over time: a step area with its own small axis (0 and the peak)
  let cur = 0;
  const pts: number[] = [];
  let peak = 1;
  for (let b = 0; b < B; b++) {
    cur += running[b];
    const v = cur + partial[b];
    pts.push(v);
    peak = Math.max(peak, v);
  }
  peak = Math.ceil(peak * 10) / 10;
  const cy = 50 + concH;
  const yOf = (v: number) => cy - (v / peak) * (concH - 10);
  let d = `M${left},${cy}`;
  pts.forEach((v, b) => {
    d += ` L${px(left + (b / B) * plotW)},${px(yOf(v))} L${px(left + ((b + 1) / B) * plotW)},${px(yOf(v))}`;
  });
  d += ` L${left + plotW},${cy} Z`;
  write(`<path d="${d}" fill="${CURVE}" fill-opacity="0.35" stroke="${CURVE}" stroke-width="1"/>\n`);
  write(
    `<line x1="${left}" y1="${cy}" x2="${left + plotW}" y2="${cy}" stroke="#555"/><line x1="${left}" y1="${px(yOf(peak))}" x2="${left + plotW}" y2="${px(yOf(peak))}" stroke="#555" stroke-dasharray="3,3" stroke-opacity="0.5"/>\n`,
  );
  write(`<text x="${left - 6}" y="${px(yOf(peak) + 4)}" text-anchor="end">${peak}</text>`);
  write(`<text x="${left - 6}" y="${cy + 4}" text-anchor="end">0</text>`);
  write(`<text x="${left - 30}" y="${px(cy - concH / 2 - 3)}" text-anchor="end">attempts running</text>`);
  write(
    `<text x="${left - 30}" y="${px(cy - concH / 2 + 10)}" text-anchor="end" font-size="9">(mean per ${spanText((t1 - t0) / B)})</text>\n`,
  );
  // time axis
  const step = niceStep(t1 - t0, 12);
  const axisY = top + rows * rowH + 5;
  write(`<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="black"/>\n`);
  for (let t = 0; t <= t1 - t0 + 1e-9; t += step) {
    const xx = px(x(t0 + t));
    write(
      `<line x1="${xx}" y1="${cy - concH}" x2="${xx}" y2="${axisY + 4}" stroke="#000" stroke-opacity="0.12"/>`,
    );
    write(`<text x="${xx}" y="${axisY + 16}" text-anchor="middle">${clock(t)}</text>\n`);
  }
  write(
    `<text x="${left}" y="${axisY + 34}">time since the first submit (${new Date(t0 * 1000).toISOString().replace('.000Z', 'Z')})</text>\n`,
  );
  write('</svg>\n');
}

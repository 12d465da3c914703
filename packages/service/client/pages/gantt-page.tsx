import type { GanttPage as GanttAnswer, GanttBar } from '@pegasus-ts/monitor';
import type { ChartConfiguration } from 'chart.js';
import { useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { useApi, useLive } from '../api.js';
import { ChartView } from '../chart.js';
import { duration } from '../format.js';
import { WorkflowNav } from './workflow-nav.js';
import { Pager } from './workflow-page.js';

/** Bars of the overview (each a group of consecutive job attempts) and attempts per page. */
const GROUPS = 100;
const PAGE = 100;

function config(rows: GanttBar[], origin: number, onBar: (i: number) => void): ChartConfiguration {
  const rel = (t: number | null, fallback: number) => (t === null ? fallback : t - origin);
  const queue = rows.map((r) => [rel(r.submit, 0), rel(r.execute ?? r.end, rel(r.submit, 0))]);
  const run = rows.map((r) => {
    const x = rel(r.execute ?? r.submit, 0);
    return [x, rel(r.end, x)];
  });
  return {
    type: 'bar',
    data: {
      labels: rows.map((r) => r.label),
      datasets: [
        {
          label: 'waiting',
          data: queue as unknown as number[],
          backgroundColor: '#c7c7c7',
          barPercentage: 0.9,
          categoryPercentage: 1,
        },
        {
          label: 'running (red: failed)',
          data: run as unknown as number[],
          backgroundColor: rows.map((r) =>
            r.failed > 0 ? '#d62728' : r.end === null ? '#1f77b4' : '#2ca02c',
          ),
          barPercentage: 0.9,
          categoryPercentage: 1,
        },
      ],
    },
    options: {
      indexAxis: 'y',
      maintainAspectRatio: false,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'seconds since the first submit' } },
        y: { stacked: true, ticks: { autoSkip: true, font: { size: 10 } } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (item) => {
              const r = rows[item.dataIndex];
              const span = r.end !== null && r.submit !== null ? duration(r.end - r.submit) : 'running';
              return `${r.count} attempt${r.count === 1 ? '' : 's'}, ${r.failed} failed, ${span}`;
            },
          },
        },
      },
      onClick: (_e, els) => {
        if (els.length > 0) onBar(els[0].index);
      },
    },
  };
}

/**
 * The Gantt chart: an overview of the whole run in at most {@link GROUPS} bars (however many jobs),
 * and the attempts themselves a page at a time (a bar per attempt; a click opens it).
 */
export function GanttPage(props: { wf: string }) {
  const live = useLive(props.wf);
  const { route } = useLocation();
  const [start, setStart] = useState<number | null>(null);
  const path =
    start === null
      ? `/workflows/${props.wf}/gantt?groups=${GROUPS}`
      : `/workflows/${props.wf}/gantt?start-index=${start}&max-results=${PAGE}`;
  const { data, error } = useApi<GanttAnswer>(path, live.version);
  const chart = useMemo(() => {
    if (!data || data.rows.length === 0) return null;
    return config(data.rows, data.origin ?? 0, (i) => {
      if (start === null) {
        // a group: show its attempts
        const offset = data.rows.slice(0, i).reduce((n, r) => n + r.count, 0);
        setStart(Math.floor(offset / PAGE) * PAGE);
      } else {
        route(`/workflows/${props.wf}/job-instances/${data.rows[i].first}`);
      }
    });
  }, [data]);
  return (
    <main>
      <WorkflowNav wf={props.wf} live={live} />
      <h1>Gantt chart</h1>
      <div class="filters">
        <button type="button" aria-pressed={start === null} onClick={() => setStart(null)}>
          Whole run
        </button>
        <button type="button" aria-pressed={start !== null} onClick={() => setStart(start ?? 0)}>
          Attempts, {PAGE} per page
        </button>
        <span class="muted">
          {data && start === null && data.total > data.rows.length
            ? `${data.total} job attempts in ${data.rows.length} bars of consecutive attempts; click a bar to see its attempts`
            : 'click a bar to open the attempt'}
        </span>
      </div>
      {error && <p class="error">{error}</p>}
      {chart && data && (
        <ChartView
          config={chart}
          height={Math.max(240, 18 * data.rows.length + 80)}
          label="Gantt chart of the job attempts"
        />
      )}
      {data && start !== null && (
        <Pager total={data.total} start={start} size={PAGE} onPage={setStart} what="job attempts" />
      )}
      {data && data.total === 0 && <p class="muted">No job attempt yet.</p>}
    </main>
  );
}

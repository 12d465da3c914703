import type { TimeBucket, TransformationShare } from '@pegasus-ts/monitor';
import type { ChartConfiguration } from 'chart.js';
import { useMemo } from 'preact/hooks';
import { useApi, useLive } from '../api.js';
import { ChartView } from '../chart.js';
import { time } from '../format.js';
import { WorkflowNav } from './workflow-nav.js';

/** Job distribution (count and time per transformation), jobs and invocations over time. */
export function ChartsPage(props: { wf: string }) {
  const live = useLive(props.wf);
  const dist = useApi<{ rows: TransformationShare[] }>(
    `/workflows/${props.wf}/charts/distribution`,
    live.version,
  );
  const over = useApi<{ bucketSeconds: number; rows: TimeBucket[] }>(
    `/workflows/${props.wf}/charts/time`,
    live.version,
  );
  const byCount = useMemo<ChartConfiguration | null>(() => {
    const rows = dist.data?.rows;
    if (!rows) return null;
    return {
      type: 'bar',
      data: {
        labels: rows.map((r) => r.transformation),
        datasets: [
          { label: 'succeeded', data: rows.map((r) => r.count - r.failed), backgroundColor: '#2c8a3c' },
          { label: 'failed', data: rows.map((r) => r.failed), backgroundColor: '#c62828' },
        ],
      },
      options: {
        maintainAspectRatio: false,
        indexAxis: 'y',
        scales: { x: { stacked: true }, y: { stacked: true } },
      },
    };
  }, [dist.data]);
  const byTime = useMemo<ChartConfiguration | null>(() => {
    const rows = dist.data?.rows;
    if (!rows) return null;
    return {
      type: 'bar',
      data: {
        labels: rows.map((r) => r.transformation),
        datasets: [
          {
            label: 'seconds (kickstart durations)',
            data: rows.map((r) => r.time),
            backgroundColor: '#2a5db0',
          },
        ],
      },
      options: { maintainAspectRatio: false, indexAxis: 'y' },
    };
  }, [dist.data]);
  const overTime = useMemo<ChartConfiguration | null>(() => {
    const rows = over.data?.rows;
    if (!rows) return null;
    return {
      type: 'line',
      data: {
        labels: rows.map((r) => time(r.time).slice(11)),
        datasets: [
          {
            label: 'job attempts ended',
            data: rows.map((r) => r.jobs),
            borderColor: '#2a5db0',
            pointRadius: 0,
          },
          {
            label: 'invocations ended',
            data: rows.map((r) => r.invocations),
            borderColor: '#e07b00',
            pointRadius: 0,
          },
        ],
      },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
    };
  }, [over.data]);
  return (
    <main>
      <WorkflowNav wf={props.wf} live={live} />
      <h1>Charts</h1>
      {(dist.error || over.error) && <p class="error">{dist.error ?? over.error}</p>}
      <div class="grid2">
        <section>
          <h2>Invocations per transformation</h2>
          {byCount && <ChartView config={byCount} label="invocations per transformation" />}
        </section>
        <section>
          <h2>Time per transformation</h2>
          {byTime && <ChartView config={byTime} label="time per transformation" />}
        </section>
      </div>
      <h2>Jobs and invocations over time ({over.data?.bucketSeconds ?? 1} s buckets)</h2>
      {overTime && <ChartView config={overTime} label="jobs and invocations over time" />}
      {dist.data && (
        <table id="distribution">
          <thead>
            <tr>
              <th>Transformation</th>
              <th class="num">Invocations</th>
              <th class="num">Failed</th>
              <th class="num">Time (s)</th>
            </tr>
          </thead>
          <tbody>
            {dist.data.rows.map((r) => (
              <tr>
                <td>{r.transformation}</td>
                <td class="num">{r.count}</td>
                <td class="num">{r.failed}</td>
                <td class="num">{r.time.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

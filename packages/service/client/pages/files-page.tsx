import type { BrowseResult } from '../../src/file-browser.js';
import { useApi } from '../api.js';
import { bytes, time } from '../format.js';
import { WorkflowNav } from './workflow-nav.js';

const enc = (rel: string) => rel.split('/').map(encodeURIComponent).join('/');

/** The read-only file browser of the submit dir. */
export function FilesPage(props: { wf: string; file?: string }) {
  const rel = (props.file ?? '').replace(/^\/+|\/+$/g, '');
  const { data, error } = useApi<BrowseResult>(`/workflows/${props.wf}/files/${enc(rel)}`);
  const base = `/workflows/${props.wf}/files`;
  const parts = rel === '' ? [] : rel.split('/');
  return (
    <main>
      <WorkflowNav wf={props.wf} />
      <h1>
        <a href={`${base}/`}>submit dir</a>
        {parts.map((p, i) => (
          <>
            {' / '}
            <a href={`${base}/${enc(parts.slice(0, i + 1).join('/'))}`}>{p}</a>
          </>
        ))}
      </h1>
      {error && <p class="error">{error}</p>}
      {data?.kind === 'directory' && (
        <table id="files">
          <thead>
            <tr>
              <th>Name</th>
              <th class="num">Size</th>
              <th>Modified</th>
            </tr>
          </thead>
          <tbody>
            {data.entries.map((e) => (
              <tr>
                <td>
                  <a href={`${base}/${enc(rel === '' ? e.name : `${rel}/${e.name}`)}`}>
                    {e.name}
                    {e.type === 'directory' ? '/' : ''}
                  </a>
                </td>
                <td class="num">{e.type === 'directory' ? '' : bytes(e.size)}</td>
                <td>{time(e.modified)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data?.kind === 'file' && (
        <>
          <p>
            {bytes(data.size)}
            {data.truncated ? ' (the first MiB is shown)' : ''} ·{' '}
            <a href={`/api/v1${base}/${enc(rel)}?download`} download>
              download
            </a>
          </p>
          <pre id="file-text">{data.text}</pre>
        </>
      )}
    </main>
  );
}

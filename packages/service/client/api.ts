import { useEffect, useState } from 'preact/hooks';

/** GETs `/api/v1{path}` and returns its JSON; a failed request throws the server's one-line error. */
export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`/api/v1${path}`, { credentials: 'same-origin' });
  const body = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as T & {
    error?: string;
  };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

export interface Loaded<T> {
  data?: T;
  error?: string;
}

/** The JSON at `path`, fetched again whenever `path` or `version` changes (the last answer stays shown meanwhile). */
export function useApi<T>(path: string | null, version = 0): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({});
  useEffect(() => {
    if (path === null) return;
    let live = true;
    getJson<T>(path).then(
      (data) => live && setState({ data }),
      (err: Error) => live && setState((s) => ({ data: s.data, error: err.message })),
    );
    return () => {
      live = false;
    };
  }, [path, version]);
  return state;
}

/**
 * Live updates of a workflow (Server-Sent Events): a counter that grows each time the workflow's
 * database records progress, to put in the pages' fetch dependencies; and the workflow state.
 */
export function useLive(wf: string): { version: number; state?: string; connected: boolean } {
  const [live, setLive] = useState<{ version: number; state?: string; connected: boolean }>({
    version: 0,
    connected: false,
  });
  useEffect(() => {
    const es = new EventSource(`/api/v1/workflows/${encodeURIComponent(wf)}/events`);
    es.addEventListener('update', (e) => {
      const { state } = JSON.parse((e as MessageEvent<string>).data) as { state: string };
      setLive((l) => ({ version: l.version + 1, state, connected: true }));
    });
    es.onerror = () => setLive((l) => ({ ...l, connected: false }));
    return () => es.close();
  }, [wf]);
  return live;
}

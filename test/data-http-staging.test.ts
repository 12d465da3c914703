// Raw inputs served over HTTP by a local test server (127.0.0.1, an ephemeral port), fetched by
// the stage-in jobs of a planned workflow run by `pegasus-ts run` (issue 13). The server drops the
// connection of the first request for one file halfway through its body: the transfer job retries
// it and the workflow succeeds. The Basic refiner gives each compute job a stage-in job of its own,
// and pegasus.transfer.threads = 3 bounds how many files such a job fetches at once: the server
// counts the requests it holds at the same time.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pt, tempDir } from './helpers.js';
import { eventCounts } from './koto-workflow.js';

const FILES = 6;
const content = (name: string) => `${name}: ${'x'.repeat(2000)}\n`;

interface WebServer {
  url: string;
  hits: Map<string, number>;
  /** most `/f*` requests in flight at once */
  most: () => number;
  close(): Promise<void>;
}

/**
 * Serves `/NAME` with `content(NAME)`. Requests for `/f*` are held until three of them are in
 * flight (or all six arrived, or 5 s passed), then a little longer, so a fourth concurrent request
 * would be seen. The first request for `/f2` gets half its body, then the connection is dropped.
 */
async function webServer(): Promise<WebServer> {
  const hits = new Map<string, number>();
  let running = 0;
  let arrived = 0;
  let most = 0;
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    const n = (hits.get(name) ?? 0) + 1;
    hits.set(name, n);
    const body = content(name);
    void (async () => {
      if (name.startsWith('f')) {
        running++;
        arrived++;
        most = Math.max(most, running);
        const until = Date.now() + 5_000;
        while (running < 3 && arrived < FILES && Date.now() < until)
          await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 50));
        running--;
      }
      res.writeHead(200, { 'content-length': String(body.length) });
      if (name === 'f2' && n === 1) {
        res.write(body.slice(0, body.length / 2));
        setTimeout(() => res.destroy(), 20);
        return;
      }
      res.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    most: () => most,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A two-job workflow: `all` concatenates f0..f5, `one` copies g0; every input a replica on the web server. */
function writeWorkflow(dir: string, url: string): void {
  const fs = Array.from({ length: FILES }, (_, i) => `f${i}`);
  const use = (lfn: string) => `{lfn: ${lfn}, type: input}`;
  writeFileSync(
    path.join(dir, 'workflow.yml'),
    `pegasus: '5.0'
name: web
transformationCatalog:
  pegasus: '5.0'
  transformations:
    - {name: cat, sites: [{name: local, pfn: /bin/cat, type: installed}]}
jobs:
  - {type: job, id: all, name: cat, arguments: [${fs.join(', ')}], stdout: all.txt, uses: [${fs.map(use).join(', ')}, {lfn: all.txt, type: output, stageOut: true}]}
  - {type: job, id: one, name: cat, arguments: [g0], stdout: one.txt, uses: [${use('g0')}, {lfn: one.txt, type: output, stageOut: true}]}
jobDependencies: []
`,
  );
  writeFileSync(
    path.join(dir, 'replicas.yml'),
    `pegasus: '5.0'\nreplicas:\n${[...fs, 'g0'].map((f) => `  - {lfn: ${f}, pfns: [{site: web, pfn: '${url}/${f}'}]}`).join('\n')}\n`,
  );
  const d = (type: string, name: string) =>
    `{type: ${type}, path: '${dir}/${name}', fileServers: [{url: 'file://${dir}/${name}', operation: all}]}`;
  writeFileSync(
    path.join(dir, 'sites.yml'),
    `pegasus: '5.0'\nsites:\n  - {name: local, directories: [${d('sharedScratch', 'work')}, ${d('localStorage', 'outputs')}, ${d('localScratch', 'node-scratch')}]}\n`,
  );
  writeFileSync(
    path.join(dir, 'pegasus.properties'),
    [
      'pegasus.catalog.site.file = sites.yml',
      'pegasus.catalog.replica.file = replicas.yml',
      'pegasus.transfer.refiner = Basic',
      'pegasus.transfer.threads = 3',
      // a failed fetch must be retried by the transfer job itself, not by a job retry
      'dagman.retry = 0',
      '',
    ].join('\n'),
  );
}

describe('an http source of a planned workflow', () => {
  it('stage-in jobs fetch from a local server, retry a dropped connection, at most transfer.threads at once', async () => {
    const t = tempDir('data-http-');
    cleanup.push(t.cleanup);
    const web = await webServer();
    cleanup.push(web.close);
    writeWorkflow(t.dir, web.url);
    const planned = await pt(
      ['plan', '--dir', path.join(t.dir, 'submit'), '--sites', 'local', '-o', 'local', '-q', 'workflow.yml'],
      {
        cwd: t.dir,
      },
    );
    expect(planned.code, planned.stderr).toBe(0);
    const submitDir = planned.stdout.trim().split('\n').pop() as string;
    const plan = readFileSync(path.join(submitDir, 'plan.yml'), 'utf8');
    expect(plan).toContain('- name: stage_in_local_all_0');
    expect(plan).toContain('- name: stage_in_local_one_0');

    const r = await pt(['run', '--foreground', '-q', submitDir]);
    expect(r.stderr).toContain('workflow succeeded');
    expect(r.code).toBe(0);
    const fs = Array.from({ length: FILES }, (_, i) => `f${i}`);
    expect(readFileSync(path.join(t.dir, 'outputs', 'all.txt'), 'utf8')).toBe(fs.map(content).join(''));
    expect(readFileSync(path.join(t.dir, 'outputs', 'one.txt'), 'utf8')).toBe(content('g0'));
    // the dropped connection was retried by the stage-in job (one log line), and only that file
    expect(web.hits.get('f2')).toBe(2);
    for (const f of [...fs.filter((f) => f !== 'f2'), 'g0']) expect(web.hits.get(f), f).toBe(1);
    const err = readFileSync(path.join(submitDir, 'jobs', 'stage_in_local_all_0.err.000'), 'utf8');
    expect(err).toMatch(/lfn "f2" attempt 1\/3 failed: .*; retrying in/);
    expect(eventCounts(submitDir, 'POST_SCRIPT_SUCCESS').get('stage_in_local_all_0')).toBe(1);
    // three files fetched at once by the job that moves six, never more
    expect(web.most()).toBe(3);
    // nothing half-written left in the work dir
    expect(
      readdirSync(path.join(t.dir, 'work'), { recursive: true }).filter((n) => String(n).includes('.part')),
    ).toEqual([]);
  }, 120_000);
});

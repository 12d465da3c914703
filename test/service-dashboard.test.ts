// The service on real KOTO runs (one successful, one with a failing simulation), driven through
// Debian's chromium (headless, playwright-core): what a person sees, live updates, the numbers of
// `pegasus-ts statistics`, and the file browser's confinement over real HTTP.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, hasStackTrace, pt, tempDir, until } from './helpers.js';
import { planKoto } from './koto-workflow.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`service dashboard tests skipped: no ${CHROMIUM} (apt-get install chromium)`);

let t: { dir: string; cleanup: () => void };
let service: ChildProcess;
let url = '';
let ok = '';
let bad = '';
let browser: BrowserContext;
let page: Page;
const FAIL_SEED = '1001';
const shots: string[] = [];

async function shot(name: string): Promise<void> {
  const file = path.join(t.dir, 'screenshots', `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
  const keep = process.env.PEGASUS_TS_SCREENSHOT_DIR;
  if (keep) copyFileSync(file, path.join(keep, `${name}.png`));
}

/** GET with the path sent exactly as given (no client-side normalisation of `..` or `%2e`). */
function rawGet(p: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    request({ host: u.hostname, port: u.port, path: p }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

async function api<T>(p: string): Promise<T> {
  const res = await fetch(`${url}/api/v1${p}`);
  expect(res.status, p).toBe(200);
  return (await res.json()) as T;
}

describe.skipIf(!haveChromium)('pegasus-ts service dashboard on KOTO runs (headless chromium)', () => {
  beforeAll(async () => {
    t = tempDir('service-dashboard-');
    mkdirSync(path.join(t.dir, 'screenshots'));
    // this file's own master database (each test file runs in its own process)
    process.env.PEGASUS_TS_HOME = path.join(t.dir, 'home');
    ok = planKoto(path.join(t.dir, 'ok'), { jobs: 6, clusterSize: 3 }).submitDir;
    bad = planKoto(path.join(t.dir, 'bad'), { jobs: 6, clusterSize: 3 }).submitDir;
    const okRun = pt(['run', '--foreground', '-q', ok]);
    service = spawn(process.execPath, [BIN, 'service', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    service.stdout!.on('data', (d) => {
      out += d;
    });
    service.stderr!.on('data', (d) => {
      out += d;
    });
    await until(() => /listening on (http:\/\/\S+)\//.test(out), 30_000, `the service to listen (${out})`);
    url = /listening on (http:\/\/\S+)\//.exec(out)![1];
    browser = await chromium.launchPersistentContext(mkdtempSync(path.join(t.dir, 'chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 860 },
    });
    page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    expect((await okRun).code).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    service?.kill('SIGTERM');
    if (service && service.exitCode === null) await new Promise((r) => service.once('close', r));
    t?.cleanup();
  });

  it('updates a running workflow page live (no reload) until the failure, and shows the failed job', async () => {
    const list = await api<{ rows: { id: number; submitDir: string; state: string }[] }>('/workflows');
    const id = list.rows.find((r) => r.submitDir === bad)!.id;
    await page.goto(`${url}/workflows/${id}`);
    await page.getByRole('heading', { name: /koto-mc Planned/ }).waitFor();
    await page.evaluate(() => {
      (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const run = pt(['run', '-q', bad], { env: { KOTO_FAIL_SEED: FAIL_SEED, KOTO_SLEEP: '0.5' } });
    expect((await run).code).toBe(0); // detached: the engine runs on
    await page.getByRole('heading', { name: /koto-mc Running/ }).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: /koto-mc Failure/ }).waitFor({ timeout: 120_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    // the failed tab lists the clustered job that holds the failing simulation
    const failedRow = page.locator('#jobs tbody tr').first();
    await expect.poll(() => page.locator('#jobs tbody tr').count()).toBe(1);
    expect(await failedRow.textContent()).toMatch(/merge_koto-koto-sim/);
    await shot('failed-workflow');
    await failedRow.getByRole('link').click();
    await page.locator('#stderr').waitFor();
    // its stderr: the cluster's log, and the failing task's own stderr in its kickstart record
    await expect
      .poll(() => page.locator('main').textContent())
      .toContain(`koto-sim: seed ${FAIL_SEED}: detector geometry rejected (KOTO_FAIL_SEED)`);
    expect(await page.locator('#failed-tasks').textContent()).toMatch(/koto-sim/);
    // the clustered job's tasks, the failing one marked
    await expect.poll(() => page.locator('#tasks tbody tr td.bad').count()).toBe(1);
    expect(await page.locator('#states').textContent()).toMatch(/POST_SCRIPT_FAILURE/);
    await shot('failed-job-instance');
  }, 240_000);

  it('lists both workflows with their states and counts', async () => {
    await page.goto(url);
    await page.locator('#workflows tbody tr').nth(1).waitFor();
    expect(await page.locator('[data-count=successful] b').textContent()).toBe('1');
    expect(await page.locator('[data-count=failed] b').textContent()).toBe('1');
    expect(await page.locator('[data-count=running] b').textContent()).toBe('0');
    const rows = await page.locator('#workflows tbody tr').allTextContents();
    expect(rows.some((r) => r.includes(ok) && r.includes('Success'))).toBe(true);
    expect(rows.some((r) => r.includes(bad) && r.includes('Failure'))).toBe(true);
    await page.getByRole('button', { name: 'day' }).click();
    await expect.poll(() => page.locator('#workflows tbody tr').count()).toBe(2);
    await shot('workflow-list');
  });

  it('shows the successful workflow, its statistics equal to `pegasus-ts statistics`, charts and Gantt chart', async () => {
    const list = await api<{ rows: { id: number; submitDir: string }[] }>('/workflows');
    const id = list.rows.find((r) => r.submitDir === ok)!.id;
    await page.goto(`${url}/workflows/${id}`);
    await page.getByRole('heading', { name: /koto-mc Success/ }).waitFor();
    expect(await page.locator('#progress').textContent()).toMatch(
      /100\.0% \((\d+) succeeded, 0 failed, \1 jobs\)/,
    );
    await page.getByRole('tab', { name: 'Successful' }).click();
    await expect.poll(() => page.locator('#jobs tbody tr').count()).toBeGreaterThan(5);
    await shot('workflow');

    const cli = await pt(['statistics', ok]);
    expect(cli.code).toBe(0);
    await page.goto(`${url}/workflows/${id}/statistics`);
    const text = (await page.locator('#statistics-text').textContent())!;
    expect(cli.stdout.startsWith(text)).toBe(true);
    const cliJobs = /^Jobs\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(cli.stdout)!.slice(1);
    const cliTasks = /^Tasks\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(cli.stdout)!.slice(1);
    const cells = async (type: string) =>
      (await page.locator(`#summary tr[data-type=${type}] td`).allTextContents()).slice(1, 5);
    expect(await cells('Jobs')).toEqual(cliJobs);
    expect(await cells('Tasks')).toEqual(cliTasks);

    await page.goto(`${url}/workflows/${id}/charts`);
    await page.locator('#distribution tbody tr').first().waitFor();
    expect(await page.locator('#distribution').textContent()).toContain('koto::koto-sim');
    await expect.poll(() => page.locator('canvas').count()).toBe(3);
    await shot('charts');

    await page.goto(`${url}/workflows/${id}/gantt`);
    await page.locator('canvas').waitFor();
    await shot('gantt');
    const gantt = await api<{ total: number; rows: unknown[] }>(`/workflows/${id}/gantt?groups=100`);
    expect(gantt.rows).toHaveLength(gantt.total); // fewer attempts than groups: one bar each
  }, 120_000);

  it('browses the submit dir read-only and refuses every way out of it', async () => {
    const list = await api<{ rows: { id: number; submitDir: string }[] }>('/workflows');
    const id = list.rows.find((r) => r.submitDir === ok)!.id;
    await page.goto(`${url}/workflows/${id}/files/`);
    await page.getByRole('link', { name: 'braindump.yml' }).click();
    await expect.poll(() => page.locator('#file-text').textContent()).toContain('wf_uuid:');
    await shot('files');

    symlinkSync('/etc', path.join(ok, 'escape'));
    const base = `/api/v1/workflows/${id}/files`;
    for (const p of [
      `${base}/../../../../etc/passwd`,
      `${base}/jobs/../../../../../etc/passwd`,
      `${base}/..%2f..%2f..%2f..%2fetc%2fpasswd`,
      `${base}/%2e%2e/%2e%2e/%2e%2e/etc/passwd`,
      `${base}/%252e%252e%252f%252e%252e%252fetc%252fpasswd`,
      `${base}//etc/passwd`,
      `${base}/%2fetc%2fpasswd`,
      `${base}/escape/passwd`,
      `${base}/escape`,
      `${base}/escape/passwd?download`,
    ]) {
      const r = await rawGet(p);
      expect([400, 403, 404], `${p}: ${r.status} ${r.body}`).toContain(r.status);
      expect(r.body, p).not.toMatch(/root:/);
      expect(r.body.split('\n'), p).toHaveLength(1);
      expect(JSON.parse(r.body).error, p).toMatch(
        /not allowed|expected a relative path|outside the directory/,
      );
      expect(hasStackTrace(r.body)).toBe(false);
    }
    const inside = await rawGet(`${base}/braindump.yml?download`);
    expect(inside.status).toBe(200);
    expect(inside.body).toContain('wf_uuid:');
  });
});

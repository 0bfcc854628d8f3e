// Fixtures for end-to-end tests: a real backend process on a real SQLite file, the demo CRM,
// and Debian's Chromium with the built extension loaded.
import { test as base, chromium, expect, type BrowserContext, type Page, type Worker } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const EXTENSION_DIR = path.join(ROOT, '.output/chrome-mv3');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const DEMO_PASSWORD = 'demo-password';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer at ${url}`);
}

function startTsx(args: string[], log: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => log.push(String(d)));
  child.stderr!.on('data', (d) => log.push(String(d)));
  return child;
}

/** The backend on its own SQLite file, which survives a stop and a restart. */
export class Backend {
  child: ChildProcess | null = null;
  readonly log: string[] = [];
  constructor(
    readonly port: number,
    readonly dbPath: string,
    /** Generated customers besides the demo ones (server/main.ts --bulk-customers). */
    readonly bulkCustomers = 0,
  ) {}
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start() {
    const bulk = this.bulkCustomers ? ['--bulk-customers', String(this.bulkCustomers)] : [];
    this.child = startTsx(
      ['server/main.ts', '--port', String(this.port), '--db', this.dbPath, '--seed', 'demo', ...bulk],
      this.log,
    );
    await waitForHttp(`${this.url}/api/health`, this.child, 'backend');
  }
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }
  async signIn(email: string): Promise<string> {
    const res = await fetch(`${this.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: DEMO_PASSWORD }),
    });
    if (!res.ok) throw new Error(`sign-in ${email}: ${res.status}`);
    return ((await res.json()) as { token: string }).token;
  }
  async auditEvents(query: Record<string, string> = {}): Promise<any[]> {
    const token = await this.signIn('manager@demo.test');
    const res = await fetch(`${this.url}/api/audit-events?${new URLSearchParams(query)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`audit query: ${res.status}`);
    return ((await res.json()) as { events: any[] }).events;
  }
}

export class DemoCrm {
  child: ChildProcess | null = null;
  readonly log: string[] = [];
  constructor(readonly port: number) {}
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start() {
    this.child = startTsx(['server/demo-crm/serve.ts', '--port', String(this.port)], this.log);
    await waitForHttp(`${this.url}/contacts`, this.child, 'demo CRM');
  }
  async stop() {
    this.child?.kill('SIGTERM');
  }
}

export interface Extension {
  context: BrowserContext;
  id: string;
  worker: Worker;
  url(page: string): string;
}

export async function launchExtension(extraArgs: string[] = []): Promise<Extension> {
  if (!existsSync(path.join(EXTENSION_DIR, 'manifest.json'))) {
    throw new Error(`no built extension in ${EXTENSION_DIR}: run npm run build first`);
  }
  const context = await chromium.launchPersistentContext('', {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      `--disable-extensions-except=${EXTENSION_DIR}`,
      `--load-extension=${EXTENSION_DIR}`,
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extraArgs,
    ],
  });
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 15_000 });
  const id = new URL(worker.url()).host;
  return { context, id, worker, url: (p) => `chrome-extension://${id}/${p}` };
}

/** Signs in through the options page, as a person would, and waits for the first sync. */
export async function signInThroughOptions(ext: Extension, backend: Backend, email: string): Promise<Page> {
  const page = await ext.context.newPage();
  await page.goto(ext.url('options.html'));
  await page.getByLabel('Backend URL').fill(backend.url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText(email)).toBeVisible();
  await expect(page.getByTestId('last-success')).not.toHaveText(/never/i, { timeout: 20_000 });
  return page;
}

/** Signs out from an options page; confirms when undelivered audit events make it ask. */
export async function signOutThroughOptions(options: Page): Promise<void> {
  await options.bringToFront();
  await options.getByRole('button', { name: 'Sign out' }).click();
  const anyway = options.getByRole('button', { name: 'Sign out anyway' });
  const signIn = options.getByRole('button', { name: 'Sign in' });
  await expect(anyway.or(signIn)).toBeVisible();
  if (await anyway.isVisible()) await anyway.click();
  await expect(signIn).toBeVisible();
}

/** The CPNI panel's frame inside the CRM page (it lives in a closed shadow root). */
export async function panelFrame(page: Page) {
  await expect
    .poll(() => page.frames().some((f) => f.url().includes('/panel.html')), { timeout: 10_000 })
    .toBe(true);
  return page.frames().find((f) => f.url().includes('/panel.html'))!;
}

// Each test gets its own backend on a fresh database, so what one test changes (a captured
// consent, a locked password) cannot change what another sees. The demo CRM holds no state.
type Fixtures = { ext: Extension; backend: Backend; bulkCustomers: number };
type WorkerFixtures = { crm: DemoCrm };

export const test = base.extend<Fixtures, WorkerFixtures>({
  bulkCustomers: [0, { option: true }],
  backend: async ({ bulkCustomers }, use) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpni-e2e-'));
    const backend = new Backend(await freePort(), path.join(dir, 'cpni.db'), bulkCustomers);
    await backend.start();
    await use(backend);
    await backend.stop();
  },
  crm: [
    async ({}, use) => {
      const crm = new DemoCrm(await freePort());
      await crm.start();
      await use(crm);
      await crm.stop();
    },
    { scope: 'worker' },
  ],
  ext: async ({}, use) => {
    const ext = await launchExtension();
    await use(ext);
    await ext.context.close();
  },
});
export { expect };

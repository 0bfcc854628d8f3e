// An admin describes a CRM no built-in adapter knows (the saved in-house CRM of
// test/fixtures/inhouse-crm/, served under /inhouse/ on 127.0.0.1) as a JSON document through
// the backend; a rep's extension receives it with the next sync, and on that CRM the panel shows
// the right customer, unapproved marketing is blocked before the page's handler runs, and in-app
// navigation to another record updates the panel and the guard.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test as base, expect, panelFrame, signInThroughOptions, ROOT, type Backend } from './harness';

const FIXTURE_DIR = path.join(ROOT, 'test/fixtures/inhouse-crm');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

/** The in-house CRM: /inhouse/customer/<id> is the saved page of that customer; app.js, style.css. */
async function serveInhouse(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const m = /^\/inhouse\/(?:customer\/(\d+)|(app\.js|style\.css))$/.exec(p);
    const file = m?.[1] ? `customer-${m[1]}.html` : m?.[2];
    if (!file) return void res.writeHead(404).end('not found');
    readFile(path.join(FIXTURE_DIR, file)).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[path.extname(file)]! }).end(body),
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

async function putAdapter(backend: Backend, document: unknown, id = 'acme-desk') {
  const token = await backend.signIn('admin@demo.test');
  const res = await fetch(`${backend.url}/api/adapters/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(document),
  });
  return { status: res.status, json: (await res.json()) as any };
}

const test = base.extend<{}, { inhouse: { url: string } }>({
  inhouse: [
    async ({}, use) => {
      const s = await serveInhouse();
      await use(s);
      await s.close();
    },
    { scope: 'worker' },
  ],
});

test('an adapter an admin PUTs on the backend guards the in-house CRM in a rep\'s browser', async ({ ext, backend, inhouse }) => {
  const document = JSON.parse(await readFile(path.join(FIXTURE_DIR, 'adapter.json'), 'utf8'));
  const put = await putAdapter(backend, document);
  expect(put.status).toBe(200);

  const options = await signInThroughOptions(ext, backend, 'rep@demo.test');
  await expect(options.getByTestId('adapter-sync')).toContainText('1 in force');
  await expect(options.getByTestId('adapter-acme-desk')).toContainText('In force');

  const page = await ext.context.newPage();
  await page.goto(`${inhouse.url}/inhouse/customer/4711`);
  let panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText('Ben No-Approval');
  await expect(panel.getByTestId('marketing-status')).toContainText(/blocked/i);

  // Unapproved marketing: blocked before the CRM's own handler sees the click.
  await page.getByRole('button', { name: 'Send promo offer' }).click();
  await expect(panel.getByTestId('block-dialog')).toContainText('APPROVAL_REQUIRED');
  await page.getByRole('button', { name: 'Add to win-back campaign' }).click();
  await expect(page.locator('#activity-log')).not.toContainText(/Promo offer sent|win-back/);

  // In-app navigation (pushState; the page re-renders #main a moment later).
  await page.evaluate(() => ((window as any).__noReload = true));
  await page.getByRole('link', { name: 'Ada Opted-In' }).click();
  await expect(page).toHaveURL(/\/inhouse\/customer\/4712$/);
  panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText('Ada Opted-In');
  await expect(panel.getByTestId('marketing-status')).toContainText(/allowed/i);
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  await page.getByRole('button', { name: 'Send promo offer' }).click();
  await expect(page.locator('#activity-log')).toContainText('Promo offer sent to Ada Opted-In');

  // The block is on the backend, under the admin-defined CRM's id.
  await expect
    .poll(async () => (await backend.auditEvents({ kind: 'action.blocked', actor: 'rep@demo.test' })).filter((e) => e.crm === 'acme-desk').length, {
      timeout: 20_000,
    })
    .toBeGreaterThan(0);
  const [event] = (await backend.auditEvents({ kind: 'action.blocked', actor: 'rep@demo.test' })).filter((e) => e.crm === 'acme-desk');
  expect(event).toMatchObject({ action: 'marketing.other_category', customerId: 'C-1002', ruleIds: ['APPROVAL_REQUIRED'] });

  // An unsafe document is refused by the backend; the adapter in force keeps working.
  const bad = await putAdapter(backend, { ...document, matches: ['*://*/*'] });
  expect(bad.status).toBe(400);
  expect(bad.json.issues[0]).toMatchObject({ path: 'matches[0]' });
  await options.bringToFront();
  await options.getByRole('button', { name: 'Sync now' }).click();
  await expect(options.getByTestId('options-message')).toContainText('Sync finished');
  await page.bringToFront();
  await page.getByRole('link', { name: 'Ben No-Approval' }).click();
  await expect(panel.getByTestId('customer-name')).toHaveText('Ben No-Approval');
  await page.getByRole('button', { name: 'Send promo offer' }).click();
  await expect(panel.getByTestId('block-dialog')).toContainText('APPROVAL_REQUIRED');
  await expect(page.locator('#activity-log')).not.toContainText('Promo offer sent to Ben');
});

test('an admin adds an adapter in the options page: errors at line and field, then saved and synced', async ({ ext, backend, inhouse }) => {
  const text = await readFile(path.join(FIXTURE_DIR, 'adapter.json'), 'utf8');
  const options = await signInThroughOptions(ext, backend, 'admin@demo.test');
  const editor = options.getByLabel('Adapter document');

  // A selector that does not parse: refused here, with its line, nothing sent.
  const broken = text.replace('"button.js-share"', '"button.js-share["').replace('"id": "acme-desk"', '"id": "acme-desk-ui"');
  await editor.fill(broken);
  await options.getByRole('button', { name: 'Add adapter' }).click();
  const line = broken.slice(0, broken.indexOf('button.js-share[')).split('\n').length;
  await expect(options.getByTestId('adapter-issues')).toContainText(`line ${line}, actions[3].selector`);

  await editor.fill(text.replace('"id": "acme-desk"', '"id": "acme-desk-ui"'));
  await options.getByRole('button', { name: 'Add adapter' }).click();
  await expect(options.getByTestId('adapter-message')).toContainText('Saved adapter "acme-desk-ui"');
  await expect(options.getByTestId('adapter-acme-desk-ui')).toContainText('In force', { timeout: 20_000 });

  const page = await ext.context.newPage();
  await page.goto(`${inhouse.url}/inhouse/customer/4711`);
  const panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText('Ben No-Approval');
});

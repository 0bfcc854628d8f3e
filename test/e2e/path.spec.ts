// The whole path: backend -> extension cache -> CRM panel -> blocked action -> manager view.
import { test, expect, signInThroughOptions, signOutThroughOptions, panelFrame } from './harness';

test('a rep sees each customer\'s CPNI status and is stopped before unapproved marketing', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();
  // Ada has opted in: the panel says marketing is allowed and the CRM's own handler runs.
  await page.goto(`${crm.url}/contacts/C-1001`);
  let panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText('Ada Opted-In');
  await expect(panel.getByTestId('marketing-status')).toContainText(/allowed/i);
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  await expect(page.getByText('Marketing email sent to Ada Opted-In')).toBeVisible();

  // In-app navigation (pushState) to Ben, who gave no approval: the panel follows.
  await page.evaluate(() => ((window as any).__noReload = true));
  await page.getByTestId('nav-contacts').click();
  await page.getByRole('link', { name: 'Ben No-Approval' }).click();
  await expect(page).toHaveURL(/\/contacts\/C-1002$/);
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true); // no page load happened
  panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText('Ben No-Approval');
  await expect(panel.getByTestId('marketing-status')).toContainText(/blocked/i);

  // The click is blocked before the CRM sees it; the panel explains why and what to do.
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  const dialog = panel.getByTestId('block-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('APPROVAL_REQUIRED');
  await expect(dialog).toContainText('64.2007');
  await expect(page.getByText('Marketing email sent to Ben No-Approval')).toHaveCount(0);

  // The block is an audit event on the backend, made by this rep, about this customer.
  await expect
    .poll(async () => (await backend.auditEvents({ kind: 'action.blocked', actor: 'rep@demo.test' })).length, {
      timeout: 20_000,
    })
    .toBeGreaterThan(0);
  const [event] = await backend.auditEvents({ kind: 'action.blocked', actor: 'rep@demo.test' });
  expect(event.action).toBe('marketing.other_category');
  expect(event.ruleIds).toContain('APPROVAL_REQUIRED');
  expect(event.crm).toBe('demo-crm');

  // A manager sees it in the manager view.
  const options = await ext.context.newPage();
  await options.goto(ext.url('options.html'));
  await signOutThroughOptions(options);
  await signInThroughOptions(ext, backend, 'manager@demo.test');
  const dashboard = await ext.context.newPage();
  await dashboard.goto(ext.url('dashboard.html'));
  const row = dashboard.getByRole('row').filter({ hasText: 'rep@demo.test' }).first();
  await expect(row).toContainText('APPROVAL_REQUIRED');
  await expect(row).toContainText(/marketing/i);
});

test('a customer the cache does not know is treated as unknown and marketing fails closed', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();
  await page.goto(`${crm.url}/contacts/C-9999`);
  const panel = await panelFrame(page);
  await expect(panel.getByTestId('cpni-panel')).toContainText(/unknown/i);
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  await expect(panel.getByTestId('block-dialog')).toContainText('UNKNOWN_STATUS');
  await expect(page.getByText(/Marketing email sent to/)).toHaveCount(0);
});

test('with the backend down the panel says so, and a block made meanwhile reaches the backend later', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep2@demo.test');
  await backend.stop();
  try {
    const page = await ext.context.newPage();
    await page.goto(`${crm.url}/contacts/C-1003`);
    const panel = await panelFrame(page);
    await expect(panel.getByTestId('customer-name')).toHaveText('Cara Denied');
    await page.getByRole('button', { name: 'Send marketing email' }).click();
    await expect(panel.getByTestId('block-dialog')).toBeVisible();
    await expect(panel.getByTestId('data-age')).toContainText(/unreachable/i);
    await expect(panel.getByTestId('data-age')).toContainText(/as of/i);
  } finally {
    await backend.start();
  }
  // Once the backend is back, "Sync now" delivers the outbox too.
  const options = await ext.context.newPage();
  await options.goto(ext.url('options.html'));
  await options.getByRole('button', { name: 'Sync now' }).click();
  await expect
    .poll(async () => (await backend.auditEvents({ actor: 'rep2@demo.test', kind: 'action.blocked' })).length, {
      timeout: 30_000,
    })
    .toBe(1);
});

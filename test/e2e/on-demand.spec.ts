// On-demand cache mode, end to end: sign in through the options page choosing "only customers I
// open", open demo CRM contacts the backend knows, and the cache holds only those.
// Needs the backend's GET /api/customers/lookup and the pull's `entities` filter.
import { test, expect, panelFrame, DEMO_PASSWORD } from './harness';

test('on demand: a rep opens customers one by one, each fetched from the backend, and the guard decides on them', async ({ ext, backend, crm }) => {
  const options = await ext.context.newPage();
  await options.goto(ext.url('options.html'));
  await options.getByLabel('Backend URL').fill(backend.url);
  await options.getByLabel('Email').fill('rep@demo.test');
  await options.getByLabel('Password').fill(DEMO_PASSWORD);
  await options.getByLabel('Customer cache').selectOption({ label: 'only customers I open (on demand, for very large bases)' });
  await options.getByRole('button', { name: 'Sign in' }).click();
  await expect(options.getByText('rep@demo.test')).toBeVisible();
  await expect(options.getByTestId('last-success')).not.toHaveText(/never/i, { timeout: 20_000 });
  await expect(options.getByTestId('cache-mode')).toContainText('only customers you open (on demand)');
  // The first sync downloaded no customer.
  await expect(options.getByTestId('record-counts')).toHaveText(/^0 customers, 0 consents$/);
  await expect(options.getByTestId('last-error')).toHaveText('none');

  // Ada (opted in): fetched when her record opens; marketing allowed, the CRM's handler runs.
  const page = await ext.context.newPage();
  await page.goto(`${crm.url}/contacts/C-1001`);
  let panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText('Ada Opted-In');
  await expect(panel.getByTestId('marketing-status')).toContainText(/allowed/i);
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  await expect(page.getByText('Marketing email sent to Ada Opted-In')).toBeVisible();

  // Ben (no approval), by in-app navigation: fetched too; marketing blocked before the CRM sees it.
  await page.getByTestId('nav-contacts').click();
  await page.getByRole('link', { name: 'Ben No-Approval' }).click();
  await expect(page).toHaveURL(/\/contacts\/C-1002$/);
  panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText('Ben No-Approval');
  await expect(panel.getByTestId('marketing-status')).toContainText(/blocked/i);
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  const dialog = panel.getByTestId('block-dialog');
  await expect(dialog).toContainText('APPROVAL_REQUIRED');
  await expect(page.getByText('Marketing email sent to Ben No-Approval')).toHaveCount(0);

  // A contact the backend does not know: unknown, marketing fails closed, nothing held.
  await page.goto(`${crm.url}/contacts/C-9999`);
  panel = await panelFrame(page);
  await expect(panel.getByTestId('cpni-panel')).toContainText(/unknown/i);
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  await expect(panel.getByTestId('block-dialog')).toContainText('UNKNOWN_STATUS');
  await expect(page.getByText(/Marketing email sent to/)).toHaveCount(0);

  // The cache holds exactly the two customers opened, and a sync keeps them (it drops the rest).
  await options.bringToFront();
  await options.getByRole('button', { name: 'Sync now' }).click();
  await expect(options.getByTestId('options-message')).toHaveText('Sync finished.');
  await expect(options.getByTestId('record-counts')).toHaveText(/^2 customers, \d+ consents$/);
  await expect(options.getByTestId('last-error')).toHaveText('none');
});

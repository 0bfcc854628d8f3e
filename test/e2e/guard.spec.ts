// The guard follows the extension's state: sign-out, roles on list pages.
import { test, expect, signInThroughOptions, signOutThroughOptions, panelFrame } from './harness';

test('after sign-out an open record is no longer trusted: marketing is blocked at once', async ({ ext, backend, crm }) => {
  const options = await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();
  await page.goto(`${crm.url}/contacts/C-1001`);
  const panel = await panelFrame(page);
  await expect(panel.getByTestId('marketing-status')).toContainText(/allowed/i);

  await signOutThroughOptions(options);

  await page.bringToFront();
  await expect(panel.getByTestId('cpni-panel')).toContainText(/signed out/i);
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  await expect(panel.getByTestId('block-dialog')).toContainText('UNKNOWN_STATUS');
  await expect(page.getByText('Marketing email sent to Ada Opted-In')).toHaveCount(0);
});

test('a list export is decided on the role: a rep is stopped, a manager is not', async ({ ext, backend, crm }) => {
  const options = await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();
  await page.goto(`${crm.url}/contacts`);
  await page.getByRole('button', { name: 'Export list' }).click();
  const panel = await panelFrame(page);
  await expect(panel.getByTestId('block-dialog')).toContainText('EXPORT_CONTROL');
  await expect(page.getByText(/Contact list exported/)).toHaveCount(0);
  await expect
    .poll(async () => (await backend.auditEvents({ actor: 'rep@demo.test', action: 'export.list' })).length, { timeout: 20_000 })
    .toBeGreaterThan(0);

  await signOutThroughOptions(options);
  await signInThroughOptions(ext, backend, 'manager@demo.test');
  await page.bringToFront();
  await page.reload();
  await page.getByRole('button', { name: 'Export list' }).click();
  await expect(page.getByText(/Contact list exported/)).toBeVisible();
  // Allowed exports are recorded too (EXPORT_CONTROL: always recorded).
  await expect
    .poll(async () => (await backend.auditEvents({ actor: 'manager@demo.test', action: 'export.list', kind: 'action.allowed' })).length, {
      timeout: 20_000,
    })
    .toBeGreaterThan(0);
});

// MV3 stops idle service workers whenever it likes; the extension must carry on from IndexedDB.
import { test, expect, signInThroughOptions, panelFrame, type Extension } from './harness';

async function stopServiceWorker(ext: Extension) {
  const internals = await ext.context.newPage();
  await internals.goto('chrome://serviceworker-internals/');
  const entry = internals.locator('.serviceworker-registration').filter({ hasText: ext.id });
  await entry.getByRole('button', { name: 'Stop' }).first().click();
  await expect(entry.getByText(/STOPPED/).first()).toBeVisible();
  await internals.close();
}

test('after the service worker is stopped, the cache, the session and the outbox carry on', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep@demo.test');
  await stopServiceWorker(ext);

  // The next message wakes a new worker, which answers from the cache it synced before.
  const page = await ext.context.newPage();
  await page.goto(`${crm.url}/contacts/C-1004`);
  const panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText('Dan Revoked');
  await expect(panel.getByTestId('marketing-status')).toContainText(/blocked/i);
  await page.getByRole('button', { name: 'Add to campaign' }).click();
  await expect(panel.getByTestId('block-dialog')).toContainText('APPROVAL_REQUIRED');
  await expect
    .poll(async () => (await backend.auditEvents({ actor: 'rep@demo.test', customerId: 'C-1004' })).length, { timeout: 20_000 })
    .toBeGreaterThan(0);
});

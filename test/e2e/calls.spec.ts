// The rep's call, end to end: start a call in the panel, verify the caller (password with lock
// and manager unlock, call back, address of record), one-time and standing consent with proof
// reaching another rep's extension, and account-change notices from the CRM's edit form.
import type { Frame, Page } from '@playwright/test';
import { test, expect, launchExtension, panelFrame, signInThroughOptions, type Backend } from './harness';

async function openRecord(page: Page, crmUrl: string, id: string, name: string): Promise<Frame> {
  await page.goto(`${crmUrl}/contacts/${id}`);
  const panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText(name);
  return panel;
}

async function startCall(panel: Frame) {
  await panel.getByRole('button', { name: 'Customer called: start call' }).click();
  await expect(panel.getByTestId('call-open')).toBeVisible();
}

async function dismissBlock(panel: Frame) {
  await panel.getByTestId('block-dismiss').click();
  await expect(panel.getByTestId('block-dialog')).toHaveCount(0);
}

/** The guard hears of panel changes through record.refresh; give it a moment to ask again. */
const settle = (page: Page) => page.waitForTimeout(400);

async function managerGet(backend: Backend, path: string): Promise<any> {
  const token = await backend.signIn('manager@demo.test');
  const res = await fetch(`${backend.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return res.json();
}

test('an address change in the CRM edit form creates a notice to the old address, never the new one', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();
  await openRecord(page, crm.url, 'C-1012', 'Lena Third-Party');
  await page.getByLabel('New address of record').fill('9 Elm Street, Tampa FL');
  await page.getByRole('button', { name: 'Save address of record' }).click();
  await expect(page.getByText('Address of record updated for Lena Third-Party')).toBeVisible();

  let notice: any;
  await expect
    .poll(
      async () => {
        const { notices } = await managerGet(backend, '/api/account-change-notices?unsent=true');
        notice = notices.find((n: any) => n.customerId === 'C-1012' && n.field === 'address_of_record');
        return !!notice;
      },
      { timeout: 20_000 },
    )
    .toBe(true);
  expect(notice.channel).toBe('mail');
  expect(notice.addressedTo).toEqual(['112 Orange Ave', 'Orlando, FL 32801']); // the address before the change
  expect(notice.source).toBe('crm');
  expect(JSON.stringify(notice)).not.toContain('Elm');
  const events = await backend.auditEvents({ kind: 'account.change_notice', customerId: 'C-1012' });
  expect(events.length).toBeGreaterThan(0);

  // A manager (another signed-in extension) sees the unsent notice, to the old address, with its age.
  const manager = await launchExtension();
  try {
    await signInThroughOptions(manager, backend, 'manager@demo.test');
    const dashboard = await manager.context.newPage();
    await dashboard.goto(manager.url('dashboard.html'));
    const row = dashboard.getByTestId('unsent-notice').filter({ hasText: 'C-1012' }).first();
    await expect(row).toContainText('112 Orange Ave');
    await expect(row).not.toContainText('Elm');
    await expect(row.getByTestId('notice-age')).toHaveText(/\d+ (min|h|d)/);
  } finally {
    await manager.context.close();
  }
});

test('a wrong password three times locks the account, each attempt is audited, and a manager unlocks it', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();
  const panel = await openRecord(page, crm.url, 'C-1001', 'Ada Opted-In');
  await startCall(panel);

  // Until the caller is verified, call detail is blocked with the ways to verify.
  await page.getByRole('button', { name: 'Show call detail' }).click();
  const dialog = panel.getByTestId('block-dialog');
  await expect(dialog).toContainText('CALL_DETAIL_AUTH');
  await expect(dialog).toContainText('pre-established password');
  await expect(dialog).toContainText('number of record');
  await expect(dialog).toContainText('address of record');
  await expect(page.getByText('Call detail shown for Ada Opted-In')).toHaveCount(0);
  await dismissBlock(panel);

  const input = panel.getByLabel('Password the caller gives');
  for (const [i, left] of [[1, '2 attempts left'], [2, '1 attempt left']] as const) {
    await input.fill(`wrong-${i}`);
    await panel.getByRole('button', { name: 'Check password' }).click();
    await expect(panel.getByTestId('verify-message')).toContainText(left);
  }
  await input.fill('wrong-3');
  await panel.getByRole('button', { name: 'Check password' }).click();
  await expect(panel.getByTestId('verify-message')).toContainText('now locked');
  await expect(panel.getByTestId('password-locked')).toBeVisible();

  const attempts = await backend.auditEvents({ kind: 'verification.attempted', customerId: 'C-1001' });
  const results = attempts.filter((e) => e.details.method === 'password').map((e) => e.details.result);
  expect(results).toEqual(['wrong', 'wrong', 'wrong']);
  expect(attempts.every((e) => e.actor === 'rep@demo.test' && e.ruleIds.includes('CALL_DETAIL_AUTH'))).toBe(true);
  expect(JSON.stringify(attempts)).not.toContain('wrong-');

  // A manager (another signed-in extension) sees the lock and unlocks it.
  const manager = await launchExtension();
  try {
    await signInThroughOptions(manager, backend, 'manager@demo.test');
    const dashboard = await manager.context.newPage();
    await dashboard.goto(manager.url('dashboard.html'));
    await dashboard.getByRole('button', { name: 'Unlock the password of C-1001' }).click();
    await expect(dashboard.getByTestId('locks-none')).toBeVisible();
  } finally {
    await manager.context.close();
  }

  // After the unlock, on a new call, the right password verifies the caller.
  await panel.getByRole('button', { name: 'End call' }).click();
  await startCall(panel);
  await panel.getByLabel('Password the caller gives').fill('blue-harbor-42');
  await panel.getByRole('button', { name: 'Check password' }).click();
  await expect(panel.getByTestId('verification-state')).toContainText('account password');
});

test('the right password unlocks call detail for this call only', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();
  const panel = await openRecord(page, crm.url, 'C-1008', 'Hana Settled');
  await startCall(panel);
  await panel.getByLabel('Password the caller gives').fill('blue-harbor-42');
  await panel.getByRole('button', { name: 'Check password' }).click();
  await expect(panel.getByTestId('call-detail-status')).toContainText('allowed');
  await settle(page);
  await page.getByRole('button', { name: 'Show call detail' }).click();
  await expect(page.getByText('Call detail shown for Hana Settled')).toBeVisible();

  await panel.getByRole('button', { name: 'End call' }).click();
  await expect(panel.getByTestId('call-detail-status')).toContainText('needs caller verification');
  await settle(page);
  await page.getByRole('button', { name: 'Show call detail' }).click();
  await expect(panel.getByTestId('block-dialog')).toContainText('No customer call is open');
  await expect(page.getByText('Call detail shown for Hana Settled')).toHaveCount(1);
  await dismissBlock(panel);

  // A new call needs a new verification.
  await startCall(panel);
  await expect(panel.getByTestId('verification-state')).toHaveText('Not verified');
  const ok = await backend.auditEvents({ kind: 'verification.attempted', customerId: 'C-1008' });
  expect(ok.some((e) => e.details.result === 'verified')).toBe(true);
});

test('call back the number of record, and the address of record only when 30 days old', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();

  // Gus's address changed 10 days ago: it does not qualify; the call back does.
  let panel = await openRecord(page, crm.url, 'C-1007', 'Gus Recent-Address');
  await startCall(panel);
  await expect(panel.getByTestId('verify-address_of_record')).toContainText('changed 10 days ago');
  await expect(panel.getByTestId('verify-address_of_record').getByRole('button')).toHaveCount(0);
  await expect(panel.getByTestId('number-of-record')).toHaveText('+14075550107');
  await panel.getByRole('button', { name: 'I called back the number of record' }).click();
  await expect(panel.getByTestId('call-detail-status')).toContainText('call back to the number of record');
  await settle(page);
  await page.getByRole('button', { name: 'Show call detail' }).click();
  await expect(page.getByText('Call detail shown for Gus Recent-Address')).toBeVisible();
  await panel.getByRole('button', { name: 'End call' }).click();

  // Hana's address is 400 days old: call detail is mailed there (a mailing request on the backend).
  panel = await openRecord(page, crm.url, 'C-1008', 'Hana Settled');
  await startCall(panel);
  await panel.getByRole('button', { name: 'Mail call detail to the address of record' }).click();
  await expect(panel.getByTestId('call-detail-status')).toContainText('sent to the address of record');
  await expect(panel.getByTestId('call-detail-status')).toContainText('do not read it out');
  await expect
    .poll(async () => (await backend.auditEvents({ kind: 'verification.attempted', customerId: 'C-1008' })).map((e) => e.details.result))
    .toContain('mailing_requested');
  await expect
    .poll(async () => (await backend.auditEvents({ kind: 'verification.attempted', customerId: 'C-1007' })).map((e) => e.details.method))
    .toContain('callback_number_of_record');
});

test('one-time consent allows the marketing action during the call and not after it ends', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();
  const panel = await openRecord(page, crm.url, 'C-1002', 'Ben No-Approval');
  await startCall(panel);
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  await expect(panel.getByTestId('block-dialog')).toContainText('one-time consent for this call only');
  await dismissBlock(panel);

  // The notice is shown before an oral approval can be recorded.
  await expect(panel.getByRole('button', { name: 'Record consent' })).toBeDisabled();
  await panel.getByRole('button', { name: 'Show CPNI notice' }).click();
  await expect(panel.getByTestId('cpni-notice')).toContainText('You may deny or withdraw your approval');
  await expect(panel.getByRole('button', { name: 'Record consent' })).toBeDisabled();
  await panel.getByLabel('I gave this notice to the customer').check();
  await panel.getByLabel('For this call only (one-time oral consent)').check();
  await panel.getByRole('button', { name: 'Record consent' }).click();
  await expect(panel.getByTestId('capture').first()).toContainText('this call only');
  await expect(panel.getByTestId('capture-status').first()).toHaveText(/pending|recorded/);
  await expect(panel.getByTestId('marketing-status')).toContainText('for this call only');
  await expect(panel.getByTestId('capture-status').first()).toHaveText('recorded', { timeout: 20_000 });

  await settle(page);
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  await expect(page.getByText('Marketing email sent to Ben No-Approval')).toBeVisible();

  await panel.getByRole('button', { name: 'End call' }).click();
  await expect(panel.getByTestId('marketing-status')).toContainText('blocked');
  await settle(page);
  await page.getByRole('button', { name: 'Send marketing email' }).click();
  await expect(panel.getByTestId('block-dialog')).toContainText('APPROVAL_REQUIRED');
  await expect(page.getByText('Marketing email sent to Ben No-Approval')).toHaveCount(1);
});

test('a captured opt-in reaches the backend with its proof, and another rep sees it after sync', async ({ ext, backend, crm }) => {
  await signInThroughOptions(ext, backend, 'rep@demo.test');
  const page = await ext.context.newPage();
  const panel = await openRecord(page, crm.url, 'C-1003', 'Cara Denied');
  await expect(panel.getByTestId('marketing-status')).toContainText('blocked');
  await panel.getByLabel('Method').selectOption('written');
  await panel.getByLabel('Evidence (form number, recording…)').fill('Signed approval form F-7781');
  await panel.getByRole('button', { name: 'Show CPNI notice' }).click();
  await panel.getByLabel('I gave this notice to the customer').check();
  await panel.getByRole('button', { name: 'Record consent' }).click();
  await expect(panel.getByTestId('capture-status').first()).toHaveText('recorded', { timeout: 20_000 });
  await expect(panel.getByTestId('marketing-status')).toContainText('allowed');

  // On the backend, with its proof.
  const token = await backend.signIn('rep2@demo.test');
  const pull = await (await fetch(`${backend.url}/api/sync/pull?limit=5000`, { headers: { authorization: `Bearer ${token}` } })).json();
  const stored = pull.changes.find(
    (c: any) => c.entity === 'consent' && c.data?.customerId === 'C-1003' && c.data.capturedBy === 'rep@demo.test' && c.data.state === 'opt_in',
  );
  expect(stored?.data).toMatchObject({ method: 'written', scope: 'standing', noticeVersion: 'CPNI-NOTICE-2024-01', evidence: 'Signed approval form F-7781' });
  expect((await backend.auditEvents({ kind: 'consent.captured', customerId: 'C-1003' })).length).toBeGreaterThan(0);

  // Another signed-in rep's extension gets it through sync.
  const other = await launchExtension();
  try {
    await signInThroughOptions(other, backend, 'rep2@demo.test');
    const p2 = await other.context.newPage();
    const panel2 = await openRecord(p2, crm.url, 'C-1003', 'Cara Denied');
    await expect(panel2.getByTestId('marketing-status')).toContainText('allowed');
    await expect(panel2.getByTestId('approval-marketing')).toContainText('rep@demo.test');
    await expect(panel2.getByTestId('approval-marketing')).toContainText('CPNI-NOTICE-2024-01');
  } finally {
    await other.context.close();
  }
});

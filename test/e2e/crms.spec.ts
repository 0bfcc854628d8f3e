// Every built-in CRM adapter, on its saved pages served under the vendor's real host name (see
// crm-fixtures.ts): the panel shows the right customer; a marketing control without approval is
// blocked and the CRM's own handler never runs; in-app navigation to another record updates the
// panel and the guard; one panel, ever; leaving a record clears it.
import type { Frame, FrameLocator, Page } from '@playwright/test';
import { CrmFixtureServer, type VendorCrm } from './crm-fixtures';
import { test as base, expect, launchExtension, panelFrame, signInThroughOptions, type Extension } from './harness';

const test = base.extend<{ vext: Extension }, { crms: CrmFixtureServer }>({
  crms: [
    async ({}, use) => {
      const server = new CrmFixtureServer();
      await server.start();
      await use(server);
      await server.stop();
    },
    { scope: 'worker' },
  ],
  vext: async ({ crms }, use) => {
    const ext = await launchExtension(crms.chromiumArgs());
    await use(ext);
    await ext.context.close();
  },
});

const ADA = 'Ada Opted-In';
const BEN = 'Ben No-Approval';

async function panelCount(page: Page): Promise<number> {
  return page.evaluate(() => document.querySelectorAll('cpni-guard-panel').length);
}

async function expectCustomer(page: Page, name: string, marketing: RegExp): Promise<Frame> {
  const panel = await panelFrame(page);
  await expect(panel.getByTestId('customer-name')).toHaveText(name);
  await expect(panel.getByTestId('marketing-status')).toContainText(marketing);
  expect(await panelCount(page)).toBe(1);
  return panel;
}

async function markNoReload(page: Page) {
  await page.evaluate(() => ((window as any).__noReload = true));
}
async function expectNoReload(page: Page) {
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
}

async function openAs(vext: Extension, backend: Parameters<typeof signInThroughOptions>[1], url: string): Promise<Page> {
  await signInThroughOptions(vext, backend, 'rep@demo.test');
  const page = await vext.context.newPage();
  await page.goto(url);
  return page;
}

/** The marketing block, shown in the panel, recorded on the backend for this CRM. */
async function expectBlocked(panel: Frame, backend: { auditEvents(q: Record<string, string>): Promise<any[]> }, crm: VendorCrm) {
  await expect(panel.getByTestId('block-dialog')).toContainText('APPROVAL_REQUIRED');
  await expect
    .poll(async () => (await backend.auditEvents({ kind: 'action.blocked', actor: 'rep@demo.test' })).filter((e) => e.crm === crm).length, {
      timeout: 20_000,
    })
    .toBeGreaterThan(0);
  const [event] = (await backend.auditEvents({ kind: 'action.blocked', actor: 'rep@demo.test' })).filter((e) => e.crm === crm);
  expect(event.customerId).toBe('C-1002');
  expect(event.action).toBe('marketing.other_category');
}

test('Salesforce Lightning: controls in shadow roots, pushState navigation', async ({ vext, backend, crms }) => {
  const page = await openAs(vext, backend, crms.url('salesforce', '/lightning/r/Contact/003Dn00000ZAda1IAD/view'));
  await expectCustomer(page, ADA, /allowed/i);
  // Allowed for Ada: Lightning's own handler (inside the button's shadow root) runs.
  await page.getByRole('button', { name: 'Send List Email' }).click();
  await expect(page.getByTestId('activity-log')).toContainText(`Send List Email: ${ADA}`);

  await markNoReload(page);
  await page.getByTestId('reports-to').click(); // a link inside two shadow roots
  await expect(page).toHaveURL(/\/lightning\/r\/Contact\/003Dn00000ZBen2IAD\/view$/);
  await expectNoReload(page);
  const panel = await expectCustomer(page, BEN, /blocked/i);
  await page.getByRole('button', { name: 'Add to Campaign' }).click();
  await expectBlocked(panel, backend, 'salesforce');
  await expect(page.getByTestId('activity-log')).not.toContainText(BEN);

  // Leaving the record (the list view) takes the panel away; the next record brings one back.
  await page.getByTestId('nav-contacts').click();
  await expect.poll(() => panelCount(page)).toBe(0);
  await page.getByRole('link', { name: ADA }).click();
  await expectCustomer(page, ADA, /allowed/i);
  await expectNoReload(page);
});

test('HubSpot: React re-rendering replaces the nodes; the overlay and the guard survive', async ({ vext, backend, crms }) => {
  const page = await openAs(vext, backend, crms.url('hubspot', '/contacts/243567/record/0-1/51002'));
  let panel = await expectCustomer(page, BEN, /blocked/i);
  const renders = Number(await page.evaluate(() => document.body.dataset.renders ?? '0'));
  await expect.poll(async () => Number(await page.evaluate(() => document.body.dataset.renders ?? '0'))).toBeGreaterThan(renders + 4);
  expect(await panelCount(page)).toBe(1);
  await expect(panel.getByTestId('customer-name')).toHaveText(BEN);
  await page.getByRole('button', { name: 'Enroll in sequence' }).click();
  await expectBlocked(panel, backend, 'hubspot');
  await expect(page.getByTestId('activity-log')).not.toContainText('Enrolled in sequence');

  await markNoReload(page);
  await page.getByTestId('associated-contact').click();
  await expect(page).toHaveURL(/\/record\/0-1\/51001$/);
  panel = await expectCustomer(page, ADA, /allowed/i);
  await page.getByRole('button', { name: 'Enroll in sequence' }).click();
  await expect(page.getByTestId('activity-log')).toContainText(`Enrolled in sequence: ${ADA}`);
  await expectNoReload(page);
  expect(await panelCount(page)).toBe(1);
});

test('Dynamics 365: the form in an iframe is guarded there; one panel, at the top', async ({ vext, backend, crms }) => {
  const appid = 'appid=2f5a9c1e-7d3b-4e8f-a6c2-1b0d9e8f7a65';
  const page = await openAs(vext, backend, crms.url('dynamics', `/main.aspx?${appid}&pagetype=entityrecord&etn=contact&id=6f1e2a10-0c4d-4c5e-9a1b-00000000a001`));
  await expectCustomer(page, ADA, /allowed/i);
  const form = (): FrameLocator => page.frameLocator('#contentIFrame0');
  await form().getByRole('button', { name: 'Add to Marketing List' }).click();
  await expect(form().getByTestId('form-activity-log')).toContainText(`Added to marketing list: ${ADA}`);

  await markNoReload(page);
  await page.getByTestId('nav-contacts').click();
  await expect.poll(() => panelCount(page)).toBe(0); // a list: no record, no panel
  await page.getByRole('link', { name: BEN }).click();
  await expect(page).toHaveURL(/id=6f1e2a10-0c4d-4c5e-9a1b-00000000b002/);
  await expectNoReload(page);
  const panel = await expectCustomer(page, BEN, /blocked/i);
  await form().getByRole('button', { name: 'Add to Marketing List' }).click();
  await expectBlocked(panel, backend, 'dynamics');
  await expect(form().getByTestId('form-activity-log')).not.toContainText('Added to marketing list');
  // The panel lives in the top document only, never in the form frame.
  expect(await page.frameLocator('#contentIFrame0').locator('cpni-guard-panel').count()).toBe(0);
  expect(await panelCount(page)).toBe(1);
});

test('Zendesk: the profile arrives seconds after navigating; the generic Send asks its purpose', async ({ vext, backend, crms }) => {
  const page = await openAs(vext, backend, crms.url('zendesk', '/agent/users/90001'));
  await expectCustomer(page, ADA, /allowed/i);

  await markNoReload(page);
  await page.locator('[data-test-id="org-member-link"]').click();
  await expect(page).toHaveURL(/\/agent\/users\/90002$/);
  // Until Ben's profile arrives the guard knows only his id: status unknown, fail closed.
  await expect(page.getByText('Loading…')).toBeVisible();
  const panel = await expectCustomer(page, BEN, /blocked/i);
  await expectNoReload(page);
  await page.getByRole('button', { name: 'Send proactive message' }).click();
  await expectBlocked(panel, backend, 'zendesk');
  await expect(page.getByTestId('activity-log')).not.toContainText('Proactive message sent');
  await panel.getByTestId('block-dismiss').click();
  await expect(panel.getByTestId('block-dialog')).toHaveCount(0);

  // Item 5: "Send" could be service or marketing. The chooser (closed shadow root) takes the
  // keyboard: its first answer, Service, has focus; Tab moves to Marketing.
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter'); // Marketing: Ben has no approval, so it stays blocked
  // Wait for this block's own dialog: it takes the focus when it appears, so the next Send must
  // come after it (and after it is dismissed) or the Enter below would land on its Dismiss.
  await expect(panel.getByTestId('block-control')).toHaveText('Control: “Send”');
  await expect(panel.getByTestId('block-dialog')).toContainText('APPROVAL_REQUIRED');
  await expect(page.getByTestId('activity-log')).not.toContainText('Message sent');
  await panel.getByTestId('block-dismiss').click();
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.keyboard.press('Enter'); // Service: the message goes, once
  await expect(page.getByTestId('activity-log')).toContainText(`Message sent: ${BEN}`);
  await expect
    .poll(async () => (await backend.auditEvents({ kind: 'purpose.answered', actor: 'rep@demo.test' })).filter((e) => e.crm === 'zendesk').map((e) => e.action).sort(), {
      timeout: 20_000,
    })
    .toEqual(['marketing.other_category', 'service']);

  // Cara has no Zendesk id on the backend: found by the phone and email on her profile.
  await page.getByRole('link', { name: 'Cara Denied' }).click();
  await expectCustomer(page, 'Cara Denied', /blocked/i);
});

test('Zoho CRM: replaceState navigation with no hashchange or popstate', async ({ vext, backend, crms }) => {
  const page = await openAs(vext, backend, crms.url('zoho', '/crm/org812345678/tab/Contacts/4876876000000312001'));
  await expectCustomer(page, ADA, /allowed/i);
  expect(await page.evaluate(() => document.querySelector('cpni-guard-panel')?.parentElement?.id)).toBe('crm_detail_rightpanel');
  await page.evaluate(() => {
    (window as any).__navEvents = 0;
    addEventListener('hashchange', () => (window as any).__navEvents++);
    addEventListener('popstate', () => (window as any).__navEvents++);
  });
  await markNoReload(page);
  await page.getByRole('link', { name: 'Next record' }).click();
  await expect(page).toHaveURL(/\/Contacts\/4876876000000312002$/);
  const panel = await expectCustomer(page, BEN, /blocked/i);
  expect(await page.evaluate(() => (window as any).__navEvents)).toBe(0);
  await expectNoReload(page);
  await page.getByRole('button', { name: 'Add to Campaigns' }).click();
  await expectBlocked(panel, backend, 'zoho');
  await expect(page.getByTestId('activity-log')).not.toContainText('Added to campaign');
  expect(await panelCount(page)).toBe(1);
});

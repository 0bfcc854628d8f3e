// Marketing campaigns end to end: a marketer registers a campaign and submits it, the CRM's
// launch control is blocked, counsel approves, the marketer scrubs a 10,000-row list (good,
// blocked, unknown and malformed rows) in the worker, and the launch is then allowed.
import { test, expect, signInThroughOptions, panelFrame, launchExtension, type Extension } from './harness';
import type { Page } from '@playwright/test';

// 1,500 generated customers besides the demo ones: a cache of 32 buckets, big enough for a scrub
// to split its scan with a second worker.
test.use({ bulkCustomers: 1500 });

const GOOD = ['C-1001', 'C-1008']; // marketing opt-in
const BLOCKED = ['C-1002', 'C-1003']; // no approval, denied
// 40 ids not in the backend: with the bulk customers (below) the list has more keys than half the
// cache's 32 buckets, so the scrub scans, on both cores (campaigns/split-scan.ts).
const UNKNOWN = (i: number) => `C-99${String(Math.floor(i / 10) % 40).padStart(2, '0')}`;

function audienceCsv(rows: number) {
  const lines = ['Customer ID,Name,Phone,Email'];
  const expected = { allowed: 0, blocked: 0, unknown: 0, malformed: 0, malformedLines: [] as number[] };
  for (let i = 0; i < rows; i++) {
    const line = i + 2;
    switch (i % 10) {
      case 0: case 1: case 2: case 3:
        lines.push(`${GOOD[i % 2]},Good ${i},,`);
        expected.allowed++;
        break;
      case 4: case 5: case 6:
        lines.push(`${BLOCKED[i % 2]},"Blocked, ${i}",,`);
        expected.blocked++;
        break;
      case 7:
        lines.push(`${UNKNOWN(i)},Unknown ${i},,`);
        expected.unknown++;
        break;
      case 8:
        lines.push(`C-1001,Too few fields ${i}`);
        expected.malformed++;
        expected.malformedLines.push(line);
        break;
      default:
        lines.push(`,Bad phone ${i},call me,`);
        expected.malformed++;
        expected.malformedLines.push(line);
    }
  }
  return { text: lines.join('\r\n') + '\r\n', expected };
}

async function openCampaigns(ext: Extension, hash = ''): Promise<Page> {
  const page = await ext.context.newPage();
  await page.goto(ext.url(`campaigns.html${hash}`));
  return page;
}

async function blobText(page: Page, testId: string): Promise<string> {
  const href = await page.getByTestId(testId).getAttribute('href');
  return page.evaluate(async (u) => (await fetch(u!)).text(), href);
}

test('a marketer registers a campaign, counsel approves it, the list is scrubbed and the CRM launch is gated', async ({ ext, backend, crm }) => {
  test.setTimeout(120_000);
  // --- the marketer registers and submits ---
  const options = await signInThroughOptions(ext, backend, 'marketing@demo.test');
  await expect(options.getByTestId('campaigns-link')).toBeVisible();
  const page = await openCampaigns(ext);
  await page.getByLabel('Campaign name').fill('Fiber Fall Promo');
  await page.getByLabel('Description').fill('Offer fiber internet to wireless customers');
  await page.getByLabel('CPNI used (comma-separated)').fill('services subscribed, usage tier');
  await page.getByLabel('Products and services offered (comma-separated)').fill('Fiber 1G, Fiber 500');
  await page.getByLabel('Channel').selectOption('email');
  await page.getByLabel('Start date').fill('2025-09-01');
  await page.getByRole('button', { name: 'Register campaign' }).click();
  const detail = page.getByTestId('campaign-detail');
  await expect(detail.getByTestId('detail-status')).toHaveText('Draft');
  const id = (await detail.getByTestId('campaign-id').textContent())!.trim();
  await page.getByRole('button', { name: 'Submit for approval' }).click();
  await expect(detail.getByTestId('detail-status')).toHaveText('Waiting for counsel');

  // --- the CRM's launch control is blocked before approval, the dialog names the campaign ---
  const crmPage = await ext.context.newPage();
  await crmPage.goto(`${crm.url}/campaigns/${id}`);
  const launch = crmPage.getByRole('button', { name: 'Launch campaign' });
  await expect(launch).toBeVisible();
  await crmPage.waitForTimeout(1000); // the gate fetches the campaign's status when the control shows
  await launch.click();
  const panel = await panelFrame(crmPage);
  const dialog = panel.getByTestId('block-dialog');
  await expect(dialog).toContainText('SUPERVISORY_APPROVAL');
  await expect(dialog).toContainText('Fiber Fall Promo');
  // The dialog links to the campaign in the extension, where the marketer sees what is missing.
  await expect(dialog.getByTestId('block-campaign-link')).toHaveAttribute('href', new RegExp(`/campaigns\\.html#${id}$`));
  await expect(crmPage.getByText(`Campaign ${id} launched`)).toHaveCount(0);

  // --- counsel approves (another browser, another extension) ---
  const counselExt = await launchExtension();
  try {
    await signInThroughOptions(counselExt, backend, 'counsel@demo.test');
    const cp = await openCampaigns(counselExt, `#${id}`);
    const cd = cp.getByTestId('campaign-detail');
    await expect(cd.getByTestId('detail-status')).toHaveText('Waiting for counsel');
    await expect(cp.getByRole('button', { name: 'Reject' })).toBeDisabled(); // a rejection needs a comment
    await cp.getByLabel('Counsel’s comment (required to reject)').fill('Approved for email only');
    await cp.getByRole('button', { name: 'Approve' }).click();
    await expect(cd.getByTestId('detail-status')).toHaveText('Approved');
    await expect(cd.getByTestId('detail-decision')).toContainText('counsel@demo.test');
  } finally {
    await counselExt.context.close();
  }

  // --- the marketer scrubs a 10,000-row list in the worker ---
  await page.reload();
  await page.getByRole('button', { name: 'Fiber Fall Promo' }).click();
  await expect(detail.getByTestId('detail-status')).toHaveText('Approved');
  const { text, expected } = audienceCsv(10_000);
  await page.getByLabel('Audience CSV').setInputFiles({ name: 'audience.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
  const workers: string[] = [];
  page.on('worker', (w) => workers.push(w.url()));
  await page.getByRole('button', { name: 'Start scrub' }).click();
  const result = page.getByTestId('scrub-result');
  await expect(result).toBeVisible({ timeout: 60_000 });
  await expect(result.getByTestId('scrub-total')).toHaveText('10000');
  await expect(result.getByTestId('scrub-allowed')).toHaveText(String(expected.allowed));
  await expect(result.getByTestId('scrub-blocked')).toHaveText(String(expected.blocked));
  await expect(result.getByTestId('scrub-unknown')).toHaveText(String(expected.unknown));
  await expect(result.getByTestId('scrub-malformed')).toHaveText(String(expected.malformed));
  await expect(result.getByTestId('scrub-problems')).toContainText(`Line ${expected.malformedLines[0]} has 2 fields`);
  await expect(result.getByTestId('scrub-recorded')).toHaveText('Scrub recorded on the campaign.');
  await expect(detail.getByTestId('detail-scrub')).toContainText(`${expected.allowed} allowed`);
  // The scrub worker started a scan helper for part of the cache.
  expect(workers.some((u) => /scrub-worker/.test(u)), workers.join(' ')).toBe(true);
  expect(workers.some((u) => /scan-helper/.test(u)), workers.join(' ')).toBe(true);

  const allowed = (await blobText(page, 'download-allowed')).trim().split('\r\n');
  expect(allowed[0]).toBe('Customer ID,Name,Phone,Email');
  expect(allowed).toHaveLength(expected.allowed + 1);
  expect(new Set(allowed.slice(1).map((l) => l.split(',')[0]))).toEqual(new Set(GOOD));
  const blocked = (await blobText(page, 'download-blocked')).trim().split('\r\n');
  expect(blocked[0]).toBe('Customer ID,Name,Phone,Email,cpni_status,cpni_rule_ids,cpni_reason,source_line');
  expect(blocked).toHaveLength(expected.blocked + expected.unknown + 1);
  expect(blocked.filter((l) => l.startsWith('C-1002,')).every((l) => l.includes(',blocked,APPROVAL_REQUIRED,'))).toBe(true);
  expect(blocked.filter((l) => /^C-99\d\d,/.test(l)).every((l) => l.includes(',unknown,UNKNOWN_STATUS,'))).toBe(true);
  expect(blocked.some((l) => l.startsWith('C-1001,'))).toBe(false);

  // The scrub and every state change are audit events on the backend.
  const events = await backend.auditEvents({ kind: 'campaign.state_changed' });
  expect(events.map((e) => e.details.to)).toEqual(['scrubbed', 'approved', 'submitted', 'draft']);

  // --- after approval and scrub the launch is allowed ---
  await crmPage.goto(`${crm.url}/campaigns/${id}`);
  await expect(crmPage.getByRole('button', { name: 'Launch campaign' })).toBeVisible();
  await crmPage.waitForTimeout(1000);
  await crmPage.getByRole('button', { name: 'Launch campaign' }).click();
  await expect(crmPage.getByText(`Campaign ${id} launched`)).toBeVisible();
});

test('a manager records an approval-mechanism failure and sees the FCC notice due until it is sent', async ({ ext, backend }) => {
  await signInThroughOptions(ext, backend, 'manager@demo.test');
  const page = await ext.context.newPage();
  await page.goto(ext.url('dashboard.html'));
  const box = page.getByTestId('approval-failures');
  await expect(box.getByTestId('failures-none-open')).toBeVisible();
  await box.getByLabel('Mechanism').selectOption('opt_out');
  await box.getByLabel('What failed').fill('Opt-out notices were not mailed for a week');
  await box.getByLabel('When it happened').fill('2025-06-02T09:30');
  await box.getByRole('button', { name: 'Record failure' }).click();
  const open = box.getByTestId('failure-open');
  await expect(open).toContainText(/FCC notice due \d{4}-\d{2}-\d{2}/);
  await expect(open).toContainText('opt-out mechanism');
  await page.reload();
  await expect(page.getByTestId('failure-open')).toHaveCount(1); // still shown until marked sent
  await page.getByRole('button', { name: 'Mark notice sent' }).click();
  await expect(page.getByTestId('failures-none-open')).toBeVisible();
  const [event] = await backend.auditEvents({ kind: 'approval_failure.notice_sent' });
  expect(event.actor).toBe('manager@demo.test');
});

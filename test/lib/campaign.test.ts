// lib/campaign.ts: who may do what to a campaign in which state, the scrub's row handling and
// the streaming CSV reader/writer.
import { describe, expect, it } from 'vitest';
import {
  CampaignCreate,
  campaignContext,
  campaignKeepUntil,
  csvLine,
  detectColumns,
  newCampaign,
  parseCsv,
  recordScrub,
  rowIdentifiers,
  createScrubDecider,
  toSyncedCampaign,
  transitionCampaign,
  type Actor,
  type CampaignRecord,
} from '@/lib/campaign';
import { decide } from '@/lib/policy';
import { CONSENT_STATES, DEFAULT_POLICY, type Consent } from '@/lib/schemas';
import { NOW, daysBefore, makeConsent, makeCustomer } from './factories';

const marketer: Actor = { email: 'm@x.test', role: 'marketing' };
const marketer2: Actor = { email: 'm2@x.test', role: 'marketing' };
const counsel: Actor = { email: 'gc@x.test', role: 'counsel' };
const manager: Actor = { email: 'boss@x.test', role: 'manager' };

const draft = (): CampaignRecord =>
  newCampaign(
    'camp-1',
    CampaignCreate.parse({ name: 'Fiber', description: 'Fiber offer', cpniUsed: ['services'], productsOffered: ['Fiber'], channel: 'email', startsAt: '2026-04-01' }),
    marketer.email,
    NOW,
  );
const must = (r: ReturnType<typeof transitionCampaign>) => {
  if (!r.ok) throw new Error(r.message);
  return r.next;
};

describe('campaign state machine', () => {
  it('draft -> submitted -> approved, with who and when', () => {
    const s = must(transitionCampaign(draft(), { kind: 'submit' }, marketer, NOW));
    expect(s).toMatchObject({ status: 'submitted', submittedBy: marketer.email, version: 2 });
    const a = must(transitionCampaign(s, { kind: 'approve' }, counsel, NOW));
    expect(a).toMatchObject({ status: 'approved', decidedBy: counsel.email, decidedAt: NOW.toISOString(), version: 3 });
  });

  it.each([
    ['a marketer approves', marketer2, 'approve', 'forbidden'],
    ['a manager approves', manager, 'approve', 'forbidden'],
    ['counsel rejects without a comment', counsel, 'reject', 'invalid'],
  ] as const)('refuses: %s', (_name, actor, kind, code) => {
    const s = must(transitionCampaign(draft(), { kind: 'submit' }, marketer, NOW));
    expect(transitionCampaign(s, { kind }, actor, NOW)).toMatchObject({ ok: false, code });
  });

  it('nobody approves their own campaign (owner or submitter)', () => {
    const own = { ...draft(), owner: counsel.email, status: 'submitted' as const };
    expect(transitionCampaign(own, { kind: 'approve' }, counsel, NOW)).toMatchObject({ ok: false, code: 'forbidden' });
    const submittedByCounsel = { ...draft(), status: 'submitted' as const, submittedBy: 'GC@x.test' };
    expect(transitionCampaign(submittedByCounsel, { kind: 'approve' }, counsel, NOW)).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it('only a submitted campaign is decided; only draft or rejected is submitted', () => {
    expect(transitionCampaign(draft(), { kind: 'approve' }, counsel, NOW)).toMatchObject({ ok: false, code: 'conflict' });
    const s = must(transitionCampaign(draft(), { kind: 'submit' }, marketer, NOW));
    expect(transitionCampaign(s, { kind: 'submit' }, marketer, NOW)).toMatchObject({ ok: false, code: 'conflict' });
    expect(transitionCampaign(draft(), { kind: 'submit' }, counsel, NOW)).toMatchObject({ ok: false, code: 'forbidden' });
    const r = must(transitionCampaign(s, { kind: 'reject', comment: 'More detail' }, counsel, NOW));
    expect(r).toMatchObject({ status: 'rejected', decisionComment: 'More detail' });
    expect(must(transitionCampaign(r, { kind: 'submit' }, marketer, NOW))).toMatchObject({ status: 'submitted', decisionComment: null });
  });

  it('a scrub sets scrubbedAt when the counts add up', () => {
    const sum = { total: 4, allowed: 1, blocked: 1, unknown: 1, malformed: 1, durationMs: 5, fileName: null };
    expect(recordScrub(draft(), { ...sum, total: 5 }, marketer, NOW)).toMatchObject({ ok: false, code: 'invalid' });
    expect(recordScrub(draft(), sum, counsel, NOW)).toMatchObject({ ok: false, code: 'forbidden' });
    const r = recordScrub(draft(), sum, marketer, NOW);
    expect(r.ok && r.next.scrubbedAt).toBe(NOW.toISOString());
  });

  it('keeps records a year after the last change', () => {
    expect(campaignKeepUntil({ updatedAt: '2026-03-10T15:00:00.000Z' }).toISOString()).toBe('2027-03-10T15:00:00.000Z');
  });

  it('gives the launch gate the cached status; unknown when not cached', () => {
    const synced = toSyncedCampaign(draft());
    expect(Object.keys(synced)).not.toContain('scrub');
    expect(campaignContext('camp-1', synced)).toEqual({ id: 'camp-1', name: 'Fiber', status: 'draft', scrubbed: false, usesCpni: true });
    expect(campaignContext('x', null)).toMatchObject({ status: 'unknown' });
    const approved = { ...synced, status: 'approved' as const, scrubbedAt: NOW.toISOString() };
    const d = decide('marketing.launch_campaign', { state: 'unknown', why: 'not_found', syncedAt: null }, { role: 'marketing', campaign: campaignContext('camp-1', approved) }, DEFAULT_POLICY, NOW);
    expect(d.verdict).toBe('allow');
    const blocked = decide('marketing.launch_campaign', { state: 'unknown', why: 'not_found', syncedAt: null }, { role: 'marketing', campaign: campaignContext('camp-1', synced) }, DEFAULT_POLICY, NOW);
    expect(blocked.verdict).toBe('block');
    expect(blocked.reasons.map((r) => r.text).join(' ')).toContain('“Fiber”');
  });
});

describe('scrub rows', () => {
  it('finds identifier columns by header, whatever the spelling', () => {
    expect(detectColumns(['\uFEFFCustomer ID', 'Name', 'Phone Number', 'E-mail'])).toEqual({ customerId: 0, phone: 2, email: 3 });
    expect(detectColumns(['acct_no', 'crm_id'])).toEqual({ accountNumber: 0, customerId: 1 });
    expect(detectColumns(['name', 'city'])).toBeNull();
  });

  it('normalizes identifiers and reports malformed rows', () => {
    const cols = { customerId: 0, phone: 1, email: 2 };
    expect(rowIdentifiers(['C-1', '(407) 555-0101', 'A@Example.com'], cols, 3, 'demo-crm')).toEqual({
      ok: true,
      identifiers: { crm: 'demo-crm', crmId: 'C-1', accountNumber: null, phones: ['+14075550101'], emails: ['a@example.com'] },
    });
    expect(rowIdentifiers(['C-1', ''], cols, 3, 'demo-crm')).toMatchObject({ ok: false, problem: expect.stringContaining('2 fields') });
    expect(rowIdentifiers(['', '', ''], cols, 3, 'demo-crm')).toMatchObject({ ok: false });
    expect(rowIdentifiers(['', 'call me', ''], cols, 3, 'demo-crm')).toMatchObject({ ok: false, problem: expect.stringContaining('phone') });
    expect(rowIdentifiers(['', '', 'not-an-email'], cols, 3, 'demo-crm')).toMatchObject({ ok: false, problem: expect.stringContaining('email') });
  });

  it('decides each row with marketing.other_category: allowed, blocked with rule, unknown', () => {
    const customer = makeCustomer({ id: 'C-1' });
    const optIn = makeConsent({ customerId: 'C-1', purpose: 'marketing', state: 'opt_in', method: 'written' });
    const denied = makeConsent({ customerId: 'C-1', purpose: 'marketing', state: 'denied', method: 'written' });
    const decideRow = createScrubDecider(DEFAULT_POLICY, NOW);
    const allowed = decideRow({ customerId: customer.id, consents: [optIn] });
    expect(allowed).toEqual({ verdict: 'allowed', ruleIds: ['APPROVAL_REQUIRED'], reason: '' });
    // Allowed rows share one verdict (nothing of it is the row's own): a million rows keep no copies.
    const other = makeConsent({ customerId: 'C-2', purpose: 'marketing', state: 'opt_in', method: 'oral', capturedBy: 'someone@else.test' });
    expect(decideRow({ customerId: 'C-2', consents: [other] })).toBe(allowed);
    const b = decideRow({ customerId: customer.id, consents: [denied] });
    expect(b).toMatchObject({ verdict: 'blocked', ruleIds: ['APPROVAL_REQUIRED'] });
    expect(b.reason).toBeTruthy();
    expect(decideRow(null)).toMatchObject({ verdict: 'unknown', ruleIds: ['UNKNOWN_STATUS'] });
  });

  it('decides from the marketing approvals alone exactly as decide() does on the whole customer', () => {
    const customer = makeCustomer({ id: 'C-9', serviceCategories: ['wireless'], passwordEstablished: true });
    const cases: Consent[][] = [[]];
    for (const state of CONSENT_STATES) {
      for (const sent of [null, daysBefore(10), daysBefore(40)]) {
        for (const mailed of [false, true]) {
          cases.push([
            makeConsent({ customerId: 'C-9', purpose: 'marketing', state, method: state === 'none' ? null : 'oral', noticeSentAt: sent, noticeMailed: mailed, capturedBy: 'rep@x.test' }),
          ]);
        }
      }
    }
    cases.push([
      makeConsent({ customerId: 'C-9', purpose: 'marketing', state: 'denied', method: 'written', capturedAt: daysBefore(20) }),
      makeConsent({ customerId: 'C-9', purpose: 'marketing', state: 'opt_in', method: 'electronic', capturedAt: daysBefore(5) }),
    ]);
    for (const policy of [DEFAULT_POLICY, { ...DEFAULT_POLICY, approvalMode: 'opt_out_allowed' as const }]) {
      const decideRow = createScrubDecider(policy, NOW);
      for (const consents of cases) {
        const whole = decide('marketing.other_category', { state: 'known', customer, consents, call: null, verification: null, syncedAt: null }, { role: 'marketing' }, policy, NOW);
        const expected = {
          verdict: whole.verdict === 'allow' ? 'allowed' : 'blocked',
          ruleIds: [...new Set(whole.reasons.map((r) => r.ruleId))],
          // An allowed row's reason is not written anywhere (allowed.csv has no reason column).
          reason: whole.verdict === 'allow' ? '' : whole.reasons.map((r) => r.text).join('; '),
        };
        expect(decideRow({ customerId: 'C-9', consents })).toEqual(expected);
        // Asked twice in one scrub, and for another customer with the same consents: the same answer.
        expect(decideRow({ customerId: 'C-9', consents })).toEqual(expected);
        expect(decideRow({ customerId: 'C-10', consents: consents.map((c) => ({ ...c, id: c.id + 'x', customerId: 'C-10' })) })).toEqual(expected);
      }
    }
  });

  it("names each row's own proof: consents alike but for their capture day and rep get their own reason", () => {
    const decideRow = createScrubDecider(DEFAULT_POLICY, NOW);
    const denied = (customerId: string, capturedAt: string, capturedBy: string) => ({
      customerId,
      consents: [makeConsent({ customerId, purpose: 'marketing', state: 'denied', method: 'oral', capturedAt, capturedBy })],
    });
    const a = decideRow(denied('C-1', daysBefore(3), 'ann@carrier.test'));
    const b = decideRow(denied('C-2', daysBefore(400), 'bob@carrier.test'));
    expect(a.verdict).toBe('blocked');
    expect(b.verdict).toBe('blocked');
    expect(a.reason).toContain('by ann@carrier.test');
    expect(a.reason).toContain(daysBefore(3).slice(0, 10));
    expect(b.reason).toContain('by bob@carrier.test');
    expect(b.reason).toContain(daysBefore(400).slice(0, 10));
  });

});

describe('CSV', () => {
  const text = 'id,name,note\r\nC-1,"Smith, Ann","said ""hi""\nthen left"\r\n\r\nC-2,Bob,plain\nC-3,"bad"x,y\nC-4,Dee,"open';

  it('reads quoted fields, CRLF, blank lines, with the line each record starts on', () => {
    const { records, problems } = parseCsv(text);
    expect(records).toEqual([
      { line: 1, fields: ['id', 'name', 'note'] },
      { line: 2, fields: ['C-1', 'Smith, Ann', 'said "hi"\nthen left'] },
      { line: 5, fields: ['C-2', 'Bob', 'plain'] },
    ]);
    expect(problems).toEqual([
      { line: 6, problem: 'has text after a closing quote' },
      { line: 7, problem: 'has a quoted field that is never closed' },
    ]);
  });

  it('gives the same answer whatever the chunk size', () => {
    const whole = parseCsv(text);
    for (const size of [1, 2, 3, 5, 7, 16]) expect(parseCsv(text, size)).toEqual(whole);
  });

  it('writes fields that round-trip and defuses spreadsheet formulas', () => {
    const line = csvLine(['a,b', 'say "x"', 'multi\nline', '=SUM(A1)', '+14075550101', 7]);
    expect(line).toBe('"a,b","say ""x""","multi\nline",\'=SUM(A1),+14075550101,7\r\n');
    expect(parseCsv(csvLine(['a,b', 'say "x"', 'multi\nline'])).records[0]!.fields).toEqual(['a,b', 'say "x"', 'multi\nline']);
  });
});

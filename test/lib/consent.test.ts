import { describe, expect, it } from 'vitest';
import {
  approvalStatusLabel,
  CONSENT_STATE_LABELS,
  effectiveConsent,
  optOutEffectiveAt,
} from '../../lib/consent';
import { CONSENT_STATES, type ConsentPurpose, type ConsentState } from '../../lib/schemas';
import { daysBefore, makeCall, makeConsent, makePolicy, NOW, OPT_OUT_POLICY } from './factories';

const OPT_IN_ONLY = makePolicy();
const call = makeCall();

/** A standing consent in `state`; opt-out records carry a notice sent 40 days ago (wait over). */
function standing(state: ConsentState, purpose: ConsentPurpose = 'marketing', extra = {}) {
  const optOut = state === 'pending' || state === 'opt_out_effective';
  return makeConsent({
    state,
    purpose,
    method: state === 'none' || optOut ? null : 'written',
    noticeSentAt: optOut ? daysBefore(40) : null,
    ...extra,
  });
}

describe('effectiveConsent: every state × approval mode × purpose', () => {
  // [state, purpose, grants in opt_in_only, grants in opt_out_allowed]
  const table: [ConsentState, ConsentPurpose, boolean, boolean][] = [
    ['none', 'marketing', false, false],
    ['pending', 'marketing', false, true], // the 30-day wait is over: effective by the clock
    ['opt_out_effective', 'marketing', false, true],
    ['opt_in', 'marketing', true, true],
    ['denied', 'marketing', false, false],
    ['revoked', 'marketing', false, false],
    ['none', 'third_party', false, false],
    ['pending', 'third_party', false, false],
    ['opt_out_effective', 'third_party', false, false], // opt-out never covers disclosure
    ['opt_in', 'third_party', true, true],
    ['denied', 'third_party', false, false],
    ['revoked', 'third_party', false, false],
    ['none', 'new_carrier', false, false],
    ['pending', 'new_carrier', false, false],
    ['opt_out_effective', 'new_carrier', false, false],
    ['opt_in', 'new_carrier', true, true], // written
    ['denied', 'new_carrier', false, false],
    ['revoked', 'new_carrier', false, false],
  ];
  it('covers every consent state', () => {
    expect(new Set(table.map((r) => r[0]))).toEqual(new Set(CONSENT_STATES));
  });
  it.each(table)('%s for %s: opt_in_only=%s, opt_out_allowed=%s', (state, purpose, inOnly, outAllowed) => {
    const c = standing(state, purpose);
    expect(effectiveConsent([c], 'cust-1', purpose, OPT_IN_ONLY, NOW, null).grants).toBe(inOnly);
    expect(effectiveConsent([c], 'cust-1', purpose, OPT_OUT_POLICY, NOW, null).grants).toBe(outAllowed);
  });

  it('says why an opt-out does not count in opt_in_only mode', () => {
    const e = effectiveConsent([standing('opt_out_effective')], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, null);
    expect(e.basis).toBe('opt_out_not_accepted');
    expect(approvalStatusLabel(e)).toContain('opt-out approval is not accepted: this carrier uses opt-in (policy §7A)');
  });

  it('no record at all means no approval', () => {
    const e = effectiveConsent([], 'cust-1', 'marketing', OPT_OUT_POLICY, NOW, null);
    expect(e).toMatchObject({ consent: null, grants: false, basis: 'no_record', state: 'none' });
    expect(approvalStatusLabel(e)).toBe('Not approved: no approval on record');
  });

  it('ignores other customers’ and other purposes’ records', () => {
    const e = effectiveConsent(
      [makeConsent({ customerId: 'cust-2' }), makeConsent({ purpose: 'third_party' })],
      'cust-1',
      'marketing',
      OPT_IN_ONLY,
      NOW,
      null,
    );
    expect(e.grants).toBe(false);
  });
});

describe('opt-out waiting period (64.2008(d))', () => {
  it.each([
    [29, false, false],
    [30, false, true],
    [31, true, false], // mailed: 33 days
    [33, true, true],
  ])('notice sent %i days ago (mailed=%s): effective=%s', (days, mailed, effective) => {
    const c = makeConsent({ state: 'pending', method: null, noticeSentAt: daysBefore(days), noticeMailed: mailed });
    const e = effectiveConsent([c], 'cust-1', 'marketing', OPT_OUT_POLICY, NOW, null);
    expect(e.grants).toBe(effective);
    expect(e.state).toBe(effective ? 'opt_out_effective' : 'pending');
  });

  it('computes and shows the effective date', () => {
    expect(optOutEffectiveAt('2026-11-01T12:00:00.000Z', false)).toBe('2026-12-01T12:00:00.000Z');
    expect(optOutEffectiveAt('2026-11-01T12:00:00.000Z', true)).toBe('2026-12-04T12:00:00.000Z');
    const c = makeConsent({ state: 'pending', method: null, noticeSentAt: '2026-11-01T12:00:00.000Z' });
    const e = effectiveConsent([c], 'cust-1', 'marketing', OPT_OUT_POLICY, new Date('2026-11-15T00:00:00Z'), null);
    expect(e.basis).toBe('opt_out_waiting');
    expect(approvalStatusLabel(e)).toBe('Not approved: opt-out notice sent 2026-11-01; effective 2026-12-01');
  });

  it('an "effective" record whose notice date says the wait is still running does not grant yet', () => {
    const c = makeConsent({ state: 'opt_out_effective', method: null, noticeSentAt: daysBefore(5) });
    expect(effectiveConsent([c], 'cust-1', 'marketing', OPT_OUT_POLICY, NOW, null).grants).toBe(false);
  });

  it('a pending record with no notice date never becomes effective', () => {
    const c = makeConsent({ state: 'pending', method: null, noticeSentAt: null, capturedAt: daysBefore(400) });
    const e = effectiveConsent([c], 'cust-1', 'marketing', OPT_OUT_POLICY, NOW, null);
    expect(e).toMatchObject({ grants: false, basis: 'opt_out_no_notice_date' });
  });
});

describe('which record governs', () => {
  it('the latest standing record wins: a revocation after an opt-in blocks', () => {
    const optIn = makeConsent({ state: 'opt_in', capturedAt: daysBefore(60) });
    const revoked = makeConsent({ state: 'revoked', capturedAt: daysBefore(2) });
    const e = effectiveConsent([revoked, optIn], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, null);
    expect(e.consent?.id).toBe(revoked.id);
    expect(e.grants).toBe(false);
    expect(approvalStatusLabel(e)).toMatch(/^Not approved: approval revoked/);
  });

  it('a new opt-in after a denial grants', () => {
    const denied = makeConsent({ state: 'denied', capturedAt: daysBefore(60) });
    const optIn = makeConsent({ state: 'opt_in', capturedAt: daysBefore(1) });
    expect(effectiveConsent([optIn, denied], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, null).grants).toBe(true);
  });

  it('uses updatedAt when a record has no capture time', () => {
    const old = makeConsent({ state: 'opt_in', capturedAt: daysBefore(30), updatedAt: daysBefore(30) });
    const newer = makeConsent({ state: 'denied', method: null, capturedAt: null, updatedAt: daysBefore(1) });
    expect(effectiveConsent([old, newer], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, null).consent?.id).toBe(newer.id);
  });

  it('approvals never expire silently', () => {
    const c = makeConsent({ state: 'opt_in', capturedAt: '2014-01-02T00:00:00.000Z', updatedAt: '2014-01-02T00:00:00.000Z' });
    expect(effectiveConsent([c], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, null).grants).toBe(true);
  });

  it('a new carrier needs written authorization: an oral opt-in does not count', () => {
    const oral = makeConsent({ purpose: 'new_carrier', state: 'opt_in', method: 'oral' });
    const e = effectiveConsent([oral], 'cust-1', 'new_carrier', OPT_OUT_POLICY, NOW, null);
    expect(e).toMatchObject({ grants: false, basis: 'not_written' });
    expect(approvalStatusLabel(e)).toContain('express written authorization');
  });
});

describe('one-time oral consent (64.2008(f))', () => {
  const oneTime = () =>
    makeConsent({ state: 'opt_in', method: 'oral', scope: 'call', callId: 'call-1', capturedAt: daysBefore(0.002) });

  it('counts during the call it was given on', () => {
    const e = effectiveConsent([oneTime()], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, call);
    expect(e).toMatchObject({ grants: true, oneTime: true, basis: 'one_time' });
    expect(approvalStatusLabel(e)).toMatch(/^Approved for this call only/);
  });

  it('does not count once the call has ended', () => {
    const ended = makeCall({ endedAt: daysBefore(0.001) });
    expect(effectiveConsent([oneTime()], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, ended).grants).toBe(false);
  });

  it('does not count on another call or with no call', () => {
    const other = makeCall({ id: 'call-2' });
    expect(effectiveConsent([oneTime()], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, other).grants).toBe(false);
    expect(effectiveConsent([oneTime()], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, null).grants).toBe(false);
  });

  it('does not count on a call with another customer', () => {
    const theirs = makeCall({ customerId: 'cust-2' });
    expect(effectiveConsent([oneTime()], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, theirs).grants).toBe(false);
  });

  it('outranks an older refusal for this call, but not a later revocation', () => {
    const olderDenial = makeConsent({ state: 'denied', method: null, capturedAt: daysBefore(100) });
    expect(effectiveConsent([olderDenial, oneTime()], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, call).grants).toBe(true);
    const laterRevocation = makeConsent({ state: 'revoked', method: 'oral', capturedAt: daysBefore(0.001) });
    expect(effectiveConsent([oneTime(), laterRevocation], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, call).grants).toBe(
      false,
    );
  });

  it('covers use only, not disclosure to third parties', () => {
    const c = makeConsent({ purpose: 'third_party', state: 'opt_in', scope: 'call', callId: 'call-1' });
    expect(effectiveConsent([c], 'cust-1', 'third_party', OPT_IN_ONLY, NOW, call).grants).toBe(false);
  });
});

describe('labels', () => {
  it('shows the proof of an opt-in', () => {
    const e = effectiveConsent([makeConsent()], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, null);
    expect(approvalStatusLabel(e)).toBe('Approved (opt-in, oral, 2026-03-02, notice v3, by rep@carrier.example)');
  });

  it('names the customer’s denial', () => {
    const e = effectiveConsent([standing('denied')], 'cust-1', 'marketing', OPT_IN_ONLY, NOW, null);
    expect(approvalStatusLabel(e)).toMatch(/^Not approved: customer denied/);
  });

  it('has a label for every state', () => {
    for (const s of CONSENT_STATES) expect(CONSENT_STATE_LABELS[s]).toBeTruthy();
  });
});

import { describe, expect, it } from 'vitest';
import {
  FIRST_CPNI_NOTICE,
  accountChangeNoticeText,
  afterFailure,
  captureProblem,
  captureToConsent,
  effectiveCall,
  endCall,
  isCallLive,
  liveVerification,
  noticeRecipient,
  startCall,
  touchCall,
  verificationOptions,
  type ConsentCaptureInput,
  type StoredCall,
} from '../../lib/calls';
import { decide } from '../../lib/policy';
import { DEFAULT_POLICY, type VerificationMethod } from '../../lib/schemas';
import { NOW, daysBefore, makeCustomer } from './factories';

const policy = { ...DEFAULT_POLICY, callIdleMinutes: 30 };
const min = (m: number) => new Date(NOW.getTime() + m * 60_000);
const customer = (over: Parameters<typeof makeCustomer>[0] = {}) =>
  makeCustomer({
    phones: ['+14075550100'],
    passwordEstablished: true,
    addressOfRecord: { lines: ['1 Main St', 'Orlando, FL 32801'], setAt: daysBefore(400) },
    ...over,
  });

function verifiedCall(method: VerificationMethod, customerId = 'cust-1'): StoredCall {
  const s = startCall('call-1', customerId, 'inbound', NOW);
  return { ...s, verification: { customerId, callId: 'call-1', method, verifiedAt: NOW.toISOString(), verifiedBy: 'rep@x' } };
}

function snap(s: StoredCall | null, c = customer(), consents: ReturnType<typeof captureToConsent>[] = []) {
  return {
    state: 'known' as const,
    customer: c,
    consents,
    call: effectiveCall(s, policy),
    verification: s?.verification ?? null,
    syncedAt: NOW.toISOString(),
  };
}

describe('call lifecycle', () => {
  it('is live until ended or idle past policy.callIdleMinutes; activity restarts the idle clock', () => {
    const s = startCall('c1', 'cust-1', 'inbound', NOW);
    expect(isCallLive(s, policy, min(29))).toBe(true);
    expect(isCallLive(s, policy, min(30))).toBe(false);
    const touched = touchCall(s, policy, min(20));
    expect(isCallLive(touched, policy, min(49))).toBe(true);
    expect(isCallLive(endCall(touched, policy, min(21)), policy, min(22))).toBe(false);
  });

  it('an idle call keeps its idle end; touching it does not bring it back', () => {
    const s = startCall('c1', 'cust-1', 'outbound', NOW);
    const late = touchCall(s, policy, min(45));
    expect(late.call.endedAt).toBe(min(30).toISOString());
    expect(endCall(s, policy, min(45)).call.endedAt).toBe(min(30).toISOString());
  });

  it('the snapshot call carries its idle end, so the guard stops trusting it without a message', () => {
    const s = verifiedCall('password');
    expect(effectiveCall(s, policy)?.endedAt).toBe(min(30).toISOString());
    expect(decide('disclose.call_detail', snap(s), { role: 'rep' }, policy, min(10)).verdict).toBe('allow');
    expect(decide('disclose.call_detail', snap(s), { role: 'rep' }, policy, min(31)).verdict).toBe('block');
    expect(liveVerification(s, policy, min(31))).toBeNull();
  });
});

describe('caller verification paths through decide()', () => {
  const at = min(1);
  it('no call open: blocked with "start the call"', () => {
    const d = decide('disclose.call_detail', snap(null), { role: 'rep' }, policy, at);
    expect(d.verdict).toBe('block');
    expect(d.remedies.map((r) => r.id)).toEqual(['call.start']);
  });

  it('call open, not verified: blocked with password, call back and address remedies', () => {
    const d = decide('disclose.call_detail', snap(startCall('call-1', 'cust-1', 'inbound', NOW)), { role: 'rep' }, policy, at);
    expect(d.verdict).toBe('block');
    expect(d.remedies.map((r) => r.id)).toEqual(['verify.password', 'verify.callback', 'verify.addressOfRecord']);
  });

  it.each(['password', 'callback_number_of_record', 'address_of_record'] as const)('verified by %s: allowed on this call', (m) => {
    const d = decide('disclose.call_detail', snap(verifiedCall(m)), { role: 'rep' }, policy, at);
    expect(d.verdict).toBe('allow');
    expect(d.reasons[0]!.ruleId).toBe('CALL_DETAIL_AUTH');
  });

  it('verified on an earlier call: blocked on the next one', () => {
    const old = verifiedCall('password');
    const next = { ...startCall('call-2', 'cust-1', 'inbound', at), verification: old.verification };
    expect(decide('disclose.call_detail', snap(next), { role: 'rep' }, policy, at).reasons[0]!.text).toContain('another call');
  });

  it('an address of record changed 10 days ago does not qualify (Gus); 400 days does (Hana)', () => {
    const gus = customer({ addressOfRecord: { lines: ['7 A St'], setAt: daysBefore(10) } });
    const opts = verificationOptions(gus, NOW);
    expect(opts.find((o) => o.method === 'address_of_record')).toMatchObject({ available: false });
    expect(opts.find((o) => o.method === 'address_of_record')!.text).toContain('10 days ago');
    expect(decide('disclose.call_detail', snap(verifiedCall('address_of_record'), gus), { role: 'rep' }, policy, at).verdict).toBe('block');
    expect(verificationOptions(customer(), NOW).find((o) => o.method === 'address_of_record')!.available).toBe(true);
  });

  it('business exemption only with a dedicated rep and a CPNI contract, and the option names the contract', () => {
    const biz = customer({ business: { dedicatedRep: 'rep@x', cpniContractId: 'MSA-1', cpniContractName: 'MSA §14' } });
    expect(verificationOptions(biz, NOW).find((o) => o.method === 'business_contract')).toMatchObject({ available: true, detail: 'MSA §14 (MSA-1)' });
    const d = decide('disclose.call_detail', snap(verifiedCall('business_contract'), biz), { role: 'rep' }, policy, at);
    expect(d.reasons.map((r) => r.ruleId)).toEqual(['CALL_DETAIL_AUTH', 'BUSINESS_EXEMPTION']);
    const noContract = customer({ business: { dedicatedRep: 'rep@x', cpniContractId: null, cpniContractName: null } });
    expect(verificationOptions(noContract, NOW).find((o) => o.method === 'business_contract')!.available).toBe(false);
    expect(decide('disclose.call_detail', snap(verifiedCall('business_contract'), noContract), { role: 'rep' }, policy, at).verdict).toBe('block');
  });

  it('call back shows the number of record; without a password the password way is not offered', () => {
    const opts = verificationOptions(customer({ passwordEstablished: false }), NOW);
    expect(opts.find((o) => o.method === 'callback_number_of_record')!.detail).toBe('+14075550100');
    expect(opts.find((o) => o.method === 'password')!.available).toBe(false);
  });

  it('password attempts count down and lock at the limit', () => {
    expect(afterFailure(0, 3)).toEqual({ failures: 1, attemptsLeft: 2, locked: false });
    expect(afterFailure(2, 3)).toEqual({ failures: 3, attemptsLeft: 0, locked: true });
  });
});

describe('consent capture', () => {
  const input = (over: Partial<ConsentCaptureInput> = {}): ConsentCaptureInput => ({
    customerId: 'cust-1',
    purpose: 'marketing',
    state: 'opt_in',
    method: 'oral',
    scope: 'call',
    noticeVersion: FIRST_CPNI_NOTICE.version,
    evidence: null,
    ...over,
  });
  const live = startCall('call-1', 'cust-1', 'inbound', NOW);

  it('one-time consent: marketing, oral, approval, on the open call only', () => {
    expect(captureProblem(input(), live.call)).toBeNull();
    expect(captureProblem(input(), null)).toMatch(/Start the call/);
    expect(captureProblem(input({ method: 'written' }), live.call)).toMatch(/oral/);
    expect(captureProblem(input({ purpose: 'third_party' }), live.call)).toMatch(/marketing/);
    expect(captureProblem(input({ state: 'denied' }), live.call)).toMatch(/standing/);
    expect(captureProblem(input({ purpose: 'new_carrier', scope: 'standing' }), null)).toMatch(/written/);
  });

  it('allows marketing during the call and not after it ends (ONE_TIME_CONSENT)', () => {
    const k = captureToConsent(input(), { id: 'k1', by: 'rep@x', now: NOW, callId: 'call-1' });
    expect(k).toMatchObject({ scope: 'call', callId: 'call-1', capturedBy: 'rep@x', noticeVersion: FIRST_CPNI_NOTICE.version });
    const during = decide('marketing.other_category', snap(live, customer(), [k]), { role: 'rep' }, policy, min(5));
    expect(during.verdict).toBe('allow');
    expect(during.reasons[0]!.ruleId).toBe('ONE_TIME_CONSENT');
    const ended = endCall(live, policy, min(6));
    expect(decide('marketing.other_category', snap(ended, customer(), [k]), { role: 'rep' }, policy, min(7)).verdict).toBe('block');
  });

  it('a standing opt-in allows; a later revocation wins over it', () => {
    const yes = captureToConsent(input({ scope: 'standing', method: 'written' }), { id: 'k1', by: 'rep@x', now: NOW, callId: null });
    expect(yes.callId).toBeNull();
    expect(decide('marketing.other_category', snap(null, customer(), [yes]), { role: 'rep' }, policy, min(1)).verdict).toBe('allow');
    const no = captureToConsent(input({ scope: 'standing', state: 'revoked' }), { id: 'k2', by: 'rep@x', now: min(1), callId: null });
    expect(decide('marketing.other_category', snap(null, customer(), [yes, no]), { role: 'rep' }, policy, min(2)).verdict).toBe('block');
  });
});

describe('account-change notices', () => {
  it('an address change goes to the old address; other changes to the number of record', () => {
    const c = customer();
    expect(noticeRecipient(c, 'address_of_record')).toEqual({ channel: 'mail', to: ['1 Main St', 'Orlando, FL 32801'] });
    expect(noticeRecipient(c, 'password')).toEqual({ channel: 'phone', to: ['+14075550100'] });
    expect(noticeRecipient(customer({ phones: [] }), 'online_account')).toEqual({ channel: 'mail', to: ['1 Main St', 'Orlando, FL 32801'] });
    expect(noticeRecipient(customer({ phones: [], addressOfRecord: null }), 'password')).toBeNull();
  });

  it('the text says what changed and when, never the new value', () => {
    const t = accountChangeNoticeText('Ada', 'address_of_record', NOW.toISOString());
    expect(t).toContain('address of record');
    expect(t).toContain('2026-03-10');
    expect(decide('account.change', snap(null), { role: 'rep' }, policy, NOW).reasons[0]!.ruleId).toBe('ACCOUNT_CHANGE_NOTICE');
  });

  it('the first CPNI notice has the 64.2008(c) content', () => {
    for (const words of ['right', 'deny or withdraw', 'until you revoke', 'will not affect', 'duration of this call']) {
      expect(FIRST_CPNI_NOTICE.text).toContain(words);
    }
  });
});

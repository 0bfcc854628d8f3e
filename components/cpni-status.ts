// What the panel says about the record on screen, derived from the snapshot with the same
// pure helpers the guard decides with (lib/consent effectiveConsent, lib/policy decide), so
// the panel never says "allowed" where the guard would block.
import { effectiveConsent, openCall, type ApprovalBasis, type EffectiveConsent } from '@/lib/consent';
import { decide } from '@/lib/policy';
import { DEFAULT_POLICY, type ConsentPurpose, type PolicySettings, type Role } from '@/lib/schemas';
import type { KnownSnapshot } from '@/lib/snapshot';
import { formatDate } from './format';
import { CATEGORY_LABELS, VERIFICATION_LABELS, labelOf } from './labels';

export interface PurposeStatus {
  purpose: ConsentPurpose;
  allowed: boolean;
  effective: EffectiveConsent;
  /** Short words after "allowed"/"blocked". */
  detail: string;
}

const BASIS_TEXT: Record<ApprovalBasis, (e: EffectiveConsent) => string> = {
  opt_in: (e) =>
    e.purpose === 'third_party' ? 'opted in; needs a confidentiality agreement with the recipient' : 'opted in',
  one_time: () => 'for this call only (one-time oral consent)',
  opt_out: () => 'opt-out approval; own communications-related marketing only',
  no_record: () => 'no approval on file',
  no_notice: () => 'no CPNI notice given yet',
  denied: () => 'customer denied approval',
  revoked: () => 'approval revoked',
  opt_out_waiting: (e) =>
    e.optOutEffectiveAt ? `opt-out waiting period runs until ${formatDate(e.optOutEffectiveAt)}` : 'opt-out waiting period running',
  opt_out_no_notice_date: () => 'opt-out notice date missing',
  opt_out_not_accepted: () => 'opt-out does not count; this carrier requires opt-in',
  opt_out_wrong_purpose: () => 'opt-out does not cover this; needs opt-in',
  not_written: () => 'needs express written authorization',
};

export function purposeStatus(
  snapshot: KnownSnapshot,
  purpose: ConsentPurpose,
  now: Date,
  policy: PolicySettings = DEFAULT_POLICY,
): PurposeStatus {
  const effective = effectiveConsent(snapshot.consents, snapshot.customer.id, purpose, policy, now, snapshot.call);
  return { purpose, allowed: effective.grants, effective, detail: BASIS_TEXT[effective.basis](effective) };
}

/** The call now open on this record (for this customer, not ended), if any. */
export function currentCall(snapshot: KnownSnapshot, now: Date) {
  return openCall(snapshot.call, snapshot.customer.id, now);
}

export interface CallDetailStatus {
  allowed: boolean;
  headline: string;
  hint: string | null;
}

/** 64.2010(b): call detail on a customer-initiated call only after authentication. */
export function callDetailStatus(
  snapshot: KnownSnapshot,
  now: Date,
  role: Role = 'rep',
  policy: PolicySettings = DEFAULT_POLICY,
): CallDetailStatus {
  const d = decide('disclose.call_detail', snapshot, { role }, policy, now);
  const v = snapshot.verification;
  if (d.verdict === 'allow') {
    const how = v ? labelOf(VERIFICATION_LABELS, v.method) : 'verified';
    return {
      allowed: true,
      headline: `allowed — caller verified by ${how}`,
      hint: v?.method === 'address_of_record' ? 'Send it to the address of record; do not read it out.' : null,
    };
  }
  const call = currentCall(snapshot, now);
  const remedies = d.remedies.map((r) => r.text);
  return {
    allowed: false,
    headline: 'needs caller verification',
    hint: call ? (remedies.length ? `${remedies.join('; ')}.` : null) : 'No call open.',
  };
}

export function categoriesText(snapshot: KnownSnapshot): string | null {
  const cats = snapshot.customer.serviceCategories;
  if (cats.length === 0) return null;
  return cats.map((c) => labelOf(CATEGORY_LABELS, c)).join(', ');
}

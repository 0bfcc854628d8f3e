// Words the pages show for the contract's enums. Action, consent-state and rule wording come
// from lib/ (re-exported here) so the panel, the guard and the dashboard say the same thing;
// the rest are page-only labels.
import type {
  AuditKind,
  ConsentMethod,
  ConsentPurpose,
  Role,
  ServiceCategory,
  VerificationMethod,
} from '@/lib/schemas';
import type { UnknownWhy } from '@/lib/snapshot';

// Shared with the guard and the policy engine: one wording everywhere.
export { ACTION_LABELS } from '@/lib/policy';
export { CONSENT_STATE_LABELS, CONSENT_PURPOSE_LABELS } from '@/lib/consent';
export { ruleTitle } from '@/lib/rules';

export const PURPOSE_LABELS: Record<ConsentPurpose, string> = {
  marketing: 'Marketing',
  third_party: 'Third-party disclosure',
  new_carrier: 'Release to a new carrier',
};

export const METHOD_LABELS: Record<ConsentMethod, string> = {
  written: 'written',
  oral: 'oral',
  electronic: 'electronic',
};

export const VERIFICATION_LABELS: Record<VerificationMethod, string> = {
  password: 'account password',
  callback_number_of_record: 'call back to the number of record',
  address_of_record: 'sent to the address of record',
  business_contract: 'business contract authentication',
};

export const CATEGORY_LABELS: Record<ServiceCategory, string> = {
  local: 'local',
  interexchange: 'long distance',
  wireless: 'wireless',
};

export const UNKNOWN_LABELS: Record<UnknownWhy, string> = {
  loading: 'loading',
  not_synced: 'not synced',
  not_found: 'customer not found',
  signed_out: 'signed out',
};

export const UNKNOWN_HINTS: Record<UnknownWhy, string> = {
  loading: 'Looking the customer up in the CPNI cache.',
  not_synced: 'The CPNI cache has not finished its first sync. Open CPNI Guard options and sync.',
  not_found: 'No customer in the CPNI cache matches this record. Check the account number or sync again.',
  signed_out: 'Sign in to CPNI Guard from its options page.',
};

export const ROLE_LABELS: Record<Role, string> = {
  rep: 'Sales / care rep',
  marketing: 'Marketing',
  manager: 'Manager',
  counsel: 'Counsel',
  admin: 'Administrator',
};

export const KIND_LABELS: Record<AuditKind, string> = {
  'action.blocked': 'Blocked',
  'action.allowed': 'Allowed',
  'action.overridden': 'Overridden',
  'purpose.answered': 'Purpose answered',
  'consent.captured': 'Consent captured',
  'cpni.released': 'CPNI released',
  'verification.attempted': 'Verification attempted',
  'account.change_notice': 'Account change notice',
  'campaign.state_changed': 'Campaign state changed',
  'approval_failure.recorded': 'Approval-mechanism failure recorded',
  'approval_failure.notice_sent': 'FCC notice of approval-mechanism failure sent',
};

/** Roles that may open the manager view (the backend enforces this on every route). */
export const MANAGER_ROLES: readonly Role[] = ['manager', 'counsel', 'admin'];

/** Label for a value the contract may grow (unknown values show as themselves). */
export function labelOf<K extends string>(labels: Record<K, string>, value: string | null | undefined): string {
  if (value == null) return '—';
  return (labels as Record<string, string>)[value] ?? value;
}

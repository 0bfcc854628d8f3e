// Test data factories: valid domain objects (parsed with the real schemas) with overrides.
import {
  Call,
  CallerVerification,
  Consent,
  Customer,
  DEFAULT_POLICY,
  PolicySettings,
  type CallerVerification as CallerVerificationT,
  type ConsentInput,
  type CustomerInput,
} from '../../lib/schemas';
import type { ActionContextInput, KnownSnapshot, Snapshot, UnknownWhy } from '../../lib/snapshot';

/** The fixed "now" of the tests: Tuesday 2026-03-10, 10:00 in Florida. */
export const NOW = new Date('2026-03-10T15:00:00.000Z');

export function daysBefore(days: number, from: Date = NOW): string {
  return new Date(from.getTime() - days * 86_400_000).toISOString();
}

export function daysAfter(days: number, from: Date = NOW): string {
  return daysBefore(-days, from);
}

export function makeCustomer(overrides: Partial<CustomerInput> = {}): Customer {
  return Customer.parse({
    id: 'cust-1',
    accountNumber: 'ACC-1001',
    name: 'Ada Lovelace',
    crmRefs: [{ crm: 'demo-crm', id: 'c-1' }],
    phones: ['+14075550100'],
    emails: ['ada@example.com'],
    addressOfRecord: { lines: ['740 Florida Central Pkwy', 'Longwood, FL 32750'], setAt: daysBefore(400) },
    serviceCategories: ['local'],
    passwordEstablished: true,
    updatedAt: daysBefore(1),
    ...overrides,
  });
}

let consentSeq = 0;
export function makeConsent(overrides: Partial<ConsentInput> = {}): Consent {
  consentSeq += 1;
  return Consent.parse({
    id: `consent-${consentSeq}`,
    customerId: 'cust-1',
    purpose: 'marketing',
    state: 'opt_in',
    method: 'oral',
    scope: 'standing',
    capturedBy: 'rep@carrier.example',
    capturedAt: '2026-03-02T14:00:00.000Z',
    noticeVersion: '3',
    updatedAt: '2026-03-02T14:00:00.000Z',
    ...overrides,
  });
}

export function makeCall(overrides: Partial<Call> = {}): Call {
  return Call.parse({
    id: 'call-1',
    customerId: 'cust-1',
    direction: 'inbound',
    startedAt: daysBefore(0.01),
    endedAt: null,
    ...overrides,
  });
}

export function makeVerification(overrides: Partial<CallerVerificationT> = {}): CallerVerificationT {
  return CallerVerification.parse({
    customerId: 'cust-1',
    callId: 'call-1',
    method: 'password',
    verifiedAt: daysBefore(0.005),
    verifiedBy: 'rep@carrier.example',
    ...overrides,
  });
}

export function knownSnapshot(overrides: Partial<Omit<KnownSnapshot, 'state'>> = {}): KnownSnapshot {
  return {
    state: 'known',
    customer: makeCustomer(),
    consents: [],
    call: null,
    verification: null,
    syncedAt: daysBefore(0.01),
    ...overrides,
  };
}

export function unknownSnapshot(why: UnknownWhy = 'not_found'): Snapshot {
  return { state: 'unknown', why, syncedAt: null };
}

export function makeContext(overrides: Partial<ActionContextInput> = {}): ActionContextInput {
  return { role: 'rep', ...overrides };
}

export function makePolicy(overrides: Partial<PolicySettings> = {}): PolicySettings {
  return PolicySettings.parse({ ...DEFAULT_POLICY, ...overrides });
}

export const OPT_OUT_POLICY = makePolicy({ approvalMode: 'opt_out_allowed' });

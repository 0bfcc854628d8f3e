// How the cache stores a customer inside a bucket: positional arrays instead of objects.
// Field names repeated a million times were half of the bytes IndexedDB had to write on a first
// sync (its writes, not our code, are the slowest part). The cache stores it; the backend writes
// it into first-sync bucket pages (lib/bucket-page.ts).
import type { Consent, Customer } from './schemas';

/** The fields packed, in order; test/lib/packing.test.ts checks they cover the schemas. */
export const CUSTOMER_FIELDS = [
  'id',
  'accountNumber',
  'name',
  'crmRefs',
  'phones',
  'emails',
  'addressOfRecord',
  'serviceCategories',
  'business',
  'passwordEstablished',
  'version',
  'updatedAt',
] as const satisfies readonly (keyof Customer)[];

// customerId is left out: a packed consent always belongs to the customer it is packed with.
export const CONSENT_FIELDS = [
  'id',
  'purpose',
  'state',
  'method',
  'scope',
  'callId',
  'capturedBy',
  'capturedAt',
  'noticeVersion',
  'noticeSentAt',
  'noticeMailed',
  'evidence',
  'version',
  'updatedAt',
] as const satisfies readonly (keyof Consent)[];

export type PackedConsent = unknown[];
export type PackedCustomer = [unknown[], PackedConsent[]];

export function packConsent(c: Consent): PackedConsent {
  return CONSENT_FIELDS.map((f) => c[f]);
}

export function unpackConsent(p: PackedConsent, customerId: string): Consent {
  const c: Record<string, unknown> = { customerId };
  CONSENT_FIELDS.forEach((f, i) => (c[f] = p[i]));
  return c as Consent;
}

export function packCustomer(e: { customer: Customer; consents: Consent[] }): PackedCustomer {
  return [CUSTOMER_FIELDS.map((f) => e.customer[f]), e.consents.map(packConsent)];
}

export function unpackCustomer(p: PackedCustomer): { customer: Customer; consents: Consent[] } {
  const c: Record<string, unknown> = {};
  CUSTOMER_FIELDS.forEach((f, i) => (c[f] = p[0][i]));
  const customer = c as Customer;
  return { customer, consents: p[1].map((k) => unpackConsent(k, customer.id)) };
}

/** The id of a packed customer, without unpacking it. */
export const packedId = (p: PackedCustomer) => p[0][0] as string;

// Buckets: how the extension packs a million customers into a few thousand IndexedDB records.
// Customers are bucketed by a hash of their id, identifier keys (CRM ref, account number,
// phone, email) by a hash of the key. The backend stores the same 16-bit hash beside each row,
// so it can serve a first sync bucket range by bucket range (see lib/api.ts, snapshot) and the
// extension writes each bucket once, whole. Both sides must agree on these functions.
import { normalizeEmail, normalizePhone } from './identifiers';
import type { RecordIdentifiers } from './snapshot';

/** FNV-1a over the string's UTF-16 code units: fast, stable, well spread for short ids. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The most buckets a layout can have: 2^16, the hash the backend keeps per row. */
export const MAX_BUCKET_BITS = 16;

/** The 16-bit hash the backend stores (column `bucket`). */
export function bucket16(s: string): number {
  return hash32(s) >>> 16;
}

/** The bucket of `s` in a layout of 2^bits buckets: the top bits of the hash. */
export function bucketOf(s: string, bits: number): number {
  return bits === 0 ? 0 : hash32(s) >>> (32 - bits);
}

/** The range of 16-bit hashes [lo, hi) that make up buckets [from, to) of a 2^bits layout. */
export function bucket16Range(bits: number, from: number, to: number): [number, number] {
  const shift = MAX_BUCKET_BITS - bits;
  return [from << shift, to << shift];
}

/**
 * How many bucket bits suit `customers`: about 64 customers (~80 KB with consents) per bucket,
 * big enough that IndexedDB writes them at full speed, small enough to decode in well under a
 * millisecond for a lookup.
 */
export function suggestBucketBits(customers: number): number {
  let bits = 0;
  while (bits < MAX_BUCKET_BITS && customers / 2 ** bits > 64) bits++;
  return bits;
}

// ---- identifier keys: one string per way a CRM can name a customer ----

// The adapter id is URI-encoded so "crm:<adapter>:<id>" stays unambiguous whatever either part holds.
export const crmKey = (crm: string, id: string) => `crm:${crmPart(crm)}:${id}`;
// A carrier has a few CRMs and a million customers in each: their encoded ids are kept.
const crmParts = new Map<string, string>();
function crmPart(crm: string): string {
  let part = crmParts.get(crm);
  if (part === undefined) {
    part = encodeURIComponent(crm);
    if (crmParts.size < 256) crmParts.set(crm, part);
  }
  return part;
}
export const accountKey = (accountNumber: string) => `acct:${accountNumber.trim()}`;
/** `phone` must already be E.164 (normalizePhone). */
export const phoneKey = (phone: string) => `tel:${phone}`;
export const emailKey = (email: string) => `mail:${normalizeEmail(email)}`;

/** Every identifier key of a customer, without repeats. */
export function customerKeys(c: {
  crmRefs: readonly { crm: string; id: string }[];
  accountNumber: string;
  phones: readonly string[];
  emails: readonly string[];
}): string[] {
  // A handful of keys: an array searched is cheaper than a Set (a first sync makes a million of these).
  const keys: string[] = [];
  const add = (k: string) => {
    if (!keys.includes(k)) keys.push(k);
  };
  for (const r of c.crmRefs) add(crmKey(r.crm, r.id));
  add(accountKey(c.accountNumber));
  for (const p of c.phones) add(phoneKey(p));
  for (const e of c.emails) add(emailKey(e));
  return keys;
}

/** The keys a CRM record's identifiers stand for, in lookup order: CRM ref, account, phones, emails. */
export function recordKeys(ids: RecordIdentifiers): string[] {
  const keys: string[] = [];
  if (ids.crmId) keys.push(crmKey(ids.crm, ids.crmId));
  if (ids.accountNumber?.trim()) keys.push(accountKey(ids.accountNumber));
  for (const raw of ids.phones) {
    const p = normalizePhone(raw);
    if (p) keys.push(phoneKey(p));
  }
  for (const raw of ids.emails) keys.push(emailKey(raw));
  return keys;
}

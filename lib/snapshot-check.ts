// A first sync's pages, checked without zod's cost where they are already in zod's shape.
//
// Why: in an extension zod cannot compile its checks (MV3 forbids eval), and parsing a snapshot
// page with it costs ~25 us a customer with its consents and ~1-2 us an identifier key: about
// 30 s of a million-customer first sync. The backend writes every field of every row, with
// emails already normalized, so a page it sends is exactly what zod would return for it. This
// module accepts only that exact shape, by hand, and hands anything else to the zod schema,
// which then gives the error (or fills the defaults). So a page is never accepted here that zod
// would refuse or change: test/lib/snapshot-check.test.ts holds it to that on mutated pages.
import { z } from 'zod';
import {
  SnapshotCustomersPage,
  SnapshotIdentifiersPage,
  snapshotCustomersProblem,
  snapshotIdentifiersProblem,
  SNAPSHOT_BUILD_ID,
} from './api';
import { MAX_BUCKET_BITS } from './buckets';
import { isE164, normalizeEmail } from './identifiers';
import { ConsentMethod, ConsentPurpose, ConsentScope, ConsentState, ServiceCategory } from './schemas';

/** What `request` needs of a schema: zod's safeParse, or this module's checked form of one. */
export type PageParser<T> = { safeParse(body: unknown): { success: true; data: T } | { success: false; error: z.ZodError } };

// The patterns isoDateTime and Email (lib/schemas.ts) check with; the tests compare them.
const DATETIME = z.regexes.datetime({ offset: true });
const EMAIL = z.regexes.email;
// The schemas' own enums, so a value added there is accepted here too.
const PURPOSES = new Set<string>(ConsentPurpose.options);
const STATES = new Set<string>(ConsentState.options);
const METHODS = new Set<string>(ConsentMethod.options);
const SCOPES = new Set<string>(ConsentScope.options);
const CATEGORIES = new Set<string>(ServiceCategory.options);

type Obj = Record<string, unknown>;

/** A JSON object with exactly `n` keys (zod would drop any other key, so the page would change). */
function objectOf(v: unknown, n: number): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  let keys = 0;
  for (const _ in v) keys++;
  return keys === n;
}
const str = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max;
const strOrNull = (v: unknown, min: number, max: number): boolean => v === null || str(v, min, max);
const datetime = (v: unknown): boolean => typeof v === 'string' && DATETIME.test(v);
const datetimeOrNull = (v: unknown): boolean => v === null || datetime(v);
const count = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
function arrayOf(v: unknown, max: number, each: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v) || v.length > max) return false;
  for (const x of v) if (!each(x)) return false;
  return true;
}
const crmRef = (v: unknown): boolean => objectOf(v, 2) && str(v.crm, 1, 64) && str(v.id, 1, 128);
const phone = (v: unknown): boolean => typeof v === 'string' && isE164(v);
const email = (v: unknown): boolean => typeof v === 'string' && EMAIL.test(v) && normalizeEmail(v) === v;
const addressLine = (v: unknown): boolean => str(v, 1, 200);
const category = (v: unknown): boolean => typeof v === 'string' && CATEGORIES.has(v);

function customer(v: unknown): boolean {
  if (!objectOf(v, 12)) return false;
  const a = v.addressOfRecord;
  const b = v.business;
  return (
    str(v.id, 1, 64) &&
    str(v.accountNumber, 1, 64) &&
    str(v.name, 1, 200) &&
    arrayOf(v.crmRefs, 20, crmRef) &&
    arrayOf(v.phones, 10, phone) &&
    arrayOf(v.emails, 10, email) &&
    (a === null || (objectOf(a, 2) && Array.isArray(a.lines) && a.lines.length >= 1 && arrayOf(a.lines, 6, addressLine) && datetime(a.setAt))) &&
    arrayOf(v.serviceCategories, 3, category) &&
    (b === null ||
      (objectOf(b, 3) && strOrNull(b.dedicatedRep, 1, 200) && strOrNull(b.cpniContractId, 1, 200) && strOrNull(b.cpniContractName, 0, 300))) &&
    typeof v.passwordEstablished === 'boolean' &&
    count(v.version) &&
    datetime(v.updatedAt)
  );
}

function consent(v: unknown): boolean {
  return (
    objectOf(v, 15) &&
    str(v.id, 1, 64) &&
    str(v.customerId, 1, 64) &&
    typeof v.purpose === 'string' &&
    PURPOSES.has(v.purpose) &&
    typeof v.state === 'string' &&
    STATES.has(v.state) &&
    (v.method === null || (typeof v.method === 'string' && METHODS.has(v.method))) &&
    typeof v.scope === 'string' &&
    SCOPES.has(v.scope) &&
    strOrNull(v.callId, 0, 64) &&
    strOrNull(v.capturedBy, 0, 200) &&
    datetimeOrNull(v.capturedAt) &&
    strOrNull(v.noticeVersion, 0, 64) &&
    datetimeOrNull(v.noticeSentAt) &&
    typeof v.noticeMailed === 'boolean' &&
    strOrNull(v.evidence, 0, 2000) &&
    count(v.version) &&
    datetime(v.updatedAt)
  );
}

/** A CustomerEntry exactly as zod returns it (lib/bucket-page.ts checks unpacked bucket customers with it). */
export const customerEntryInShape = (v: unknown): boolean => objectOf(v, 2) && customer(v.customer) && arrayOf(v.consents, Infinity, consent);
const identifierRow = (v: unknown): boolean => Array.isArray(v) && v.length === 2 && str(v[0], 1, 400) && str(v[1], 1, 64);

/** The page's own fields (phase, range, cursor, build), with `extra` keys besides them allowed. */
function pageFields(v: unknown, phase: string, extra: number): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = v as Obj;
  const keys = 7 + (p.build === undefined ? 0 : 1) + extra;
  return (
    objectOf(p, keys) &&
    p.phase === phase &&
    typeof p.bits === 'number' &&
    Number.isInteger(p.bits) &&
    p.bits >= 0 &&
    p.bits <= MAX_BUCKET_BITS &&
    count(p.from) &&
    count(p.to) &&
    typeof p.done === 'boolean' &&
    typeof p.cursor === 'string' &&
    (p.build === undefined || (typeof p.build === 'string' && SNAPSHOT_BUILD_ID.test(p.build))) &&
    Array.isArray(p.buckets)
  );
}

export function customersPageInShape(v: unknown): boolean {
  // `others` (policy, adapters, campaigns) is filled only on the first page; its few rows take zod's path.
  if (!pageFields(v, 'customers', 1) || !Array.isArray(v.others) || v.others.length !== 0) return false;
  for (const bucket of v.buckets as unknown[]) {
    if (!objectOf(bucket, 2) || !count(bucket.b) || !arrayOf(bucket.customers, Infinity, customerEntryInShape)) return false;
  }
  return snapshotCustomersProblem(v as SnapshotCustomersPage) === null;
}

export function identifiersPageInShape(v: unknown): boolean {
  if (!pageFields(v, 'identifiers', 0)) return false;
  for (const bucket of v.buckets as unknown[]) {
    if (!objectOf(bucket, 2) || !count(bucket.b) || !arrayOf(bucket.keys, Infinity, identifierRow)) return false;
  }
  return snapshotIdentifiersProblem(v as SnapshotIdentifiersPage) === null;
}

function checked<T>(schema: PageParser<T>, inShape: (v: unknown) => boolean): PageParser<T> {
  return {
    safeParse(body) {
      if (inShape(body)) return { success: true, data: body as T };
      return schema.safeParse(body);
    },
  };
}

/** SnapshotCustomersPage's parse, by hand for a page already in its shape (see the top). */
export const CheckedSnapshotCustomersPage = checked<SnapshotCustomersPage>(SnapshotCustomersPage, customersPageInShape);
/** SnapshotIdentifiersPage's parse, by hand for a page already in its shape (see the top). */
export const CheckedSnapshotIdentifiersPage = checked<SnapshotIdentifiersPage>(SnapshotIdentifiersPage, identifiersPageInShape);

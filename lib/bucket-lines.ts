// The text of the cache's buckets (entrypoints/background/cache.ts): JSON with one element (or
// member) per line, so a lookup finds the one line it wants and parses only that. The backend
// writes first-sync bucket pages in exactly this text (lib/bucket-page.ts) and the extension
// stores what it received, so both sides make it with these functions: a bucket the extension
// would write differently is refused, never stored.
import { bucket16, customerKeys } from './buckets';
import type { Consent } from './schemas';
import { CONSENT_FIELDS, CUSTOMER_FIELDS, type PackedCustomer } from './packing';

/** A lines bucket's whole text. JSON.stringify never writes a raw newline, so every line starts after one. */
export function linesText(lines: readonly string[], [open, close]: '[]' | '{}'): string {
  return `${open}\n${lines.join(',\n')}\n${close}`;
}

// The bytes of lines buckets that readers find their way by (the cache's line search and scan,
// the bucket page reader's check of identifier buckets).
export const NEWLINE = 10;
export const COMMA = 44;
export const COLON = 58;
export const QUOTE = 34;
export const BACKSLASH = 92;
export const OPEN_BRACKET = 91;
export const CLOSE_BRACKET = 93;
export const OPEN_BRACE = 123;
export const CLOSE_BRACE = 125;

/** FNV-1a over bytes[start, end): over ASCII bytes, lib/buckets.ts hash32 of the same text. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

const at = <F extends string>(fields: readonly F[], f: F) => fields.indexOf(f);
const C = {
  id: at(CUSTOMER_FIELDS, 'id'),
  version: at(CUSTOMER_FIELDS, 'version'),
  accountNumber: at(CUSTOMER_FIELDS, 'accountNumber'),
  crmRefs: at(CUSTOMER_FIELDS, 'crmRefs'),
  phones: at(CUSTOMER_FIELDS, 'phones'),
  emails: at(CUSTOMER_FIELDS, 'emails'),
};
const K = {
  id: at(CONSENT_FIELDS, 'id'),
  version: at(CONSENT_FIELDS, 'version'),
  purpose: at(CONSENT_FIELDS, 'purpose'),
  scope: at(CONSENT_FIELDS, 'scope'),
};

/** A customer's line in a customers bucket: its packed form as JSON. */
export const customerLine = (p: PackedCustomer) => JSON.stringify(p);

/** A consent that approves marketing until revoked: what a list scrub decides on. */
export const isStandingMarketing = (c: Pick<Consent, 'purpose' | 'scope'>) => c.purpose === 'marketing' && c.scope === 'standing';

/**
 * A customer's summary line, from its packed form: [id, version, identifier keys, {consent id:
 * version}, its standing marketing consents packed]. What a list scrub and the counts read,
 * without decoding whole customers. Written as text: building the consent-versions object first
 * gave V8 a new hidden class for every consent id (2.5 million in a first sync).
 */
export function summaryLine(p: PackedCustomer): string {
  const [c, consents] = p;
  let versions = '';
  let approvals = '';
  for (const k of consents) {
    versions += `${versions ? ',' : ''}${JSON.stringify(k[K.id])}:${JSON.stringify(k[K.version])}`;
    if (isStandingMarketing({ purpose: k[K.purpose] as Consent['purpose'], scope: k[K.scope] as Consent['scope'] })) {
      approvals += `${approvals ? ',' : ''}${JSON.stringify(k)}`;
    }
  }
  const keys = customerKeys({
    crmRefs: c[C.crmRefs] as { crm: string; id: string }[],
    accountNumber: c[C.accountNumber] as string,
    phones: c[C.phones] as string[],
    emails: c[C.emails] as string[],
  });
  return `[${JSON.stringify(c[C.id])},${JSON.stringify(c[C.version])},${JSON.stringify(keys)},{${versions}},[${approvals}]]`;
}

/** An identifier bucket: key -> customer id, or ids when the key names several customers. */
export type IdentifierMap = Record<string, string | string[]>;
const own = Object.prototype.hasOwnProperty;
/** The ids an identifier bucket's value lists (absent: none). */
export const idsIn = (v: IdentifierMap[string] | null | undefined): string[] => (v == null ? [] : typeof v === 'string' ? [v] : v);
export const idsOf = (obj: IdentifierMap, key: string) => idsIn(own.call(obj, key) ? obj[key] : undefined);
export function setIds(obj: IdentifierMap, key: string, ids: string[]) {
  if (ids.length === 0) delete obj[key];
  else obj[key] = ids.length === 1 ? ids[0]! : ids;
}
export function addId(obj: IdentifierMap, key: string, id: string) {
  // Nearly every key names one customer: no array for it (a first sync adds 6 million keys).
  if (!own.call(obj, key)) {
    obj[key] = id;
    return;
  }
  const ids = idsOf(obj, key);
  if (!ids.includes(id)) setIds(obj, key, [...ids, id]);
}

/**
 * An identifier bucket's lines from [key, id] rows. The backend reads them in its index order
 * (bucket16 of the key, then the key), where the rows of a key that names several customers are
 * next to each other, so the lines are written in one pass; rows in any other order are grouped
 * through a map first (building that map for 6 million keys cost a first sync ~5 s).
 */
export function identifierLines(keys: readonly (readonly [string, string])[]): string[] {
  const lines: string[] = [];
  let key = '';
  let hash = -1;
  let ids: string | string[] = '';
  for (const [k, id] of keys) {
    const h = bucket16(k);
    if (h === hash && k === key) {
      if (typeof ids === 'string') ids = ids === id ? ids : [ids, id];
      else if (!ids.includes(id)) ids.push(id);
      continue;
    }
    if (h < hash || (h === hash && k < key)) return identifierMapLines(identifierMapOf(keys));
    if (hash !== -1) lines.push(identifierLine(key, ids));
    key = k;
    hash = h;
    ids = id;
  }
  if (hash !== -1) lines.push(identifierLine(key, ids));
  return lines;
}
export const identifierLine = (key: string, ids: string | string[]) => `${JSON.stringify(key)}:${JSON.stringify(ids)}`;
function identifierMapOf(keys: readonly (readonly [string, string])[]): IdentifierMap {
  // No prototype: a key spelled "__proto__" is a key like any other (as the one-pass path keeps it).
  const obj: IdentifierMap = Object.create(null) as IdentifierMap;
  for (const [key, id] of keys) addId(obj, key, id);
  return obj;
}
export function identifierMapLines(obj: IdentifierMap): string[] {
  const lines: string[] = [];
  for (const k in obj) lines.push(identifierLine(k, obj[k]!));
  return lines;
}

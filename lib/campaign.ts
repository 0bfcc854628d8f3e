// Marketing campaigns (policy §7, §9; 64.2009(c),(d)), pure: the contract of a campaign record
// and its scrub summary, who may do what to a campaign in which state, the scrub's per-row
// decision, and a small streaming CSV reader/writer for audience lists. No browser or Node
// imports: the backend, the background, the campaigns page and the scrub worker share it.
import { z } from 'zod';
import { effectiveConsent } from './consent';
import { otherMarketingReason, otherMarketingRule } from './policy';
import { normalizeEmail, normalizePhone, looksLikeEmail } from './identifiers';
import {
  Campaign,
  CampaignStatus,
  isoDate,
  isoDateTime,
  type PolicySettings,
  type Role,
  type RuleId,
} from './schemas';
import type { ActionContext, RecordIdentifiers } from './snapshot';
import type { Consent } from './schemas';

// ---------------------------------------------------------------------------------------------
// Contract
// ---------------------------------------------------------------------------------------------

/** Campaign records are kept at least 1 year after their last change (RETENTION, policy §7, §9). */
export const CAMPAIGN_RETENTION_YEARS = 1;

/** What a marketer fills in to register a campaign (policy §7: description, CPNI used, products). */
export const CampaignCreate = z.object({
  name: z.string().trim().min(1, 'name is required').max(200),
  description: z.string().trim().min(1, 'description is required').max(4000),
  cpniUsed: z.array(z.string().trim().min(1).max(200)).max(50).default([]),
  productsOffered: z.array(z.string().trim().min(1).max(200)).min(1, 'name at least one product or service offered').max(50),
  channel: Campaign.shape.channel,
  startsAt: isoDate,
  endsAt: isoDate.nullable().default(null),
  solicitsApproval: z.boolean().default(false),
});
export type CampaignCreate = z.infer<typeof CampaignCreate>;
export type CampaignCreateInput = z.input<typeof CampaignCreate>;

/** The counts and time of the last list scrub, recorded on the campaign. */
export const ScrubSummary = z.object({
  total: z.number().int().nonnegative(), // data rows read (header and blank lines excluded)
  allowed: z.number().int().nonnegative(),
  blocked: z.number().int().nonnegative(),
  unknown: z.number().int().nonnegative(),
  malformed: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  fileName: z.string().max(300).nullable().default(null),
});
export type ScrubSummary = z.infer<typeof ScrubSummary>;

/** The backend's full record: the synced Campaign plus who submitted it and the last scrub. */
export const CampaignRecord = Campaign.extend({
  createdAt: isoDateTime,
  submittedBy: z.string().nullable().default(null),
  submittedAt: isoDateTime.nullable().default(null),
  scrub: ScrubSummary.extend({ by: z.string(), at: isoDateTime }).nullable().default(null),
});
export type CampaignRecord = z.infer<typeof CampaignRecord>;

export const CampaignDecisionRequest = z.object({
  decision: z.enum(['approve', 'reject']),
  comment: z.string().trim().max(2000).default(''),
});
export type CampaignDecisionRequest = z.input<typeof CampaignDecisionRequest>;

export const CampaignListQuery = z.object({
  q: z.string().max(200).optional(),
  status: CampaignStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
export type CampaignListQuery = z.infer<typeof CampaignListQuery>;
export const CampaignListResponse = z.object({ campaigns: z.array(CampaignRecord) });

// ---- approval-mechanism failures (policy §12; 64.2009(f)) ----
export const ApprovalFailureCreate = z.object({
  mechanism: z.enum(['opt_in', 'opt_out']),
  description: z.string().trim().min(1, 'describe the failure').max(4000),
  occurredAt: isoDateTime,
});
export type ApprovalFailureCreate = z.infer<typeof ApprovalFailureCreate>;
export const ApprovalFailure = ApprovalFailureCreate.extend({
  id: z.string(),
  recordedBy: z.string(),
  recordedAt: isoDateTime,
  noticeDue: isoDate, // 5 business days after it was recorded, federal holidays counted
  noticeSentAt: isoDateTime.nullable(),
  noticeSentBy: z.string().nullable(),
});
export type ApprovalFailure = z.infer<typeof ApprovalFailure>;
export const ApprovalFailureList = z.object({ failures: z.array(ApprovalFailure) });

// ---------------------------------------------------------------------------------------------
// Who may do what (the state machine)
// ---------------------------------------------------------------------------------------------

export const CAMPAIGN_CREATE_ROLES: readonly Role[] = ['marketing'];
export const CAMPAIGN_SUBMIT_ROLES: readonly Role[] = ['marketing'];
export const CAMPAIGN_DECIDE_ROLES: readonly Role[] = ['counsel']; // policy §9: General Counsel
export const CAMPAIGN_READ_ROLES: readonly Role[] = ['marketing', 'counsel', 'manager', 'admin'];
export const CAMPAIGN_SCRUB_ROLES: readonly Role[] = ['marketing'];
export const CAMPAIGN_DELETE_ROLES: readonly Role[] = ['admin'];
export const FAILURE_WRITE_ROLES: readonly Role[] = ['manager'];
export const FAILURE_READ_ROLES: readonly Role[] = ['manager', 'counsel', 'admin'];

export interface Actor {
  email: string;
  role: Role;
}

export type CampaignCommand =
  | { kind: 'submit' }
  | { kind: 'approve'; comment?: string }
  | { kind: 'reject'; comment?: string };

export type TransitionRefusal = { ok: false; code: 'forbidden' | 'conflict' | 'invalid'; message: string };
export type TransitionResult = { ok: true; next: CampaignRecord; from: CampaignRecord['status'] } | TransitionRefusal;

const roleList = (roles: readonly Role[]) => roles.join(', ');

/**
 * Applies one command to a campaign, or says why it may not. Pure; the caller stores `next`
 * (version bumped, updatedAt = now) and writes the audit event.
 *   draft | rejected --submit (marketing)--> submitted
 *   submitted --approve (counsel, not the owner or submitter)--> approved
 *   submitted --reject (counsel, not the owner or submitter, comment required)--> rejected
 */
export function transitionCampaign(c: CampaignRecord, cmd: CampaignCommand, actor: Actor, now: Date): TransitionResult {
  const at = now.toISOString();
  const bump = (patch: Partial<CampaignRecord>): CampaignRecord => ({ ...c, ...patch, version: c.version + 1, updatedAt: at });
  switch (cmd.kind) {
    case 'submit': {
      if (!CAMPAIGN_SUBMIT_ROLES.includes(actor.role)) {
        return refuse('forbidden', `Only ${roleList(CAMPAIGN_SUBMIT_ROLES)} may submit a campaign; you are ${actor.role}.`);
      }
      if (c.status !== 'draft' && c.status !== 'rejected') {
        return refuse('conflict', `Campaign "${c.name}" is ${c.status}; only a draft or rejected campaign can be submitted.`);
      }
      return {
        ok: true,
        from: c.status,
        next: bump({ status: 'submitted', submittedBy: actor.email, submittedAt: at, decidedBy: null, decidedAt: null, decisionComment: null }),
      };
    }
    case 'approve':
    case 'reject': {
      if (!CAMPAIGN_DECIDE_ROLES.includes(actor.role)) {
        return refuse(
          'forbidden',
          `Only the General Counsel (${roleList(CAMPAIGN_DECIDE_ROLES)} role) may approve or reject a campaign (policy §9); you are ${actor.role}.`,
        );
      }
      const self = actor.email.toLowerCase();
      if (c.owner.toLowerCase() === self || (c.submittedBy ?? '').toLowerCase() === self) {
        return refuse('forbidden', `Nobody may approve or reject their own campaign: "${c.name}" is yours.`);
      }
      if (c.status !== 'submitted') {
        return refuse('conflict', `Campaign "${c.name}" is ${c.status}; only a submitted campaign can be approved or rejected.`);
      }
      const comment = (cmd.comment ?? '').trim();
      if (cmd.kind === 'reject' && !comment) {
        return refuse('invalid', 'A rejection needs a comment saying what to change.');
      }
      return {
        ok: true,
        from: c.status,
        next: bump({
          status: cmd.kind === 'approve' ? 'approved' : 'rejected',
          decidedBy: actor.email,
          decidedAt: at,
          decisionComment: comment || null,
        }),
      };
    }
  }
}

function refuse(code: TransitionRefusal['code'], message: string): TransitionRefusal {
  return { ok: false, code, message };
}

/** A new campaign record, owned by the marketer who registers it. */
export function newCampaign(id: string, input: CampaignCreate, owner: string, now: Date): CampaignRecord {
  const at = now.toISOString();
  return {
    id,
    ...input,
    owner,
    status: 'draft',
    decidedBy: null,
    decidedAt: null,
    decisionComment: null,
    scrubbedAt: null,
    version: 1,
    updatedAt: at,
    createdAt: at,
    submittedBy: null,
    submittedAt: null,
    scrub: null,
  };
}

/** Records a finished scrub; sets scrubbedAt. */
export function recordScrub(c: CampaignRecord, summary: ScrubSummary, actor: Actor, now: Date): TransitionResult {
  if (!CAMPAIGN_SCRUB_ROLES.includes(actor.role)) {
    return refuse('forbidden', `Only ${roleList(CAMPAIGN_SCRUB_ROLES)} may record a list scrub; you are ${actor.role}.`);
  }
  const counted = summary.allowed + summary.blocked + summary.unknown + summary.malformed;
  if (counted !== summary.total) {
    return refuse('invalid', `The scrub counts add up to ${counted}, not the ${summary.total} rows read.`);
  }
  const at = now.toISOString();
  return {
    ok: true,
    from: c.status,
    next: { ...c, scrubbedAt: at, scrub: { ...summary, by: actor.email, at }, version: c.version + 1, updatedAt: at },
  };
}

/** The date before which a campaign record may not be deleted (1 year after its last change). */
export function campaignKeepUntil(c: Pick<CampaignRecord, 'updatedAt'>): Date {
  const d = new Date(c.updatedAt);
  d.setUTCFullYear(d.getUTCFullYear() + CAMPAIGN_RETENTION_YEARS);
  return d;
}

/** The synced shape (what extensions cache), from the backend's record. */
export function toSyncedCampaign(c: CampaignRecord): Campaign {
  const { createdAt: _c, submittedBy: _s, submittedAt: _a, scrub: _x, ...rest } = c;
  return rest;
}

/** What the guard passes to decide() for a launch control naming this campaign. */
export function campaignContext(id: string, c: Campaign | null): NonNullable<ActionContext['campaign']> {
  if (!c) return { id, status: 'unknown', scrubbed: false, usesCpni: true };
  return { id, name: c.name, status: c.status, scrubbed: c.scrubbedAt !== null, usesCpni: c.cpniUsed.length > 0 };
}

/** Case-insensitive match on id, name, description, owner, CPNI used and products. */
export function campaignMatches(c: CampaignRecord, q: string): boolean {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  return [c.id, c.name, c.description, c.owner, c.channel, ...c.cpniUsed, ...c.productsOffered].some((s) =>
    s.toLowerCase().includes(needle),
  );
}

// ---------------------------------------------------------------------------------------------
// Scrub: header detection, row parsing, per-row decision
// ---------------------------------------------------------------------------------------------

export type ColumnKind = 'customerId' | 'accountNumber' | 'phone' | 'email';
export type ColumnMap = Partial<Record<ColumnKind, number>>;

const HEADER_NAMES: Record<ColumnKind, readonly string[]> = {
  customerId: ['customer id', 'customerid', 'customer', 'crm id', 'crmid', 'contact id', 'contactid', 'id', 'customer number', 'cust id'],
  accountNumber: ['account number', 'account', 'account no', 'account num', 'acct', 'acct number', 'acct no', 'ban'],
  phone: ['phone', 'phone number', 'telephone', 'telephone number', 'tel', 'mobile', 'mobile number', 'cell', 'msisdn', 'tn'],
  email: ['email', 'e-mail', 'email address', 'e-mail address', 'mail'],
};

const normHeader = (h: string) =>
  h
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase()
    .replace(/[_.#]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** Finds the identifier columns in a header row; null when it names none of them. */
export function detectColumns(header: readonly string[]): ColumnMap | null {
  const map: ColumnMap = {};
  header.forEach((raw, i) => {
    const h = normHeader(raw);
    for (const kind of Object.keys(HEADER_NAMES) as ColumnKind[]) {
      if (map[kind] === undefined && HEADER_NAMES[kind].includes(h)) map[kind] = i;
    }
  });
  return Object.keys(map).length ? map : null;
}

export const COLUMN_LABELS: Record<ColumnKind, string> = {
  customerId: 'customer / CRM id',
  accountNumber: 'account number',
  phone: 'phone',
  email: 'email',
};

export type RowParse = { ok: true; identifiers: RecordIdentifiers } | { ok: false; problem: string };

// One empty list for every row without a phone or an email: a million-row list holds a million
// rows' identifiers at once. Frozen, so no one can add to it (the type cannot say so).
const NONE = Object.freeze([]) as unknown as string[];

/**
 * `s` as a string of its own. CsvReader's fields are slices of the text chunk they came from, and
 * V8 keeps a slice of 13 characters or more as a view of the whole chunk: an identifier held
 * until its batch is decided would hold its 64 KB chunk with it, the whole file for a big list.
 */
const owned = (s: string) => (s.length < 13 ? s : (' ' + s).slice(1));

/** One data row -> identifiers to look up, or why the row cannot be used. */
export function rowIdentifiers(fields: readonly string[], columns: ColumnMap, width: number, crm: string): RowParse {
  if (fields.length !== width) {
    return { ok: false, problem: `has ${fields.length} field${fields.length === 1 ? '' : 's'}; the header has ${width}` };
  }
  const get = (k: ColumnKind) => (columns[k] === undefined ? '' : (fields[columns[k]!] ?? '').trim());
  const id = get('customerId');
  const account = get('accountNumber');
  const phoneRaw = get('phone');
  const emailRaw = get('email');
  if (!id && !account && !phoneRaw && !emailRaw) return { ok: false, problem: 'has no customer id, account number, phone or email' };
  if (id.length > 128) return { ok: false, problem: 'customer id is longer than 128 characters' };
  if (account.length > 64) return { ok: false, problem: 'account number is longer than 64 characters' };
  let phone: string | null = null;
  if (phoneRaw) {
    phone = normalizePhone(phoneRaw);
    if (!phone) return { ok: false, problem: `phone "${phoneRaw.slice(0, 40)}" is not a telephone number` };
  }
  let email: string | null = null;
  if (emailRaw) {
    if (emailRaw.length > 200 || !looksLikeEmail(emailRaw)) return { ok: false, problem: `email "${emailRaw.slice(0, 60)}" is not an email address` };
    email = normalizeEmail(emailRaw);
  }
  return {
    ok: true,
    identifiers: {
      crm,
      crmId: id ? owned(id) : null,
      accountNumber: account ? owned(account) : null,
      phones: phone ? [owned(phone)] : NONE,
      emails: email ? [owned(email)] : NONE,
    },
  };
}

/**
 * A row's verdict. `reason`: why a row is blocked or unknown, as blocked.csv gives it; empty for an
 * allowed row (allowed.csv has no reason column, and writing ~270,000 unused reasons cost a
 * million-row scrub time and memory).
 */
export type RowVerdict =
  | { verdict: 'allowed'; ruleIds: RuleId[]; reason: '' }
  | { verdict: 'blocked'; ruleIds: RuleId[]; reason: string }
  | { verdict: 'unknown'; ruleIds: RuleId[]; reason: string };

/**
 * What a list scrub knows of a matched customer: its standing marketing consents. decide() for
 * 'marketing.other_category' without a call reads nothing else of the customer (one-time consents
 * need a call; categories matter only for same-category marketing), so the cache can answer a
 * million rows from compact summaries instead of whole customers.
 */
export interface MarketingApprovals {
  customerId: string;
  consents: Consent[];
}

const UNKNOWN_ROW: RowVerdict = {
  verdict: 'unknown',
  ruleIds: ['UNKNOWN_STATUS'],
  reason: 'No customer in the CPNI Guard cache matches this row (or the identifier names more than one customer)',
};

/**
 * decide('marketing.other_category') for the marketing role, per row of a list scrub at one
 * `now` (unknown when no one customer matched). Without a call that decision reads only the
 * customer's governing standing marketing consent and gives one reason (otherMarketingReason),
 * so a row costs finding that consent and writing its proof (date, method, notice, rep), about
 * two microseconds: a memo of whole decisions cannot help real lists, whose consents each carry
 * their own capture time and rep, which the reason names.
 */
export function createScrubDecider(policy: PolicySettings, now: Date): (found: MarketingApprovals | null) => RowVerdict {
  const ruleIdsOf = new Map<RuleId, RuleId[]>(); // one array per rule, shared by the rows
  const allowedOf = new Map<RuleId, RowVerdict>(); // one allowed verdict per rule, shared too
  const ruleIdsFor = (ruleId: RuleId) => {
    let ruleIds = ruleIdsOf.get(ruleId);
    if (!ruleIds) ruleIdsOf.set(ruleId, (ruleIds = [ruleId]));
    return ruleIds;
  };
  return (found) => {
    if (!found) return UNKNOWN_ROW;
    const e = effectiveConsent(found.consents, found.customerId, 'marketing', policy, now, null);
    if (e.grants) {
      const ruleId = otherMarketingRule(e);
      let allowed = allowedOf.get(ruleId);
      if (!allowed) allowedOf.set(ruleId, (allowed = { verdict: 'allowed', ruleIds: ruleIdsFor(ruleId), reason: '' }));
      return allowed;
    }
    const { ruleId, text: reason } = otherMarketingReason(e, null);
    // Reading a character makes V8 store the text as one string instead of the tree of the pieces
    // it was joined from: a million kept verdicts took 336 MB as trees and 151 MB flat, and the
    // garbage collector's time with them.
    reason.charCodeAt(0);
    return { verdict: 'blocked', ruleIds: ruleIdsFor(ruleId), reason };
  };
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180): a streaming reader fed chunk by chunk, and a writer
// ---------------------------------------------------------------------------------------------

export interface CsvRecord {
  /** 1-based line number where the record starts. */
  line: number;
  fields: string[];
}
export interface CsvProblem {
  line: number;
  problem: string;
}

// Char codes the reader and writer look for
const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const PLUS = 43;
const COMMA = 44;
const MINUS = 45;
const EQUALS = 61;
const AT = 64;
const DEL = 127;

/**
 * A streaming CSV reader: push text chunks in any sizes; records come out as they complete.
 * Handles quoted fields with commas, doubled quotes and line breaks, CRLF/LF/CR line ends and
 * a leading BOM. Blank lines are skipped (but counted, so line numbers match an editor's).
 * A quote inside an unquoted field, or text after a closing quote, is a malformed record.
 *
 * It takes text a run at a time (up to the next , CR LF or quote), one slice per run, rather
 * than a character at a time: a million-row list read in a fraction of the time.
 */
export class CsvReader {
  private field = '';
  private fields: string[] = [];
  private inQuotes = false;
  private afterQuote = false;
  /** A quoted field's quote ended the last chunk: the closing quote, or the first of a "". */
  private pendingQuote = false;
  /** A quoted field's CR ended the last chunk: it counts as a line unless an LF comes next. */
  private quotedCR = false;
  private line = 1;
  private recordLine = 1;
  private bad: string | null = null;
  private prevCR = false;
  private started = false;
  private any = false; // the current record has any character
  static readonly MAX_FIELD = 10_000;

  constructor(
    private readonly onRecord: (r: CsvRecord) => void,
    private readonly onProblem: (p: CsvProblem) => void,
  ) {}

  push(chunk: string): void {
    let i = 0;
    const n = chunk.length;
    if (n === 0) return;
    if (!this.started) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    if (this.quotedCR) {
      // A CR that ended the last chunk inside a quoted field: one line with an LF after it.
      this.quotedCR = false;
      if (chunk.charCodeAt(i) !== LF) this.line++;
    }
    while (i < n) {
      if (this.prevCR) {
        this.prevCR = false;
        if (chunk.charCodeAt(i) === LF) {
          i++; // CRLF: the CR already ended the record
          continue;
        }
      }
      if (this.inQuotes) {
        i = this.quoted(chunk, i);
        continue;
      }
      if (this.pendingQuote) {
        this.pendingQuote = false;
        if (chunk.charCodeAt(i) === QUOTE) {
          // "" split across chunks: a literal quote, still inside the quoted field
          this.field += '"';
          this.inQuotes = true;
          this.afterQuote = false;
          i++;
          continue;
        }
      }
      // Unquoted text up to the next , CR LF or quote (usually a whole field)
      let j = i;
      for (; j < n; j++) {
        const c = chunk.charCodeAt(j);
        if (c <= COMMA && (c === COMMA || c === LF || c === CR || c === QUOTE)) break;
      }
      if (j > i) {
        this.any = true;
        if (this.afterQuote) this.bad ??= 'has text after a closing quote';
        this.append(chunk, i, j);
      }
      if (j === n) return; // the field goes on in the next chunk
      const c = chunk.charCodeAt(j);
      i = j + 1;
      if (c === COMMA) {
        this.fields.push(this.field);
        this.field = '';
        this.afterQuote = false;
        this.any = true;
      } else if (c === QUOTE) {
        this.any = true;
        if (this.field === '' && !this.afterQuote) this.inQuotes = true;
        else this.bad ??= 'has a stray quote (") inside a field';
      } else {
        this.endRecord();
        this.line++;
        this.recordLine = this.line;
        if (c === CR) this.prevCR = true;
      }
    }
  }

  /** Inside a quoted field at chunk[i]: takes the text up to the next quote; returns where to go on. */
  private quoted(chunk: string, i: number): number {
    const n = chunk.length;
    let q = chunk.indexOf('"', i);
    if (q === -1) q = n;
    for (let k = i; k < q; k++) {
      // A CR counts as a line unless an LF follows it; at the chunk's end the next chunk says.
      const c = chunk.charCodeAt(k);
      if (c === LF) this.line++;
      else if (c === CR) {
        if (k + 1 === n) this.quotedCR = true;
        else if (chunk.charCodeAt(k + 1) !== LF) this.line++;
      }
    }
    this.append(chunk, i, q);
    if (q === n) return n;
    if (chunk.charCodeAt(q + 1) === QUOTE) {
      this.field += '"';
      return q + 2;
    }
    this.inQuotes = false;
    this.afterQuote = true;
    if (q + 1 === n) this.pendingQuote = true; // the next chunk decides
    return q + 1;
  }

  /** Adds chunk[from, to) to the field, which keeps at most MAX_FIELD characters. */
  private append(chunk: string, from: number, to: number): void {
    if (to === from) return;
    const room = CsvReader.MAX_FIELD - this.field.length;
    if (to - from > room) {
      this.bad ??= `a field is longer than ${CsvReader.MAX_FIELD} characters`;
      to = from + Math.max(room, 0);
    }
    this.field += chunk.slice(from, to);
  }

  /** End of input: flushes the last record; an open quote is reported. */
  end(): void {
    this.pendingQuote = false;
    if (this.quotedCR) this.line++; // the text ended after it
    this.quotedCR = false;
    if (this.inQuotes) {
      this.onProblem({ line: this.recordLine, problem: 'has a quoted field that is never closed' });
      this.reset();
      return;
    }
    this.endRecord();
  }

  private endRecord(): void {
    if (!this.any && this.field === '' && this.fields.length === 0) {
      this.reset();
      return; // blank line
    }
    this.fields.push(this.field);
    if (this.bad) this.onProblem({ line: this.recordLine, problem: this.bad });
    else this.onRecord({ line: this.recordLine, fields: this.fields });
    this.reset();
  }

  private reset(): void {
    this.field = '';
    this.fields = [];
    this.afterQuote = false;
    this.bad = null;
    this.any = false;
  }
}

/** Reads a whole CSV string (tests, small files). */
export function parseCsv(text: string, chunkSize = Infinity): { records: CsvRecord[]; problems: CsvProblem[] } {
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  const r = new CsvReader((x) => records.push(x), (p) => problems.push(p));
  if (chunkSize === Infinity) r.push(text);
  else for (let i = 0; i < text.length; i += chunkSize) r.push(text.slice(i, i + chunkSize));
  r.end();
  return { records, problems };
}

/** One CSV line (CRLF-terminated, RFC 4180); fields with , " CR LF or edge spaces are quoted. */
export function csvLine(fields: readonly (string | number)[]): string {
  return csvFields(fields) + '\r\n';
}

/** The fields of one CSV line, without its line end. */
export function csvFields(fields: readonly (string | number)[]): string {
  return fields.map(csvField).join(',');
}

// csvField looks at char codes rather than running regexes: it runs for every field of every
// row of a list, a million rows and more.
export function csvField(v: string | number): string {
  let s = String(v);
  if (s === '') return s;
  // A leading = + - @ would run as a formula in a spreadsheet: prefix a quote mark (OWASP).
  const first = s.charCodeAt(0);
  const formula = first === EQUALS || first === PLUS || first === MINUS || first === AT || first === TAB || first === CR;
  if (formula && !/^[+-]?\d[\d\s().-]*$/.test(s)) s = `'${s}`;
  if (!needsQuotes(s)) return s;
  return s.includes('"') ? `"${s.replace(/"/g, '""')}"` : `"${s}"`;
}

/** Whether a CSV field has , " CR LF, or whitespace (as the regex \s) at either end. */
function needsQuotes(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= COMMA && (c === COMMA || c === QUOTE || c === CR || c === LF)) return true;
  }
  return isSpace(s.charCodeAt(0)) || isSpace(s.charCodeAt(s.length - 1));
}

function isSpace(c: number): boolean {
  if (c > SPACE && c < DEL) return false; // printable ASCII, the usual case
  return c === SPACE || (c >= TAB && c <= CR) || (c > DEL && /\s/.test(String.fromCharCode(c)));
}

const utf8 = new TextEncoder();

/**
 * CSV kept as UTF-8 bytes in chunks of about a megabyte, for a Blob. Text comes in as pieces
 * (lines, or the parts of one), and 16,384 pieces at a time are joined and encoded into the
 * current chunk: a Blob of a million-row scrub's 145 MB as strings took ~2.5 s here (the
 * browser's own UTF-8 encoding), of bytes ~0.5 s; TextEncoder.encodeInto on a long string is
 * fast, on each short one slow.
 */
export class CsvBytes {
  private readonly full: Uint8Array<ArrayBuffer>[] = [];
  private buf = new Uint8Array(0); // the first chunk is made by the first write
  private at = 0;
  private pieces: string[] = [];

  constructor(private readonly chunkSize = 1 << 20) {}

  /** Adds one line, as csvLine(fields). */
  line(fields: readonly (string | number)[]): void {
    this.written(csvLine(fields));
  }

  /**
   * Adds text already written as CSV: a whole line, its line end included, or the next piece of
   * one (a row written as its pieces leaves no line string behind for the garbage collector). A
   * piece ends on a whole character: the two halves of a surrogate pair go in one piece.
   */
  written(text: string): void {
    this.pieces.push(text);
    if (this.pieces.length === 16384) this.encode();
  }

  /** Everything written so far, in order. */
  chunks(): Uint8Array<ArrayBuffer>[] {
    this.encode();
    return this.at ? [...this.full, this.buf.subarray(0, this.at)] : [...this.full];
  }

  private encode(): void {
    let text = this.pieces.join('');
    this.pieces = [];
    while (text) {
      // encodeInto stops before a character that does not fit whole (up to 4 bytes)
      if (this.buf.length - this.at < 4) this.nextChunk();
      const { read, written } = utf8.encodeInto(text, this.buf.subarray(this.at));
      this.at += written;
      text = read < text.length ? text.slice(read) : '';
      if (text) this.nextChunk();
    }
  }

  private nextChunk(): void {
    if (this.at) this.full.push(this.buf.subarray(0, this.at));
    this.buf = new Uint8Array(Math.max(this.chunkSize, 4));
    this.at = 0;
  }
}

/** Columns blocked.csv adds after the original ones. */
export const BLOCKED_EXTRA_COLUMNS = ['cpni_status', 'cpni_rule_ids', 'cpni_reason', 'source_line'] as const;

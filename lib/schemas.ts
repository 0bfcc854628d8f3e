// The CPNI domain, described once with zod. Every boundary (backend responses, messages,
// imports, request bodies) parses with these; types are inferred from them.
import { z } from 'zod';
import { isE164, normalizeEmail } from './identifiers';

export const isoDateTime = z.iso.datetime({ offset: true });
export const isoDate = z.iso.date();

export const ROLES = ['rep', 'marketing', 'manager', 'counsel', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

// 64.2005(a): the three service categories a customer can buy.
export const ServiceCategory = z.enum(['local', 'interexchange', 'wireless']);
export type ServiceCategory = z.infer<typeof ServiceCategory>;

export const E164 = z.string().refine(isE164, 'phone must be E.164, e.g. +14075550100');
export const Email = z
  .string()
  .email()
  .transform((s) => normalizeEmail(s));

export const CrmRef = z.object({
  crm: z.string().min(1).max(64), // adapter id, e.g. "demo-crm", "salesforce"
  id: z.string().min(1).max(128),
});
export type CrmRef = z.infer<typeof CrmRef>;

export const AddressOfRecord = z.object({
  lines: z.array(z.string().min(1).max(200)).min(1).max(6),
  // 64.2010(b): an address changed within the last 30 days does not qualify for call detail.
  setAt: isoDateTime,
});
export type AddressOfRecord = z.infer<typeof AddressOfRecord>;

// 64.2010(g), policy §11: business customers with a dedicated account rep and a contract
// addressing CPNI may authenticate as the contract says.
export const BusinessAccount = z.object({
  dedicatedRep: z.string().min(1).max(200).nullable(),
  cpniContractId: z.string().min(1).max(200).nullable(),
  cpniContractName: z.string().max(300).nullable().default(null),
});
export type BusinessAccount = z.infer<typeof BusinessAccount>;

export const Customer = z.object({
  id: z.string().min(1).max(64),
  accountNumber: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  crmRefs: z.array(CrmRef).max(20).default([]),
  phones: z.array(E164).max(10).default([]), // numbers of record
  emails: z.array(Email).max(10).default([]),
  addressOfRecord: AddressOfRecord.nullable().default(null),
  serviceCategories: z.array(ServiceCategory).max(3).default([]),
  business: BusinessAccount.nullable().default(null),
  // The password itself never leaves the backend; the extension only knows one exists.
  passwordEstablished: z.boolean().default(false),
  version: z.number().int().nonnegative().default(0),
  updatedAt: isoDateTime,
});
export type Customer = z.infer<typeof Customer>;
export type CustomerInput = z.input<typeof Customer>;

// What an approval covers. `marketing` is use of CPNI to market outside the categories the
// customer already buys (64.2007); `third_party` is disclosure to joint venturers and
// independent contractors (policy §4); `new_carrier` is release to a new carrier (policy §5).
export const ConsentPurpose = z.enum(['marketing', 'third_party', 'new_carrier']);
export type ConsentPurpose = z.infer<typeof ConsentPurpose>;

export const CONSENT_STATES = [
  'none', // no notice given
  'pending', // opt-out notice sent, waiting period running (64.2008(d))
  'opt_out_effective',
  'opt_in',
  'denied',
  'revoked',
] as const;
export const ConsentState = z.enum(CONSENT_STATES);
export type ConsentState = z.infer<typeof ConsentState>;

export const ConsentMethod = z.enum(['written', 'oral', 'electronic']);
export type ConsentMethod = z.infer<typeof ConsentMethod>;

// 'standing' lasts until revoked or limited (policy §7A); 'call' is one-time oral consent
// that covers one call only (64.2008(f)).
export const ConsentScope = z.enum(['standing', 'call']);

export const Consent = z.object({
  id: z.string().min(1).max(64),
  customerId: z.string().min(1).max(64),
  purpose: ConsentPurpose,
  state: ConsentState,
  method: ConsentMethod.nullable().default(null),
  scope: ConsentScope.default('standing'),
  callId: z.string().max(64).nullable().default(null),
  capturedBy: z.string().max(200).nullable().default(null),
  capturedAt: isoDateTime.nullable().default(null),
  noticeVersion: z.string().max(64).nullable().default(null),
  // For opt-out: when the notice went out and how (mailed notices wait 33 days, 64.2008(d)).
  noticeSentAt: isoDateTime.nullable().default(null),
  noticeMailed: z.boolean().default(false),
  evidence: z.string().max(2000).nullable().default(null),
  version: z.number().int().nonnegative().default(0),
  updatedAt: isoDateTime,
});
export type Consent = z.infer<typeof Consent>;
export type ConsentInput = z.input<typeof Consent>;

export const VerificationMethod = z.enum([
  'password',
  'callback_number_of_record',
  'address_of_record',
  'business_contract',
]);
export type VerificationMethod = z.infer<typeof VerificationMethod>;

export const CallDirection = z.enum(['inbound', 'outbound']);
export const Call = z.object({
  id: z.string().min(1).max(64),
  customerId: z.string().min(1).max(64),
  direction: CallDirection,
  startedAt: isoDateTime,
  endedAt: isoDateTime.nullable().default(null),
});
export type Call = z.infer<typeof Call>;

export const CallerVerification = z.object({
  customerId: z.string(),
  callId: z.string(),
  method: VerificationMethod,
  verifiedAt: isoDateTime,
  verifiedBy: z.string(),
});
export type CallerVerification = z.infer<typeof CallerVerification>;

// Every action the guard decides. An adapter maps CRM controls to these.
export const ACTIONS = [
  'service',
  'marketing.same_category',
  'marketing.other_category',
  'marketing.adjunct_to_basic',
  'marketing.launch_campaign',
  'disclose.call_detail',
  'disclose.third_party',
  'disclose.new_carrier',
  'export.list',
  'account.change',
  'sell',
] as const;
export const ActionKind = z.enum(ACTIONS);
export type ActionKind = z.infer<typeof ActionKind>;

export const RULE_IDS = [
  'PERMITTED_USE',
  'SAME_CATEGORY',
  'APPROVAL_REQUIRED',
  'ONE_TIME_CONSENT',
  'THIRD_PARTY',
  'NEW_CARRIER',
  'NO_SALE',
  'EXPORT_CONTROL',
  'CAMPAIGN_RECORD',
  'SUPERVISORY_APPROVAL',
  'CALL_DETAIL_AUTH',
  'BUSINESS_EXEMPTION',
  'ACCOUNT_CHANGE_NOTICE',
  'BREACH',
  'OPT_IN_FAILURE',
  'RETENTION',
  'UNKNOWN_STATUS',
] as const;
export const RuleId = z.enum(RULE_IDS);
export type RuleId = z.infer<typeof RuleId>;

export const Verdict = z.enum(['allow', 'block']);
export type Verdict = z.infer<typeof Verdict>;

export const Reason = z.object({
  ruleId: RuleId,
  citation: z.string(),
  text: z.string(),
});
export type Reason = z.infer<typeof Reason>;

export const Remedy = z.object({
  id: z.string(), // stable id the UI can act on, e.g. "verify.password", "consent.capture"
  text: z.string(),
});
export type Remedy = z.infer<typeof Remedy>;

export const Decision = z.object({
  verdict: Verdict,
  reasons: z.array(Reason),
  remedies: z.array(Remedy),
});
export type Decision = z.infer<typeof Decision>;

export const PolicySettings = z.object({
  // The carrier uses opt-in for every approval (policy §7A); opt-out is allowed by 64.2007(b)
  // only for the carrier's own communications-related marketing.
  approvalMode: z.enum(['opt_in_only', 'opt_out_allowed']).default('opt_in_only'),
  exportRoles: z.array(Role).default(['manager', 'marketing', 'admin']),
  // FCC 23-111 (2023 breach order): FCC as a recipient, 30-day customer notice limit.
  fccBreachOrder2023: z.boolean().default(false),
  callIdleMinutes: z.number().int().min(1).max(240).default(30),
  passwordMaxAttempts: z.number().int().min(1).max(20).default(3),
});
export type PolicySettings = z.infer<typeof PolicySettings>;
export const DEFAULT_POLICY: PolicySettings = PolicySettings.parse({});

export const CampaignStatus = z.enum(['draft', 'submitted', 'approved', 'rejected']);
export const Campaign = z.object({
  id: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  description: z.string().min(1).max(4000),
  cpniUsed: z.array(z.string().min(1).max(200)).default([]),
  productsOffered: z.array(z.string().min(1).max(200)).min(1),
  channel: z.enum(['email', 'call', 'sms', 'mail', 'mixed']),
  startsAt: isoDate,
  endsAt: isoDate.nullable().default(null),
  owner: z.string(),
  solicitsApproval: z.boolean().default(false),
  status: CampaignStatus.default('draft'),
  decidedBy: z.string().nullable().default(null),
  decidedAt: isoDateTime.nullable().default(null),
  decisionComment: z.string().max(2000).nullable().default(null),
  scrubbedAt: isoDateTime.nullable().default(null),
  version: z.number().int().nonnegative().default(0),
  updatedAt: isoDateTime,
});
export type Campaign = z.infer<typeof Campaign>;

// What the audit trail records: blocks, overrides, consent captures, CPNI releases,
// verification attempts and the rep's answer to "what is this call for?".
export const AUDIT_KINDS = [
  'action.blocked',
  'action.allowed',
  'action.overridden',
  'purpose.answered',
  'consent.captured',
  'cpni.released',
  'verification.attempted',
  'account.change_notice',
  'campaign.state_changed',
  'approval_failure.recorded', // policy §12, 64.2009(f): the opt-in/opt-out mechanism failed
  'approval_failure.notice_sent',
] as const;
export const AuditKind = z.enum(AUDIT_KINDS);
export type AuditKind = z.infer<typeof AuditKind>;

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export const AuditEvent = z.object({
  id: z.string().regex(UUID_V7, 'event id must be a UUIDv7 made by the client'),
  at: isoDateTime,
  kind: AuditKind,
  actor: z.string().min(1).max(200), // the signed-in user's email
  actorRole: Role,
  action: ActionKind.nullable().default(null),
  customerId: z.string().max(64).nullable().default(null),
  ruleIds: z.array(RuleId).default([]),
  reasons: z.array(z.string().max(1000)).max(20).default([]),
  crm: z.string().max(64).nullable().default(null),
  pageUrl: z.string().max(2000).nullable().default(null),
  control: z.string().max(200).nullable().default(null), // the CRM control's label
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
});
export type AuditEvent = z.infer<typeof AuditEvent>;
export type AuditEventInput = z.input<typeof AuditEvent>;

export const User = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: Role,
});
export type User = z.infer<typeof User>;

// decide(): the policy engine. Pure and synchronous (DESIGN invariant 2): it runs in the click's
// capture phase, so no I/O, no browser APIs, no zod parsing on the hot path.
import { approvalStatusLabel, effectiveConsent, isCallOpen, openCall, type EffectiveConsent } from './consent';
import { reasonFor } from './rules';
import type {
  ActionKind,
  ConsentPurpose,
  Decision,
  PolicySettings,
  Reason,
  Remedy,
  RuleId,
  ServiceCategory,
} from './schemas';
import type { ActionContext, ActionContextInput, KnownSnapshot, Snapshot, UnknownWhy } from './snapshot';

const DAY_MS = 86_400_000;
/** 64.2010(b): an address of record qualifies for call detail once it is 30 days old. */
export const ADDRESS_OF_RECORD_MIN_DAYS = 30;

export const ACTION_LABELS: Readonly<Record<ActionKind, string>> = {
  service: 'Service, billing, collection or repair',
  'marketing.same_category': 'Marketing within services the customer buys',
  'marketing.other_category': 'Marketing of other services',
  'marketing.adjunct_to_basic': 'Marketing adjunct-to-basic services',
  'marketing.launch_campaign': 'Launching a marketing campaign',
  'disclose.call_detail': 'Disclosing call detail',
  'disclose.third_party': 'Disclosing CPNI to a joint venturer or contractor',
  'disclose.new_carrier': 'Releasing CPNI to a new carrier',
  'export.list': 'Exporting records',
  'account.change': 'Changing account security or address of record',
  sell: 'Selling or sharing CPNI',
};

const CATEGORY_LABELS: Readonly<Record<ServiceCategory, string>> = {
  local: 'local',
  interexchange: 'interexchange (long distance)',
  wireless: 'wireless',
};

/** The approval a blocked action needs, so the UI knows what `consent.capture` should record. */
export function purposeForAction(action: ActionKind): ConsentPurpose | null {
  if (action.startsWith('marketing.')) return 'marketing';
  if (action === 'disclose.third_party') return 'third_party';
  if (action === 'disclose.new_carrier') return 'new_carrier';
  return null;
}

const allow = (reasons: Reason[]): Decision => ({ verdict: 'allow', reasons, remedies: [] });
const block = (reasons: Reason[], remedies: Remedy[]): Decision => ({ verdict: 'block', reasons, remedies });

const REMEDY = {
  syncNow: { id: 'sync.now', text: 'Sync CPNI Guard now, then try again' },
  recordWait: { id: 'record.wait', text: 'Wait for the customer’s CPNI status to load, then try again' },
  noSale: { id: 'none', text: 'Not permitted: this carrier never sells or shares CPNI' },
  exportAskManager: {
    id: 'export.askManager',
    text: 'Ask a manager (or another role the policy allows) to run the export; it will be recorded',
  },
  callStart: { id: 'call.start', text: 'Start the customer call in CPNI Guard, then verify the caller' },
  verifyCallback: {
    id: 'verify.callback',
    text: 'Hang up and call the customer back at the telephone number of record',
  },
  verifyBusiness: {
    id: 'verify.businessContract',
    text: 'Authenticate as the business customer’s CPNI contract provides',
  },
  verifyInStore: {
    id: 'verify.inStore',
    text: 'Ask the customer to visit a store with a valid photo ID (64.2010(d))',
  },
  thirdPartyAgreement: {
    id: 'thirdParty.agreement',
    text: 'Put a confidentiality agreement with the recipient on file before disclosing',
  },
  campaignRegister: {
    id: 'campaign.register',
    text: 'Register the campaign: description, the CPNI it uses and the products offered',
  },
  campaignSubmit: { id: 'campaign.submit', text: 'Submit the campaign for General Counsel approval' },
  campaignAwait: {
    id: 'campaign.awaitApproval',
    text: 'Wait for the General Counsel to approve the campaign',
  },
  campaignRevise: {
    id: 'campaign.revise',
    text: 'Revise the rejected campaign and submit it again for General Counsel approval',
  },
  campaignScrub: {
    id: 'campaign.scrub',
    text: 'Scrub the target list against customers’ approval status, then launch',
  },
} satisfies Record<string, Remedy>;

function normalizeContext(c: ActionContextInput): ActionContext {
  return {
    role: c.role,
    offeredCategory: c.offeredCategory ?? null,
    confidentialityAgreement: c.confidentialityAgreement ?? false,
    campaign: c.campaign ?? null,
  };
}

export function decide(
  action: ActionKind,
  snapshot: Snapshot,
  contextInput: ActionContextInput,
  policy: PolicySettings,
  now: Date,
): Decision {
  const context = normalizeContext(contextInput);
  switch (action) {
    case 'service':
      // Allowed even when status is unknown: service never needs approval.
      return allow([
        reasonFor(
          'PERMITTED_USE',
          'Service, billing, collection, repair and fraud protection may use CPNI without approval',
        ),
      ]);
    case 'sell':
      return block([reasonFor('NO_SALE', 'This carrier does not market, share or sell CPNI to any third party')], [
        REMEDY.noSale,
      ]);
    case 'marketing.launch_campaign':
      // Not customer-specific: the campaign gate decides whatever record is on screen.
      return decideCampaign(context);
    case 'export.list':
      // A list export is about the role, not one customer (it is often made from a list
      // view with no record open); only a signed-out extension, with no role, fails closed.
      if (snapshot.state === 'unknown' && snapshot.why === 'signed_out') {
        return decideUnknown(action, snapshot.why, context, policy);
      }
      return decideExport(context, policy);
  }

  if (snapshot.state === 'unknown') return decideUnknown(action, snapshot.why, context, policy);

  switch (action) {
    case 'marketing.same_category':
      return decideSameCategory(snapshot, context, policy, now);
    case 'marketing.adjunct_to_basic':
      return allow([
        reasonFor('SAME_CATEGORY', 'Adjunct-to-basic services may be marketed without approval (64.2005(c))'),
      ]);
    case 'marketing.other_category':
      return decideOtherMarketing(snapshot, policy, now, null);
    case 'disclose.call_detail':
      return decideCallDetail(snapshot, now);
    case 'disclose.third_party':
      return decideThirdParty(snapshot, context, policy, now);
    case 'disclose.new_carrier':
      return decideNewCarrier(snapshot, policy, now);
    case 'account.change':
      return decideAccountChange(snapshot);
  }
}

// --- unknown status: fail closed ---

const UNKNOWN_TEXT: Readonly<Record<UnknownWhy, string>> = {
  loading: 'This customer’s CPNI status is still loading',
  not_synced: 'CPNI Guard has not synced yet, so this customer’s CPNI status is unknown',
  not_found: 'This customer is not in the CPNI Guard cache, so the CPNI status is unknown',
  signed_out: 'CPNI Guard is signed out, so this customer’s CPNI status is unknown',
};

function decideUnknown(
  action: ActionKind,
  why: UnknownWhy,
  context: ActionContext,
  policy: PolicySettings,
): Decision {
  const what =
    action === 'account.change'
      ? ': the account-change notice cannot be sent to an unknown number or address of record'
      : '; blocked until it is known';
  const reasons = [reasonFor('UNKNOWN_STATUS', UNKNOWN_TEXT[why] + what)];
  if (action === 'export.list' && !policy.exportRoles.includes(context.role)) {
    reasons.push(exportDeniedReason(context, policy));
  }
  const remedies: Remedy[] =
    why === 'loading'
      ? [REMEDY.recordWait, REMEDY.syncNow]
      : why === 'signed_out'
        ? [{ id: 'sync.now', text: 'Sign in to CPNI Guard and sync, then try again' }]
        : [REMEDY.syncNow];
  return block(reasons, remedies);
}

// --- marketing ---

function decideSameCategory(
  s: KnownSnapshot,
  context: ActionContext,
  policy: PolicySettings,
  now: Date,
): Decision {
  const offered = context.offeredCategory;
  if (offered && s.customer.serviceCategories.includes(offered)) {
    return allow([
      reasonFor(
        'SAME_CATEGORY',
        `The customer already buys ${CATEGORY_LABELS[offered]} service; marketing within it needs no approval`,
      ),
    ]);
  }
  const why = offered
    ? `The customer does not buy ${CATEGORY_LABELS[offered]} service, so this is marketing outside the services bought`
    : 'The offered service category is not known, so this is treated as marketing outside the services bought';
  return decideOtherMarketing(s, policy, now, why);
}

function decideOtherMarketing(
  s: KnownSnapshot,
  policy: PolicySettings,
  now: Date,
  prefix: string | null,
): Decision {
  const e = effectiveConsent(s.consents, s.customer.id, 'marketing', policy, now, s.call);
  const reason = otherMarketingReason(e, prefix);
  if (e.grants) return allow([reason]);
  const remedies: Remedy[] = [
    {
      id: 'consent.capture',
      text:
        e.basis === 'denied' || e.basis === 'revoked'
          ? 'If the customer now agrees, give the CPNI notice and record their opt-in approval'
          : 'Give the customer the CPNI notice and record their opt-in approval',
    },
  ];
  if (isCallOpen(s.call, s.customer.id, now)) {
    remedies.push({
      id: 'call.oneTimeConsent',
      text: 'Give the oral CPNI notice and record one-time consent for this call only',
    });
  }
  return block([reason], remedies);
}

/**
 * Why marketing outside the services bought is allowed or blocked, from the consent that governs
 * it: the one reason decide('marketing.other_category') gives (a list scrub formats it per row).
 */
export function otherMarketingReason(e: EffectiveConsent, prefix: string | null): Reason {
  const status = approvalStatusLabel(e);
  const text = (t: string) => (prefix ? `${prefix}. ${t}` : t);
  const ruleId = otherMarketingRule(e);
  return reasonFor(ruleId, text(ruleId === 'ONE_TIME_CONSENT' ? `${status}: it covers this call only and ends when the call ends` : status));
}

/** The rule otherMarketingReason cites for `e`, without writing the reason. */
export const otherMarketingRule = (e: EffectiveConsent): RuleId => (e.grants && e.oneTime ? 'ONE_TIME_CONSENT' : 'APPROVAL_REQUIRED');

function decideCampaign(context: ActionContext): Decision {
  const c = context.campaign;
  if (!c) {
    return block(
      [reasonFor('CAMPAIGN_RECORD', 'No campaign record for this launch: it must be registered before it starts')],
      [REMEDY.campaignRegister],
    );
  }
  if (c.status === 'unknown') {
    return block(
      [reasonFor('CAMPAIGN_RECORD', `Campaign ${c.id} is not in the CPNI Guard cache; its record and approval are unknown`)],
      [REMEDY.syncNow, REMEDY.campaignRegister],
    );
  }
  const cpni = c.usesCpni ? 'uses CPNI' : 'recorded as not using CPNI';
  const named = c.name ? `“${c.name}” (${c.id})` : c.id;
  const ok: Reason[] = [reasonFor('CAMPAIGN_RECORD', `Campaign ${named} is on record (${cpni})`)];
  const failed: Reason[] = [];
  const remedies: Remedy[] = [];
  if (c.status === 'approved') {
    ok.push(reasonFor('SUPERVISORY_APPROVAL', 'The General Counsel approved this campaign'));
  } else {
    const [why, remedy] =
      c.status === 'draft'
        ? ['has not been submitted for General Counsel approval', REMEDY.campaignSubmit]
        : c.status === 'submitted'
          ? ['is waiting for General Counsel approval', REMEDY.campaignAwait]
          : ['was rejected by the General Counsel', REMEDY.campaignRevise];
    failed.push(reasonFor('SUPERVISORY_APPROVAL', `Campaign ${named} ${why}`));
    remedies.push(remedy);
  }
  if (c.scrubbed) {
    ok.push(reasonFor('APPROVAL_REQUIRED', 'The target list was scrubbed against approval status'));
  } else {
    failed.push(
      reasonFor('APPROVAL_REQUIRED', 'The target list has not been scrubbed against customers’ approval status'),
    );
    remedies.push(REMEDY.campaignScrub);
  }
  return failed.length ? block(failed, remedies) : allow(ok);
}

// --- disclosure ---

function addressAgeDays(s: KnownSnapshot, now: Date): number | null {
  const a = s.customer.addressOfRecord;
  if (!a) return null;
  return Math.floor((now.getTime() - Date.parse(a.setAt)) / DAY_MS);
}

function businessExemptionEligible(s: KnownSnapshot): boolean {
  const b = s.customer.business;
  return !!(b && b.dedicatedRep && b.cpniContractId);
}

const VERIFY_TEXT = {
  password: 'the customer’s pre-established password',
  callback_number_of_record: 'a call back to the telephone number of record',
  address_of_record: 'sending the call detail to the address of record',
  business_contract: 'the business customer’s CPNI contract',
} as const;

function decideCallDetail(s: KnownSnapshot, now: Date): Decision {
  const customer = s.customer;
  const never = 'Never prompt the caller with biographical or account information.';
  const call = openCall(s.call, customer.id, now);
  if (!call) {
    return block(
      [
        reasonFor(
          'CALL_DETAIL_AUTH',
          'No customer call is open: call detail is released only to a caller verified on the current call',
        ),
      ],
      [REMEDY.callStart],
    );
  }
  const age = addressAgeDays(s, now);
  const addressOk = age !== null && age >= ADDRESS_OF_RECORD_MIN_DAYS;
  const businessOk = businessExemptionEligible(s);

  const v = s.verification;
  let problem: string;
  if (!v || v.customerId !== customer.id) {
    problem = 'The caller has not been verified on this call';
  } else if (v.callId !== call.id) {
    problem = 'The caller was verified on another call, not this one';
  } else if (v.method === 'address_of_record' && !addressOk) {
    problem =
      age === null
        ? 'Address of record cannot be used: there is none on file'
        : `Address of record cannot be used: it changed ${age} days ago (it must be on the account ${ADDRESS_OF_RECORD_MIN_DAYS} days)`;
  } else if (v.method === 'business_contract' && !businessOk) {
    problem =
      'The business-contract method needs a dedicated account representative and a contract addressing CPNI on file';
  } else {
    const reasons = [
      reasonFor('CALL_DETAIL_AUTH', `Caller verified on this call by ${VERIFY_TEXT[v.method]} (${v.verifiedBy})`),
    ];
    if (v.method === 'address_of_record') {
      reasons[0] = reasonFor(
        'CALL_DETAIL_AUTH',
        'Call detail may be sent to the address of record only, not read out on the call',
      );
    }
    if (v.method === 'business_contract') {
      reasons.push(reasonFor('BUSINESS_EXEMPTION', 'Authenticated as the business customer’s CPNI contract provides'));
    }
    return allow(reasons);
  }

  const remedies: Remedy[] = [];
  const notes: string[] = [];
  if (customer.passwordEstablished) {
    remedies.push({ id: 'verify.password', text: 'Ask the caller for their pre-established password' });
  } else {
    notes.push('No password is established on this account.');
  }
  if (customer.phones.length > 0) remedies.push(REMEDY.verifyCallback);
  else notes.push('There is no telephone number of record to call back.');
  if (addressOk) {
    remedies.push({
      id: 'verify.addressOfRecord',
      text: 'Send the call detail to the address of record instead of reading it out',
    });
  } else if (age !== null) {
    const usableOn = new Date(Date.parse(customer.addressOfRecord!.setAt) + ADDRESS_OF_RECORD_MIN_DAYS * DAY_MS)
      .toISOString()
      .slice(0, 10);
    notes.push(
      `The address of record changed ${age} days ago; it can be used from ${usableOn} (${ADDRESS_OF_RECORD_MIN_DAYS}-day rule).`,
    );
  } else {
    notes.push('There is no address of record on file.');
  }
  if (businessOk) remedies.push(REMEDY.verifyBusiness);
  if (remedies.length === 0) remedies.push(REMEDY.verifyInStore);
  const text = [problem + '.', ...notes, never].join(' ');
  return block([reasonFor('CALL_DETAIL_AUTH', text)], remedies);
}

function decideThirdParty(s: KnownSnapshot, context: ActionContext, policy: PolicySettings, now: Date): Decision {
  const e = effectiveConsent(s.consents, s.customer.id, 'third_party', policy, now, s.call);
  const status = approvalStatusLabel(e);
  // Opt-in only: effectiveConsent never lets an opt-out grant a third-party disclosure.
  if (e.grants && context.confidentialityAgreement) {
    return allow([
      reasonFor(
        'THIRD_PARTY',
        `${status}; confidentiality agreement on file. This disclosure is logged (64.2009(c))`,
      ),
    ]);
  }
  const reasons: Reason[] = [];
  const remedies: Remedy[] = [];
  if (!e.grants) {
    reasons.push(reasonFor('THIRD_PARTY', `Disclosure to joint venturers and contractors needs opt-in. ${status}`));
    remedies.push({
      id: 'consent.capture',
      text: 'Give the CPNI notice and record the customer’s opt-in to disclosure to joint venturers and contractors',
    });
  }
  if (!context.confidentialityAgreement) {
    reasons.push(reasonFor('THIRD_PARTY', 'No confidentiality agreement with the recipient is on file'));
    remedies.push(REMEDY.thirdPartyAgreement);
  }
  return block(reasons, remedies);
}

function decideNewCarrier(s: KnownSnapshot, policy: PolicySettings, now: Date): Decision {
  const e = effectiveConsent(s.consents, s.customer.id, 'new_carrier', policy, now, s.call);
  const status = approvalStatusLabel(e);
  if (e.grants) {
    return allow([reasonFor('NEW_CARRIER', `Express written authorization on file. ${status}`)]);
  }
  return block(
    [reasonFor('NEW_CARRIER', `Release to a new carrier needs the customer’s express written authorization. ${status}`)],
    [
      {
        id: 'consent.capture',
        text: 'Get the customer’s express written authorization to release CPNI to the new carrier and record it',
      },
    ],
  );
}

// --- export and account changes ---

function exportDeniedReason(context: ActionContext, policy: PolicySettings): Reason {
  return reasonFor(
    'EXPORT_CONTROL',
    `The ${context.role} role may not export records that carry CPNI (allowed: ${policy.exportRoles.join(', ') || 'none'})`,
  );
}

function decideExport(context: ActionContext, policy: PolicySettings): Decision {
  if (policy.exportRoles.includes(context.role)) {
    return allow([
      reasonFor('EXPORT_CONTROL', `Export allowed for the ${context.role} role; this export is recorded`),
    ]);
  }
  return block([exportDeniedReason(context, policy)], [REMEDY.exportAskManager]);
}

function decideAccountChange(s: KnownSnapshot): Decision {
  const c = s.customer;
  if (c.phones.length === 0 && !c.addressOfRecord) {
    // 64.2010(f) notices go to the number or address of record; with neither, none can go out.
    return block(
      [
        reasonFor(
          'ACCOUNT_CHANGE_NOTICE',
          'No telephone number or address of record is on file, so the required change notice cannot be sent',
        ),
      ],
      [{ id: 'sync.now', text: 'Sync to get the number or address of record, or ask compliance' }],
    );
  }
  return allow([
    reasonFor(
      'ACCOUNT_CHANGE_NOTICE',
      'A notice of this change goes immediately to the number or address of record on file (never the new one) and does not reveal the new value',
    ),
  ]);
}

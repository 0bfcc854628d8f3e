// The rule catalog: every RuleId with a plain-English title and where it comes from.
// "policy §N" is the carrier's CPNI statement (DESIGN.md); the rule text wins where they differ.
import type { Reason, RuleId } from './schemas';

export interface RuleInfo {
  id: RuleId;
  title: string;
  citation: string;
}

export const RULES: Readonly<Record<RuleId, RuleInfo>> = {
  PERMITTED_USE: {
    id: 'PERMITTED_USE',
    title: 'Service, billing, collection, repair and fraud protection need no approval',
    citation: 'policy §3B; 47 U.S.C. 222(d); 47 C.F.R. 64.2005',
  },
  SAME_CATEGORY: {
    id: 'SAME_CATEGORY',
    title: 'Marketing within service categories the customer already buys, or adjunct-to-basic services',
    citation: 'policy §3B; 47 C.F.R. 64.2005(a),(c)',
  },
  APPROVAL_REQUIRED: {
    id: 'APPROVAL_REQUIRED',
    title: 'Any other marketing use of CPNI needs customer approval (opt-in)',
    citation: 'policy §7A; 47 C.F.R. 64.2007, 64.2008',
  },
  ONE_TIME_CONSENT: {
    id: 'ONE_TIME_CONSENT',
    title: 'Oral consent on a call covers that call only',
    citation: 'policy §3B; 47 C.F.R. 64.2008(f)',
  },
  THIRD_PARTY: {
    id: 'THIRD_PARTY',
    title: 'Joint venturers and contractors: opt-in plus a confidentiality agreement; every disclosure logged',
    citation: 'policy §4; 47 C.F.R. 64.2007(b), 64.2009(c)',
  },
  NEW_CARRIER: {
    id: 'NEW_CARRIER',
    title: 'Release to a new carrier needs express written authorization',
    citation: 'policy §5; 47 U.S.C. 222(c)(2)',
  },
  NO_SALE: {
    id: 'NO_SALE',
    title: 'CPNI is never sold or shared for others’ marketing',
    citation: 'policy §6',
  },
  EXPORT_CONTROL: {
    id: 'EXPORT_CONTROL',
    title: 'Exporting records with CPNI: named roles only, always recorded',
    citation: 'policy §1, §6; 47 C.F.R. 64.2009(c)',
  },
  CAMPAIGN_RECORD: {
    id: 'CAMPAIGN_RECORD',
    title: 'A campaign using CPNI needs a record (description, CPNI used, products offered) before it starts',
    citation: 'policy §7; 47 C.F.R. 64.2009(c)',
  },
  SUPERVISORY_APPROVAL: {
    id: 'SUPERVISORY_APPROVAL',
    title: 'Outbound marketing needs express approval by the General Counsel',
    citation: 'policy §9; 47 C.F.R. 64.2009(d)',
  },
  CALL_DETAIL_AUTH: {
    id: 'CALL_DETAIL_AUTH',
    title: 'Call detail on a customer call only after password, call back to the number of record, or sent to the address of record',
    citation: 'policy §3A; 47 C.F.R. 64.2010(b), 64.2003',
  },
  BUSINESS_EXEMPTION: {
    id: 'BUSINESS_EXEMPTION',
    title: 'Business customers with a dedicated rep and a CPNI contract may authenticate as the contract says',
    citation: 'policy §11; 47 C.F.R. 64.2010(g)',
  },
  ACCOUNT_CHANGE_NOTICE: {
    id: 'ACCOUNT_CHANGE_NOTICE',
    title: 'Account changes trigger an immediate notice to the number or address of record',
    citation: 'policy §10; 47 C.F.R. 64.2010(f)',
  },
  BREACH: {
    id: 'BREACH',
    title: 'Breach: USSS and FBI within 7 business days; customers not before 7 full business days after',
    citation: 'policy §2; 47 C.F.R. 64.2011',
  },
  OPT_IN_FAILURE: {
    id: 'OPT_IN_FAILURE',
    title: 'Written notice to the FCC within 5 business days when the approval mechanism fails',
    citation: 'policy §12; 47 C.F.R. 64.2009(f)',
  },
  RETENTION: {
    id: 'RETENTION',
    title: 'Keep approval, notice, campaign and supervisory records 1 year; breach records 2 years',
    citation: 'policy §7, §9, §2; 47 C.F.R. 64.2007-64.2011',
  },
  UNKNOWN_STATUS: {
    id: 'UNKNOWN_STATUS',
    title: 'CPNI status unknown: blocked until it is known',
    citation: 'fail closed: DESIGN invariant 3; policy §7A (approval status established before use)',
  },
};

export function ruleTitle(id: RuleId): string {
  return RULES[id].title;
}

export function ruleCitation(id: RuleId): string {
  return RULES[id].citation;
}

/** A decision reason for `id`, with the catalog's citation. */
export function reasonFor(id: RuleId, text: string): Reason {
  return { ruleId: id, citation: RULES[id].citation, text };
}

import { describe, expect, it } from 'vitest';
import { ACTION_LABELS, decide, purposeForAction } from '../../lib/policy';
import { RULES } from '../../lib/rules';
import {
  ACTIONS,
  CONSENT_STATES,
  Decision,
  RULE_IDS,
  type ActionKind,
  type ConsentState,
  type Decision as DecisionT,
  type PolicySettings,
} from '../../lib/schemas';
import type { ActionContextInput, Snapshot, UnknownWhy } from '../../lib/snapshot';
import {
  daysBefore,
  knownSnapshot,
  makeCall,
  makeConsent,
  makeContext,
  makeCustomer,
  makePolicy,
  makeVerification,
  NOW,
  OPT_OUT_POLICY,
  unknownSnapshot,
} from './factories';

const OPT_IN_ONLY = makePolicy();

function run(
  action: ActionKind,
  snapshot: Snapshot = knownSnapshot(),
  context: Partial<ActionContextInput> = {},
  policy: PolicySettings = OPT_IN_ONLY,
): DecisionT {
  return decide(action, snapshot, makeContext(context), policy, NOW);
}

const ruleIds = (d: DecisionT) => d.reasons.map((r) => r.ruleId);
const remedyIds = (d: DecisionT) => d.remedies.map((r) => r.id);
const text = (d: DecisionT) => d.reasons.map((r) => r.text).join(' | ');

describe('rule catalog and labels', () => {
  it('has a title and citation for every rule id', () => {
    for (const id of RULE_IDS) {
      expect(RULES[id].id).toBe(id);
      expect(RULES[id].title.length).toBeGreaterThan(10);
      expect(RULES[id].citation.length).toBeGreaterThan(3);
    }
    expect(RULES.PERMITTED_USE.citation).toBe('policy §3B; 47 U.S.C. 222(d); 47 C.F.R. 64.2005');
    expect(RULES.UNKNOWN_STATUS.citation).toBe(
      'fail closed: DESIGN invariant 3; policy §7A (approval status established before use)',
    );
  });

  it('has a human label for every action, and knows which approval each needs', () => {
    for (const a of ACTIONS) expect(ACTION_LABELS[a]).toBeTruthy();
    expect(purposeForAction('marketing.other_category')).toBe('marketing');
    expect(purposeForAction('disclose.third_party')).toBe('third_party');
    expect(purposeForAction('disclose.new_carrier')).toBe('new_carrier');
    expect(purposeForAction('service')).toBeNull();
  });
});

describe('service (PERMITTED_USE)', () => {
  it.each<UnknownWhy | 'known'>(['known', 'loading', 'not_synced', 'not_found', 'signed_out'])(
    'is allowed with status %s',
    (state) => {
      const d = run('service', state === 'known' ? knownSnapshot() : unknownSnapshot(state));
      expect(d.verdict).toBe('allow');
      expect(ruleIds(d)).toEqual(['PERMITTED_USE']);
    },
  );
});

describe('unknown status fails closed', () => {
  // A list export is decided on the role (tested below), so it is not customer-specific.
  const nonService = ACTIONS.filter((a) => a !== 'service' && a !== 'export.list');
  const customerSpecific = nonService.filter((a) => a !== 'sell' && a !== 'marketing.launch_campaign');

  it.each(nonService)('%s is blocked when the status is unknown', (action) => {
    for (const why of ['loading', 'not_synced', 'not_found', 'signed_out'] as const) {
      const d = run(action, unknownSnapshot(why), { role: 'manager', offeredCategory: 'local' });
      expect(d.verdict).toBe('block');
      expect(d.remedies.length).toBeGreaterThan(0);
    }
  });

  it.each(customerSpecific)('%s names UNKNOWN_STATUS and offers sync or wait', (action) => {
    const loading = run(action, unknownSnapshot('loading'), { role: 'manager' });
    expect(ruleIds(loading)).toContain('UNKNOWN_STATUS');
    expect(remedyIds(loading)).toContain('record.wait');
    const notFound = run(action, unknownSnapshot('not_found'), { role: 'manager' });
    expect(remedyIds(notFound)).toEqual(['sync.now']);
  });

  it('even with every approval a known record would need, unknown still blocks', () => {
    const d = run('disclose.third_party', unknownSnapshot('not_synced'), { confidentialityAgreement: true });
    expect(d.verdict).toBe('block');
  });

  it('a list export is decided on the role, since no single customer is on screen', () => {
    expect(run('export.list', unknownSnapshot('not_found'), { role: 'manager' }).verdict).toBe('allow');
    expect(ruleIds(run('export.list', unknownSnapshot('not_found'), { role: 'rep' }))).toEqual(['EXPORT_CONTROL']);
  });

  it('a signed-out extension blocks exports too, and says the role may not export', () => {
    expect(ruleIds(run('export.list', unknownSnapshot('signed_out'), { role: 'rep' }))).toEqual(['UNKNOWN_STATUS', 'EXPORT_CONTROL']);
  });

  it('account change is blocked: the notice address is unknown', () => {
    const d = run('account.change', unknownSnapshot('not_found'));
    expect(d.verdict).toBe('block');
    expect(text(d)).toContain('number or address of record');
  });
});

describe('sell (NO_SALE)', () => {
  it.each<Snapshot>([
    knownSnapshot({
      consents: [
        makeConsent({ purpose: 'third_party' }),
        makeConsent({ purpose: 'marketing' }),
        makeConsent({ purpose: 'new_carrier', method: 'written' }),
      ],
    }),
    unknownSnapshot(),
  ])('is always blocked, whatever is on record', (snapshot) => {
    for (const role of ['rep', 'admin', 'counsel'] as const) {
      const d = run('sell', snapshot, { role, confidentialityAgreement: true }, OPT_OUT_POLICY);
      expect(d.verdict).toBe('block');
      expect(ruleIds(d)).toEqual(['NO_SALE']);
      expect(d.remedies).toEqual([{ id: 'none', text: 'Not permitted: this carrier never sells or shares CPNI' }]);
    }
  });
});

describe('marketing.same_category and adjunct-to-basic (SAME_CATEGORY)', () => {
  const localOnly = knownSnapshot({ customer: makeCustomer({ serviceCategories: ['local', 'interexchange'] }) });

  it('allows marketing within a category the customer buys, without approval', () => {
    const d = run('marketing.same_category', localOnly, { offeredCategory: 'interexchange' });
    expect(d.verdict).toBe('allow');
    expect(ruleIds(d)).toEqual(['SAME_CATEGORY']);
  });

  it.each([['wireless' as const], [null]])('treats offered category %s as other-category marketing', (offered) => {
    const d = run('marketing.same_category', localOnly, { offeredCategory: offered });
    expect(d.verdict).toBe('block');
    expect(ruleIds(d)).toEqual(['APPROVAL_REQUIRED']);
    expect(remedyIds(d)).toContain('consent.capture');
    expect(text(d)).toMatch(offered ? /does not buy wireless/ : /category is not known/);
  });

  it('other-category marketing that has approval is allowed', () => {
    const s = knownSnapshot({ ...localOnly, consents: [makeConsent()] });
    const d = run('marketing.same_category', s, { offeredCategory: 'wireless' });
    expect(d.verdict).toBe('allow');
    expect(ruleIds(d)).toEqual(['APPROVAL_REQUIRED']);
  });

  it('allows adjunct-to-basic marketing without approval', () => {
    const d = run('marketing.adjunct_to_basic', knownSnapshot({ customer: makeCustomer({ serviceCategories: [] }) }));
    expect(d.verdict).toBe('allow');
    expect(ruleIds(d)).toEqual(['SAME_CATEGORY']);
    expect(d.reasons[0].citation).toContain('64.2005(a),(c)');
  });
});

describe('marketing.other_category (APPROVAL_REQUIRED)', () => {
  const optOutRecord = (state: ConsentState) =>
    makeConsent({ state, method: null, noticeSentAt: daysBefore(40), capturedAt: daysBefore(40) });
  const consentFor = (state: ConsentState) =>
    state === 'pending' || state === 'opt_out_effective'
      ? optOutRecord(state)
      : makeConsent({ state, method: state === 'none' ? null : 'oral' });

  // [state, verdict in opt_in_only, verdict in opt_out_allowed, text in opt_in_only]
  const table: [ConsentState, 'allow' | 'block', 'allow' | 'block', RegExp][] = [
    ['none', 'block', 'block', /no CPNI notice given/],
    ['pending', 'block', 'allow', /opt-out approval is not accepted: this carrier uses opt-in \(policy §7A\)/],
    ['opt_out_effective', 'block', 'allow', /opt-out approval is not accepted/],
    ['opt_in', 'allow', 'allow', /^Approved \(opt-in, oral, 2026-03-02, notice v3, by rep@carrier\.example\)$/],
    ['denied', 'block', 'block', /customer denied/],
    ['revoked', 'block', 'block', /approval revoked/],
  ];

  it('covers every consent state', () => {
    expect(new Set(table.map((r) => r[0]))).toEqual(new Set(CONSENT_STATES));
  });

  it.each(table)('%s: opt_in_only -> %s, opt_out_allowed -> %s', (state, inOnly, outAllowed, why) => {
    const s = knownSnapshot({ consents: [consentFor(state)] });
    const a = run('marketing.other_category', s, {}, OPT_IN_ONLY);
    expect(a.verdict).toBe(inOnly);
    expect(ruleIds(a)).toEqual(['APPROVAL_REQUIRED']);
    expect(text(a)).toMatch(why);
    const b = run('marketing.other_category', s, {}, OPT_OUT_POLICY);
    expect(b.verdict).toBe(outAllowed);
    if (a.verdict === 'block') expect(remedyIds(a)).toEqual(['consent.capture']);
  });

  it('says there is no approval on record', () => {
    expect(text(run('marketing.other_category'))).toBe('Not approved: no approval on record');
  });

  it('shows when a running opt-out becomes effective', () => {
    const s = knownSnapshot({
      consents: [makeConsent({ state: 'pending', method: null, noticeSentAt: '2026-02-20T12:00:00.000Z' })],
    });
    const d = run('marketing.other_category', s, {}, OPT_OUT_POLICY);
    expect(d.verdict).toBe('block');
    expect(text(d)).toBe('Not approved: opt-out notice sent 2026-02-20; effective 2026-03-22');
  });

  it('offers one-time consent only while a call is open', () => {
    const onCall = run('marketing.other_category', knownSnapshot({ call: makeCall() }));
    expect(remedyIds(onCall)).toEqual(['consent.capture', 'call.oneTimeConsent']);
    const ended = run('marketing.other_category', knownSnapshot({ call: makeCall({ endedAt: daysBefore(0.001) }) }));
    expect(remedyIds(ended)).toEqual(['consent.capture']);
  });

  describe('one-time oral consent (ONE_TIME_CONSENT)', () => {
    const oneTime = makeConsent({ state: 'opt_in', method: 'oral', scope: 'call', callId: 'call-1', capturedAt: daysBefore(0.002) });

    it('allows marketing during the call it was given on', () => {
      const d = run('marketing.other_category', knownSnapshot({ consents: [oneTime], call: makeCall() }));
      expect(d.verdict).toBe('allow');
      expect(ruleIds(d)).toEqual(['ONE_TIME_CONSENT']);
      expect(text(d)).toContain('covers this call only');
    });

    it('blocks after the call ends', () => {
      const s = knownSnapshot({ consents: [oneTime], call: makeCall({ endedAt: daysBefore(0.001) }) });
      expect(run('marketing.other_category', s).verdict).toBe('block');
    });

    it('blocks on another call and with no call', () => {
      expect(run('marketing.other_category', knownSnapshot({ consents: [oneTime], call: makeCall({ id: 'call-2' }) })).verdict).toBe(
        'block',
      );
      expect(run('marketing.other_category', knownSnapshot({ consents: [oneTime] })).verdict).toBe('block');
    });
  });
});

describe('marketing.launch_campaign (CAMPAIGN_RECORD, SUPERVISORY_APPROVAL)', () => {
  type C = NonNullable<ActionContextInput['campaign']>;
  const campaign = (o: Partial<C> = {}): C => ({ id: 'camp-1', status: 'approved', scrubbed: true, usesCpni: true, ...o });

  it('allows an approved, scrubbed campaign on record, even with no customer on screen', () => {
    for (const s of [knownSnapshot(), unknownSnapshot('not_found')]) {
      const d = run('marketing.launch_campaign', s, { role: 'marketing', campaign: campaign() });
      expect(d.verdict).toBe('allow');
      expect(ruleIds(d)).toEqual(['CAMPAIGN_RECORD', 'SUPERVISORY_APPROVAL', 'APPROVAL_REQUIRED']);
    }
  });

  it.each<[string, C | null, string[], string[]]>([
    ['no campaign record', null, ['CAMPAIGN_RECORD'], ['campaign.register']],
    ['campaign unknown to the cache', campaign({ status: 'unknown' }), ['CAMPAIGN_RECORD'], ['sync.now', 'campaign.register']],
    ['draft', campaign({ status: 'draft' }), ['SUPERVISORY_APPROVAL'], ['campaign.submit']],
    ['submitted', campaign({ status: 'submitted' }), ['SUPERVISORY_APPROVAL'], ['campaign.awaitApproval']],
    ['rejected', campaign({ status: 'rejected' }), ['SUPERVISORY_APPROVAL'], ['campaign.revise']],
    ['approved but not scrubbed', campaign({ scrubbed: false }), ['APPROVAL_REQUIRED'], ['campaign.scrub']],
    [
      'submitted and not scrubbed',
      campaign({ status: 'submitted', scrubbed: false }),
      ['SUPERVISORY_APPROVAL', 'APPROVAL_REQUIRED'],
      ['campaign.awaitApproval', 'campaign.scrub'],
    ],
  ])('blocks: %s', (_name, c, rules, remedies) => {
    for (const s of [knownSnapshot(), unknownSnapshot('loading')]) {
      const d = run('marketing.launch_campaign', s, { role: 'marketing', campaign: c });
      expect(d.verdict).toBe('block');
      expect(ruleIds(d)).toEqual(rules);
      expect(remedyIds(d)).toEqual(remedies);
    }
  });
});

describe('disclose.call_detail (CALL_DETAIL_AUTH, BUSINESS_EXEMPTION)', () => {
  const onCall = (o: Parameters<typeof knownSnapshot>[0] = {}) => knownSnapshot({ call: makeCall(), ...o });

  it.each(['password', 'callback_number_of_record'] as const)('allows a caller verified by %s on this call', (method) => {
    const d = run('disclose.call_detail', onCall({ verification: makeVerification({ method }) }));
    expect(d.verdict).toBe('allow');
    expect(ruleIds(d)).toEqual(['CALL_DETAIL_AUTH']);
  });

  it('blocks with no call open and asks the rep to start the call', () => {
    const d = run('disclose.call_detail', knownSnapshot({ verification: makeVerification() }));
    expect(d.verdict).toBe('block');
    expect(remedyIds(d)).toEqual(['call.start']);
  });

  it('blocks a verification from another call, or after the call ended', () => {
    const other = run('disclose.call_detail', onCall({ verification: makeVerification({ callId: 'call-0' }) }));
    expect(other.verdict).toBe('block');
    expect(text(other)).toContain('another call');
    const ended = run(
      'disclose.call_detail',
      knownSnapshot({ call: makeCall({ endedAt: daysBefore(0.001) }), verification: makeVerification() }),
    );
    expect(remedyIds(ended)).toEqual(['call.start']);
  });

  it('an unverified caller gets every method the account supports, never biographical prompts', () => {
    const d = run('disclose.call_detail', onCall());
    expect(d.verdict).toBe('block');
    expect(remedyIds(d)).toEqual(['verify.password', 'verify.callback', 'verify.addressOfRecord']);
    expect(text(d)).toContain('Never prompt the caller with biographical or account information');
    for (const r of d.remedies) expect(r.text).not.toMatch(/social security|birth|mother|last payment|maiden/i);
  });

  it('does not offer a password the customer never set', () => {
    const d = run('disclose.call_detail', onCall({ customer: makeCustomer({ passwordEstablished: false }) }));
    expect(remedyIds(d)).not.toContain('verify.password');
    expect(text(d)).toContain('No password is established');
  });

  describe('address of record must be 30 days old', () => {
    const withAddressAge = (days: number, verified: boolean) =>
      onCall({
        customer: makeCustomer({ addressOfRecord: { lines: ['1 Main St'], setAt: daysBefore(days) } }),
        verification: verified ? makeVerification({ method: 'address_of_record' }) : null,
      });

    it('40 days: sending to the address of record counts', () => {
      const d = run('disclose.call_detail', withAddressAge(40, true));
      expect(d.verdict).toBe('allow');
      expect(text(d)).toContain('address of record only');
      expect(remedyIds(run('disclose.call_detail', withAddressAge(40, false)))).toContain('verify.addressOfRecord');
    });

    it('10 days: it does not count, and the rep is told why and from when', () => {
      const d = run('disclose.call_detail', withAddressAge(10, true));
      expect(d.verdict).toBe('block');
      expect(text(d)).toContain('changed 10 days ago');
      const unverified = run('disclose.call_detail', withAddressAge(10, false));
      expect(remedyIds(unverified)).toEqual(['verify.password', 'verify.callback']);
      expect(text(unverified)).toContain('can be used from 2026-03-30');
    });
  });

  describe('business customers (BUSINESS_EXEMPTION)', () => {
    const business = (dedicatedRep: string | null, cpniContractId: string | null) =>
      makeCustomer({ business: { dedicatedRep, cpniContractId, cpniContractName: null } });

    it('allows contract authentication with a dedicated rep and a CPNI contract', () => {
      const d = run(
        'disclose.call_detail',
        onCall({ customer: business('pat@carrier.example', 'MSA-7'), verification: makeVerification({ method: 'business_contract' }) }),
      );
      expect(d.verdict).toBe('allow');
      expect(ruleIds(d)).toEqual(['CALL_DETAIL_AUTH', 'BUSINESS_EXEMPTION']);
      expect(remedyIds(run('disclose.call_detail', onCall({ customer: business('pat@carrier.example', 'MSA-7') })))).toContain(
        'verify.businessContract',
      );
    });

    it.each([
      ['no dedicated rep', null, 'MSA-7'],
      ['no CPNI contract', 'pat@carrier.example', null],
    ])('is not eligible with %s', (_n, rep, contract) => {
      const customer = business(rep, contract);
      const d = run('disclose.call_detail', onCall({ customer, verification: makeVerification({ method: 'business_contract' }) }));
      expect(d.verdict).toBe('block');
      expect(remedyIds(run('disclose.call_detail', onCall({ customer })))).not.toContain('verify.businessContract');
    });

    it('a consumer account is never eligible', () => {
      const d = run('disclose.call_detail', onCall({ verification: makeVerification({ method: 'business_contract' }) }));
      expect(d.verdict).toBe('block');
    });
  });

  it('with no password, no number and no address, the caller is sent to a store', () => {
    const customer = makeCustomer({ passwordEstablished: false, phones: [], addressOfRecord: null });
    const d = run('disclose.call_detail', onCall({ customer }));
    expect(remedyIds(d)).toEqual(['verify.inStore']);
  });
});

describe('disclose.third_party (THIRD_PARTY)', () => {
  const optIn = makeConsent({ purpose: 'third_party', state: 'opt_in', method: 'written' });

  it('allows with opt-in and a confidentiality agreement, and says it is logged', () => {
    const d = run('disclose.third_party', knownSnapshot({ consents: [optIn] }), { confidentialityAgreement: true });
    expect(d.verdict).toBe('allow');
    expect(ruleIds(d)).toEqual(['THIRD_PARTY']);
    expect(text(d)).toContain('logged');
  });

  it('blocks without a confidentiality agreement', () => {
    const d = run('disclose.third_party', knownSnapshot({ consents: [optIn] }), { confidentialityAgreement: false });
    expect(d.verdict).toBe('block');
    expect(remedyIds(d)).toEqual(['thirdParty.agreement']);
  });

  it('blocks an opt-out even in opt_out_allowed mode', () => {
    const optOut = makeConsent({ purpose: 'third_party', state: 'opt_out_effective', method: null, noticeSentAt: daysBefore(90) });
    const d = run('disclose.third_party', knownSnapshot({ consents: [optOut] }), { confidentialityAgreement: true }, OPT_OUT_POLICY);
    expect(d.verdict).toBe('block');
    expect(remedyIds(d)).toEqual(['consent.capture']);
  });

  it('does not borrow a marketing opt-in', () => {
    const d = run('disclose.third_party', knownSnapshot({ consents: [makeConsent()] }), { confidentialityAgreement: true });
    expect(d.verdict).toBe('block');
  });

  it('with neither, asks for both', () => {
    expect(remedyIds(run('disclose.third_party'))).toEqual(['consent.capture', 'thirdParty.agreement']);
  });
});

describe('disclose.new_carrier (NEW_CARRIER)', () => {
  it.each([
    ['written', 'allow'],
    ['oral', 'block'],
    ['electronic', 'block'],
  ] as const)('%s opt-in -> %s', (method, verdict) => {
    const s = knownSnapshot({ consents: [makeConsent({ purpose: 'new_carrier', state: 'opt_in', method })] });
    const d = run('disclose.new_carrier', s, {}, OPT_OUT_POLICY);
    expect(d.verdict).toBe(verdict);
    expect(ruleIds(d)).toEqual(['NEW_CARRIER']);
  });

  it('blocks with nothing on record and asks for written authorization', () => {
    const d = run('disclose.new_carrier');
    expect(remedyIds(d)).toEqual(['consent.capture']);
    expect(d.remedies[0].text).toContain('express written authorization');
  });
});

describe('export.list (EXPORT_CONTROL)', () => {
  it.each([
    ['rep', 'block'],
    ['counsel', 'block'],
    ['marketing', 'allow'],
    ['manager', 'allow'],
    ['admin', 'allow'],
  ] as const)('%s -> %s with the default policy', (role, verdict) => {
    const d = run('export.list', knownSnapshot(), { role });
    expect(d.verdict).toBe(verdict);
    expect(ruleIds(d)).toEqual(['EXPORT_CONTROL']);
    if (verdict === 'allow') expect(text(d)).toContain('recorded');
    else expect(remedyIds(d)).toEqual(['export.askManager']);
  });

  it('follows the roles the policy names', () => {
    const policy = makePolicy({ exportRoles: ['counsel'] });
    expect(run('export.list', knownSnapshot(), { role: 'counsel' }, policy).verdict).toBe('allow');
    expect(run('export.list', knownSnapshot(), { role: 'manager' }, policy).verdict).toBe('block');
  });
});

describe('account.change (ACCOUNT_CHANGE_NOTICE)', () => {
  it('allows and says the notice goes to the number or address of record, never the new one', () => {
    const d = run('account.change');
    expect(d.verdict).toBe('allow');
    expect(ruleIds(d)).toEqual(['ACCOUNT_CHANGE_NOTICE']);
    expect(text(d)).toContain('never the new one');
  });

  it('blocks when there is nowhere of record to send the notice', () => {
    const d = run('account.change', knownSnapshot({ customer: makeCustomer({ phones: [], addressOfRecord: null }) }));
    expect(d.verdict).toBe('block');
    expect(d.remedies.length).toBeGreaterThan(0);
  });
});

describe('every decision', () => {
  const snapshots: Snapshot[] = [
    knownSnapshot(),
    knownSnapshot({ call: makeCall(), verification: makeVerification(), consents: [makeConsent()] }),
    unknownSnapshot('loading'),
    unknownSnapshot('signed_out'),
  ];
  const contexts: ActionContextInput[] = [
    makeContext(),
    makeContext({ role: 'manager', offeredCategory: 'wireless', confidentialityAgreement: true }),
    makeContext({ role: 'marketing', campaign: { id: 'c', status: 'draft', scrubbed: false, usesCpni: true } }),
  ];

  it('is a valid Decision whose reasons cite the catalog and whose blocks have a remedy', () => {
    for (const action of ACTIONS)
      for (const s of snapshots)
        for (const c of contexts)
          for (const p of [OPT_IN_ONLY, OPT_OUT_POLICY]) {
            const d = decide(action, s, c, p, NOW);
            expect(() => Decision.parse(d)).not.toThrow();
            expect(d.reasons.length).toBeGreaterThan(0);
            for (const r of d.reasons) expect(r.citation).toBe(RULES[r.ruleId].citation);
            if (d.verdict === 'block') expect(d.remedies.length).toBeGreaterThan(0);
            else expect(d.remedies).toEqual([]);
          }
  });

  it('takes well under 1 ms per click', () => {
    const s = knownSnapshot({
      call: makeCall(),
      consents: Array.from({ length: 50 }, (_, i) => makeConsent({ capturedAt: daysBefore(i + 1) })),
    });
    const n = 5_000;
    const start = performance.now();
    for (let i = 0; i < n; i++) decide(ACTIONS[i % ACTIONS.length], s, contexts[1], OPT_OUT_POLICY, NOW);
    expect((performance.now() - start) / n).toBeLessThan(0.5);
  });
});

// The cache's packed form of a customer must carry every field of the schemas, both ways.
import { describe, expect, it } from 'vitest';
import { CONSENT_FIELDS, CUSTOMER_FIELDS, packCustomer, unpackCustomer } from '@/lib/packing';
import { Consent, Customer } from '@/lib/schemas';
import { makeConsent, makeCustomer } from './factories';

describe('packing', () => {
  it('packs every field of Customer and Consent (a field added to a schema must be added here)', () => {
    expect([...CUSTOMER_FIELDS].sort()).toEqual(Object.keys(Customer.shape).sort());
    expect([...CONSENT_FIELDS, 'customerId'].sort()).toEqual(Object.keys(Consent.shape).sort());
  });

  it('unpacks to exactly what was packed', () => {
    const customer = makeCustomer({
      id: 'C-7',
      business: { dedicatedRep: 'Ann', cpniContractId: 'K-1', cpniContractName: 'Master' },
      addressOfRecord: { lines: ['1 Main St', 'Orlando, FL'], setAt: '2026-01-02T03:04:05.000Z' },
      passwordEstablished: true,
    });
    const consents = [
      makeConsent({ customerId: 'C-7', state: 'opt_in', method: 'oral', scope: 'call', callId: 'call-1', evidence: 'recording 12' }),
      makeConsent({ customerId: 'C-7', purpose: 'third_party', state: 'pending', noticeSentAt: '2026-01-01T00:00:00.000Z', noticeMailed: true }),
    ];
    const back = unpackCustomer(JSON.parse(JSON.stringify(packCustomer({ customer, consents }))));
    expect(back).toEqual({ customer, consents });
  });
});

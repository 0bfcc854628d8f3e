import { DEFAULT_POLICY } from '@/lib/schemas';
// Data factories for component tests.
import type { PanelState, SyncStatus } from '@/lib/messages';
import { Consent, Customer, type ConsentInput, type CustomerInput } from '@/lib/schemas';
import type { KnownSnapshot } from '@/lib/snapshot';

export const NOW = new Date('2025-11-25T15:00:00.000Z');
export const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

/** status.get's answer: signed out and empty unless `over` says otherwise. */
export function syncStatus(over: Partial<SyncStatus> = {}): SyncStatus {
  return {
    backendUrl: null,
    user: null,
    lastSuccessAt: null,
    lastAttemptAt: null,
    lastError: null,
    running: false,
    counts: { customers: 0, consents: 0 },
    outboxPending: 0,
    quarantined: 0,
    backendReachable: null,
    ...over,
  };
}

export function customer(over: Partial<CustomerInput> = {}): Customer {
  return Customer.parse({
    id: 'cust-1',
    accountNumber: 'ACCT-1001',
    name: 'Dana Reyes',
    phones: ['+14075550100'],
    serviceCategories: ['wireless'],
    passwordEstablished: true,
    updatedAt: minutesAgo(600),
    ...over,
  });
}

export function consent(over: Partial<ConsentInput> = {}): Consent {
  return Consent.parse({
    id: 'consent-1',
    customerId: 'cust-1',
    purpose: 'marketing',
    state: 'opt_in',
    method: 'written',
    capturedBy: 'sam.rep@carrier.example',
    capturedAt: '2025-10-01T14:30:00.000Z',
    noticeVersion: 'v3',
    updatedAt: '2025-10-01T14:30:00.000Z',
    ...over,
  });
}

export function known(over: Partial<KnownSnapshot> = {}): KnownSnapshot {
  return {
    state: 'known',
    customer: customer(),
    consents: [],
    call: null,
    verification: null,
    syncedAt: minutesAgo(3),
    ...over,
  };
}

export function panelState(over: Partial<PanelState> = {}): PanelState {
  return {
    type: 'panel.state',
    snapshot: known(),
    user: { id: 'u1', email: 'sam.rep@carrier.example', name: 'Sam Rep', role: 'rep' },
    policy: DEFAULT_POLICY,
    backendReachable: true,
    lastBlock: null,
    ...over,
  };
}

// @vitest-environment happy-dom
// On-demand mode, seen from the CRM page: the real background (FakeBackend with a slow lookup),
// the real content script (controller, session, guard) on the saved demo-CRM record page, and
// the real decide(). While the lookup is in flight the content script's record.open has not
// been answered, so the guard decides from "unknown (loading)" and blocks marketing
// (UNKNOWN_STATUS, fail closed); once the customer arrives the same click is decided on them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import { startCrmGuard, type CrmGuardApp } from '@/entrypoints/crm.content/controller';
import type { ContentMessage, GuardEvent } from '@/lib/messages';
import { decide } from '@/lib/policy';
import { PANEL_URL, activityTexts, installCrmHandlers, loadPage } from '../content/helpers';
import { FakeBackend, T0, contentSender, makeBackground, signIn, up } from './helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('on-demand mode: the guard fails closed while a lookup is in flight', () => {
  let app: CrmGuardApp | null = null;
  let removeCrm: () => void = () => {};
  beforeEach(() => {
    fakeBrowser.reset();
    loadPage('contact-C-1002', '/contacts/C-1002');
    removeCrm = installCrmHandlers();
  });
  afterEach(() => {
    app?.destroy();
    app = null;
    removeCrm();
    document.body.innerHTML = '';
  });

  it('blocks "Send marketing email" during a slow record.open, then allows it for an opted-in customer', async () => {
    const backend = new FakeBackend()
      .page('', { changes: [up('policy', { id: 'current', approvalMode: 'opt_in_only' } as never)], cursor: 'h1', hasMore: false })
      .page('h1', { changes: [], cursor: 'h1', hasMore: false });
    // The record on the page (CRM id C-1002) is, on this backend, a customer with standing
    // written marketing approval: once known, marketing is allowed. So a block before that is
    // the unknown status, not the customer.
    backend.lookupEntries = [
      {
        customer: {
          id: 'cust-1002',
          accountNumber: 'ACCT-700002',
          name: 'Ben Opted-In',
          crmRefs: [{ crm: 'demo-crm', id: 'C-1002' }],
          phones: ['+14075550102'],
          emails: ['ben.noapproval@example.com'],
          version: 1,
          updatedAt: T0,
        },
        consents: [
          { id: 'k-1002', customerId: 'cust-1002', purpose: 'marketing', state: 'opt_in', method: 'written', version: 1, updatedAt: T0 },
        ],
      },
    ];
    backend.lookupDelayMs = 300;
    const bg = makeBackground(backend);
    await signIn(bg, { cacheMode: 'on_demand' });

    const guardEvents: GuardEvent[] = [];
    const send = async (msg: ContentMessage) => {
      if (msg.type === 'guard.event') guardEvents.push(msg);
      return bg.handleMessage(msg, contentSender(7));
    };
    const guard = startCrmGuard({ adapters: ADAPTERS, send, decide, panelUrl: PANEL_URL })!;
    app = guard;

    // The page is read, record.open is sent, the background asks the backend (slowly).
    await until(() => backend.lookupRequests.length > 0, 'the lookup to reach the backend');
    expect(guard.session.current().snapshot).toEqual({ state: 'unknown', why: 'loading', syncedAt: null });

    const button = document.querySelector<HTMLElement>('[data-crm-action="marketing-email"]')!;
    const click = new MouseEvent('click', { bubbles: true, cancelable: true, composed: true });
    button.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(activityTexts()).not.toContain('Marketing email sent to Ben No-Approval');
    await until(() => guardEvents.length > 0, 'the block to be reported');
    expect(guardEvents[0]).toMatchObject({
      kind: 'action.blocked',
      action: 'marketing.other_category',
      customerId: null,
      details: { snapshotState: 'loading' },
    });
    expect(guardEvents[0]!.decision.reasons.map((r) => r.ruleId)).toContain('UNKNOWN_STATUS');

    // The lookup answers: the customer is held and the guard knows them.
    await until(() => guard.session.current().snapshot.state === 'known', 'the record.open reply');
    expect(guard.session.current().snapshot).toMatchObject({ state: 'known', customer: { id: 'cust-1002', name: 'Ben Opted-In' } });
    button.click();
    expect(activityTexts()).toContain('Marketing email sent to Ben No-Approval'); // the CRM's own handler ran
    await until(() => guardEvents.length > 1, 'the allowed use to be reported');
    expect(guardEvents[1]).toMatchObject({ kind: 'action.allowed', action: 'marketing.other_category', customerId: 'cust-1002' });
    expect(backend.lookupRequests).toHaveLength(1);
  });
});

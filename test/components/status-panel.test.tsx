// @vitest-environment happy-dom
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StatusPanel, type PanelPort } from '@/components/StatusPanel';
import { byTestId, cleanup, click, fakeBackground, flush, queryByTestId, render } from './dom';
import { NOW, consent, customer, known, minutesAgo, panelState } from './fixtures';

afterEach(cleanup);

function fakePort() {
  const onMessage = new Set<(m: unknown) => void>();
  const onDisconnect = new Set<() => void>();
  const port: PanelPort = {
    onMessage: { addListener: (cb) => onMessage.add(cb), removeListener: (cb) => onMessage.delete(cb) },
    onDisconnect: { addListener: (cb) => onDisconnect.add(cb), removeListener: (cb) => onDisconnect.delete(cb) },
    disconnect: vi.fn(),
  };
  return {
    port,
    connect: vi.fn(() => port),
    async push(message: unknown) {
      await act(async () => {
        for (const cb of [...onMessage]) cb(message);
      });
    },
    async drop() {
      await act(async () => {
        for (const cb of [...onDisconnect]) cb();
      });
    },
  };
}

async function renderPanel() {
  const fake = fakePort();
  const bg = fakeBackground(() => ({ ok: true, data: null }));
  const view = await render(<StatusPanel connect={fake.connect} client={bg.client} now={() => NOW} />);
  return { ...view, ...fake, bg };
}

describe('StatusPanel', () => {
  it('connects a port named by the caller and shows unknown (loading) until the first state', async () => {
    const { container, connect } = await renderPanel();
    expect(connect).toHaveBeenCalledTimes(1);
    expect(byTestId(container, 'unknown-status').textContent).toContain('CPNI status unknown (loading)');
    expect(byTestId(container, 'marketing-status').textContent).toContain('Marketing: blocked');
  });

  it('shows an opted-in customer as marketing allowed, with the proof', async () => {
    const { container, push } = await renderPanel();
    await push(panelState({ snapshot: known({ consents: [consent()] }) }));
    expect(byTestId(container, 'marketing-status').textContent).toContain('Marketing: allowed');
    expect(byTestId(container, 'customer-name').textContent).toBe('Dana Reyes');
    expect(byTestId(container, 'account-number').textContent).toBe('ACCT-1001');
    const proof = byTestId(container, 'approval-marketing').textContent!;
    expect(proof).toContain('Opted in');
    expect(proof).toContain('written');
    expect(proof).toContain('sam.rep@carrier.example');
    expect(proof).toContain('version v3');
    expect(byTestId(container, 'data-age').textContent).toBe('Data as of 3 min ago');
    expect(byTestId(container, 'call-detail-status').textContent).toContain('Call detail: needs caller verification');
    expect(byTestId(container, 'verification-state').textContent).toBe('Not verified');
    expect(byTestId(container, 'call-state').textContent).toBe('No call open');
  });

  it('shows a customer without approval as marketing blocked', async () => {
    const { container, push } = await renderPanel();
    await push(panelState());
    expect(byTestId(container, 'marketing-status').textContent).toContain('Marketing: blocked — no approval on file');
    expect(byTestId(container, 'third-party-status').textContent).toContain('blocked');
    expect(byTestId(container, 'new-carrier-status').textContent).toContain('blocked');
    expect(byTestId(container, 'approval-marketing').textContent).toContain('No approval on file');
  });

  it('blocks on revoked approval and does not count opt-out under the opt-in-only default', async () => {
    const { container, push } = await renderPanel();
    await push(
      panelState({
        snapshot: known({
          consents: [
            consent({ id: 'c1', state: 'revoked', capturedAt: minutesAgo(60), updatedAt: minutesAgo(60) }),
            consent({ id: 'c0', state: 'opt_in', capturedAt: minutesAgo(6000), updatedAt: minutesAgo(6000) }),
            consent({ id: 'c2', purpose: 'third_party', state: 'opt_out_effective' }),
          ],
        }),
      }),
    );
    expect(byTestId(container, 'marketing-status').textContent).toContain('Marketing: blocked — approval revoked');
    expect(byTestId(container, 'third-party-status').textContent).toContain('blocked');
  });

  it('allows marketing for the open call only with one-time oral consent, and shows the verification', async () => {
    const { container, push } = await renderPanel();
    const call = { id: 'call-9', customerId: 'cust-1', direction: 'inbound' as const, startedAt: minutesAgo(4), endedAt: null };
    await push(
      panelState({
        snapshot: known({
          call,
          consents: [consent({ id: 'oral', scope: 'call', callId: 'call-9', method: 'oral' })],
          verification: {
            customerId: 'cust-1',
            callId: 'call-9',
            method: 'password',
            verifiedAt: minutesAgo(2),
            verifiedBy: 'sam.rep@carrier.example',
          },
        }),
      }),
    );
    expect(byTestId(container, 'marketing-status').textContent).toContain('Marketing: allowed — for this call only');
    expect(byTestId(container, 'call-detail-status').textContent).toContain('Call detail: allowed — caller verified by account password');
    expect(byTestId(container, 'call-state').textContent).toContain('Inbound call open since');
    expect(byTestId(container, 'verification-state').textContent).toContain('Verified by account password');
  });

  it.each([
    ['not_synced', 'not synced'],
    ['not_found', 'customer not found'],
    ['signed_out', 'signed out'],
    ['loading', 'loading'],
  ] as const)('shows unknown (%s) as blocked with the reason', async (why, words) => {
    const { container, push } = await renderPanel();
    await push(panelState({ snapshot: { state: 'unknown', why, syncedAt: null } }));
    expect(byTestId(container, 'unknown-status').textContent).toBe(
      `CPNI status unknown (${words}) — marketing and disclosure are blocked`,
    );
    expect(byTestId(container, 'marketing-status').textContent).toContain('Marketing: blocked');
    expect(queryByTestId(container, 'customer-name')).toBeNull();
  });

  it('says when the backend is unreachable and how old the cache is', async () => {
    const { container, push } = await renderPanel();
    await push(panelState({ backendReachable: false, snapshot: known({ syncedAt: minutesAgo(125) }) }));
    const age = byTestId(container, 'data-age').textContent!;
    expect(age).toContain('Backend unreachable — working from cached data as of');
    expect(age).toContain('2 h ago');
  });

  it('fails closed on a message it cannot parse', async () => {
    const { container, push } = await renderPanel();
    await push(panelState({ snapshot: known({ consents: [consent()] }) }));
    await push({ type: 'panel.state', snapshot: { state: 'known' } });
    expect(byTestId(container, 'unknown-status').textContent).toContain('CPNI status unknown');
    expect(byTestId(container, 'marketing-status').textContent).toContain('Marketing: blocked');
    expect(byTestId(container, 'panel-notice').textContent).toContain('could not read');
  });

  it('links a blocked campaign launch to its campaign in the extension', async () => {
    const { container, push } = await renderPanel();
    await push(
      panelState({
        lastBlock: {
          action: 'marketing.launch_campaign',
          control: 'Launch campaign',
          at: minutesAgo(0),
          eventId: 'e-launch',
          campaignId: 'cmp 7',
          decision: {
            verdict: 'block',
            reasons: [{ ruleId: 'SUPERVISORY_APPROVAL', citation: 'policy §9', text: 'Not approved by General Counsel' }],
            remedies: [{ id: 'campaign.awaitApproval', text: 'Wait for counsel' }],
          },
        },
      }),
    );
    const link = byTestId(container, 'block-campaign-link') as HTMLAnchorElement;
    expect(link.getAttribute('href')).toMatch(/\/campaigns\.html#cmp%207$/);
  });

  it('shows the block dialog with rule, citation and remedy; Dismiss sends panel.dismissBlock', async () => {
    const { container, push, bg } = await renderPanel();
    await push(
      panelState({
        lastBlock: {
          action: 'marketing.other_category',
          control: 'Email offer',
          at: minutesAgo(0),
          eventId: '0193a3c4-0000-7000-8000-000000000001',
          campaignId: null,
          decision: {
            verdict: 'block',
            reasons: [
              {
                ruleId: 'APPROVAL_REQUIRED',
                citation: 'policy §7A; 47 C.F.R. 64.2007',
                text: 'Marketing outside the services the customer buys needs opt-in approval.',
              },
            ],
            remedies: [{ id: 'consent.capture', text: 'Ask the customer for one-time oral consent on this call.' }],
          },
        },
      }),
    );
    const dialog = byTestId(container, 'block-dialog');
    expect(dialog.getAttribute('role')).toBe('alertdialog');
    const title = container.ownerDocument.getElementById(dialog.getAttribute('aria-labelledby')!)!;
    expect(title.textContent).toBe('Blocked: Marketing of other services');
    expect(byTestId(dialog, 'block-control').textContent).toContain('Email offer');
    const rule = byTestId(dialog, 'block-rule');
    expect(byTestId(rule, 'block-rule-id').textContent).toBe('APPROVAL_REQUIRED');
    expect(rule.textContent).toContain('policy §7A; 47 C.F.R. 64.2007');
    expect(rule.textContent).toContain('needs opt-in approval');
    expect(byTestId(dialog, 'block-remedy').textContent).toContain('one-time oral consent');
    const dismiss = byTestId(dialog, 'block-dismiss');
    expect(dismiss.textContent).toBe('Dismiss');
    expect(container.ownerDocument.activeElement).toBe(dismiss);

    await click(dismiss);
    expect(bg.sent).toEqual([{ type: 'panel.dismissBlock' }]);
    expect(queryByTestId(container, 'block-dialog')).toBeNull();
  });

  it('renders CRM and backend strings as text, never as markup', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const { container, push } = await renderPanel();
    await push(
      panelState({
        snapshot: known({
          customer: customer({ name: evil, accountNumber: '<b>1</b>' }),
          consents: [consent({ capturedBy: evil, noticeVersion: '<script>x</script>' })],
        }),
        lastBlock: {
          action: 'sell',
          control: evil,
          at: minutesAgo(0),
          eventId: 'e1',
          campaignId: null,
          decision: {
            verdict: 'block',
            reasons: [{ ruleId: 'NO_SALE', citation: 'policy §6', text: evil }],
            remedies: [{ id: 'none', text: evil }],
          },
        },
      }),
    );
    expect(byTestId(container, 'customer-name').textContent).toBe(evil);
    expect(byTestId(container, 'block-control').textContent).toContain(evil);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
  });

  it('reconnects after the port drops (service worker restart)', async () => {
    vi.useFakeTimers();
    try {
      const fake = fakePort();
      const bg = fakeBackground(() => ({ ok: true, data: null }));
      const { container } = await render(
        <StatusPanel connect={fake.connect} client={bg.client} now={() => NOW} reconnectDelayMs={10} />,
      );
      await fake.drop();
      expect(byTestId(container, 'panel-notice').textContent).toContain('reconnecting');
      await act(async () => {
        vi.advanceTimersByTime(20);
      });
      expect(fake.connect).toHaveBeenCalledTimes(2);
      await fake.push(panelState());
      expect(queryByTestId(container, 'panel-notice')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('disconnects its port on unmount', async () => {
    const { port, unmount } = await renderPanel();
    unmount();
    expect(port.disconnect).toHaveBeenCalled();
    await flush();
  });
});

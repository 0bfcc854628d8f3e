// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { CallPanel } from '@/components/CallPanel';
import { FIRST_NOTICE_VERSION } from '@/lib/calls';
import type { CallPanelInfo } from '@/lib/messages-calls';
import { DEFAULT_POLICY } from '@/lib/schemas';
import { buttonByText, byLabel, byTestId, cleanup, click, fakeBackground, queryByTestId, render, typeInto } from './dom';
import { NOW, customer, known, minutesAgo } from './fixtures';

afterEach(cleanup);

const openCallSnapshot = (over: Parameters<typeof customer>[0] = {}) =>
  known({
    customer: customer({ addressOfRecord: { lines: ['1 Main St'], setAt: new Date(NOW.getTime() - 10 * 86_400_000).toISOString() }, ...over }),
    call: { id: 'call-1', customerId: 'cust-1', direction: 'inbound', startedAt: minutesAgo(2), endedAt: new Date(NOW.getTime() + 28 * 60_000).toISOString() },
  });

const info = (over: Partial<CallPanelInfo> = {}): CallPanelInfo => ({ password: null, captures: [], changes: [], mailing: null, ...over });

function answers(msg: { type: string }) {
  if (msg.type === 'verify.password') return { ok: true, data: { verified: false, attemptsLeft: 1, locked: false } };
  if (msg.type === 'notices.current') return { ok: true, data: { version: FIRST_NOTICE_VERSION, effectiveAt: NOW.toISOString(), text: 'Para one.\n\nYou may deny or withdraw.' } };
  if (msg.type === 'consent.capture') {
    return { ok: true, data: { id: 'k1', purpose: 'marketing', state: 'opt_in', method: 'oral', scope: 'call', noticeVersion: FIRST_NOTICE_VERSION, capturedAt: NOW.toISOString(), status: 'pending', error: null } };
  }
  if (msg.type === 'account.changed') return { ok: true, data: { id: 'a1', field: 'password', changedAt: NOW.toISOString(), status: 'pending', notice: null, error: null } };
  return { ok: true, data: null };
}

async function renderCall(snapshot = openCallSnapshot(), i = info()) {
  const bg = fakeBackground(answers);
  const view = await render(<CallPanel snapshot={snapshot} info={i} client={bg.client} now={NOW} policy={DEFAULT_POLICY} />);
  return { ...view, bg };
}

describe('CallPanel', () => {
  it('starts a customer-initiated or outbound call when none is open', async () => {
    const { container, bg } = await renderCall(known());
    expect(queryByTestId(container, 'verify-caller')).toBeNull();
    await click(buttonByText(container, 'Customer called: start call'));
    await click(buttonByText(container, 'Start outbound call'));
    expect(bg.sent).toEqual([
      { type: 'call.start', customerId: 'cust-1', direction: 'inbound' },
      { type: 'call.start', customerId: 'cust-1', direction: 'outbound' },
    ]);
  });

  it('offers the four verification ways, says why one is not available, and sends the password without keeping it', async () => {
    const { container, bg } = await renderCall();
    expect(byTestId(container, 'call-open').textContent).toContain('ends by itself after 30 min');
    expect(byTestId(container, 'number-of-record').textContent).toBe('+14075550100');
    expect(byTestId(container, 'verify-address_of_record').textContent).toContain('changed 10 days ago');
    expect(byTestId(container, 'verify-business_contract').textContent).toContain('Not available');
    const input = byLabel(container, 'Password the caller gives') as HTMLInputElement;
    expect(input.type).toBe('password');
    await typeInto(input, 'guess');
    await click(buttonByText(container, 'Check password'));
    expect(bg.sent).toContainEqual({ type: 'verify.password', customerId: 'cust-1', password: 'guess' });
    expect(input.value).toBe('');
    expect(byTestId(container, 'verify-message').textContent).toContain('1 attempt left');
    expect(byTestId(container, 'verify-message').getAttribute('role')).toBe('alert');
  });

  it('names the business contract; shows the lock instead of the password field', async () => {
    const snap = openCallSnapshot({ business: { dedicatedRep: 'rep@x', cpniContractId: 'MSA-9', cpniContractName: 'MSA §14' } });
    const { container } = await renderCall(snap, info({ password: { attemptsLeft: 0, locked: true } }));
    expect(byTestId(container, 'business-contract').textContent).toContain('MSA §14 (MSA-9)');
    expect(byTestId(container, 'password-locked').textContent).toContain('manager must unlock');
    expect(queryByTestId(container, 'verify-password-form')).toBeNull();
  });

  it('shows the CPNI notice before an approval can be recorded; one-time consent only on the open call', async () => {
    const { container, bg } = await renderCall();
    const record = buttonByText(container, 'Record consent');
    expect(record.disabled).toBe(true);
    await click(buttonByText(container, 'Show CPNI notice'));
    expect(byTestId(container, 'cpni-notice').textContent).toContain('You may deny or withdraw.');
    expect(buttonByText(container, 'Record consent').disabled).toBe(true);
    await click(byLabel(container, 'I gave this notice to the customer') as HTMLInputElement);
    await click(byLabel(container, 'For this call only (one-time oral consent)') as HTMLInputElement);
    await click(buttonByText(container, 'Record consent'));
    expect(bg.sent.find((m) => m.type === 'consent.capture')).toEqual({
      type: 'consent.capture',
      input: { customerId: 'cust-1', purpose: 'marketing', state: 'opt_in', method: 'oral', scope: 'call', noticeVersion: FIRST_NOTICE_VERSION, evidence: null },
    });
  });

  it('without a call, one-time consent cannot be chosen; captures and account changes show their status', async () => {
    const i = info({
      captures: [{ id: 'k1', purpose: 'marketing', state: 'opt_in', method: 'oral', scope: 'call', noticeVersion: 'N', capturedAt: NOW.toISOString(), status: 'pending', error: null }],
      changes: [
        {
          id: 'a1',
          field: 'address_of_record',
          changedAt: NOW.toISOString(),
          status: 'recorded',
          error: null,
          notice: { id: 'a1', customerId: 'cust-1', field: 'address_of_record', channel: 'mail', addressedTo: ['1 Main St'], text: 't', source: 'panel', changedAt: NOW.toISOString(), createdAt: NOW.toISOString(), createdBy: 'r', sentAt: null, sentBy: null },
        },
      ],
    });
    const { container, bg } = await renderCall(known(), i);
    expect((byLabel(container, 'For this call only (one-time oral consent)') as HTMLInputElement).disabled).toBe(true);
    expect(byTestId(container, 'capture-status').textContent).toBe('pending');
    expect(byTestId(container, 'account-change-item').textContent).toContain('address of record before the change');
    await typeInto(byLabel(container, 'What changed'), 'password');
    await click(buttonByText(container, 'Record change and send notice'));
    expect(bg.sent).toContainEqual({ type: 'account.changed', customerId: 'cust-1', field: 'password' });
    // Every form control has a label.
    for (const el of container.querySelectorAll('input, select')) {
      expect(container.querySelector(`label[for="${el.id}"]`), el.outerHTML).not.toBeNull();
    }
  });
});

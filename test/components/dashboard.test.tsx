// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { Dashboard } from '@/components/Dashboard';
import type { StoredAuditEvent } from '@/lib/api';
import type { PageMessage, SyncStatus } from '@/lib/messages';
import type { Role } from '@/lib/schemas';
import { allByTestId, byLabel, byTestId, cleanup, click, fakeBackground, flush, queryByTestId, render, typeInto } from './dom';
import { syncStatus } from './fixtures';

afterEach(cleanup);

const statusFor = (role: Role | null): SyncStatus =>
  syncStatus({
    backendUrl: 'http://127.0.0.1:8787',
    user: role ? { id: 'u', email: `${role}@carrier.example`, name: role, role } : null,
    backendReachable: true,
  });

let seq = 0;
function event(over: Partial<StoredAuditEvent> = {}): StoredAuditEvent {
  seq += 1;
  return {
    id: `0193a3c4-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    at: '2025-11-25T14:00:00.000Z',
    kind: 'action.blocked',
    actor: 'sam.rep@carrier.example',
    actorRole: 'rep',
    action: 'marketing.other_category',
    customerId: 'cust-1',
    ruleIds: ['APPROVAL_REQUIRED'],
    reasons: ['No opt-in approval on file'],
    crm: 'demo-crm',
    pageUrl: 'http://localhost:5173/customers/1',
    control: 'Email offer',
    details: {},
    receivedAt: '2025-11-25T14:00:01.000Z',
    ...over,
  };
}

async function renderDashboard(role: Role | null, audit: (msg: Extract<PageMessage, { type: 'audit.query' }>) => unknown) {
  const bg = fakeBackground((msg) => {
    if (msg.type === 'status.get') return { ok: true, data: statusFor(role) };
    if (msg.type === 'audit.query') return audit(msg);
    return { ok: false, error: 'unexpected' };
  });
  const view = await render(<Dashboard client={bg.client} optionsUrl={() => 'chrome-extension://x/options.html'} />);
  await flush();
  return { ...view, bg, queries: () => bg.sent.filter((m) => m.type === 'audit.query').map((m) => m.query) };
}

describe('Dashboard', () => {
  it('tells other roles the view is for managers and queries nothing', async () => {
    const { container, queries } = await renderDashboard('rep', () => ({ ok: true, data: { events: [], next: null } }));
    expect(byTestId(container, 'dashboard-forbidden').textContent).toContain('This view is for managers');
    expect(queries()).toEqual([]);
  });

  it('lists blocked actions newest first in a table with headers', async () => {
    const older = event({ at: '2025-11-24T09:00:00.000Z', actor: 'old@carrier.example' });
    const newer = event({ at: '2025-11-25T10:00:00.000Z', actor: 'new@carrier.example', ruleIds: ['APPROVAL_REQUIRED', 'UNKNOWN_STATUS'] });
    const { container, queries } = await renderDashboard('manager', () => ({
      ok: true,
      data: { events: [older, newer], next: null },
    }));
    expect(queries()).toEqual([{ kind: 'action.blocked', limit: 50 }]);
    const headers = [...container.querySelectorAll('th')].map((th) => th.textContent);
    expect(headers).toEqual(['When', 'Rep', 'Customer', 'Action', 'Rule(s)', 'Kind', 'Control', 'Reasons']);
    const rows = allByTestId(container, 'audit-row');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('new@carrier.example');
    expect(rows[0].textContent).toContain('APPROVAL_REQUIRED UNKNOWN_STATUS');
    expect(rows[0].textContent).toContain('Email offer');
    expect(rows[0].textContent).toContain('Blocked');
    expect(rows[1].textContent).toContain('old@carrier.example');
  });

  it('sends the filters as an audit query with ISO datetimes, and loads more with next', async () => {
    const { container, queries } = await renderDashboard('counsel', (msg) =>
      msg.query.before
        ? { ok: true, data: { events: [event({ at: '2025-11-01T00:00:00.000Z', actor: 'page2@carrier.example' })], next: null } }
        : { ok: true, data: { events: [event()], next: 'tok-2' } },
    );
    await typeInto(byLabel(container, 'Rep (email)'), 'sam.rep@carrier.example');
    await typeInto(byLabel(container, 'Action'), 'disclose.call_detail');
    await typeInto(byLabel(container, 'Rule'), 'CALL_DETAIL_AUTH');
    await typeInto(byLabel(container, 'Kind'), 'action.overridden');
    await typeInto(byLabel(container, 'From'), '2025-11-01');
    await typeInto(byLabel(container, 'To'), '2025-11-25');
    await click(byTestId(container, 'apply-filters'));

    const q = queries().at(-1)!;
    expect(q).toMatchObject({
      actor: 'sam.rep@carrier.example',
      action: 'disclose.call_detail',
      ruleId: 'CALL_DETAIL_AUTH',
      kind: 'action.overridden',
      limit: 50,
    });
    expect(q.from).toBe(new Date(2025, 10, 1, 0, 0, 0, 0).toISOString());
    expect(q.to).toBe(new Date(2025, 10, 25, 23, 59, 59, 999).toISOString());
    expect(q.before).toBeUndefined();

    await click(byTestId(container, 'load-more'));
    const more = queries().at(-1)!;
    expect(more).toEqual({ ...q, before: 'tok-2' });
    expect(allByTestId(container, 'audit-row')).toHaveLength(2);
    expect(queryByTestId(container, 'load-more')).toBeNull();
  });

  it('shows the error when the backend is unreachable', async () => {
    const { container } = await renderDashboard('admin', () => ({ ok: false, error: 'Backend unreachable: fetch failed' }));
    expect(byTestId(container, 'audit-error').textContent).toContain('Backend unreachable: fetch failed');
    expect(byTestId(container, 'audit-error').getAttribute('role')).toBe('alert');
  });

  it('asks a signed-out user to sign in', async () => {
    const { container } = await renderDashboard(null, () => ({ ok: true, data: { events: [], next: null } }));
    expect(byTestId(container, 'options-link').getAttribute('href')).toBe('chrome-extension://x/options.html');
  });
});

// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { OptionsPage } from '@/components/OptionsPage';
import type { PageMessage, SyncStatus } from '@/lib/messages';
import type { User } from '@/lib/schemas';
import { byLabel, byRole, byTestId, cleanup, click, fakeBackground, flush, queryByTestId, render, submit, typeInto } from './dom';
import { NOW, minutesAgo, syncStatus as status } from './fixtures';

afterEach(cleanup);



const manager: User = { id: 'u2', email: 'max.manager@carrier.example', name: 'Max Manager', role: 'manager' };

async function renderOptions(handler: (msg: PageMessage, current: { status: SyncStatus }) => unknown, initial = status()) {
  const current = { status: initial };
  const bg = fakeBackground((msg) => {
    if (msg.type === 'status.get') return { ok: true, data: current.status };
    return handler(msg, current);
  });
  const view = await render(
    <OptionsPage client={bg.client} now={() => NOW} pollMs={60_000} dashboardUrl={() => 'chrome-extension://x/dashboard.html'} />,
  );
  await flush();
  return { ...view, bg, current };
}

describe('OptionsPage', () => {
  it('signs in with the backend URL, email and password from labelled fields', async () => {
    const { container, bg } = await renderOptions((msg, current) => {
      if (msg.type === 'auth.signIn') {
        current.status = status({ user: manager, backendUrl: msg.backendUrl });
        return { ok: true, data: { user: manager } };
      }
      return { ok: false, error: 'unexpected' };
    });
    const url = byLabel(container, 'Backend URL') as HTMLInputElement;
    expect(url.value).toBe('http://127.0.0.1:8787');
    await typeInto(url, 'http://127.0.0.1:9999');
    await typeInto(byLabel(container, 'Email'), 'max.manager@carrier.example');
    await typeInto(byLabel(container, 'Password'), 's3cret-pass');
    await click(byTestId(container, 'sign-in'));

    expect(bg.sent.filter((m) => m.type === 'auth.signIn')).toEqual([
      {
        type: 'auth.signIn',
        backendUrl: 'http://127.0.0.1:9999',
        email: 'max.manager@carrier.example',
        password: 's3cret-pass',
      },
    ]);
    await flush();
    expect(byTestId(container, 'signed-in-user').textContent).toContain('Max Manager');
    expect(byTestId(container, 'signed-in-role').textContent).toBe('Role: Manager');
    expect(byTestId(container, 'dashboard-link').getAttribute('href')).toBe('chrome-extension://x/dashboard.html');
  });

  it('shows a failed sign-in in role="alert"', async () => {
    const { container } = await renderOptions(() => ({ ok: false, error: 'Wrong email or password.' }));
    await typeInto(byLabel(container, 'Email'), 'a@b.example');
    await typeInto(byLabel(container, 'Password'), 'nope');
    await submit(byTestId(container, 'sign-in-form') as HTMLFormElement);
    expect(byRole(container, 'alert')!.textContent).toBe('Wrong email or password.');
  });

  it('rejects a backend URL that is not http(s) without sending anything', async () => {
    const { container, bg } = await renderOptions(() => ({ ok: true, data: null }));
    await typeInto(byLabel(container, 'Backend URL'), 'javascript:alert(1)');
    await typeInto(byLabel(container, 'Email'), 'a@b.example');
    await typeInto(byLabel(container, 'Password'), 'pw');
    await click(byTestId(container, 'sign-in'));
    expect(byRole(container, 'alert')!.textContent).toContain('http');
    expect(bg.sent.some((m) => m.type === 'auth.signIn')).toBe(false);
  });

  it('shows sync status, syncs now, and signs out (warning first when audit events are pending)', async () => {
    const rep: User = { id: 'u1', email: 'sam@carrier.example', name: 'Sam Rep', role: 'rep' };
    const { container, bg } = await renderOptions(
      () => ({ ok: true, data: null }),
      status({
        user: rep,
        backendUrl: 'http://127.0.0.1:8787',
        lastSuccessAt: minutesAgo(5),
        lastAttemptAt: minutesAgo(1),
        lastError: 'HTTP 503 from backend',
        counts: { customers: 1200, consents: 3400 },
        outboxPending: 2,
        quarantined: 1,
        backendReachable: false,
      }),
    );
    expect(byTestId(container, 'record-counts').textContent).toBe('1200 customers, 3400 consents');
    expect(byTestId(container, 'outbox-pending').textContent).toBe('2');
    expect(byTestId(container, 'quarantined').textContent).toContain('1');
    expect(byTestId(container, 'last-success').textContent).toContain('5 min ago');
    expect(byTestId(container, 'last-error').textContent).toBe('HTTP 503 from backend');
    expect(queryByTestId(container, 'dashboard-link')).toBeNull();

    await click(byTestId(container, 'sync-now'));
    expect(bg.sent.some((m) => m.type === 'sync.now')).toBe(true);

    await click(byTestId(container, 'sign-out'));
    expect(bg.sent.some((m) => m.type === 'auth.signOut')).toBe(false);
    expect(byTestId(container, 'signout-warning').textContent).toContain('2 audit events have not reached');
    await click(byTestId(container, 'sign-out'));
    expect(bg.sent.some((m) => m.type === 'auth.signOut')).toBe(true);
  });

  it('every input has a label', async () => {
    const { container } = await renderOptions(() => ({ ok: true, data: null }));
    for (const input of container.querySelectorAll('input')) {
      expect(container.querySelector(`label[for="${input.id}"]`)).not.toBeNull();
    }
  });
});

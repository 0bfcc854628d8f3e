// @vitest-environment happy-dom
// The options page's customer cache choice (full / on demand) and the mode shown when signed in.
import { afterEach, describe, expect, it } from 'vitest';
import { OptionsPage } from '@/components/OptionsPage';
import type { PageMessage } from '@/lib/messages';
import type { User } from '@/lib/schemas';
import { byLabel, byTestId, cleanup, click, fakeBackground, flush, queryByTestId, render, typeInto } from './dom';
import { NOW, syncStatus as status } from './fixtures';

afterEach(cleanup);

const rep: User = { id: 'u1', email: 'rita.rep@carrier.example', name: 'Rita Rep', role: 'rep' };



async function renderOptions() {
  const current = { status: status() };
  const bg = fakeBackground((msg: PageMessage) => {
    if (msg.type === 'status.get') return { ok: true, data: current.status };
    if (msg.type === 'auth.signIn') {
      current.status = status({ user: rep, backendUrl: msg.backendUrl, cacheMode: msg.cacheMode ?? 'full', counts: { customers: 0, consents: 0 } });
      return { ok: true, data: current.status };
    }
    return { ok: false, error: 'unexpected' };
  });
  const view = await render(<OptionsPage client={bg.client} now={() => NOW} pollMs={60_000} dashboardUrl={() => 'x'} />);
  await flush();
  return { ...view, bg };
}

async function fillCredentials(container: HTMLElement) {
  await typeInto(byLabel(container, 'Email'), rep.email);
  await typeInto(byLabel(container, 'Password'), 'pw-123456');
}

describe('OptionsPage customer cache mode', () => {
  it('offers a labelled choice, whole customer base by default, and signs in in that mode', async () => {
    const { container, bg } = await renderOptions();
    const select = byLabel(container, 'Customer cache') as HTMLSelectElement;
    expect(select.tagName).toBe('SELECT');
    expect(select.value).toBe('full');
    expect([...select.options].map((o) => o.textContent)).toEqual([
      'whole customer base (default)',
      'only customers I open (on demand, for very large bases)',
    ]);
    const hint = container.ownerDocument.getElementById(select.getAttribute('aria-describedby')!);
    expect(hint?.textContent).toMatch(/downloads every customer/);

    await fillCredentials(container);
    await click(byTestId(container, 'sign-in'));
    const [sent] = bg.sent.filter((m) => m.type === 'auth.signIn');
    expect(sent).toMatchObject({ type: 'auth.signIn', email: rep.email });
    expect(sent && 'cacheMode' in sent ? sent.cacheMode : undefined).toBeUndefined(); // the default
    await flush();
    expect(byTestId(container, 'cache-mode').textContent).toContain('Customer cache: the whole customer base');
  });

  it('signs in on demand when chosen and says so while signed in', async () => {
    const { container, bg } = await renderOptions();
    const select = byLabel(container, 'Customer cache') as HTMLSelectElement;
    await typeInto(select, 'on_demand');
    expect(select.value).toBe('on_demand');
    const hint = container.ownerDocument.getElementById(select.getAttribute('aria-describedby')!);
    expect(hint?.textContent).toMatch(/fetched when you open their record/);

    await fillCredentials(container);
    await click(byTestId(container, 'sign-in'));
    expect(bg.sent.filter((m) => m.type === 'auth.signIn')).toEqual([
      { type: 'auth.signIn', backendUrl: 'http://127.0.0.1:8787', email: rep.email, password: 'pw-123456', cacheMode: 'on_demand' },
    ]);
    await flush();
    const mode = byTestId(container, 'cache-mode');
    expect(mode.textContent).toContain('Customer cache: only customers you open (on demand)');
    expect(mode.textContent).toMatch(/list scrub knows only the customers cached here/);
    expect(queryByTestId(container, 'sign-in-form')).toBeNull();
  });
});

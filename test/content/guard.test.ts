// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { demoCrm } from '@/entrypoints/crm.content/adapters/demo-crm';
import { Guard, type GuardDeps } from '@/entrypoints/crm.content/guard';
import { startCrmGuard, type CrmGuardApp } from '@/entrypoints/crm.content/controller';
import { ADAPTERS } from '@/entrypoints/crm.content/adapters';
import type { GuardEvent } from '@/lib/messages';
import type { Decision } from '@/lib/schemas';
import type { Snapshot } from '@/lib/snapshot';
import {
  ALLOW,
  BLOCK,
  PANEL_URL,
  activityTexts,
  fakeBackground,
  flush,
  installCrmHandlers,
  knownSnapshot,
  loadPage,
  openReply,
} from './helpers';

const button = (action: string) => document.querySelector<HTMLElement>(`[data-crm-action="${action}"]`)!;

describe('guard in the content script (saved record page, fake background, fake decide)', () => {
  let app: CrmGuardApp | null = null;
  let removeCrm: () => void = () => {};

  beforeEach(() => {
    loadPage('contact-C-1002', '/contacts/C-1002');
    removeCrm = installCrmHandlers();
  });
  afterEach(() => {
    app?.destroy();
    app = null;
    removeCrm();
    document.body.innerHTML = '';
  });

  async function start(decide: (action: string, snapshot: Snapshot) => Decision, reply = openReply(knownSnapshot('C-1002'))) {
    const bg = fakeBackground();
    const decideSpy = vi.fn((action: string, snapshot: Snapshot, ..._rest: unknown[]) => decide(action, snapshot));
    app = startCrmGuard({ adapters: ADAPTERS, send: bg.send, decide: decideSpy, panelUrl: PANEL_URL });
    await flush();
    if (reply) bg.answerOpen('C-1002', reply);
    await flush();
    return { bg, decideSpy };
  }

  it('blocks a marketing click when decide says block: the CRM never sees it', async () => {
    const { bg, decideSpy } = await start(() => BLOCK);
    const own = vi.fn();
    button('marketing-email').addEventListener('click', own);
    const event = new MouseEvent('click', { bubbles: true, cancelable: true, composed: true });
    button('marketing-email').dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
    expect(own).not.toHaveBeenCalled();
    expect(activityTexts()).not.toContain('Marketing email sent to Ben No-Approval');
    expect(decideSpy.mock.lastCall?.slice(0, 3)).toEqual(['marketing.other_category', expect.objectContaining({ state: 'known' }), { role: 'rep', offeredCategory: null }]);
    await flush();
    const [ev] = bg.guardEvents();
    expect(ev).toMatchObject({
      kind: 'action.blocked',
      action: 'marketing.other_category',
      customerId: 'C-1002',
      crm: 'demo-crm',
      control: 'Send marketing email',
      decision: BLOCK,
      details: { crmId: 'C-1002', frame: 'top' },
    });
    expect(ev!.pageUrl).toMatch(/\/contacts\/C-1002$/);
  });

  it('lets an allowed marketing click through and records the CPNI use', async () => {
    const { bg } = await start(() => ALLOW);
    const own = vi.fn();
    button('marketing-email').addEventListener('click', own);
    button('marketing-email').click();
    expect(own).toHaveBeenCalledTimes(1);
    expect(activityTexts()).toContain('Marketing email sent to Ben No-Approval');
    await flush();
    expect(bg.guardEvents().map((e) => [e.kind, e.action])).toEqual([['action.allowed', 'marketing.other_category']]);
  });

  it('blocks a click while the snapshot is still unknown (no reply yet)', async () => {
    const { bg, decideSpy } = await start((_a, s) => (s.state === 'known' ? ALLOW : BLOCK), null as never);
    button('call-detail').click();
    expect(decideSpy.mock.lastCall?.slice(0, 2)).toEqual(['disclose.call_detail', { state: 'unknown', why: 'loading', syncedAt: null }]);
    expect(activityTexts()).not.toContain('Call detail shown for Ben No-Approval');
    await flush();
    expect(bg.guardEvents()[0]).toMatchObject({ kind: 'action.blocked', customerId: null, details: { snapshotState: 'loading' } });
  });

  it('fails closed when decide throws', async () => {
    const { bg } = await start(() => {
      throw new Error('not implemented yet');
    });
    button('add-to-campaign').click();
    expect(activityTexts().some((t) => t.includes('added to campaign'))).toBe(false);
    await flush();
    const ev = bg.guardEvents()[0]!;
    expect(ev.kind).toBe('action.blocked');
    expect(ev.decision.verdict).toBe('block');
    expect(ev.decision.reasons[0]!.ruleId).toBe('UNKNOWN_STATUS');
  });

  it('does not touch clicks on things that are not guarded controls', async () => {
    const { bg, decideSpy } = await start(() => BLOCK);
    const link = document.querySelector<HTMLAnchorElement>('.crumbs a')!;
    const event = new MouseEvent('click', { bubbles: true, cancelable: true });
    link.addEventListener('click', (e) => e.preventDefault()); // keep happy-dom from navigating
    link.dispatchEvent(event);
    expect(decideSpy).not.toHaveBeenCalled();
    expect(bg.guardEvents()).toEqual([]);
  });

  it('blocks a tel: click and asks the purpose in a closed shadow root', async () => {
    const { decideSpy } = await start(() => ALLOW);
    const event = new MouseEvent('click', { bubbles: true, cancelable: true });
    button('call').dispatchEvent(event);
    expect(event.defaultPrevented).toBe(true);
    expect(activityTexts().some((t) => t.startsWith('Dialing'))).toBe(false);
    expect(decideSpy).not.toHaveBeenCalled();
    const chooser = document.querySelector('cpni-guard-chooser');
    expect(chooser).not.toBeNull();
    expect(chooser!.shadowRoot).toBeNull(); // closed
  });
});

/** Guard state for the Guard-only tests: record C-1002 open and known, default policy. */
const onC1002 = () => ({
  identifiers: { crm: 'demo-crm', crmId: 'C-1002', accountNumber: null, phones: [], emails: [] },
  snapshot: knownSnapshot('C-1002'),
  user: null,
  policy: { approvalMode: 'opt_in_only' as const, exportRoles: ['manager' as const], fccBreachOrder2023: false, callIdleMinutes: 30, passwordMaxAttempts: 3 },
});

describe('Guard: ambiguous controls (tel:)', () => {
  function makeGuard(decision: Decision, answer: 'service' | 'marketing' | null) {
    document.body.innerHTML = '<div id="x"><a href="tel:+14075550102" data-crm-action="call">Call</a></div>';
    const link = document.querySelector('a')!;
    const crm = vi.fn((e: Event) => e.preventDefault());
    link.addEventListener('click', crm);
    const events: GuardEvent[] = [];
    const decide = vi.fn(() => decision);
    let resolveAsk: () => void = () => {};
    let asks = 0;
    const asked = new Promise<void>((r) => (resolveAsk = r));
    const deps: GuardDeps = {
      adapter: () => demoCrm,
      state: onC1002,
      decide,
      report: (e) => events.push(e),
      askPurpose: async (_near, question, choices) => {
        expect(question).toBe('What is this call for?');
        resolveAsk();
        const a = asks++ === 0 ? answer : null; // answers the first question only
        return choices.find((c) => c.purpose === a) ?? null;
      },
      isOwnUi: () => false,
      pageUrl: () => 'http://localhost:5180/contacts/C-1002',
      isTopFrame: true,
    };
    const abort = new AbortController();
    new Guard(deps).start(abort.signal);
    return { link, crm, events, decide, asked, stop: () => abort.abort() };
  }

  it('on "Service", decides service, records the answer and re-dispatches the click once', async () => {
    const g = makeGuard(ALLOW, 'service');
    g.link.click();
    await g.asked;
    await flush();
    expect(g.decide).toHaveBeenCalledWith('service', expect.anything(), { role: 'rep', offeredCategory: null }, expect.anything(), expect.any(Date));
    expect(g.events.map((e) => [e.kind, e.action, e.details.purpose])).toEqual([['purpose.answered', 'service', 'service']]);
    expect(g.crm).toHaveBeenCalledTimes(1); // the CRM's click-to-dial ran once, after the answer
    g.link.click(); // the next click is guarded again
    await flush();
    expect(g.crm).toHaveBeenCalledTimes(1);
    g.stop();
  });

  it('on "Marketing" when decide blocks, keeps the call blocked and reports the block', async () => {
    const g = makeGuard(BLOCK, 'marketing');
    g.link.click();
    await g.asked;
    await flush();
    expect(g.crm).not.toHaveBeenCalled();
    expect(g.events.map((e) => [e.kind, e.action])).toEqual([
      ['purpose.answered', 'marketing.other_category'],
      ['action.blocked', 'marketing.other_category'],
    ]);
    g.stop();
  });

  it('on cancel, nothing happens and nothing is recorded', async () => {
    const g = makeGuard(ALLOW, null);
    g.link.click();
    await g.asked;
    await flush();
    expect(g.crm).not.toHaveBeenCalled();
    expect(g.events).toEqual([]);
    g.stop();
  });
});

describe('Guard: a broken adapter', () => {
  it('blocks the click and records why when the adapter throws while classifying it (fail closed)', () => {
    document.body.innerHTML = '<div><button data-crm-action="email-marketing">Send marketing email</button></div>';
    const btn = document.querySelector('button')!;
    const crm = vi.fn();
    btn.addEventListener('click', crm);
    const events: GuardEvent[] = [];
    const broken = {
      ...demoCrm,
      classify: () => {
        throw new Error('selector exploded');
      },
    };
    const abort = new AbortController();
    new Guard({
      adapter: () => broken,
      state: onC1002,
      decide: vi.fn(() => ALLOW),
      report: (e) => events.push(e),
      askPurpose: async () => null,
      isOwnUi: () => false,
      pageUrl: () => 'http://localhost:5180/contacts/C-1002',
      isTopFrame: true,
    }).start(abort.signal);
    btn.click();
    abort.abort();
    expect(crm).not.toHaveBeenCalled();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'action.blocked', decision: { verdict: 'block', reasons: [{ ruleId: 'UNKNOWN_STATUS' }] } });
    expect(events[0]!.decision.reasons[0]!.text).toMatch(/demo-crm adapter failed to classify the control: selector exploded/);
  });
});

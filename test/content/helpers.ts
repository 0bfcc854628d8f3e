// Shared helpers for the content-script tests: saved pages, data factories, a fake background.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContentMessage } from '@/lib/messages';
import { DEFAULT_POLICY, type Decision, type User } from '@/lib/schemas';
import { Snapshot } from '@/lib/snapshot';

const FIXTURES = join(__dirname, '..', 'fixtures', 'demo-crm');

export function fixtureHtml(name: 'contacts-list' | 'contact-C-1002' | 'contact-C-9999'): string {
  return readFileSync(join(FIXTURES, `${name}.html`), 'utf8');
}

export function parseFixture(name: Parameters<typeof fixtureHtml>[0]): Document {
  // The saved pages link /style.css; happy-dom would try to fetch it.
  const html = fixtureHtml(name).replace(/<link rel="stylesheet"[^>]*>/g, '');
  return new DOMParser().parseFromString(html, 'text/html');
}

/** Puts a saved page into the test document and moves the URL to `path`. */
export function loadPage(name: Parameters<typeof fixtureHtml>[0], path: string): void {
  history.pushState(null, '', path);
  document.body.innerHTML = parseFixture(name).body.innerHTML;
}

/** Replaces only the CRM's main view, as the demo CRM does on navigation. */
export function renderView(name: Parameters<typeof fixtureHtml>[0]): void {
  const app = document.getElementById('app')!;
  app.innerHTML = parseFixture(name).getElementById('app')!.innerHTML;
}

export const rep: User = { id: 'u1', email: 'rep@demo.test', name: 'Riley Rep', role: 'rep' };

export function knownSnapshot(customerId: string): Snapshot {
  return Snapshot.parse({
    state: 'known',
    customer: {
      id: customerId,
      accountNumber: 'ACCT-700002',
      name: 'Test Customer',
      crmRefs: [{ crm: 'demo-crm', id: customerId }],
      phones: ['+14075550102'],
      emails: ['ben.noapproval@example.com'],
      updatedAt: '2025-11-01T00:00:00Z',
    },
    consents: [],
    call: null,
    verification: null,
    syncedAt: '2025-11-25T10:00:00Z',
  });
}

export const ALLOW: Decision = { verdict: 'allow', reasons: [], remedies: [] };
export const BLOCK: Decision = {
  verdict: 'block',
  reasons: [{ ruleId: 'APPROVAL_REQUIRED', citation: '64.2007', text: 'No approval on file.' }],
  remedies: [{ id: 'consent.capture', text: 'Ask for opt-in approval.' }],
};

export function openReply(snapshot: Snapshot, user: User | null = rep) {
  return { ok: true, data: { snapshot, user, policy: DEFAULT_POLICY, backendReachable: true } };
}

interface Pending {
  message: ContentMessage;
  resolve: (reply: unknown) => void;
}

/** A background that records every message; record.open replies wait until the test answers. */
export function fakeBackground() {
  const messages: ContentMessage[] = [];
  const pendingOpens: Pending[] = [];
  let eventCount = 0;
  let contextRequests = 0;
  let contextUser: User | null = rep;
  const send = async (message: ContentMessage): Promise<unknown> => {
    // Asking who is signed in changes nothing; tests about records look at the other messages.
    if (message.type === 'context.get') {
      contextRequests++;
      return { ok: true, data: { user: contextUser, policy: DEFAULT_POLICY } };
    }
    messages.push(message);
    if (message.type === 'record.open') return new Promise((resolve) => pendingOpens.push({ message, resolve }));
    if (message.type === 'guard.event') return { ok: true, data: { eventId: `ev-${++eventCount}` } };
    return { ok: true, data: {} };
  };
  return {
    send,
    messages,
    pendingOpens,
    contextRequests: () => contextRequests,
    signedInAs(user: User | null) {
      contextUser = user;
    },
    guardEvents: () => messages.filter((m): m is Extract<ContentMessage, { type: 'guard.event' }> => m.type === 'guard.event'),
    /** Answers the oldest (or the given crmId's) pending record.open. */
    answerOpen(crmId: string, reply: unknown) {
      const i = pendingOpens.findIndex((p) => p.message.type === 'record.open' && p.message.identifiers.crmId === crmId);
      if (i < 0) throw new Error(`no pending record.open for ${crmId}`);
      const [p] = pendingOpens.splice(i, 1);
      p!.resolve(reply);
    },
  };
}

/** Lets microtasks, MutationObserver callbacks and promise chains run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
}

export function activityTexts(): string[] {
  return Array.from(document.querySelectorAll('#activity-log .activity-text'), (n) => n.textContent ?? '');
}

/** The CRM's own handlers, as app.js has them (delegated, bubble phase); returns a remover. */
export function installCrmHandlers(): () => void {
  const abort = new AbortController();
  document.addEventListener(
    'click',
    (event) => {
      const control = (event.target as Element | null)?.closest?.('[data-crm-action]');
      if (!control) return;
      const name = document.querySelector('[data-testid="contact-name"]')?.textContent ?? 'all contacts';
      const text: Record<string, string> = {
        'marketing-email': `Marketing email sent to ${name}`,
        'add-to-campaign': `${name} added to campaign "Fiber Fall Promo"`,
        call: `Dialing ${name}`,
        'call-detail': `Call detail shown for ${name}`,
        export: 'Contact list exported (13 contacts)',
      };
      if (control.getAttribute('data-crm-action') === 'call') event.preventDefault();
      const li = document.createElement('li');
      const span = document.createElement('span');
      span.className = 'activity-text';
      span.textContent = text[control.getAttribute('data-crm-action') ?? ''] ?? '?';
      li.append(span);
      document.getElementById('activity-log')?.prepend(li);
    },
    { signal: abort.signal },
  );
  return () => abort.abort();
}

/** The panel page URL in tests (happy-dom loads no iframe pages; about:blank needs no load). */
export const PANEL_URL = 'about:blank';

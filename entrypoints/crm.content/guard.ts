// The action guard: ONE capture-phase listener per event type on window, decides every click
// on a CRM control synchronously from the in-memory record state, and blocks before the CRM
// sees the click. What it did is reported to the background afterwards (never awaited before
// the block). DOM -> plain data (ControlMatch, GuardState) -> decide().
import { CALL_PURPOSES, cleanLabel, type ControlMatch, type CrmAdapter, type PurposeChoice } from '@/lib/adapter';
import type { GuardEvent } from '@/lib/messages';
import type { decide as decideFn } from '@/lib/policy';
import type { ActionKind, AuditKind, Decision } from '@/lib/schemas';
import type { ActionContext } from '@/lib/snapshot';
import type { GuardState } from './session';
import { errorMessage } from '@/lib/errors';

export type Decide = typeof decideFn;

export interface GuardDeps {
  /** The adapter for the page as it is now; null = not a CRM page we know (guard idle). */
  adapter: () => CrmAdapter | null;
  state: () => Readonly<GuardState>;
  decide: Decide;
  report: (event: GuardEvent) => void;
  /** Ask the rep the purpose of an ambiguous control; null = dismissed. */
  askPurpose: (near: Element, question: string, choices: readonly PurposeChoice[]) => Promise<PurposeChoice | null>;
  /** Does the event come from our own UI (panel, chooser)? */
  isOwnUi: (path: readonly EventTarget[]) => boolean;
  pageUrl: () => string;
  isTopFrame: boolean;
  now?: () => Date;
  /** The launch gate: what the cache knows about a campaign, synchronously (campaign-gate.ts). */
  campaign?: (id: string) => NonNullable<ActionContext['campaign']>;
}

/** The decision when decide() cannot answer: block (fail closed, DESIGN invariant 3). */
export function failClosed(err: unknown): Decision {
  return {
    verdict: 'block',
    reasons: [
      {
        ruleId: 'UNKNOWN_STATUS',
        citation: 'DESIGN invariant 3 (fail closed)',
        text: `CPNI Guard could not decide this action (${cleanLabel(errorMessage(err), 200)}), so it is blocked.`,
      },
    ],
    remedies: [],
  };
}

/** Actions that use or release CPNI: an allowed one is still recorded. */
export function isCpniUse(action: ActionKind): boolean {
  return action !== 'service';
}

function isElement(t: EventTarget): t is Element {
  return (t as Node).nodeType === 1 && typeof (t as Element).matches === 'function';
}

export interface FoundControl {
  element: Element;
  match: ControlMatch;
}

/** The first element on the composed path (innermost first) the adapter classifies. */
export function findControl(adapter: CrmAdapter, path: readonly EventTarget[]): FoundControl | null {
  for (const t of path) {
    if (!isElement(t)) continue;
    const match = adapter.classify(t, path);
    if (match) return { element: t, match };
  }
  return null;
}

const GUARDED_EVENTS = ['click', 'auxclick', 'submit'] as const;

export class Guard {
  /** The element whose next (re-dispatched) click passes once, after the rep answered. */
  private passOnce: Element | null = null;

  constructor(private readonly deps: GuardDeps) {}

  start(signal: AbortSignal): void {
    const win = globalThis as unknown as Window;
    for (const type of GUARDED_EVENTS) {
      win.addEventListener(type, this.onEvent, { capture: true, signal });
    }
  }

  /** Decides synchronously; never throws. */
  decideNow(action: ActionKind, match: ControlMatch): Decision {
    const { snapshot, user, policy } = this.deps.state();
    try {
      const decision = this.deps.decide(
        action,
        snapshot,
        {
          role: user?.role ?? 'rep',
          offeredCategory: match.offeredCategory ?? null,
          ...(action === 'marketing.launch_campaign'
            ? { campaign: match.campaignId ? (this.deps.campaign?.(match.campaignId) ?? null) : null }
            : {}),
        },
        policy,
        (this.deps.now ?? (() => new Date()))(),
      );
      if (!decision || (decision.verdict !== 'allow' && decision.verdict !== 'block')) {
        return failClosed(new Error('decide returned no verdict'));
      }
      return decision;
    } catch (err) {
      return failClosed(err);
    }
  }

  private readonly onEvent = (event: Event): void => {
    const adapter = this.deps.adapter();
    if (!adapter) return;
    const path = event.composedPath();
    if (this.deps.isOwnUi(path)) return;
    let found: FoundControl | null = null;
    try {
      // A form submit is classified by the button that submitted it, when there is one.
      const submitter = event.type === 'submit' ? (event as SubmitEvent).submitter : null;
      found = findControl(adapter, submitter ? [submitter, ...path] : path);
    } catch (err) {
      // The adapter could not tell what was clicked: it may be a marketing control, so the click
      // is blocked (fail closed) and recorded, naming the adapter's error.
      block(event);
      const why = new Error(`the ${adapter.id} adapter failed to classify the control: ${errorMessage(err)}`);
      this.emit('action.blocked', 'marketing.other_category', failClosed(why), { action: 'marketing.other_category', control: 'unclassified control' });
      return;
    }
    if (!found) return;
    if (this.passOnce !== null && this.passOnce === found.element) return;

    const { element, match } = found;
    if (match.action === 'ambiguous') {
      block(event);
      void this.askThenMaybeRedo(element, match);
      return;
    }
    const decision = this.decideNow(match.action, match);
    if (decision.verdict === 'block') {
      block(event);
      this.emit('action.blocked', match.action, decision, match);
    } else if (isCpniUse(match.action)) {
      this.emit('action.allowed', match.action, decision, match);
    }
  };

  private async askThenMaybeRedo(element: Element, match: ControlMatch): Promise<void> {
    const choices = match.choices?.length ? match.choices : CALL_PURPOSES;
    let answer: PurposeChoice | null;
    try {
      answer = await this.deps.askPurpose(element, match.question ?? 'What is this call for?', choices);
    } catch {
      answer = null;
    }
    if (!answer) return; // dismissed: the click stays blocked
    // Decide on the answer at the moment of the answer (the record may have changed).
    const decision = this.decideNow(answer.action, match);
    this.emit('purpose.answered', answer.action, decision, match, { purpose: answer.purpose });
    if (decision.verdict === 'block') {
      this.emit('action.blocked', answer.action, decision, match, { purpose: answer.purpose });
      return;
    }
    if (isCpniUse(answer.action)) this.emit('action.allowed', answer.action, decision, match, { purpose: answer.purpose });
    this.redo(element);
  }

  /** Lets the control's click through the guard once: the CRM's handlers and default run. */
  private redo(element: Element): void {
    this.passOnce = element;
    try {
      if (element.isConnected) {
        if (typeof (element as HTMLElement).click === 'function') (element as HTMLElement).click();
        else element.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, composed: true }));
      } else {
        const href = element.getAttribute('href');
        if (href) location.assign(new URL(href, location.href).href);
      }
    } finally {
      this.passOnce = null;
    }
  }

  private emit(
    kind: AuditKind,
    action: ActionKind,
    decision: Decision,
    match: ControlMatch,
    extra: Record<string, string> = {},
  ): void {
    const { snapshot, identifiers } = this.deps.state();
    const adapter = this.deps.adapter();
    this.deps.report({
      type: 'guard.event',
      kind,
      action,
      decision,
      customerId: snapshot.state === 'known' ? snapshot.customer.id : null,
      crm: adapter?.id ?? identifiers?.crm ?? 'unknown',
      pageUrl: this.deps.pageUrl().slice(0, 2000),
      control: cleanLabel(match.control, 200) || null,
      details: {
        crmId: identifiers?.crmId ?? null,
        snapshotState: snapshot.state === 'known' ? 'known' : snapshot.why,
        frame: this.deps.isTopFrame ? 'top' : 'child',
        ...(match.campaignId ? { campaignId: match.campaignId } : {}),
        ...(match.accountField ? { accountField: match.accountField } : {}),
        ...extra,
      },
    });
  }
}

function block(event: Event): void {
  event.preventDefault();
  event.stopImmediatePropagation();
  event.stopPropagation();
}

// The CPNI status panel. It runs in an extension-page iframe that the content script mounts
// in a closed shadow root on the CRM page (DESIGN invariant 6): it gets its state from the
// background over a runtime Port named 'panel', parses every message with zod, and renders
// text only. Status first, then the customer, approvals with proof, caller verification,
// and how old the data is. A blocked action shows as an alert dialog until dismissed.
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { browser } from 'wxt/browser';
import { PanelState } from '@/lib/messages';
import { DEFAULT_POLICY, type Consent, type PolicySettings, type Role } from '@/lib/schemas';
import type { KnownSnapshot, Snapshot, UnknownWhy } from '@/lib/snapshot';
import {
  AckReply,
  defaultBackgroundClient,
  errorMessage,
  type BackgroundClient,
} from './background-client';
import { CallPanel } from './CallPanel';
import { callDetailStatus, categoriesText, currentCall, purposeStatus, type PurposeStatus } from './cpni-status';
import { formatAgo, formatDateTime } from './format';
import {
  ACTION_LABELS,
  CONSENT_STATE_LABELS,
  METHOD_LABELS,
  PURPOSE_LABELS,
  ROLE_LABELS,
  UNKNOWN_HINTS,
  UNKNOWN_LABELS,
  VERIFICATION_LABELS,
  labelOf,
} from './labels';

/** The part of a runtime.Port the panel uses (a fake in tests). */
export interface PanelPort {
  onMessage: {
    addListener(cb: (message: unknown) => void): void;
    removeListener(cb: (message: unknown) => void): void;
  };
  onDisconnect: {
    addListener(cb: () => void): void;
    removeListener(cb: () => void): void;
  };
  disconnect(): void;
}
export type ConnectPanel = () => PanelPort;

const connectRuntime: ConnectPanel = () =>
  browser.runtime.connect({ name: 'panel' }) as unknown as PanelPort;

type Connection = 'connecting' | 'open' | 'lost' | 'invalidated';

export interface StatusPanelProps {
  connect?: ConnectPanel;
  client?: BackgroundClient;
  now?: () => Date;
  /** First reconnect delay after the port drops (the service worker may have stopped). */
  reconnectDelayMs?: number;
}

const systemNow = () => new Date();
const CLOCK_TICK_MS = 15_000;
const RECONNECT_MAX_MS = 30_000;

export function StatusPanel({
  connect = connectRuntime,
  client = defaultBackgroundClient,
  now = systemNow,
  reconnectDelayMs = 1000,
}: StatusPanelProps) {
  const [state, setState] = useState<PanelState | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [invalid, setInvalid] = useState<string | null>(null);
  const [dismissedEventId, setDismissedEventId] = useState<string | null>(null);
  const [dismissError, setDismissError] = useState<string | null>(null);
  const [clock, setClock] = useState(() => now());

  useEffect(() => {
    const id = setInterval(() => setClock(now()), CLOCK_TICK_MS);
    return () => clearInterval(id);
  }, [now]);

  useEffect(() => {
    let stopped = false;
    let port: PanelPort | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;

    const onMessage = (message: unknown) => {
      const parsed = PanelState.safeParse(message);
      if (parsed.success) {
        attempt = 0;
        setState(parsed.data);
        setInvalid(null);
        setConnection('open');
        setClock(now());
      } else {
        // Fail closed: never keep showing an older status next to an update we could not read.
        setState(null);
        setInvalid(parsed.error.issues[0]?.message ?? 'invalid message');
      }
    };
    const detach = () => {
      if (!port) return;
      port.onMessage.removeListener(onMessage);
      port.onDisconnect.removeListener(onDisconnect);
      port = null;
    };
    const onDisconnect = () => {
      detach();
      if (stopped) return;
      setConnection('lost');
      const delay = Math.min(reconnectDelayMs * 2 ** attempt, RECONNECT_MAX_MS);
      attempt += 1;
      timer = setTimeout(open, delay);
    };
    const open = () => {
      if (stopped) return;
      try {
        port = connect();
        port.onMessage.addListener(onMessage);
        port.onDisconnect.addListener(onDisconnect);
      } catch {
        // The extension was updated or removed: this iframe can no longer reach it.
        setConnection('invalidated');
      }
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      const p = port;
      detach();
      p?.disconnect();
    };
  }, [connect, now, reconnectDelayMs]);

  const block = state?.lastBlock && state.lastBlock.eventId !== dismissedEventId ? state.lastBlock : null;

  const dismiss = useCallback(() => {
    if (!block) return;
    setDismissedEventId(block.eventId);
    setDismissError(null);
    client.send({ type: 'panel.dismissBlock' }, AckReply).catch((err: unknown) => {
      setDismissError(`Dismiss was not recorded: ${errorMessage(err)}`);
    });
  }, [block, client]);

  let notice: string | null = null;
  if (invalid) notice = `CPNI Guard sent a status this panel could not read (${invalid}).`;
  else if (connection === 'lost') notice = 'Lost contact with CPNI Guard; reconnecting…';
  else if (connection === 'invalidated') notice = 'CPNI Guard was updated or disabled. Reload this page.';

  const snapshot: Snapshot = state?.snapshot ?? { state: 'unknown', why: 'loading', syncedAt: null };

  return (
    <main className="panel" data-testid="cpni-panel" aria-label="CPNI Guard status">
      {block && <BlockDialog block={block} onDismiss={dismiss} />}
      <div className="panel-body" inert={block ? true : undefined}>
        <header className="panel-header">
          <span className="brand">CPNI Guard</span>
          {state?.user && (
            <span className="muted" data-testid="panel-user">
              {state.user.name} · {labelOf(ROLE_LABELS, state.user.role)}
            </span>
          )}
        </header>
        {notice && (
          <p className="notice warn" role="status" data-testid="panel-notice">
            {notice}
          </p>
        )}
        {dismissError && (
          <p className="notice error" role="alert">
            {dismissError}
          </p>
        )}
        {snapshot.state === 'known' ? (
          <KnownRecord snapshot={snapshot} now={clock} role={state?.user?.role ?? 'rep'} policy={state?.policy ?? DEFAULT_POLICY} calls={state?.calls} client={client} />
        ) : (
          <UnknownRecord why={invalid ? null : snapshot.why} />
        )}
        <DataAge syncedAt={snapshot.syncedAt} backendReachable={state?.backendReachable ?? null} now={clock} />
      </div>
    </main>
  );
}

// ---- status ----

function StatusLine({
  testId,
  label,
  allowed,
  verdict,
  detail,
  hint,
}: {
  testId: string;
  label: string;
  allowed: boolean;
  verdict?: string;
  detail?: string | null;
  hint?: string | null;
}) {
  return (
    <li className={allowed ? 'status allowed' : 'status blocked'} data-testid={testId}>
      <span className="status-mark" aria-hidden="true">
        {allowed ? '✓' : '✕'}
      </span>
      <span>
        <strong>
          {label}: {verdict ?? (allowed ? 'allowed' : 'blocked')}
        </strong>
        {detail ? <span> — {detail}</span> : null}
        {hint ? <span className="hint">{hint}</span> : null}
      </span>
    </li>
  );
}

function UnknownRecord({ why }: { why: UnknownWhy | null }) {
  const reason = why ? labelOf(UNKNOWN_LABELS, why) : 'unreadable update';
  return (
    <section aria-labelledby="status-heading">
      <h2 id="status-heading" className="section-title">
        Status
      </h2>
      <p className="unknown" data-testid="unknown-status" role="status">
        <strong>CPNI status unknown ({reason})</strong> — marketing and disclosure are blocked
      </p>
      {why && (
        <p className="hint" data-testid="unknown-hint">
          {UNKNOWN_HINTS[why]}
        </p>
      )}
      <ul className="status-list" aria-label="What is allowed now">
        <StatusLine testId="marketing-status" label="Marketing" allowed={false} detail="status unknown" />
        <StatusLine testId="third-party-status" label="Third-party disclosure" allowed={false} detail="status unknown" />
        <StatusLine testId="new-carrier-status" label="Release to a new carrier" allowed={false} detail="status unknown" />
        <StatusLine
          testId="call-detail-status"
          label="Call detail"
          allowed={false}
          verdict="blocked"
          detail="status unknown"
        />
      </ul>
    </section>
  );
}

function KnownRecord({
  snapshot,
  now,
  role,
  policy,
  calls,
  client,
}: {
  snapshot: KnownSnapshot;
  now: Date;
  role: Role;
  policy: PolicySettings;
  calls?: PanelState['calls'];
  client: BackgroundClient;
}) {
  const marketing = purposeStatus(snapshot, 'marketing', now, policy);
  const thirdParty = purposeStatus(snapshot, 'third_party', now, policy);
  const newCarrier = purposeStatus(snapshot, 'new_carrier', now, policy);
  const callDetail = callDetailStatus(snapshot, now, role, policy);
  const categories = categoriesText(snapshot);
  const { customer } = snapshot;
  return (
    <>
      <section aria-labelledby="status-heading">
        <h2 id="status-heading" className="section-title">
          Status
        </h2>
        <ul className="status-list" aria-label="What is allowed now">
          <StatusLine testId="marketing-status" label="Marketing" allowed={marketing.allowed} detail={marketing.detail} />
          {categories && (
            <li className="status-note" data-testid="same-category-note">
              Offers within services the customer already buys ({categories}) need no approval.
            </li>
          )}
          <StatusLine
            testId="call-detail-status"
            label="Call detail"
            allowed={callDetail.allowed}
            verdict={callDetail.headline}
            hint={callDetail.hint}
          />
          <StatusLine
            testId="third-party-status"
            label="Third-party disclosure"
            allowed={thirdParty.allowed}
            detail={thirdParty.detail}
          />
          <StatusLine
            testId="new-carrier-status"
            label="Release to a new carrier"
            allowed={newCarrier.allowed}
            detail={newCarrier.detail}
          />
        </ul>
      </section>

      <section aria-labelledby="customer-heading" data-testid="customer">
        <h2 id="customer-heading" className="section-title">
          Customer
        </h2>
        <p className="customer-name" data-testid="customer-name">
          {customer.name}
        </p>
        <p>
          Account <span data-testid="account-number">{customer.accountNumber}</span>
        </p>
        {customer.business && (
          <p className="small" data-testid="business-account">
            Business account
            {customer.business.dedicatedRep ? ` · dedicated rep ${customer.business.dedicatedRep}` : ''}
            {customer.business.cpniContractId
              ? ` · CPNI contract ${customer.business.cpniContractName ?? customer.business.cpniContractId}`
              : ''}
          </p>
        )}
      </section>

      <section aria-labelledby="approvals-heading" data-testid="approvals">
        <h2 id="approvals-heading" className="section-title">
          Approvals
        </h2>
        {[marketing, thirdParty, newCarrier].map((s) => (
          <Approval key={s.purpose} status={s} />
        ))}
      </section>

      <Verification snapshot={snapshot} now={now} />
      <CallPanel snapshot={snapshot} info={calls} client={client} now={now} policy={policy} />
    </>
  );
}

function Approval({ status }: { status: PurposeStatus }) {
  const { purpose, effective } = status;
  return (
    <div className="approval" data-testid={`approval-${purpose}`}>
      <h3 className="approval-title">{PURPOSE_LABELS[purpose]}</h3>
      {effective.consent ? (
        <Proof
          consent={effective.consent}
          state={labelOf(CONSENT_STATE_LABELS, effective.state)}
          heading={effective.oneTime ? 'This call only' : undefined}
        />
      ) : (
        <p className="muted">No approval on file</p>
      )}
    </div>
  );
}

function Proof({ consent, state, heading }: { consent: Consent; state: string; heading?: string }) {
  return (
    <div className="proof">
      <p>
        {heading ? <strong>{heading}: </strong> : null}
        <span data-testid="consent-state">{state}</span>
      </p>
      <dl className="proof-list">
        <dt>Method</dt>
        <dd>{consent.method ? labelOf(METHOD_LABELS, consent.method) : '—'}</dd>
        <dt>Captured by</dt>
        <dd>{consent.capturedBy ?? '—'}</dd>
        <dt>When</dt>
        <dd>
          {consent.capturedAt ? <time dateTime={consent.capturedAt}>{formatDateTime(consent.capturedAt)}</time> : '—'}
        </dd>
        <dt>Notice</dt>
        <dd>{consent.noticeVersion ? `version ${consent.noticeVersion}` : '—'}</dd>
      </dl>
    </div>
  );
}

function Verification({ snapshot, now }: { snapshot: KnownSnapshot; now: Date }) {
  const call = currentCall(snapshot, now);
  const v = snapshot.verification;
  const verified = Boolean(call && v && v.callId === call.id && v.customerId === snapshot.customer.id);
  return (
    <section aria-labelledby="verification-heading" data-testid="verification">
      <h2 id="verification-heading" className="section-title">
        Caller
      </h2>
      <p data-testid="call-state">
        {call ? (
          <>
            {call.direction === 'inbound' ? 'Inbound' : 'Outbound'} call open since{' '}
            <time dateTime={call.startedAt}>{formatDateTime(call.startedAt)}</time>
          </>
        ) : (
          'No call open'
        )}
      </p>
      <p data-testid="verification-state" className={verified ? 'ok' : undefined}>
        {verified && v ? (
          <>
            Verified by {labelOf(VERIFICATION_LABELS, v.method)} ({v.verifiedBy},{' '}
            <time dateTime={v.verifiedAt}>{formatDateTime(v.verifiedAt)}</time>)
          </>
        ) : (
          'Not verified'
        )}
      </p>
      <p className="small muted">
        {snapshot.customer.passwordEstablished ? 'Account password on file' : 'No account password on file'}
      </p>
    </section>
  );
}

function DataAge({
  syncedAt,
  backendReachable,
  now,
}: {
  syncedAt: string | null;
  backendReachable: boolean | null;
  now: Date;
}) {
  if (backendReachable === false) {
    return (
      <p className="data-age warn" data-testid="data-age">
        Backend unreachable — working from cached data as of{' '}
        {syncedAt ? (
          <time dateTime={syncedAt}>
            {formatDateTime(syncedAt)} ({formatAgo(syncedAt, now)})
          </time>
        ) : (
          'never (no successful sync)'
        )}
      </p>
    );
  }
  return (
    <p className="data-age muted" data-testid="data-age">
      {syncedAt ? (
        <>
          Data as of{' '}
          <time dateTime={syncedAt} title={formatDateTime(syncedAt)}>
            {formatAgo(syncedAt, now)}
          </time>
        </>
      ) : (
        'Not synced yet'
      )}
    </p>
  );
}

// ---- block dialog ----

function BlockDialog({ block, onDismiss }: { block: NonNullable<PanelState['lastBlock']>; onDismiss: () => void }) {
  const titleId = useId();
  const whyId = useId();
  const dismissRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    dismissRef.current?.focus();
  }, [block.eventId]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      onDismiss();
    } else if (e.key === 'Tab') {
      // The dialog has one control: keep focus on it.
      e.preventDefault();
      dismissRef.current?.focus();
    }
  };

  return (
    <div className="block-backdrop">
      <div
        className="block-dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={whyId}
        data-testid="block-dialog"
        onKeyDown={onKeyDown}
      >
        <h2 id={titleId} className="block-title" data-testid="block-title">
          Blocked: {labelOf(ACTION_LABELS, block.action)}
        </h2>
        {block.control && (
          <p className="small" data-testid="block-control">
            Control: “{block.control}”
          </p>
        )}
        <p className="small muted">
          <time dateTime={block.at}>{formatDateTime(block.at)}</time> · recorded for your manager
        </p>
        <div id={whyId}>
          <h3 className="block-subtitle">Why</h3>
          <ul className="reason-list">
            {block.decision.reasons.map((r, i) => (
              <li key={`${r.ruleId}-${i}`} data-testid="block-rule">
                <span className="rule-id" data-testid="block-rule-id">
                  {r.ruleId}
                </span>
                <span className="citation" data-testid="block-citation">
                  {r.citation}
                </span>
                <span className="reason-text">{r.text}</span>
              </li>
            ))}
          </ul>
        </div>
        {block.decision.remedies.length > 0 && (
          <>
            <h3 className="block-subtitle">What you can do</h3>
            <ul className="remedy-list">
              {block.decision.remedies.map((r, i) => (
                <li key={`${r.id}-${i}`} data-testid="block-remedy">
                  {r.text}
                </li>
              ))}
            </ul>
          </>
        )}
        {block.campaignId && (
          <p>
            <a
              href={`${browser.runtime.getURL('/campaigns.html')}#${encodeURIComponent(block.campaignId)}`}
              target="_blank"
              rel="noopener"
              data-testid="block-campaign-link"
            >
              Open the campaign in CPNI Guard
            </a>
          </p>
        )}
        <button ref={dismissRef} type="button" className="button primary" data-testid="block-dismiss" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}

// Options: backend URL and sign-in (with the customer cache mode), the signed-in user, role and
// cache mode, sync status, "Sync now", "Sign out" (which clears the cache), and for managers a
// link to the manager view.
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { browser } from 'wxt/browser';
import { StatusReply, type CacheMode, type SyncStatus } from '@/lib/messages';
import { AckReply, defaultBackgroundClient, errorMessage, type BackgroundClient } from './background-client';
import { formatAgo, formatDateTime } from './format';
import { MANAGER_ROLES, ROLE_LABELS, labelOf } from './labels';
import { CAMPAIGN_READ_ROLES } from '@/lib/campaign';
import { AdapterSettings } from './AdapterSettings';

export const DEFAULT_BACKEND_URL = 'http://127.0.0.1:8787';

export interface OptionsPageProps {
  client?: BackgroundClient;
  now?: () => Date;
  pollMs?: number;
  dashboardUrl?: () => string;
}

const systemNow = () => new Date();
const runtimeDashboardUrl = () => browser.runtime.getURL('/dashboard.html');

type Busy = 'signIn' | 'sync' | 'signOut' | null;

export const CACHE_MODE_LABELS: Record<CacheMode, string> = {
  full: 'whole customer base (default)',
  on_demand: 'only customers I open (on demand, for very large bases)',
};
const CACHE_MODE_IN_FORCE: Record<CacheMode, string> = {
  full: 'the whole customer base',
  on_demand: 'only customers you open (on demand)',
};

/** Why a backend URL can't be used, or null. */
export function backendUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Backend URL is not a valid URL (for example http://127.0.0.1:8787).';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Backend URL must start with http:// or https://.';
  return null;
}

function isLocalHost(value: string): boolean {
  try {
    const host = new URL(value).hostname;
    return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  } catch {
    return false;
  }
}

export function OptionsPage({
  client = defaultBackgroundClient,
  now = systemNow,
  pollMs = 2000,
  dashboardUrl = runtimeDashboardUrl,
}: OptionsPageProps) {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [statusError, setStatusError] = useState<string | null>(null);
  const [backendUrl, setBackendUrl] = useState(DEFAULT_BACKEND_URL);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [cacheMode, setCacheMode] = useState<CacheMode>('full');
  const [busy, setBusy] = useState<Busy>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [actionMessage, setActionMessage] = useState<string | null>(null);
  const [confirmSignOut, setConfirmSignOut] = useState(false);
  const urlFromStatus = useRef(false);
  const inFlight = useRef(false);
  const ids = { url: useId(), email: useId(), password: useId(), cacheMode: useId(), cacheModeHint: useId() };

  const refresh = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    try {
      const s = await client.send({ type: 'status.get' }, StatusReply);
      setStatus(s);
      setStatusError(null);
      if (!urlFromStatus.current) {
        urlFromStatus.current = true;
        if (s.backendUrl) setBackendUrl(s.backendUrl);
      }
    } catch (err) {
      setStatusError(errorMessage(err));
    } finally {
      inFlight.current = false;
    }
  }, [client]);

  useEffect(() => {
    void refresh();
    const id = setInterval(() => void refresh(), pollMs);
    return () => clearInterval(id);
  }, [refresh, pollMs]);

  const run = async (kind: Exclude<Busy, null>, work: () => Promise<void>) => {
    setBusy(kind);
    setActionError(null);
    setActionMessage(null);
    try {
      await work();
    } catch (err) {
      setActionError(errorMessage(err));
    } finally {
      setBusy(null);
      void refresh();
    }
  };

  const onSignIn = (e: FormEvent) => {
    e.preventDefault();
    const url = backendUrl.trim();
    const problem = backendUrlProblem(url);
    if (problem) {
      setActionError(problem);
      return;
    }
    if (!email.trim() || !password) {
      setActionError('Enter your email and password.');
      return;
    }
    void run('signIn', async () => {
      // 'full' is the message's default: it is sent only when the rep chose on demand.
      await client.send(
        { type: 'auth.signIn', backendUrl: url, email: email.trim(), password, ...(cacheMode === 'full' ? {} : { cacheMode }) },
        AckReply,
      );
      setPassword('');
      setActionMessage('Signed in.');
    });
  };

  const onSyncNow = () =>
    void run('sync', async () => {
      await client.send({ type: 'sync.now' }, AckReply);
      setActionMessage('Sync finished.');
    });

  const onSignOut = () => {
    if (status && status.outboxPending > 0 && !confirmSignOut) {
      setConfirmSignOut(true);
      return;
    }
    setConfirmSignOut(false);
    void run('signOut', async () => {
      await client.send({ type: 'auth.signOut' }, AckReply);
      setActionMessage('Signed out. The cached customer data on this device was cleared.');
    });
  };

  const user = status?.user ?? null;
  const now_ = now();
  const when = (iso: string | null) =>
    iso ? (
      <>
        <time dateTime={iso}>{formatDateTime(iso)}</time> ({formatAgo(iso, now_)})
      </>
    ) : (
      'never'
    );

  return (
    <main className="page" data-testid="options-page">
      <h1>CPNI Guard options</h1>

      {actionError && (
        <p className="notice error" role="alert" data-testid="options-error">
          {actionError}
        </p>
      )}
      {actionMessage && (
        <p className="notice ok" role="status" data-testid="options-message">
          {actionMessage}
        </p>
      )}
      {statusError && (
        <p className="notice error" role="alert" data-testid="status-error">
          Could not read CPNI Guard's status: {statusError}
        </p>
      )}

      <section aria-labelledby="account-heading" className="card">
        <h2 id="account-heading">Account</h2>
        {user ? (
          <>
            <p data-testid="signed-in-user">
              Signed in as <strong>{user.name}</strong> ({user.email})
            </p>
            <p data-testid="signed-in-role">Role: {labelOf(ROLE_LABELS, user.role)}</p>
            <p className="muted">Backend: {status?.backendUrl ?? '—'}</p>
            {status?.cacheMode && (
              <p data-testid="cache-mode">
                Customer cache: {CACHE_MODE_IN_FORCE[status.cacheMode]}
                {status.cacheMode === 'on_demand' && (
                  <span className="hint">
                    A customer is fetched from the backend when you open their record; a list scrub knows only the
                    customers cached here and blocks every other row as unknown.
                  </span>
                )}
              </p>
            )}
            {MANAGER_ROLES.includes(user.role) && (
              <p>
                <a href={dashboardUrl()} target="_blank" rel="noreferrer" data-testid="dashboard-link">
                  Open the manager view (blocked actions audit)
                </a>
              </p>
            )}
            {CAMPAIGN_READ_ROLES.includes(user.role) && (
              <p>
                <a href={browser.runtime.getURL('/campaigns.html')} target="_blank" rel="noreferrer" data-testid="campaigns-link">
                  Open marketing campaigns (records, counsel approval, list scrub)
                </a>
              </p>
            )}
            {confirmSignOut && status && (
              <p className="notice warn" role="alert" data-testid="signout-warning">
                {status.outboxPending} audit event{status.outboxPending === 1 ? ' has' : 's have'} not reached the
                backend yet. Use “Sync now” first, or sign out anyway.
              </p>
            )}
            <p className="muted small">Signing out clears the cached customer data on this device.</p>
            <button
              type="button"
              className="button"
              onClick={onSignOut}
              disabled={busy !== null}
              data-testid="sign-out"
            >
              {busy === 'signOut' ? 'Signing out…' : confirmSignOut ? 'Sign out anyway' : 'Sign out'}
            </button>
          </>
        ) : (
          <form onSubmit={onSignIn} className="form" data-testid="sign-in-form" noValidate>
            <div className="field">
              <label htmlFor={ids.url}>Backend URL</label>
              <input
                id={ids.url}
                name="backendUrl"
                type="url"
                value={backendUrl}
                onChange={(e) => setBackendUrl(e.target.value)}
                autoComplete="url"
                spellCheck={false}
                required
              />
              {!isLocalHost(backendUrl) && backendUrl.startsWith('http:') && (
                <span className="hint warn-text">Plain http is not encrypted; use https for a remote backend.</span>
              )}
            </div>
            <div className="field">
              <label htmlFor={ids.email}>Email</label>
              <input
                id={ids.email}
                name="email"
                type="email"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                autoComplete="username"
                required
              />
            </div>
            <div className="field">
              <label htmlFor={ids.password}>Password</label>
              <input
                id={ids.password}
                name="password"
                type="password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                autoComplete="current-password"
                required
              />
            </div>
            <div className="field">
              <label htmlFor={ids.cacheMode}>Customer cache</label>
              <select
                id={ids.cacheMode}
                name="cacheMode"
                value={cacheMode}
                onChange={(e) => setCacheMode(e.target.value as CacheMode)}
                aria-describedby={ids.cacheModeHint}
                data-testid="cache-mode-select"
              >
                <option value="full">{CACHE_MODE_LABELS.full}</option>
                <option value="on_demand">{CACHE_MODE_LABELS.on_demand}</option>
              </select>
              <span className="hint" id={ids.cacheModeHint}>
                {cacheMode === 'full'
                  ? 'The first sync downloads every customer, so records open instantly, even offline.'
                  : 'Nothing is downloaded up front: a customer is fetched when you open their record (the guard blocks until it arrives) and kept up to date. Choose this when the customer base is too big for this browser.'}
              </span>
            </div>
            <button type="submit" className="button primary" disabled={busy !== null} data-testid="sign-in">
              {busy === 'signIn' ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        )}
      </section>

      <section aria-labelledby="sync-heading" className="card" data-testid="sync-status">
        <h2 id="sync-heading">Sync</h2>
        {status ? (
          <dl className="facts">
            <dt>State</dt>
            <dd data-testid="sync-running">{status.running ? 'Syncing now…' : 'Idle'}</dd>
            <dt>Backend</dt>
            <dd data-testid="backend-reachable">
              {status.backendReachable === null
                ? 'not contacted yet'
                : status.backendReachable
                  ? 'reachable'
                  : 'unreachable — working from cached data'}
            </dd>
            <dt>Last success</dt>
            <dd data-testid="last-success">{when(status.lastSuccessAt)}</dd>
            <dt>Last attempt</dt>
            <dd data-testid="last-attempt">{when(status.lastAttemptAt)}</dd>
            <dt>Cached records</dt>
            <dd data-testid="record-counts">
              {status.counts.customers} customers, {status.counts.consents} consents
            </dd>
            <dt>Audit events to upload</dt>
            <dd data-testid="outbox-pending">{status.outboxPending}</dd>
            <dt>Quarantined pages</dt>
            <dd data-testid="quarantined" className={status.quarantined > 0 ? 'warn-text' : undefined}>
              {status.quarantined}
              {status.quarantined > 0 ? ' (sync is held at the last good page; tell your administrator)' : ''}
            </dd>
            {status.adapters && (
              <>
                <dt>CRM adapters (admin-defined)</dt>
                <dd data-testid="adapter-sync" className={status.adapters.refused.length ? 'warn-text' : undefined}>
                  {status.adapters.inForce} in force
                  {status.adapters.refused.map((r) => `; "${r.id}" refused: ${r.error}`).join('')}
                </dd>
              </>
            )}
            <dt>Last error</dt>
            <dd data-testid="last-error">
              {status.lastError ? (
                <span role="alert" className="error-text">
                  {status.lastError}
                </span>
              ) : (
                'none'
              )}
            </dd>
          </dl>
        ) : (
          <p className="muted">{statusError ? 'Status unavailable.' : 'Loading…'}</p>
        )}
        <button
          type="button"
          className="button"
          onClick={onSyncNow}
          disabled={busy !== null || !user || status?.running === true}
          data-testid="sync-now"
        >
          {busy === 'sync' ? 'Syncing…' : 'Sync now'}
        </button>
      </section>
      <AdapterSettings client={client} user={user} />
    </main>
  );
}

// Manager view: the audit trail from the backend (blocked actions by default), newest first,
// with filters and "Load more". Roles other than manager/counsel/admin see a short note; the
// backend enforces the same on its route.
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { browser } from 'wxt/browser';
import type { AuditQuery, StoredAuditEvent } from '@/lib/api';
import { AuditQueryReply, StatusReply, type SyncStatus } from '@/lib/messages';
import { ACTIONS, AUDIT_KINDS, RULE_IDS, type ActionKind, type AuditKind, type RuleId } from '@/lib/schemas';
import { defaultBackgroundClient, errorMessage, type BackgroundClient } from './background-client';
import { dateInputToIso, formatDateTime } from './format';
import { ACTION_LABELS, KIND_LABELS, MANAGER_ROLES, labelOf, ruleTitle } from './labels';
import { ApprovalFailures } from './ApprovalFailures';
import { CallNotices } from './CallNotices';

export type AuditFilter = Omit<Partial<AuditQuery>, 'before'>;

export interface Filters {
  actor: string;
  action: ActionKind | '';
  ruleId: RuleId | '';
  kind: AuditKind | '';
  customerId: string;
  from: string; // yyyy-mm-dd from <input type="date">
  to: string;
}

export const DEFAULT_FILTERS: Filters = {
  actor: '',
  action: '',
  ruleId: '',
  kind: 'action.blocked',
  customerId: '',
  from: '',
  to: '',
};

export const PAGE_SIZE = 50;

/** Form values -> the audit.query the background forwards to the backend (empty fields left out). */
export function filtersToQuery(f: Filters): AuditFilter {
  const q: AuditFilter = { limit: PAGE_SIZE };
  if (f.actor.trim()) q.actor = f.actor.trim();
  if (f.action) q.action = f.action;
  if (f.ruleId) q.ruleId = f.ruleId;
  if (f.kind) q.kind = f.kind;
  if (f.customerId.trim()) q.customerId = f.customerId.trim();
  const from = dateInputToIso(f.from, 'start');
  const to = dateInputToIso(f.to, 'end');
  if (from) q.from = from;
  if (to) q.to = to;
  return q;
}

function newestFirst(events: StoredAuditEvent[]): StoredAuditEvent[] {
  const seen = new Set<string>();
  const unique = events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
  return unique
    .map((e, i) => ({ e, i, t: Date.parse(e.at) }))
    .sort((a, b) => b.t - a.t || a.i - b.i)
    .map(({ e }) => e);
}

export interface DashboardProps {
  client?: BackgroundClient;
  optionsUrl?: () => string;
}

const runtimeOptionsUrl = () => browser.runtime.getURL('/options.html');

type Access = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; status: SyncStatus };

export function Dashboard({ client = defaultBackgroundClient, optionsUrl = runtimeOptionsUrl }: DashboardProps) {
  const [access, setAccess] = useState<Access>({ state: 'loading' });

  useEffect(() => {
    let live = true;
    client
      .send({ type: 'status.get' }, StatusReply)
      .then((status) => live && setAccess({ state: 'ready', status }))
      .catch((err: unknown) => live && setAccess({ state: 'error', message: errorMessage(err) }));
    return () => {
      live = false;
    };
  }, [client]);

  let body;
  if (access.state === 'loading') {
    body = <p className="muted">Loading…</p>;
  } else if (access.state === 'error') {
    body = (
      <p className="notice error" role="alert" data-testid="dashboard-error">
        Could not read CPNI Guard's status: {access.message}
      </p>
    );
  } else if (!access.status.user) {
    body = (
      <p data-testid="dashboard-signed-out">
        You are not signed in.{' '}
        <a href={optionsUrl()} data-testid="options-link">
          Sign in on the CPNI Guard options page
        </a>
        .
      </p>
    );
  } else if (!MANAGER_ROLES.includes(access.status.user.role)) {
    body = (
      <p className="notice" data-testid="dashboard-forbidden">
        This view is for managers, counsel and administrators.
      </p>
    );
  } else {
    body = (
      <>
        <ApprovalFailures client={client} role={access.status.user.role} />
        <CallNotices client={client} role={access.status.user.role} />
        <AuditLog client={client} />
      </>
    );
  }

  return (
    <main className="page wide" data-testid="dashboard">
      <h1>CPNI Guard — manager view</h1>
      {body}
    </main>
  );
}

function AuditLog({ client }: { client: BackgroundClient }) {
  const [form, setForm] = useState<Filters>(DEFAULT_FILTERS);
  const [applied, setApplied] = useState<AuditFilter>(() => filtersToQuery(DEFAULT_FILTERS));
  const [events, setEvents] = useState<StoredAuditEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const generation = useRef(0);
  const ids = {
    actor: useId(),
    action: useId(),
    rule: useId(),
    kind: useId(),
    customer: useId(),
    from: useId(),
    to: useId(),
  };

  const load = useCallback(
    async (query: AuditFilter, before: string | null) => {
      const gen = ++generation.current;
      setLoading(true);
      setError(null);
      try {
        const page = await client.send(
          { type: 'audit.query', query: before ? { ...query, before } : query },
          AuditQueryReply,
        );
        if (gen !== generation.current) return;
        setEvents((prev) => newestFirst(before ? [...prev, ...page.events] : page.events));
        setNext(page.next);
        setLoaded(true);
      } catch (err) {
        if (gen !== generation.current) return;
        setError(errorMessage(err));
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [client],
  );

  useEffect(() => {
    void load(applied, null);
  }, [applied, load]);

  const set = <K extends keyof Filters>(key: K, value: Filters[K]) => setForm((f) => ({ ...f, [key]: value }));

  const onApply = (e: FormEvent) => {
    e.preventDefault();
    if (form.from && form.to && form.from > form.to) {
      setError('The “From” date is after the “To” date.');
      return;
    }
    setEvents([]);
    setNext(null);
    setLoaded(false);
    setApplied(filtersToQuery(form));
  };

  const onReset = () => {
    setForm(DEFAULT_FILTERS);
    setEvents([]);
    setNext(null);
    setLoaded(false);
    setApplied(filtersToQuery(DEFAULT_FILTERS));
  };

  return (
    <>
      <form className="filters" onSubmit={onApply} aria-label="Filter audit events" data-testid="audit-filters">
        <div className="field">
          <label htmlFor={ids.actor}>Rep (email)</label>
          <input
            id={ids.actor}
            name="actor"
            type="text"
            value={form.actor}
            onChange={(e) => set('actor', e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.action}>Action</label>
          <select
            id={ids.action}
            name="action"
            value={form.action}
            onChange={(e) => set('action', e.target.value as Filters['action'])}
          >
            <option value="">Any action</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {ACTION_LABELS[a]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.rule}>Rule</label>
          <select
            id={ids.rule}
            name="ruleId"
            value={form.ruleId}
            onChange={(e) => set('ruleId', e.target.value as Filters['ruleId'])}
          >
            <option value="">Any rule</option>
            {RULE_IDS.map((r) => (
              <option key={r} value={r} title={ruleTitle(r)}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.kind}>Kind</label>
          <select
            id={ids.kind}
            name="kind"
            value={form.kind}
            onChange={(e) => set('kind', e.target.value as Filters['kind'])}
          >
            <option value="">Any kind</option>
            {AUDIT_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.customer}>Customer id</label>
          <input
            id={ids.customer}
            name="customerId"
            type="text"
            value={form.customerId}
            onChange={(e) => set('customerId', e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.from}>From</label>
          <input id={ids.from} name="from" type="date" value={form.from} onChange={(e) => set('from', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.to}>To</label>
          <input id={ids.to} name="to" type="date" value={form.to} onChange={(e) => set('to', e.target.value)} />
        </div>
        <div className="filter-buttons">
          <button type="submit" className="button primary" data-testid="apply-filters" disabled={loading}>
            Apply filters
          </button>
          <button type="button" className="button" onClick={onReset} disabled={loading}>
            Reset
          </button>
        </div>
      </form>

      {error && (
        <p className="notice error" role="alert" data-testid="audit-error">
          Could not load audit events: {error}
        </p>
      )}

      <p className="muted" role="status" data-testid="audit-summary">
        {loading ? 'Loading…' : loaded ? `${events.length} event${events.length === 1 ? '' : 's'} shown` : ''}
      </p>

      <div className="table-wrap">
        <table className="audit-table" data-testid="audit-table">
          <caption className="visually-hidden">Audit events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Rep</th>
              <th scope="col">Customer</th>
              <th scope="col">Action</th>
              <th scope="col">Rule(s)</th>
              <th scope="col">Kind</th>
              <th scope="col">Control</th>
              <th scope="col">Reasons</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} data-testid="audit-row">
                <td>
                  <time dateTime={e.at}>{formatDateTime(e.at)}</time>
                </td>
                <td>
                  {e.actor} <span className="muted small">({e.actorRole})</span>
                </td>
                <td>{e.customerId ?? '—'}</td>
                <td>{e.action ? labelOf(ACTION_LABELS, e.action) : '—'}</td>
                <td>
                  {e.ruleIds.length ? (
                    e.ruleIds.map((r, i) => (
                      <span key={r}>
                        {i > 0 ? ' ' : ''}
                        <span className="rule-id" title={ruleTitle(r)}>
                          {r}
                        </span>
                      </span>
                    ))
                  ) : (
                    '—'
                  )}
                </td>
                <td>{labelOf(KIND_LABELS, e.kind)}</td>
                <td>{e.control ?? '—'}</td>
                <td className="small">{e.reasons.length ? e.reasons.join(' · ') : '—'}</td>
              </tr>
            ))}
            {loaded && events.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  No audit events match these filters.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      {next && (
        <button
          type="button"
          className="button"
          onClick={() => void load(applied, next)}
          disabled={loading}
          data-testid="load-more"
        >
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </>
  );
}

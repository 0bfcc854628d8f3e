// Campaigns (policy §7, §9): marketing registers a campaign and submits it, the General Counsel
// approves or rejects it with a comment, marketing scrubs the target list; marketing, counsel
// and managers list and search. The backend enforces the roles; this page only hides what a
// role cannot use. `#<campaign id>` in the URL opens that campaign.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { browser } from 'wxt/browser';
import { CAMPAIGN_READ_ROLES, type CampaignRecord } from '@/lib/campaign';
import { StatusReply, type SyncStatus } from '@/lib/messages';
import { CampaignListReply, CampaignReply } from '@/lib/messages-campaigns';
import type { User } from '@/lib/schemas';
import { defaultBackgroundClient, errorMessage, type BackgroundClient } from './background-client';
import { CampaignScrub, type WorkerFactory } from './CampaignScrub';
import { formatDateTime } from './format';

export const CAMPAIGN_STATUS_LABELS: Record<CampaignRecord['status'], string> = {
  draft: 'Draft',
  submitted: 'Waiting for counsel',
  approved: 'Approved',
  rejected: 'Rejected',
};
const CHANNELS = ['email', 'call', 'sms', 'mail', 'mixed'] as const;

export interface CampaignsPageProps {
  client?: BackgroundClient;
  makeWorker: WorkerFactory;
  optionsUrl?: () => string;
}

const splitList = (s: string) =>
  s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);

export function CampaignsPage({ client = defaultBackgroundClient, makeWorker, optionsUrl = () => browser.runtime.getURL('/options.html') }: CampaignsPageProps) {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    client.send({ type: 'status.get' }, StatusReply).then(setStatus, (e: unknown) => setError(errorMessage(e)));
  }, [client]);

  let body;
  if (error) body = <p className="notice error" role="alert">Could not read CPNI Guard's status: {error}</p>;
  else if (!status) body = <p className="muted">Loading…</p>;
  else if (!status.user)
    body = (
      <p>
        You are not signed in. <a href={optionsUrl()}>Sign in on the CPNI Guard options page</a>.
      </p>
    );
  else if (!CAMPAIGN_READ_ROLES.includes(status.user.role))
    body = <p className="notice" data-testid="campaigns-forbidden">Campaigns are for marketing, counsel and managers.</p>;
  else body = <Campaigns client={client} user={status.user} makeWorker={makeWorker} />;

  return (
    <main className="page wide" data-testid="campaigns-page">
      <h1>CPNI Guard — marketing campaigns</h1>
      {body}
    </main>
  );
}

function Campaigns({ client, user, makeWorker }: { client: BackgroundClient; user: User; makeWorker: WorkerFactory }) {
  const [campaigns, setCampaigns] = useState<CampaignRecord[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<string | null>(() => decodeURIComponent(location.hash.slice(1)) || null);
  const searchId = useId();

  const load = useCallback(
    async (q: string) => {
      try {
        const r = await client.send({ type: 'campaigns.list', q: q.trim() || undefined }, CampaignListReply);
        setCampaigns(r.campaigns);
        setListError(null);
      } catch (err) {
        setListError(errorMessage(err));
      }
    },
    [client],
  );
  useEffect(() => void load(''), [load]);
  useEffect(() => {
    const onHash = () => setSelected(decodeURIComponent(location.hash.slice(1)) || null);
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const select = (id: string | null) => {
    history.replaceState(null, '', id ? `#${encodeURIComponent(id)}` : location.pathname);
    setSelected(id);
  };
  const replace = (c: CampaignRecord) => {
    setCampaigns((list) => {
      const rest = (list ?? []).filter((x) => x.id !== c.id);
      return [c, ...rest];
    });
  };

  const current = campaigns?.find((c) => c.id === selected) ?? null;
  return (
    <>
      <p className="muted">
        Signed in as {user.email} ({user.role}).
      </p>
      {user.role === 'marketing' && (
        <CreateCampaign
          client={client}
          onCreated={(c) => {
            replace(c);
            select(c.id);
          }}
        />
      )}
      <section className="card" aria-labelledby="campaigns-heading">
        <h2 id="campaigns-heading">Campaigns</h2>
        <form
          className="filters"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            void load(query);
          }}
        >
          <div className="field">
            <label htmlFor={searchId}>Search campaigns</label>
            <input id={searchId} type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
          </div>
          <div className="filter-buttons">
            <button type="submit" className="button">
              Search
            </button>
          </div>
        </form>
        {listError && (
          <p className="notice error" role="alert">
            {listError}
          </p>
        )}
        {campaigns === null ? (
          <p className="muted">Loading…</p>
        ) : campaigns.length === 0 ? (
          <p className="muted" data-testid="campaigns-empty">
            No campaigns{query.trim() ? ' match' : ' yet'}.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="audit-table">
              <thead>
                <tr>
                  <th scope="col">Campaign</th>
                  <th scope="col">Status</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Starts</th>
                  <th scope="col">List scrubbed</th>
                </tr>
              </thead>
              <tbody>
                {campaigns.map((c) => (
                  <tr key={c.id} data-testid="campaign-row" data-campaign-id={c.id} aria-selected={c.id === selected}>
                    <td>
                      <button type="button" className="linklike" onClick={() => select(c.id)}>
                        {c.name}
                      </button>
                    </td>
                    <td data-testid="campaign-status">{CAMPAIGN_STATUS_LABELS[c.status]}</td>
                    <td>{c.owner}</td>
                    <td>{c.channel}</td>
                    <td>{c.startsAt}</td>
                    <td>{c.scrubbedAt ? formatDateTime(c.scrubbedAt) : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {selected && !current && campaigns !== null && (
        <p className="notice" role="status">
          Campaign {selected} is not in this list.
        </p>
      )}
      {current && <CampaignDetail key={current.id} campaign={current} user={user} client={client} onChange={replace} makeWorker={makeWorker} />}
    </>
  );
}

function CreateCampaign({ client, onCreated }: { client: BackgroundClient; onCreated: (c: CampaignRecord) => void }) {
  const id = useId();
  const blank = { name: '', description: '', cpniUsed: '', products: '', channel: 'email', startsAt: '', endsAt: '', solicits: false };
  const [f, setF] = useState(blank);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const set = <K extends keyof typeof blank>(k: K, v: (typeof blank)[K]) => setF((x) => ({ ...x, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErr(null);
    const products = splitList(f.products);
    if (!f.name.trim() || !f.description.trim() || !products.length || !f.startsAt) {
      setErr('Fill in the name, description, at least one product or service offered, and the start date.');
      return;
    }
    setBusy(true);
    try {
      const c = await client.send(
        {
          type: 'campaigns.create',
          input: {
            name: f.name.trim(),
            description: f.description.trim(),
            cpniUsed: splitList(f.cpniUsed),
            productsOffered: products,
            channel: f.channel as (typeof CHANNELS)[number],
            startsAt: f.startsAt,
            endsAt: f.endsAt || null,
            solicitsApproval: f.solicits,
          },
        },
        CampaignReply,
      );
      setF(blank);
      onCreated(c);
    } catch (error) {
      setErr(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Register a campaign</h2>
      <p className="muted small">Policy §7: a campaign that uses CPNI needs a record of its description, the CPNI it uses and the products offered before it starts.</p>
      <form className="form" onSubmit={submit} noValidate data-testid="create-campaign">
        <div className="field">
          <label htmlFor={`${id}-name`}>Campaign name</label>
          <input id={`${id}-name`} value={f.name} onChange={(e) => set('name', e.target.value)} required maxLength={200} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-desc`}>Description</label>
          <textarea id={`${id}-desc`} value={f.description} onChange={(e) => set('description', e.target.value)} required rows={3} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-cpni`}>CPNI used (comma-separated)</label>
          <input id={`${id}-cpni`} value={f.cpniUsed} onChange={(e) => set('cpniUsed', e.target.value)} placeholder="services subscribed, usage tier" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-products`}>Products and services offered (comma-separated)</label>
          <input id={`${id}-products`} value={f.products} onChange={(e) => set('products', e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor={`${id}-channel`}>Channel</label>
          <select id={`${id}-channel`} value={f.channel} onChange={(e) => set('channel', e.target.value)}>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-start`}>Start date</label>
          <input id={`${id}-start`} type="date" value={f.startsAt} onChange={(e) => set('startsAt', e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor={`${id}-end`}>End date (optional)</label>
          <input id={`${id}-end`} type="date" value={f.endsAt} onChange={(e) => set('endsAt', e.target.value)} />
        </div>
        <div className="field">
          <label>
            <input type="checkbox" checked={f.solicits} onChange={(e) => set('solicits', e.target.checked)} /> Solicits customers’
            CPNI approval
          </label>
        </div>
        {err && (
          <p className="notice error" role="alert">
            {err}
          </p>
        )}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Registering…' : 'Register campaign'}
        </button>
      </form>
    </section>
  );
}

function CampaignDetail({
  campaign: c,
  user,
  client,
  onChange,
  makeWorker,
}: {
  campaign: CampaignRecord;
  user: User;
  client: BackgroundClient;
  onChange: (c: CampaignRecord) => void;
  makeWorker: WorkerFactory;
}) {
  const id = useId();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const [msg, setMsg] = useState<string | null>(null);

  const act = async (work: () => Promise<CampaignRecord>, done: string) => {
    setBusy(true);
    setErr(null);
    setMsg(null);
    try {
      onChange(await work());
      setMsg(done);
      setComment('');
    } catch (e) {
      setErr(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const own = c.owner === user.email || c.submittedBy === user.email;

  return (
    <section className="card" aria-labelledby={`${id}-h`} data-testid="campaign-detail">
      <h2 id={`${id}-h`}>{c.name}</h2>
      <dl className="facts">
        <dt>Campaign id (enter it in the CRM’s campaign)</dt>
        <dd>
          <code data-testid="campaign-id">{c.id}</code>
        </dd>
        <dt>Status</dt>
        <dd data-testid="detail-status">{CAMPAIGN_STATUS_LABELS[c.status]}</dd>
        <dt>Description</dt>
        <dd>{c.description}</dd>
        <dt>CPNI used</dt>
        <dd>{c.cpniUsed.length ? c.cpniUsed.join(', ') : 'none'}</dd>
        <dt>Products and services offered</dt>
        <dd>{c.productsOffered.join(', ')}</dd>
        <dt>Channel, dates</dt>
        <dd>
          {c.channel}, {c.startsAt}
          {c.endsAt ? ` to ${c.endsAt}` : ''}
          {c.solicitsApproval ? '; solicits CPNI approval' : ''}
        </dd>
        <dt>Owner</dt>
        <dd>
          {c.owner}, registered {formatDateTime(c.createdAt)}
        </dd>
        {c.submittedAt && (
          <>
            <dt>Submitted</dt>
            <dd>
              {formatDateTime(c.submittedAt)} by {c.submittedBy}
            </dd>
          </>
        )}
        {c.decidedAt && (
          <>
            <dt>{c.status === 'approved' ? 'Approved' : 'Decided'}</dt>
            <dd data-testid="detail-decision">
              {formatDateTime(c.decidedAt)} by {c.decidedBy}
              {c.decisionComment ? `: “${c.decisionComment}”` : ''}
            </dd>
          </>
        )}
        <dt>List scrub</dt>
        <dd data-testid="detail-scrub">
          {c.scrub
            ? `${formatDateTime(c.scrub.at)} by ${c.scrub.by}: ${c.scrub.allowed} allowed, ${c.scrub.blocked} blocked, ${c.scrub.unknown} unknown, ${c.scrub.malformed} malformed of ${c.scrub.total} (${(c.scrub.durationMs / 1000).toFixed(1)} s)`
            : 'not scrubbed yet'}
        </dd>
      </dl>
      {msg && (
        <p className="notice ok" role="status">
          {msg}
        </p>
      )}
      {err && (
        <p className="notice error" role="alert">
          {err}
        </p>
      )}
      {user.role === 'marketing' && (c.status === 'draft' || c.status === 'rejected') && (
        <button
          type="button"
          className="button primary"
          disabled={busy}
          onClick={() =>
            void act(() => client.send({ type: 'campaigns.submit', id: c.id }, CampaignReply), 'Submitted for General Counsel approval.')
          }
        >
          Submit for approval
        </button>
      )}
      {user.role === 'counsel' && c.status === 'submitted' && (
        own ? (
          <p className="notice">This is your own campaign: another counsel must decide it.</p>
        ) : (
          <div className="form">
            <div className="field">
              <label htmlFor={`${id}-comment`}>Counsel’s comment (required to reject)</label>
              <textarea id={`${id}-comment`} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
            </div>
            <p>
              <button
                type="button"
                className="button primary"
                disabled={busy}
                onClick={() =>
                  void act(
                    () => client.send({ type: 'campaigns.decide', id: c.id, decision: 'approve', comment }, CampaignReply),
                    'Campaign approved.',
                  )
                }
              >
                Approve
              </button>{' '}
              <button
                type="button"
                className="button"
                disabled={busy || !comment.trim()}
                onClick={() =>
                  void act(
                    () => client.send({ type: 'campaigns.decide', id: c.id, decision: 'reject', comment }, CampaignReply),
                    'Campaign rejected.',
                  )
                }
              >
                Reject
              </button>
            </p>
          </div>
        )
      )}
      {user.role === 'marketing' && <CampaignScrub campaign={c} client={client} makeWorker={makeWorker} onRecorded={onChange} />}
    </section>
  );
}

// Manager view: failures of the opt-in / opt-out mechanism (policy §12; 64.2009(f)). A manager
// records one; the FCC's written notice is due 5 business days later (federal holidays
// counted) and stays on this view, flagged when late, until it is marked sent.
import { useCallback, useId, useState, type FormEvent } from 'react';
import type { ApprovalFailure } from '@/lib/campaign';
import { ApprovalFailureListReply, ApprovalFailureReply } from '@/lib/messages-campaigns';
import type { Role } from '@/lib/schemas';
import type { BackgroundClient } from './background-client';
import { useReloadingList } from './use-reloading-list';
import { formatDateTime } from './format';

export function ApprovalFailures({ client, role, today = () => new Date().toISOString().slice(0, 10) }: { client: BackgroundClient; role: Role; today?: () => string }) {
  const id = useId();
  const fetchFailures = useCallback(
    async () => (await client.send({ type: 'approvalFailures.list' }, ApprovalFailureListReply)).failures,
    [client],
  );
  const { data: failures, err, setErr, busy, run } = useReloadingList<ApprovalFailure[]>(fetchFailures);
  const [form, setForm] = useState({ mechanism: 'opt_in' as 'opt_in' | 'opt_out', description: '', occurredAt: '' });

  const record = (e: FormEvent) => {
    e.preventDefault();
    if (!form.description.trim() || !form.occurredAt) {
      setErr('Describe the failure and say when it happened.');
      return;
    }
    void run(async () => {
      await client.send(
        {
          type: 'approvalFailures.create',
          input: { mechanism: form.mechanism, description: form.description.trim(), occurredAt: new Date(form.occurredAt).toISOString() },
        },
        ApprovalFailureReply,
      );
      setForm({ mechanism: 'opt_in', description: '', occurredAt: '' });
    });
  };

  const open = (failures ?? []).filter((f) => !f.noticeSentAt);
  const sent = (failures ?? []).filter((f) => f.noticeSentAt);
  const now = today();
  return (
    <section className="card" aria-labelledby={`${id}-h`} data-testid="approval-failures">
      <h2 id={`${id}-h`}>Approval-mechanism failures (FCC notice)</h2>
      <p className="muted small">
        When the opt-in or opt-out mechanism fails more than as an anomaly, written notice to the FCC is due within 5 business
        days (policy §12; 47 C.F.R. 64.2009(f)).
      </p>
      {err && (
        <p className="notice error" role="alert">
          {err}
        </p>
      )}
      {failures === null ? (
        <p className="muted">Loading…</p>
      ) : open.length === 0 ? (
        <p className="muted" data-testid="failures-none-open">No FCC notice is outstanding.</p>
      ) : (
        <ul data-testid="failures-open">
          {open.map((f) => (
            <li key={f.id} data-testid="failure-open">
              <strong className={f.noticeDue < now ? 'error-text' : f.noticeDue === now ? 'warn-text' : undefined}>
                FCC notice due {f.noticeDue}
                {f.noticeDue < now ? ' (late)' : ''}
              </strong>
              : {f.mechanism === 'opt_in' ? 'opt-in' : 'opt-out'} mechanism — {f.description} (happened {formatDateTime(f.occurredAt)}, recorded by{' '}
              {f.recordedBy}){' '}
              {role === 'manager' && (
                <button type="button" className="button" disabled={busy} onClick={() => void run(() => client.send({ type: 'approvalFailures.markSent', id: f.id }, ApprovalFailureReply))}>
                  Mark notice sent
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {sent.length > 0 && (
        <details>
          <summary>{sent.length} notice{sent.length === 1 ? '' : 's'} sent</summary>
          <ul>
            {sent.map((f) => (
              <li key={f.id}>
                {f.description}: sent {formatDateTime(f.noticeSentAt!)} by {f.noticeSentBy} (due {f.noticeDue})
              </li>
            ))}
          </ul>
        </details>
      )}
      {role === 'manager' && (
        <form className="form" onSubmit={record} noValidate>
          <h3>Record a failure</h3>
          <div className="field">
            <label htmlFor={`${id}-mech`}>Mechanism</label>
            <select id={`${id}-mech`} value={form.mechanism} onChange={(e) => setForm({ ...form, mechanism: e.target.value as 'opt_in' | 'opt_out' })}>
              <option value="opt_in">Opt-in</option>
              <option value="opt_out">Opt-out</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-desc`}>What failed</label>
            <textarea id={`${id}-desc`} rows={2} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-when`}>When it happened</label>
            <input id={`${id}-when`} type="datetime-local" value={form.occurredAt} onChange={(e) => setForm({ ...form, occurredAt: e.target.value })} />
          </div>
          <button type="submit" className="button primary" disabled={busy}>
            Record failure
          </button>
        </form>
      )}
    </section>
  );
}

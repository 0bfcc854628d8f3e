// Manager view: account-change notices not yet sent, with how long they have waited (policy §10;
// 64.2010(f) wants them immediate), and account passwords locked after wrong answers, with
// "Unlock" (policy §3A). The backend enforces the roles; only managers and admins act here.
import { useCallback, useId } from 'react';
import { ACCOUNT_FIELD_LABELS, ageText, type AccountChangeNotice, type PasswordLock } from '@/lib/calls';
import { AccountNoticeListReply, AccountNoticeReply, PasswordLockListReply } from '@/lib/messages-calls';
import type { Role } from '@/lib/schemas';
import { AckReply, type BackgroundClient } from './background-client';
import { useReloadingList } from './use-reloading-list';
import { formatDateTime } from './format';

export function CallNotices({ client, role, now = () => new Date() }: { client: BackgroundClient; role: Role; now?: () => Date }) {
  const id = useId();
  const canAct = role === 'manager' || role === 'admin';
  const fetchBoth = useCallback(async () => {
    const [n, l] = await Promise.all([
      client.send({ type: 'accountNotices.list', unsent: true }, AccountNoticeListReply),
      client.send({ type: 'passwordLocks.list' }, PasswordLockListReply),
    ]);
    return { notices: n.notices, locks: l.locks };
  }, [client]);
  const { data, err, busy, run } = useReloadingList<{ notices: AccountChangeNotice[]; locks: PasswordLock[] }>(fetchBoth);
  const notices = data?.notices ?? null;
  const locks = data?.locks ?? null;

  const t = now();
  return (
    <section className="card" aria-labelledby={`${id}-h`} data-testid="call-notices">
      <h2 id={`${id}-h`}>Account-change notices not yet sent</h2>
      <p className="muted small">
        A change of password, backup question, online account or address of record is notified at once to the number or address of record
        before the change (policy §10; 47 C.F.R. 64.2010(f)).
      </p>
      {err && (
        <p className="notice error" role="alert">
          {err}
        </p>
      )}
      {notices === null ? (
        <p className="muted">Loading…</p>
      ) : notices.length === 0 ? (
        <p className="muted" data-testid="notices-none">
          Every account-change notice has been sent.
        </p>
      ) : (
        <ul data-testid="unsent-notices">
          {notices.map((n) => (
            <li key={n.id} data-testid="unsent-notice">
              <strong data-testid="notice-age">{ageText(n.createdAt, t)}</strong> waiting: {n.customerId}, {ACCOUNT_FIELD_LABELS[n.field]} changed —{' '}
              <span data-testid="notice-to">
                {n.channel === 'mail' ? 'mail to ' : 'call or text '}
                {n.addressedTo.join(', ')}
              </span>{' '}
              <span className="small muted">
                (recorded {formatDateTime(n.createdAt)} by {n.createdBy}, {n.source === 'crm' ? 'CRM edit' : 'panel'})
              </span>{' '}
              {canAct && (
                <button
                  type="button"
                  className="button"
                  disabled={busy}
                  aria-label={`Mark the ${ACCOUNT_FIELD_LABELS[n.field]} notice for ${n.customerId} sent`}
                  onClick={() => void run(() => client.send({ type: 'accountNotices.markSent', id: n.id }, AccountNoticeReply))}
                >
                  Mark sent
                </button>
              )}
            </li>
          ))}
        </ul>
      )}

      <h2>Locked account passwords</h2>
      {locks === null ? (
        <p className="muted">Loading…</p>
      ) : locks.length === 0 ? (
        <p className="muted" data-testid="locks-none">
          No account password is locked.
        </p>
      ) : (
        <ul data-testid="password-locks">
          {locks.map((l) => (
            <li key={l.customerId} data-testid="password-lock">
              {l.customerId}: locked {formatDateTime(l.lockedAt)} after {l.failures} wrong answers{' '}
              {canAct && (
                <button
                  type="button"
                  className="button"
                  disabled={busy}
                  aria-label={`Unlock the password of ${l.customerId}`}
                  onClick={() => void run(() => client.send({ type: 'passwordLocks.unlock', customerId: l.customerId }, AckReply))}
                >
                  Unlock
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// The rep's call in the status panel: start it (the customer called, or the rep called out) and
// end it; while it is open, verify the caller; record consent; record account changes, whose
// notice goes to the number or address of record as it was before the change (policy §10).
// The call ends by itself after the policy's idle time (lib/calls.ts).
import { useId, useState } from 'react';
import { ACCOUNT_FIELD_LABELS, ACCOUNT_FIELDS, type AccountField } from '@/lib/calls';
import { openCall } from '@/lib/consent';
import { AccountChangeReply, type CallPanelInfo } from '@/lib/messages-calls';
import type { PolicySettings } from '@/lib/schemas';
import type { KnownSnapshot } from '@/lib/snapshot';
import { AckReply, errorMessage, type BackgroundClient } from './background-client';
import { ConsentCapture } from './ConsentCapture';
import { formatDateTime } from './format';
import { VerifyCaller } from './VerifyCaller';

export function CallPanel({
  snapshot,
  info,
  client,
  now,
  policy,
}: {
  snapshot: KnownSnapshot;
  info: CallPanelInfo | undefined;
  client: BackgroundClient;
  now: Date;
  policy: PolicySettings;
}) {
  const id = useId();
  const { customer } = snapshot;
  const call = openCall(snapshot.call, customer.id, now);
  const verified = !!(call && snapshot.verification && snapshot.verification.callId === call.id);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [field, setField] = useState<AccountField>('address_of_record');

  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const changes = info?.changes ?? [];
  return (
    <section aria-labelledby={`${id}-call`} data-testid="call-panel">
      <h2 id={`${id}-call`} className="section-title">
        Call
      </h2>
      {call ? (
        <p className="small" data-testid="call-open">
          {call.direction === 'inbound' ? 'Customer-initiated call' : 'Outbound call'} open since{' '}
          <time dateTime={call.startedAt}>{formatDateTime(call.startedAt)}</time>; it ends by itself after {policy.callIdleMinutes} min without
          activity.{' '}
          <button type="button" className="button" disabled={busy} onClick={() => void run(() => client.send({ type: 'call.end', customerId: customer.id }, AckReply))}>
            End call
          </button>
        </p>
      ) : (
        <div className="button-row" role="group" aria-label="Start a call">
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => void run(() => client.send({ type: 'call.start', customerId: customer.id, direction: 'inbound' }, AckReply))}
          >
            Customer called: start call
          </button>
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => void run(() => client.send({ type: 'call.start', customerId: customer.id, direction: 'outbound' }, AckReply))}
          >
            Start outbound call
          </button>
        </div>
      )}
      {error && (
        <p className="notice error" role="alert" data-testid="call-error">
          {error}
        </p>
      )}
      {call && !verified && <VerifyCaller customer={customer} info={info} client={client} now={now} />}

      <ConsentCapture customerId={customer.id} callOpen={!!call} info={info} client={client} />

      <div className="account-change" data-testid="account-change">
        <h3 className="approval-title">Account change</h3>
        <p className="small muted">
          A change of password, backup question, online account or address of record sends a notice to the number or address of record on
          file before the change; it never shows the new value.
        </p>
        <div className="inline-form">
          <label htmlFor={`${id}-field`}>What changed</label>
          <select id={`${id}-field`} value={field} onChange={(e) => setField(e.target.value as AccountField)}>
            {ACCOUNT_FIELDS.map((f) => (
              <option key={f} value={f}>
                {ACCOUNT_FIELD_LABELS[f]}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => void run(() => client.send({ type: 'account.changed', customerId: customer.id, field }, AccountChangeReply))}
          >
            Record change and send notice
          </button>
        </div>
        {changes.length > 0 && (
          <ul aria-label="Account changes recorded" aria-live="polite" data-testid="account-changes">
            {changes.map((c) => (
              <li key={c.id} data-testid="account-change-item" data-status={c.status}>
                {ACCOUNT_FIELD_LABELS[c.field]} changed —{' '}
                {c.notice ? (
                  <>
                    notice {c.notice.channel === 'mail' ? 'to be mailed to' : 'to'} the {c.notice.channel === 'mail' ? 'address' : 'number'} of record
                    before the change
                  </>
                ) : (
                  'notice'
                )}{' '}
                <strong>{c.status === 'recorded' ? 'created' : c.status}</strong>
                {c.error ? `: ${c.error}` : ''}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

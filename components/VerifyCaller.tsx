// Caller verification on the open call, the four ways policy §3A and §11 allow (64.2010(b),(g)):
// the password the caller gives (checked by the backend; never stored here), a call back to the
// number of record, call detail mailed to the address of record (30 days on the account), or
// the business customer's CPNI contract. Options the customer does not qualify for say why.
import { useId, useState, type FormEvent } from 'react';
import { verificationOptions, type VerifyOption } from '@/lib/calls';
import { MailingReply, VerifyPasswordReply, type CallPanelInfo } from '@/lib/messages-calls';
import type { Customer, VerificationMethod } from '@/lib/schemas';
import { AckReply, errorMessage, type BackgroundClient } from './background-client';

const TITLES: Record<VerificationMethod, string> = {
  password: 'Account password',
  callback_number_of_record: 'Call back the number of record',
  address_of_record: 'Send to the address of record',
  business_contract: 'Business CPNI contract',
};

export function VerifyCaller({
  customer,
  info,
  client,
  now,
}: {
  customer: Customer;
  info: CallPanelInfo | undefined;
  client: BackgroundClient;
  now: Date;
}) {
  const id = useId();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const options = verificationOptions(customer, now);
  const lock = info?.password ?? null;

  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ kind: 'ok', text: await work() });
    } catch (err) {
      setMessage({ kind: 'error', text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  const checkPassword = (e: FormEvent) => {
    e.preventDefault();
    if (!password) return;
    const typed = password;
    setPassword(''); // never kept on screen
    void run(async () => {
      const r = await client.send({ type: 'verify.password', customerId: customer.id, password: typed }, VerifyPasswordReply);
      if (r.verified) return 'Password correct: the caller is verified for this call.';
      if (r.locked) throw new Error('Wrong password. The account password is now locked; a manager must unlock it. Use another way.');
      throw new Error(`Wrong password. ${r.attemptsLeft} attempt${r.attemptsLeft === 1 ? '' : 's'} left before the password locks.`);
    });
  };

  const body = (o: VerifyOption) => {
    switch (o.method) {
      case 'password':
        return lock?.locked ? (
          <p className="error-text" data-testid="password-locked">
            The account password is locked after too many wrong answers; a manager must unlock it.
          </p>
        ) : (
          <form className="inline-form" onSubmit={checkPassword} data-testid="verify-password-form">
            <label htmlFor={`${id}-pw`}>Password the caller gives</label>
            <input
              id={`${id}-pw`}
              type="password"
              autoComplete="off"
              value={password}
              disabled={busy}
              onChange={(e) => setPassword(e.target.value)}
              data-testid="verify-password-input"
            />
            <button type="submit" className="button" disabled={busy || !password}>
              Check password
            </button>
            {lock && (
              <span className="small muted" data-testid="password-attempts">
                {lock.attemptsLeft} attempt{lock.attemptsLeft === 1 ? '' : 's'} left
              </span>
            )}
          </form>
        );
      case 'callback_number_of_record':
        return (
          <>
            <p className="small">
              Number of record: <strong data-testid="number-of-record">{o.detail}</strong>
            </p>
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await client.send({ type: 'verify.callback', customerId: customer.id }, AckReply);
                  return 'Verified by a call back to the number of record.';
                })
              }
            >
              I called back the number of record
            </button>
          </>
        );
      case 'address_of_record':
        return (
          <>
            {o.detail && <p className="small">Address of record: {o.detail}</p>}
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await client.send({ type: 'verify.addressOfRecord', customerId: customer.id }, MailingReply);
                  return 'Call detail will be mailed to the address of record; do not read it out.';
                })
              }
            >
              Mail call detail to the address of record
            </button>
          </>
        );
      case 'business_contract':
        return (
          <>
            <p className="small" data-testid="business-contract">
              Contract: {o.detail}
            </p>
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await client.send({ type: 'verify.business', customerId: customer.id }, AckReply);
                  return 'Verified as the business CPNI contract provides.';
                })
              }
            >
              Authenticated as the contract provides
            </button>
          </>
        );
    }
  };

  return (
    <div className="verify-caller" data-testid="verify-caller">
      <h3 className="approval-title">Verify the caller</h3>
      {message && (
        <p className={message.kind === 'ok' ? 'notice ok' : 'notice error'} role={message.kind === 'ok' ? 'status' : 'alert'} data-testid="verify-message">
          {message.text}
        </p>
      )}
      <ul className="verify-list">
        {options.map((o) => (
          <li key={o.method} data-testid={`verify-${o.method}`} className={o.available ? undefined : 'muted'}>
            <strong>{TITLES[o.method]}</strong>
            {o.available ? body(o) : <p className="small" data-testid="verify-unavailable">Not available: {o.text}</p>}
          </li>
        ))}
      </ul>
    </div>
  );
}

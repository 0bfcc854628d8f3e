// Recording a customer's approval, denial or revocation from the panel, with its proof: the
// purpose, the method (written, oral, electronic) and the CPNI notice version (64.2008(c)). The
// notice text is shown first; an approval can be recorded only once the rep confirms they gave
// that notice. One-time oral consent covers the open call only (64.2008(f)). A capture shows
// at once as "pending" and turns "recorded" when the backend acknowledges it.
import { useId, useState, type FormEvent } from 'react';
import type { CaptureState, CpniNotice } from '@/lib/calls';
import { CaptureReply, NoticeReply, type CallPanelInfo, type CaptureStatus } from '@/lib/messages-calls';
import type { ConsentMethod, ConsentPurpose } from '@/lib/schemas';
import { errorMessage, type BackgroundClient } from './background-client';
import { PURPOSE_LABELS } from './labels';

const DECISION_LABELS: Record<CaptureState, string> = { opt_in: 'Approves (opt-in)', denied: 'Denies', revoked: 'Revokes approval' };
const STATUS_LABELS: Record<CaptureStatus['status'], string> = { pending: 'pending', recorded: 'recorded', refused: 'refused' };

export function ConsentCapture({
  customerId,
  callOpen,
  info,
  client,
}: {
  customerId: string;
  callOpen: boolean;
  info: CallPanelInfo | undefined;
  client: BackgroundClient;
}) {
  const id = useId();
  const [purpose, setPurpose] = useState<ConsentPurpose>('marketing');
  const [state, setState] = useState<CaptureState>('opt_in');
  const [method, setMethod] = useState<ConsentMethod>('oral');
  const [thisCallOnly, setThisCallOnly] = useState(false);
  const [evidence, setEvidence] = useState('');
  const [notice, setNotice] = useState<CpniNotice | null>(null);
  const [noticeGiven, setNoticeGiven] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const oneTimePossible = callOpen && purpose === 'marketing' && method === 'oral' && state === 'opt_in';
  const scope = oneTimePossible && thisCallOnly ? 'call' : 'standing';
  const needsNotice = state === 'opt_in';
  const canRecord = !busy && notice !== null && (!needsNotice || noticeGiven);

  const showNotice = async () => {
    setError(null);
    try {
      setNotice(await client.send({ type: 'notices.current' }, NoticeReply));
    } catch (err) {
      setError(`The CPNI notice could not be loaded: ${errorMessage(err)}`);
    }
  };

  const record = async (e: FormEvent) => {
    e.preventDefault();
    if (!notice) return;
    setBusy(true);
    setError(null);
    try {
      await client.send(
        {
          type: 'consent.capture',
          input: { customerId, purpose, state, method, scope, noticeVersion: notice.version, evidence: evidence.trim() || null },
        },
        CaptureReply,
      );
      setNoticeGiven(false);
      setEvidence('');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const captures = info?.captures ?? [];
  return (
    <div className="consent-capture" data-testid="consent-capture">
      <h3 className="approval-title">Record consent</h3>
      <form className="form compact" onSubmit={record} noValidate>
        <div className="field">
          <label htmlFor={`${id}-purpose`}>Purpose</label>
          <select id={`${id}-purpose`} value={purpose} onChange={(e) => setPurpose(e.target.value as ConsentPurpose)}>
            {(Object.keys(PURPOSE_LABELS) as ConsentPurpose[]).map((p) => (
              <option key={p} value={p}>
                {PURPOSE_LABELS[p]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-decision`}>Customer’s decision</label>
          <select id={`${id}-decision`} value={state} onChange={(e) => setState(e.target.value as CaptureState)}>
            {(Object.keys(DECISION_LABELS) as CaptureState[]).map((s) => (
              <option key={s} value={s}>
                {DECISION_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-method`}>Method</label>
          <select id={`${id}-method`} value={method} onChange={(e) => setMethod(e.target.value as ConsentMethod)}>
            <option value="oral">Oral</option>
            <option value="written">Written</option>
            <option value="electronic">Electronic</option>
          </select>
        </div>
        <div className="field checkbox">
          <input
            id={`${id}-once`}
            type="checkbox"
            checked={oneTimePossible && thisCallOnly}
            disabled={!oneTimePossible}
            onChange={(e) => setThisCallOnly(e.target.checked)}
          />
          <label htmlFor={`${id}-once`}>For this call only (one-time oral consent)</label>
        </div>
        <div className="field">
          <label htmlFor={`${id}-evidence`}>Evidence (form number, recording…)</label>
          <input id={`${id}-evidence`} value={evidence} maxLength={2000} onChange={(e) => setEvidence(e.target.value)} />
        </div>
        {notice ? (
          <div className="notice-text" role="region" aria-label={`CPNI notice ${notice.version}`} data-testid="cpni-notice">
            <p className="small">
              <strong>CPNI notice {notice.version}</strong> — read it to the customer before they decide:
            </p>
            {notice.text.split('\n\n').map((para, i) => (
              <p key={i} className="small">
                {para}
              </p>
            ))}
            {needsNotice && (
              <div className="field checkbox">
                <input id={`${id}-given`} type="checkbox" checked={noticeGiven} onChange={(e) => setNoticeGiven(e.target.checked)} />
                <label htmlFor={`${id}-given`}>I gave this notice to the customer</label>
              </div>
            )}
          </div>
        ) : (
          <button type="button" className="button" onClick={() => void showNotice()}>
            Show CPNI notice
          </button>
        )}
        {error && (
          <p className="notice error" role="alert" data-testid="capture-error">
            {error}
          </p>
        )}
        <button type="submit" className="button primary" disabled={!canRecord}>
          Record consent
        </button>
      </form>
      {captures.length > 0 && (
        <ul className="capture-list" aria-label="Consents recorded in this panel" aria-live="polite" data-testid="captures">
          {captures.map((c) => (
            <li key={c.id} data-testid="capture" data-status={c.status}>
              {PURPOSE_LABELS[c.purpose]}: {DECISION_LABELS[c.state].toLowerCase()} ({c.method}
              {c.scope === 'call' ? ', this call only' : ''}, notice {c.noticeVersion}) —{' '}
              <strong data-testid="capture-status">{STATUS_LABELS[c.status]}</strong>
              {c.error ? `: ${c.error}` : ''}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

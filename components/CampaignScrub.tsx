// The list scrub on the campaigns page: pick a CSV, run it in a Web Worker (progress bar,
// Cancel), show the counts and malformed lines, offer allowed.csv / blocked.csv / problems.csv,
// and record the counts and time on the campaign (which sets scrubbedAt).
import { useEffect, useId, useRef, useState } from 'react';
import type { CampaignRecord } from '@/lib/campaign';
import { CampaignReply } from '@/lib/messages-campaigns';
import { ScrubWorkerReply } from '@/entrypoints/campaigns/protocol';
import { errorMessage, type BackgroundClient } from './background-client';

/** Makes the scrub worker; the page passes one built with `new URL(..., import.meta.url)`. */
export type WorkerFactory = () => Worker;

type Done = Extract<ScrubWorkerReply, { type: 'done' }>;
type Phase =
  | { kind: 'idle' }
  | { kind: 'running'; rows: number; bytes: number; totalBytes: number }
  | { kind: 'cancelled' }
  | { kind: 'error'; message: string }
  | { kind: 'done'; result: Done; urls: { allowed: string; blocked: string; problems: string }; recorded: 'saving' | 'saved' | string };

export function CampaignScrub({
  campaign,
  client,
  makeWorker,
  cacheName = 'cpni-cache',
  onRecorded,
}: {
  campaign: CampaignRecord;
  client: BackgroundClient;
  makeWorker: WorkerFactory;
  cacheName?: string;
  onRecorded: (c: CampaignRecord) => void;
}) {
  const ids = { file: useId(), crm: useId() };
  const [file, setFile] = useState<File | null>(null);
  const [crm, setCrm] = useState('demo-crm');
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const worker = useRef<Worker | null>(null);
  const urls = useRef<string[]>([]);

  const stopWorker = () => {
    worker.current?.terminate();
    worker.current = null;
  };
  const revoke = () => {
    for (const u of urls.current) URL.revokeObjectURL(u);
    urls.current = [];
  };
  useEffect(() => () => (stopWorker(), revoke()), []);

  const start = () => {
    if (!file) return;
    stopWorker();
    revoke();
    const w = makeWorker();
    worker.current = w;
    const startedFor = file;
    setPhase({ kind: 'running', rows: 0, bytes: 0, totalBytes: file.size });
    w.onmessage = (event: MessageEvent) => {
      if (worker.current !== w) return;
      const m = ScrubWorkerReply.safeParse(event.data);
      if (!m.success) {
        stopWorker();
        setPhase({ kind: 'error', message: 'The scrub worker sent an invalid message.' });
        return;
      }
      const msg = m.data;
      if (msg.type === 'progress') {
        setPhase({ kind: 'running', rows: msg.rows, bytes: msg.bytes, totalBytes: msg.totalBytes });
      } else if (msg.type === 'error') {
        stopWorker();
        setPhase({ kind: 'error', message: msg.message });
      } else {
        stopWorker();
        const made = {
          allowed: URL.createObjectURL(msg.allowed),
          blocked: URL.createObjectURL(msg.blocked),
          problems: URL.createObjectURL(msg.problemsCsv),
        };
        urls.current = Object.values(made);
        setPhase({ kind: 'done', result: msg, urls: made, recorded: 'saving' });
        void record(msg, startedFor.name);
      }
    };
    w.onerror = (e) => {
      if (worker.current !== w) return;
      stopWorker();
      setPhase({ kind: 'error', message: `The scrub worker failed: ${e.message || 'unknown error'}` });
    };
    w.postMessage({ type: 'start', file, crm: crm.trim() || 'demo-crm', now: new Date().toISOString(), cacheName });
  };

  const record = async (result: Done, fileName: string) => {
    try {
      const saved = await client.send(
        {
          type: 'campaigns.recordScrub',
          id: campaign.id,
          summary: { ...result.counts, durationMs: result.durationMs, fileName: fileName.slice(0, 300) },
        },
        CampaignReply,
      );
      setPhase((p) => (p.kind === 'done' ? { ...p, recorded: 'saved' } : p));
      onRecorded(saved);
    } catch (err) {
      setPhase((p) => (p.kind === 'done' ? { ...p, recorded: errorMessage(err) } : p));
    }
  };

  const cancel = () => {
    stopWorker();
    setPhase({ kind: 'cancelled' });
  };

  const running = phase.kind === 'running';
  const base = campaign.name.replace(/[^\w.-]+/g, '-').slice(0, 60) || 'campaign';
  return (
    <section className="card" aria-labelledby={`${ids.file}-h`} data-testid="scrub">
      <h3 id={`${ids.file}-h`}>Scrub the target list</h3>
      <p className="muted small">
        A CSV with a header row naming a customer id (CRM id), account number, phone or email column. Each row is checked
        against the customer’s approval status in this extension’s cache; the file never leaves this computer.
      </p>
      <div className="field">
        <label htmlFor={ids.file}>Audience CSV</label>
        <input
          id={ids.file}
          type="file"
          accept=".csv,text/csv"
          disabled={running}
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
      </div>
      <div className="field">
        <label htmlFor={ids.crm}>CRM the customer ids come from</label>
        <input id={ids.crm} value={crm} disabled={running} onChange={(e) => setCrm(e.target.value)} />
      </div>
      <p>
        <button type="button" className="button primary" disabled={!file || running} onClick={start}>
          Start scrub
        </button>{' '}
        {running && (
          <button type="button" className="button" onClick={cancel}>
            Cancel
          </button>
        )}
      </p>
      {running && (
        <p>
          <progress
            aria-label="Scrub progress"
            max={Math.max(1, phase.totalBytes)}
            value={phase.bytes}
            data-testid="scrub-progress"
          />{' '}
          <span role="status">{phase.rows.toLocaleString('en-US')} rows read…</span>
        </p>
      )}
      {phase.kind === 'cancelled' && (
        <p className="notice" role="status" data-testid="scrub-cancelled">
          Scrub cancelled; nothing was recorded.
        </p>
      )}
      {phase.kind === 'error' && (
        <p className="notice error" role="alert" data-testid="scrub-error">
          {phase.message}
        </p>
      )}
      {phase.kind === 'done' && (
        <div data-testid="scrub-result">
          <dl className="facts">
            <dt>Rows</dt>
            <dd data-testid="scrub-total">{phase.result.counts.total}</dd>
            <dt>Allowed</dt>
            <dd data-testid="scrub-allowed">{phase.result.counts.allowed}</dd>
            <dt>Blocked</dt>
            <dd data-testid="scrub-blocked">{phase.result.counts.blocked}</dd>
            <dt>Unknown (not in the cache)</dt>
            <dd data-testid="scrub-unknown">{phase.result.counts.unknown}</dd>
            <dt>Malformed</dt>
            <dd data-testid="scrub-malformed">{phase.result.counts.malformed}</dd>
            <dt>Time</dt>
            <dd>{(phase.result.durationMs / 1000).toFixed(1)} s</dd>
            <dt>Columns used</dt>
            <dd>{Object.values(phase.result.columns).join(', ')}</dd>
          </dl>
          <p>
            <a className="button" href={phase.urls.allowed} download={`${base}-allowed.csv`} data-testid="download-allowed">
              Download allowed.csv
            </a>{' '}
            <a className="button" href={phase.urls.blocked} download={`${base}-blocked.csv`} data-testid="download-blocked">
              Download blocked.csv
            </a>{' '}
            {phase.result.counts.malformed > 0 && (
              <a className="button" href={phase.urls.problems} download={`${base}-problems.csv`} data-testid="download-problems">
                Download problems.csv
              </a>
            )}
          </p>
          <p className="muted small">Blocked and unknown rows are in blocked.csv with the reason and rule; malformed rows are in neither list.</p>
          {phase.result.problems.length > 0 && (
            <details open={phase.result.problems.length <= 20}>
              <summary>
                {phase.result.counts.malformed} malformed row{phase.result.counts.malformed === 1 ? '' : 's'}
                {phase.result.counts.malformed > phase.result.problems.length ? ` (first ${phase.result.problems.length} listed)` : ''}
              </summary>
              <ul data-testid="scrub-problems">
                {phase.result.problems.map((p) => (
                  <li key={p.line}>{p.problem}</li>
                ))}
              </ul>
            </details>
          )}
          <p role="status" data-testid="scrub-recorded" className={phase.recorded === 'saving' || phase.recorded === 'saved' ? 'muted' : 'error-text'}>
            {phase.recorded === 'saving'
              ? 'Recording the scrub on the campaign…'
              : phase.recorded === 'saved'
                ? 'Scrub recorded on the campaign.'
                : `Could not record the scrub: ${phase.recorded}`}
          </p>
        </div>
      )}
    </section>
  );
}

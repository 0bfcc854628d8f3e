// Options page: admin-defined CRM adapters. An admin pastes or uploads a JSON document; it is
// checked here first (errors at line and field), then saved through the backend, which checks it
// again and syncs it to every extension. Everyone signed in sees the adapters in force, which
// synced documents were refused, and can allow the origins an adapter needs beyond the manifest.
import { useCallback, useEffect, useId, useState, type ChangeEvent } from 'react';
import { browser } from 'wxt/browser';
import type { z } from 'zod';
import { CRM_MATCHES } from '@/lib/crm-matches';
import {
  formatAdapterIssue,
  jsonPositions,
  lineColumn,
  MAX_ADAPTER_DOCUMENT_CHARS,
  originsNeeded,
  validateAdapterText,
  type AdapterIssue,
} from '@/lib/adapter-config';
import { AdapterListReply, AdapterSaveReply, type AdapterListEntry } from '@/lib/messages-adapters';
import type { User } from '@/lib/schemas';
import { AckReply, errorMessage, type BackgroundClient } from './background-client';

/** The part of `browser.permissions` this section uses (a fake in tests). */
export interface PermissionsApi {
  request(p: { origins: string[] }): Promise<boolean>;
  contains(p: { origins: string[] }): Promise<boolean>;
}

export interface AdapterSettingsProps {
  client: BackgroundClient;
  user: User | null;
  permissions?: PermissionsApi;
}

const browserPermissions: PermissionsApi = {
  request: (p) => browser.permissions.request(p),
  contains: (p) => browser.permissions.contains(p),
};

// A refused save is data here (its issues are shown at their lines), not an exception.
const SaveOutcome = AdapterSaveReply.transform((r) => ({ ok: true as const, data: r }));
type SaveOutcome = z.output<typeof AdapterSaveReply>;

/** Maps issues that carry only a field path (from the backend) to lines of `text`. */
function withLines(text: string, issues: readonly { path: string; message: string }[]): AdapterIssue[] {
  let positions: Map<string, number>;
  try {
    positions = jsonPositions(text);
  } catch {
    return [...issues];
  }
  return issues.map((i) => {
    let p = i.path;
    for (;;) {
      const at = positions.get(p);
      if (at !== undefined) return { ...i, ...lineColumn(text, at) };
      if (!p) return i;
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      p = cut < 0 ? '' : p.slice(0, cut);
    }
  });
}

export function AdapterSettings({ client, user, permissions = browserPermissions }: AdapterSettingsProps) {
  const [adapters, setAdapters] = useState<AdapterListEntry[] | null>(null);
  const [granted, setGranted] = useState<Record<string, boolean>>({});
  const [text, setText] = useState('');
  const [issues, setIssues] = useState<AdapterIssue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { text: useId(), file: useId() };
  const isAdmin = user?.role === 'admin';

  const refresh = useCallback(async () => {
    try {
      const data = (await client.send({ type: 'adapters.list' }, AdapterListReply)) as { adapters: AdapterListEntry[] };
      setAdapters(data.adapters);
      const next: Record<string, boolean> = {};
      for (const a of data.adapters) {
        next[a.id] = a.origins.length === 0 || (await permissions.contains({ origins: a.origins }).catch(() => false));
      }
      setGranted(next);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [client, permissions]);

  useEffect(() => {
    if (user) void refresh();
  }, [refresh, user]);

  const onFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    if (file.size > MAX_ADAPTER_DOCUMENT_CHARS) {
      setIssues([{ path: '', message: `the file is larger than ${MAX_ADAPTER_DOCUMENT_CHARS} bytes` }]);
      return;
    }
    void file.text().then((t) => {
      setText(t);
      setIssues([]);
      setMessage(`Loaded ${file.name}; check it and press "Add adapter".`);
    });
  };

  const onSave = () => {
    setError(null);
    setMessage(null);
    const v = validateAdapterText(text);
    if (!v.ok) {
      setIssues(v.issues);
      return;
    }
    setIssues([]);
    const config = v.config;
    // Ask for origins outside the manifest now, inside the click (a user gesture is required).
    const origins = originsNeeded(config, CRM_MATCHES);
    const asked = origins.length ? permissions.request({ origins }).catch(() => false) : Promise.resolve(true);
    setBusy(true);
    void (async () => {
      try {
        const allowed = await asked;
        const r = (await client.send({ type: 'adapters.put', id: config.id, document: JSON.parse(text) }, SaveOutcome)) as SaveOutcome;
        if (!r.ok) {
          setError(r.error);
          if (r.issues?.length) setIssues(withLines(text, r.issues));
          return;
        }
        if (origins.length && allowed) await client.send({ type: 'adapters.permissionsChanged' }, AckReply);
        setMessage(
          `Saved adapter "${config.id}" (version ${r.data.version}); every extension receives it with its next sync.` +
            (origins.length && !allowed ? ` This browser was not given access to ${origins.join(', ')}, so it will not run here yet.` : ''),
        );
        await refresh();
      } catch (err) {
        setError(errorMessage(err));
      } finally {
        setBusy(false);
      }
    })();
  };

  const onAllow = (a: AdapterListEntry) => {
    const asked = permissions.request({ origins: a.origins }).catch(() => false);
    void (async () => {
      if (await asked) await client.send({ type: 'adapters.permissionsChanged' }, AckReply).catch(() => undefined);
      await refresh();
    })();
  };

  const onRemove = (a: AdapterListEntry) => {
    setError(null);
    setMessage(null);
    void (async () => {
      try {
        await client.send({ type: 'adapters.delete', id: a.id }, AckReply);
        setMessage(`Removed adapter "${a.id}"; extensions drop it with their next sync.`);
        await refresh();
      } catch (err) {
        setError(errorMessage(err));
      }
    })();
  };

  if (!user) return null;

  return (
    <section aria-labelledby="adapters-heading" className="card" data-testid="adapter-settings">
      <h2 id="adapters-heading">CRM adapters (admin-defined)</h2>
      {error && (
        <p className="notice error" role="alert" data-testid="adapter-error">
          {error}
        </p>
      )}
      {message && (
        <p className="notice ok" role="status" data-testid="adapter-message">
          {message}
        </p>
      )}
      {adapters === null ? (
        <p className="muted">Loading…</p>
      ) : adapters.length === 0 ? (
        <p className="muted" data-testid="adapter-list-empty">
          No admin-defined adapters. The built-in ones (Salesforce, HubSpot, Dynamics 365, Zendesk, Zoho) are always on.
        </p>
      ) : (
        <ul className="adapter-list" data-testid="adapter-list">
          {adapters.map((a) => (
            <li key={a.id} data-testid={`adapter-${a.id}`}>
              <strong>{a.name ?? a.id}</strong> <span className="muted">({a.id}, version {a.version})</span>
              {a.error ? (
                <p className="error-text" role="alert">
                  Refused, not in force: {a.error}
                </p>
              ) : (
                <>
                  <p className="small">{a.matches.join(', ')}</p>
                  {granted[a.id] === false ? (
                    <p className="warn-text">
                      Needs access to {a.origins.join(', ')}.{' '}
                      <button type="button" className="button" onClick={() => onAllow(a)}>
                        Allow access
                      </button>
                    </p>
                  ) : (
                    <p className="ok-text">In force</p>
                  )}
                </>
              )}
              {isAdmin && (
                <button type="button" className="button" onClick={() => onRemove(a)} aria-label={`Remove adapter ${a.id}`}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}

      {isAdmin && (
        <div className="form">
          <h3>Add or replace an adapter</h3>
          <p className="muted small">
            Paste the adapter document (JSON) or load it from a file. See the README section “Describing a new CRM (admin)”.
          </p>
          <div className="field">
            <label htmlFor={ids.file}>Adapter file</label>
            <input id={ids.file} type="file" accept=".json,application/json" onChange={onFile} />
          </div>
          <div className="field">
            <label htmlFor={ids.text}>Adapter document</label>
            <textarea
              id={ids.text}
              rows={16}
              spellCheck={false}
              value={text}
              onChange={(e) => setText(e.target.value)}
              aria-invalid={issues.length > 0}
              style={{ fontFamily: 'ui-monospace, monospace', fontSize: '12px', width: '100%' }}
            />
          </div>
          {issues.length > 0 && (
            <ul className="notice error" role="alert" data-testid="adapter-issues">
              {issues.map((i, n) => (
                <li key={n}>{formatAdapterIssue(i)}</li>
              ))}
            </ul>
          )}
          <button type="button" className="button primary" onClick={onSave} disabled={busy || !text.trim()} data-testid="adapter-save">
            {busy ? 'Saving…' : 'Add adapter'}
          </button>
        </div>
      )}
    </section>
  );
}

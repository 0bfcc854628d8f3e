// Wires one frame: record watcher -> session (plain data) -> guard, plus the panel host in the
// top frame and the purpose chooser. Built by hand, refuses to start twice in a frame, and
// destroy() removes every listener, observer and element it added.
import type { CrmAdapter } from '@/lib/adapter';
import type { GuardEvent } from '@/lib/messages';
import { CampaignGate } from './campaign-gate';
import { Guard, type Decide } from './guard';
import { sendGuardEvent, type Send } from './messaging';
import { OwnUi } from './own-ui';
import { PanelHost } from './panel-host';
import { PurposeChooser } from './purpose-chooser';
import { watchRecord, type PageRead } from './record-watcher';
import { RecordSession } from './session';

const STARTED = Symbol.for('cpni-guard.crm-content.started');

export interface CrmGuardOptions {
  adapters: readonly CrmAdapter[];
  send: Send;
  decide: Decide;
  /** URL of the extension's panel page (browser.runtime.getURL('/panel.html')). */
  panelUrl: string;
  doc?: Document;
  subscribeLocation?: (handler: () => void) => void;
  log?: Pick<Console, 'warn'>;
}

export interface CrmGuardApp {
  readonly session: RecordSession;
  readonly panel: PanelHost | null;
  /** Re-read the page now (coalesced). */
  check(): void;
  /** The background says the cache changed: ask for the record again. */
  refresh(invalidate: boolean): void;
  destroy(): void;
}

/** Starts the guard in this frame, or returns null when it already runs here. */
export function startCrmGuard(options: CrmGuardOptions): CrmGuardApp | null {
  const doc = options.doc ?? document;
  const win = doc.defaultView as (Window & { [STARTED]?: boolean }) | null;
  if (!win || win[STARTED]) return null;
  win[STARTED] = true;

  const log = options.log ?? console;
  const abort = new AbortController();
  const { signal } = abort;
  const isTopFrame = win.top === win;
  const ownUi = new OwnUi();
  const session = new RecordSession(options.send, log);
  const chooser = new PurposeChooser(doc, ownUi);
  const panel = isTopFrame ? new PanelHost(doc, options.panelUrl, ownUi) : null;
  let adapter: CrmAdapter | null = null;
  const campaigns = new CampaignGate(doc, options.send, log);

  let blockPanelUrl: string | null = null; // the page where a block mounted the panel
  const report = (event: GuardEvent) => {
    // A block away from a record (say, "Export list" on a list page) still needs the panel,
    // which shows the block dialog.
    if (event.kind === 'action.blocked' && panel && !panel.mounted && adapter) {
      blockPanelUrl = doc.location.href;
      panel.ensure(adapter);
    }
    sendGuardEvent(options.send, event).catch((err: unknown) =>
      log.warn('CPNI Guard: could not report %s:', event.kind, err),
    );
  };

  new Guard({
    adapter: () => adapter,
    state: () => session.current(),
    decide: options.decide,
    report,
    askPurpose: (near, question, choices) => chooser.ask(near, question, choices),
    isOwnUi: (path) => ownUi.contains(path),
    pageUrl: () => doc.location.href,
    isTopFrame,
    campaign: (id) => campaigns.context(id),
  }).start(signal);

  let contextAsked = false;
  const onRead = (read: PageRead) => {
    adapter = read.adapter;
    session.update(read.identifiers);
    campaigns.scan(read.adapter);
    // A CRM page with no record open (a list): still learn the role, for list exports.
    if (read.adapter && !read.identifiers && !contextAsked) {
      contextAsked = true;
      session.loadContext();
    }
    if (!panel) return;
    if (read.adapter && read.identifiers) panel.ensure(read.adapter);
    else if (panel.mounted && blockPanelUrl !== doc.location.href) {
      blockPanelUrl = null;
      panel.unmount();
    }
  };
  const watcher = watchRecord({ adapters: options.adapters, doc, signal, onRead, subscribeLocation: options.subscribeLocation });

  // Coming back to the page (e.g. after recording consent in the panel): ask for the record
  // again so the guard decides from the newest status.
  win.addEventListener('focus', () => (session.refresh(), campaigns.refresh()), { signal });

  let destroyed = false;
  return {
    session,
    panel,
    check: () => watcher.check(),
    refresh: (invalidate) => (session.refresh(invalidate), campaigns.refresh()),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      abort.abort();
      chooser.destroy();
      panel?.destroy();
      session.destroy();
      delete win[STARTED];
    },
  };
}

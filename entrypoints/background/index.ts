// The service worker: wiring only. Listeners are registered synchronously on every start (MV3
// wakes the worker for an event only if its listener is registered in the first turn); all state
// lives in IndexedDB and storage.session, so a stopped worker resumes where it was.
import { browser } from 'wxt/browser';
import { createBackground, type IncomingPort } from './app';
import { browserContentScripts } from './adapters';
import type { Sender } from './router';
import type { SessionArea } from './tabs';

const SYNC_ALARM = 'cpni-sync';

export default defineBackground(() => {
  const bg = createBackground({
    fetch: (input, init) => fetch(input, init),
    runtimeId: browser.runtime.id,
    extensionOrigin: browser.runtime.getURL('/'),
    sessionArea: (browser.storage.session as SessionArea | undefined) ?? null,
    notifyTab: (tabId, message) => {
      // A tab without our content script (closed, navigated away) just does not answer.
      browser.tabs.sendMessage(tabId, message).catch(() => undefined);
    },
    contentScripts: browserContentScripts(browser as unknown as Parameters<typeof browserContentScripts>[0]),
  });

  browser.runtime.onMessage.addListener((message: unknown, sender, sendResponse) =>
    bg.onMessage(message, sender as Sender, sendResponse),
  );
  browser.runtime.onConnect.addListener((port) => {
    bg.connectPanel(port as unknown as IncomingPort);
  });
  browser.tabs.onRemoved.addListener((tabId) => void bg.onTabRemoved(tabId));

  const ensureAlarm = async () => {
    if (!(await browser.alarms.get(SYNC_ALARM))) await browser.alarms.create(SYNC_ALARM, { periodInMinutes: 1 });
  };
  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === SYNC_ALARM) void bg.tick();
  });
  browser.runtime.onInstalled.addListener(() => void ensureAlarm().then(() => bg.tick()));
  browser.runtime.onStartup.addListener(() => void ensureAlarm().then(() => bg.tick()));

  // Every worker start: make sure the alarm exists and deliver audit events that are due.
  void ensureAlarm();
  void bg.init().then(() => bg.outbox.flush());
  // Admin-defined adapters on granted origins outside the manifest: (re-)register the content script.
  void bg.init().then(() => bg.adapters.syncScripts());
  browser.permissions.onAdded.addListener(() => void bg.adapters.syncScripts());
  browser.permissions.onRemoved.addListener(() => void bg.adapters.syncScripts());
});

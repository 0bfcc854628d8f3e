// CPNI Guard in the CRM tab: record detection, the action guard and the status panel host.
// Thin wiring only; the logic is in the sibling modules.
import { browser, type PublicPath } from 'wxt/browser';
import { defineContentScript } from 'wxt/utils/define-content-script';
import { CRM_MATCHES } from '@/lib/crm-matches';
import { RecordRefresh } from '@/lib/messages';
import { decide } from '@/lib/policy';
import { ADAPTERS } from './adapters';
import { AdapterList } from './adapters/configured';
import { startCrmGuard } from './controller';

export default defineContentScript({
  matches: [...CRM_MATCHES],
  allFrames: true,
  runAt: 'document_idle',
  main(ctx) {
    // Built-in adapters now; admin-defined ones (synced) join when the background answers.
    const adapters = new AdapterList(ADAPTERS);
    const app = startCrmGuard({
      adapters: adapters.all,
      decide,
      send: (message) => browser.runtime.sendMessage(message),
      panelUrl: browser.runtime.getURL('/panel.html' as PublicPath),
      subscribeLocation: (handler) => ctx.addEventListener(window, 'wxt:locationchange', handler),
    });
    if (!app) return;
    const loadAdapters = () =>
      void adapters.load((m) => browser.runtime.sendMessage(m)).then((changed) => changed && app.check(), () => undefined);
    loadAdapters();
    ctx.onInvalidated(() => app.destroy());
    const onRefresh = (message: unknown, sender: { id?: string }) => {
      if (sender.id !== browser.runtime.id) return;
      const parsed = RecordRefresh.safeParse(message);
      if (parsed.success) (app.refresh(parsed.data.invalidate), loadAdapters());
    };
    browser.runtime.onMessage.addListener(onRefresh);
    ctx.onInvalidated(() => browser.runtime.onMessage.removeListener(onRefresh));
  },
});

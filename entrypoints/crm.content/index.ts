// CPNI Guard in the CRM tab: record detection, the action guard and the status panel host.
// Thin wiring only; the logic is in the sibling modules.
import { browser, type PublicPath } from 'wxt/browser';
import { defineContentScript } from 'wxt/utils/define-content-script';
import { RecordRefresh } from '@/lib/messages';
import { decide } from '@/lib/policy';
import { ADAPTERS } from './adapters';
import { startCrmGuard } from './controller';

export default defineContentScript({
  matches: ['http://localhost/*', 'http://127.0.0.1/*'],
  allFrames: true,
  runAt: 'document_idle',
  main(ctx) {
    const app = startCrmGuard({
      adapters: ADAPTERS,
      decide,
      send: (message) => browser.runtime.sendMessage(message),
      panelUrl: browser.runtime.getURL('/panel.html' as PublicPath),
      subscribeLocation: (handler) => ctx.addEventListener(window, 'wxt:locationchange', handler),
    });
    if (!app) return;
    ctx.onInvalidated(() => app.destroy());
    const onRefresh = (message: unknown, sender: { id?: string }) => {
      if (sender.id !== browser.runtime.id) return;
      const parsed = RecordRefresh.safeParse(message);
      if (parsed.success) app.refresh(parsed.data.invalidate);
    };
    browser.runtime.onMessage.addListener(onRefresh);
    ctx.onInvalidated(() => browser.runtime.onMessage.removeListener(onRefresh));
  },
});

// Every runtime message is parsed with zod and checked against its sender before anything runs
// (DESIGN invariant 5). Content scripts (a CRM tab, the page's URL) may only send
// ContentMessage; extension pages (URL inside the extension's origin) only PageMessage.
// Anything else gets { ok: false, error } and changes nothing.
import { ContentMessage, PageMessage } from '@/lib/messages';
import { describeZodError } from './backend';
import { errorMessage } from '@/lib/errors';

export type Reply<T = unknown> = { ok: true; data: T } | { ok: false; error: string };

/** The fields of `runtime.MessageSender` this file reads. */
export interface Sender {
  id?: string;
  url?: string;
  /** The frame's origin; Chromium gives it where `url` is about:blank (a frame a CRM script made). */
  origin?: string;
  tab?: { id?: number };
  frameId?: number;
}

export interface Identity {
  runtimeId: string;
  extensionOrigin: string; // browser.runtime.getURL('/'), e.g. "chrome-extension://<id>/"
}

export type SenderKind =
  | { kind: 'content'; tabId: number; frameId: number; url: string }
  | { kind: 'page'; tabId: number | null; url: string }
  | { kind: 'foreign'; why: string };

export function senderKind(sender: Sender | undefined, me: Identity): SenderKind {
  if (!sender || sender.id !== me.runtimeId) return { kind: 'foreign', why: 'not sent by this extension' };
  const url = sender.url ?? '';
  // Extension pages first: the panel is an extension page in an iframe of a CRM tab, so it has a tab too.
  if (url.startsWith(me.extensionOrigin)) {
    return { kind: 'page', tabId: typeof sender.tab?.id === 'number' ? sender.tab.id : null, url };
  }
  if (typeof sender.tab?.id === 'number' && sender.tab.id >= 0) {
    if (/^https?:\/\//.test(url)) return { kind: 'content', tabId: sender.tab.id, frameId: sender.frameId ?? 0, url };
    // A frame the CRM inserted before setting its src reports about:blank; its origin is the CRM's.
    if (/^about:(blank|srcdoc)$/.test(url) && /^https?:\/\//.test(sender.origin ?? '')) {
      return { kind: 'content', tabId: sender.tab.id, frameId: sender.frameId ?? 0, url: sender.origin! };
    }
  }
  return { kind: 'foreign', why: 'neither a CRM tab nor an extension page' };
}

export interface Handlers {
  content(message: ContentMessage, from: Extract<SenderKind, { kind: 'content' }>): Promise<Reply>;
  page(message: PageMessage, from: Extract<SenderKind, { kind: 'page' }>): Promise<Reply>;
}

const CONTENT_TYPES = new Set(ContentMessage.options.map((o) => o.shape.type.value as string));
const PAGE_TYPES = new Set(PageMessage.options.map((o) => o.shape.type.value as string));

export function createRouter(handlers: Handlers, me: Identity) {
  async function handle(message: unknown, sender: Sender | undefined): Promise<Reply> {
    const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
    if (typeof type !== 'string') return { ok: false, error: 'Malformed message: no "type".' };
    const from = senderKind(sender, me);
    if (from.kind === 'foreign') return { ok: false, error: `Rejected "${type}": ${from.why}.` };

    if (from.kind === 'content') {
      if (!CONTENT_TYPES.has(type)) {
        return { ok: false, error: PAGE_TYPES.has(type) ? `"${type}" is only accepted from extension pages.` : `Unknown message type "${type}".` };
      }
      const parsed = ContentMessage.safeParse(message);
      if (!parsed.success) return { ok: false, error: `Invalid "${type}" message: ${describeZodError(parsed.error)}` };
      return safely(() => handlers.content(parsed.data, from));
    }

    if (!PAGE_TYPES.has(type)) {
      return { ok: false, error: CONTENT_TYPES.has(type) ? `"${type}" is only accepted from a CRM tab.` : `Unknown message type "${type}".` };
    }
    const parsed = PageMessage.safeParse(message);
    if (!parsed.success) return { ok: false, error: `Invalid "${type}" message: ${describeZodError(parsed.error)}` };
    return safely(() => handlers.page(parsed.data, from));
  }

  /**
   * For `runtime.onMessage`: answers through `sendResponse` and returns true (keeps the channel
   * open), which works in Chrome, in Firefox with the polyfill and in the fake browser.
   */
  function listener(message: unknown, sender: Sender, sendResponse: (reply: Reply) => void): true {
    void handle(message, sender).then(sendResponse);
    return true;
  }

  return { handle, listener };
}

async function safely(run: () => Promise<Reply>): Promise<Reply> {
  try {
    return await run();
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

// The status panel's host: <cpni-guard-panel> with a CLOSED shadow root holding an iframe of
// the extension's panel page. The CPNI itself never enters the page: the panel page gets it
// from the background over a runtime port. One per top document; placed where the adapter
// says, or floating bottom-right.
import type { CrmAdapter, PanelAnchor } from '@/lib/adapter';
import { createClosedHost, forceStyle, type OwnUi } from './own-ui';

export const PANEL_TAG = 'cpni-guard-panel';
export const PANEL_WIDTH_PX = 340;
export const PANEL_HEIGHT_PX = 420;

const BASE_STYLE = {
  display: 'block',
  width: `${PANEL_WIDTH_PX}px`,
  height: `${PANEL_HEIGHT_PX}px`,
  'max-width': 'none',
  'max-height': 'none',
  border: '0',
  padding: '0',
  opacity: '1',
  visibility: 'visible',
  transform: 'none',
  filter: 'none',
  overflow: 'hidden',
  'box-sizing': 'content-box',
};
const INLINE_STYLE = { ...BASE_STYLE, position: 'static', margin: '0 0 16px 0', 'z-index': 'auto' };
const FLOATING_STYLE = {
  ...BASE_STYLE,
  position: 'fixed',
  right: '16px',
  bottom: '16px',
  left: 'auto',
  top: 'auto',
  margin: '0',
  'z-index': '2147483646',
  'box-shadow': '0 4px 20px rgba(0,0,0,.25)',
  'border-radius': '8px',
};

export class PanelHost {
  private host: HTMLElement | null = null;
  private abort: AbortController | null = null;
  private placedAt: PanelAnchor | null = null;

  constructor(
    private readonly doc: Document,
    private readonly src: string,
    private readonly ownUi: OwnUi,
  ) {}

  get mounted(): boolean {
    return this.host !== null && this.host.isConnected;
  }

  /** Mounts the panel, or puts it back where it belongs (the CRM re-rendered, or a page
   * script removed it). Cheap and idempotent: call it on every re-read. */
  ensure(adapter: CrmAdapter): void {
    const anchor = adapter.panelAnchor(this.doc);
    if (this.host && this.host.isConnected && this.inPlace(anchor)) return;
    if (!this.host) this.create();
    const host = this.host!;
    if (anchor) {
      forceStyle(host, INLINE_STYLE);
      const { element, position } = anchor;
      if (position === 'before') element.before(host);
      else if (position === 'after') element.after(host);
      else if (position === 'prepend') element.prepend(host);
      else element.append(host);
    } else {
      forceStyle(host, FLOATING_STYLE);
      (this.doc.body ?? this.doc.documentElement).append(host);
    }
    this.placedAt = anchor;
  }

  unmount(): void {
    this.abort?.abort();
    this.abort = null;
    this.host?.remove();
    this.host = null;
    this.placedAt = null;
  }

  destroy(): void {
    this.unmount();
  }

  private inPlace(anchor: PanelAnchor | null): boolean {
    const host = this.host!;
    if (!anchor) return this.placedAt === null;
    const { element, position } = anchor;
    if (position === 'before') return host.nextElementSibling === element;
    if (position === 'after') return host.previousElementSibling === element;
    return host.parentElement === element; // prepend/append: anywhere inside is fine (no reload)
  }

  private create(): void {
    const abort = new AbortController();
    const { host, root } = createClosedHost(this.doc, PANEL_TAG);
    this.ownUi.adopt(host, abort.signal);
    const style = this.doc.createElement('style');
    style.textContent = ':host{all:initial}iframe{display:block;width:100%;height:100%;border:0;margin:0;padding:0;color-scheme:normal;background:transparent}';
    const iframe = this.doc.createElement('iframe');
    iframe.src = this.src;
    iframe.title = 'CPNI Guard status';
    iframe.setAttribute('allow', '');
    iframe.setAttribute('referrerpolicy', 'no-referrer');
    iframe.setAttribute('width', String(PANEL_WIDTH_PX));
    iframe.setAttribute('height', String(PANEL_HEIGHT_PX));
    root.append(style, iframe);
    this.host = host;
    this.abort = abort;
  }
}

// Our own UI hosts (panel, purpose chooser). The guard ignores events that come from them, and
// each host stops its events from reaching the page (DESIGN invariant 6: events isolated).

const ISOLATED_EVENTS = [
  'click', 'dblclick', 'auxclick', 'contextmenu',
  'mousedown', 'mouseup', 'pointerdown', 'pointerup',
  'keydown', 'keyup', 'keypress', 'beforeinput', 'input', 'change', 'submit',
  'focusin', 'focusout', 'wheel', 'touchstart', 'touchend',
] as const;

export class OwnUi {
  private readonly hosts = new WeakSet<object>();

  /** Registers `host` as ours and stops its events at the host (bubble phase). */
  adopt(host: HTMLElement, signal: AbortSignal): void {
    this.hosts.add(host);
    for (const type of ISOLATED_EVENTS) {
      host.addEventListener(type, (e) => e.stopPropagation(), { signal });
    }
  }

  /** Does the event's composed path go through one of our hosts? */
  contains(path: readonly EventTarget[]): boolean {
    return path.some((t) => this.hosts.has(t));
  }
}

/** A host element with a closed shadow root. Not a registered custom element: content
 * scripts in Chromium have no `customElements`, and an undefined valid custom element name
 * can still take a shadow root. */
export function createClosedHost(doc: Document, tag: string): { host: HTMLElement; root: ShadowRoot } {
  const host = doc.createElement(tag);
  const root = host.attachShadow({ mode: 'closed' });
  return { host, root };
}

/** Sets inline `!important` styles, which page stylesheets cannot override. */
export function forceStyle(el: HTMLElement, styles: Record<string, string>): void {
  for (const [k, v] of Object.entries(styles)) el.style.setProperty(k, v, 'important');
}

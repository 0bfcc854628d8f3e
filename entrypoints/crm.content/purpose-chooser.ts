// "What is this call for?": a small chooser shown next to an ambiguous control, plain DOM with
// textContent only, inside a closed shadow root the page can neither read nor restyle.
import type { PurposeChoice } from '@/lib/adapter';
import { createClosedHost, forceStyle, type OwnUi } from './own-ui';

const CSS = `
:host { all: initial; }
.box { font: 13px/1.4 system-ui, sans-serif; color: #1d2733; background: #fff; border: 1px solid #8a96a3;
  border-radius: 6px; box-shadow: 0 4px 16px rgba(0,0,0,.2); padding: 10px 12px; min-width: 220px; }
p { margin: 0 0 8px; font-weight: 600; }
.row { display: flex; gap: 6px; flex-wrap: wrap; }
button { font: inherit; padding: 4px 10px; border-radius: 4px; border: 1px solid #0b5cad; background: #fff; color: #0b5cad; cursor: pointer; }
button.cancel { border-color: #8a96a3; color: #4a5561; }
button:focus-visible { outline: 2px solid #0b5cad; outline-offset: 1px; }
`;

export class PurposeChooser {
  private current: { host: HTMLElement; abort: AbortController; resolve: (c: PurposeChoice | null) => void } | null = null;

  constructor(
    private readonly doc: Document,
    private readonly ownUi: OwnUi,
  ) {}

  get open(): boolean {
    return this.current !== null;
  }

  /** Resolves with the rep's answer, or null when dismissed (Cancel, Escape, replaced, destroyed). */
  ask(near: Element, question: string, choices: readonly PurposeChoice[]): Promise<PurposeChoice | null> {
    this.close(null);
    return new Promise((resolve) => {
      const abort = new AbortController();
      const { host, root } = createClosedHost(this.doc, 'cpni-guard-chooser');
      this.ownUi.adopt(host, abort.signal);
      this.current = { host, abort, resolve };

      const style = this.doc.createElement('style');
      style.textContent = CSS;
      const box = this.doc.createElement('div');
      box.className = 'box';
      box.setAttribute('role', 'dialog');
      box.setAttribute('aria-label', 'CPNI Guard: ' + question);
      const p = this.doc.createElement('p');
      p.textContent = question;
      const row = this.doc.createElement('div');
      row.className = 'row';
      for (const choice of choices) {
        const b = this.doc.createElement('button');
        b.type = 'button';
        b.textContent = choice.label;
        b.dataset.purpose = choice.purpose;
        b.addEventListener('click', () => this.close(choice), { signal: abort.signal });
        row.append(b);
      }
      const cancel = this.doc.createElement('button');
      cancel.type = 'button';
      cancel.className = 'cancel';
      cancel.textContent = 'Cancel';
      cancel.addEventListener('click', () => this.close(null), { signal: abort.signal });
      row.append(cancel);
      box.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.close(null); }, { signal: abort.signal });
      box.append(p, row);
      root.append(style, box);

      const rect = near.getBoundingClientRect();
      const view = this.doc.defaultView;
      const vw = view?.innerWidth ?? 1024;
      const vh = view?.innerHeight ?? 768;
      const top = rect.bottom + 6 + 90 > vh ? Math.max(4, rect.top - 96) : rect.bottom + 6;
      forceStyle(host, {
        position: 'fixed',
        top: `${Math.round(top)}px`,
        left: `${Math.round(Math.min(Math.max(4, rect.left), Math.max(4, vw - 300)))}px`,
        'z-index': '2147483647',
        display: 'block',
      });
      this.doc.documentElement.append(host);
      (row.firstElementChild as HTMLElement | null)?.focus();
    });
  }

  close(answer: PurposeChoice | null = null): void {
    const c = this.current;
    if (!c) return;
    this.current = null;
    c.abort.abort();
    c.host.remove();
    c.resolve(answer);
  }

  destroy(): void {
    this.close(null);
  }
}

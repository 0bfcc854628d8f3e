// Tiny DOM helpers for component tests (no testing-library here): render with react-dom/client
// inside act, find by data-testid, click, type into controlled inputs, let promises settle.
import { act, type ReactElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import type { PageMessage } from '@/lib/messages';
import { createBackgroundClient } from '@/components/background-client';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface Rendered {
  container: HTMLElement;
  root: Root;
  unmount(): void;
}

const mounted: Rendered[] = [];

export async function render(element: ReactElement): Promise<Rendered> {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  await act(async () => {
    root.render(element);
  });
  const r: Rendered = {
    container,
    root,
    unmount: () => {
      const i = mounted.indexOf(r);
      if (i < 0) return;
      mounted.splice(i, 1);
      act(() => root.unmount());
      container.remove();
    },
  };
  mounted.push(r);
  return r;
}

export function cleanup(): void {
  for (const r of [...mounted]) r.unmount();
}

export function byTestId(scope: ParentNode, id: string): HTMLElement {
  const el = scope.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`no element with data-testid="${id}"`);
  return el;
}

export function allByTestId(scope: ParentNode, id: string): HTMLElement[] {
  return [...scope.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];
}

export function queryByTestId(scope: ParentNode, id: string): HTMLElement | null {
  return scope.querySelector<HTMLElement>(`[data-testid="${id}"]`);
}

/** The form control a <label> with this text points at (checks the label/htmlFor wiring too). */
export function byLabel(scope: ParentNode, text: string): HTMLInputElement | HTMLSelectElement {
  const label = [...scope.querySelectorAll('label')].find((l) => l.textContent?.trim() === text);
  if (!label) throw new Error(`no <label> with text "${text}"`);
  const id = label.getAttribute('for');
  if (!id) throw new Error(`<label> "${text}" has no htmlFor`);
  const control = (scope as Element).ownerDocument!.getElementById(id);
  if (!control) throw new Error(`<label> "${text}" points at missing #${id}`);
  return control as HTMLInputElement | HTMLSelectElement;
}

export function byRole(scope: ParentNode, role: string): HTMLElement | null {
  return scope.querySelector<HTMLElement>(`[role="${role}"]`);
}

export function buttonByText(scope: ParentNode, text: string): HTMLButtonElement {
  const b = [...scope.querySelectorAll('button')].find((x) => x.textContent?.trim() === text);
  if (!b) throw new Error(`no button "${text}"`);
  return b;
}

export async function flush(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
  });
}

export async function click(el: HTMLElement): Promise<void> {
  await act(async () => {
    el.click();
  });
  await flush();
}

/** Sets a controlled input/select's value the way a user would, so React sees the change. */
export async function typeInto(el: HTMLInputElement | HTMLSelectElement, value: string): Promise<void> {
  const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')!.set!;
  await act(async () => {
    setter.call(el, value);
    el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
  });
}

export async function submit(form: HTMLFormElement): Promise<void> {
  await act(async () => {
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
  await flush();
}

/** A background that answers PageMessages with a handler and records what it got. */
export function fakeBackground(handler: (msg: PageMessage) => unknown) {
  const sent: PageMessage[] = [];
  const client = createBackgroundClient(async (msg) => {
    sent.push(msg);
    return handler(msg);
  });
  return { client, sent };
}

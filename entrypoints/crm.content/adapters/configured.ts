// Admin-defined adapters: a CrmAdapter built from a validated document (lib/adapter-config.ts).
// The content script asks the background for the documents that apply to its frame, checks
// each one again (the real selector engine included) and puts the good ones before the
// built-in adapters; a document that fails is skipped and the others keep working.
import {
  CALL_PURPOSES,
  cleanLabel,
  type ControlMatch,
  type CrmAdapter,
  type PanelAnchor,
  type PurposeChoice,
  type QueryRoot,
} from '@/lib/adapter';
import {
  REGEX_INPUT_MAX,
  formatAdapterIssue,
  matchesPattern,
  parseMatchPattern,
  validateAdapterConfig,
  type ActionRule,
  type AdapterConfig,
  type IdentifierKind,
  type IdentifierSource,
  type MatchPattern,
} from '@/lib/adapter-config';
import { looksLikeEmail, normalizeEmail, normalizePhone } from '@/lib/identifiers';
import { ContentMessage } from '@/lib/messages';
import { AdaptersGetReply } from '@/lib/messages-adapters';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { controlLabel, fieldValue } from './common';
import { errorMessage } from '@/lib/errors';

const MAX_VALUES = 10;

function patterns(list: readonly string[]): MatchPattern[] {
  return list.flatMap((m) => {
    const r = parseMatchPattern(m);
    return r.ok ? [r.pattern] : [];
  });
}

/** The value of `group` in a match (number or name); null when it did not take part. */
function groupOf(m: RegExpExecArray, group: number | string): string | null {
  const v = typeof group === 'number' ? m[group] : m.groups?.[group];
  return v === undefined ? null : v;
}

/** Normal form per kind; null when the value is not one (a phone field with text, say). */
function normalize(kind: IdentifierKind, raw: string): string | null {
  const v = cleanLabel(raw, 500);
  if (!v) return null;
  switch (kind) {
    case 'phone':
      return normalizePhone(v);
    case 'email':
      return looksLikeEmail(v) ? normalizeEmail(v).slice(0, 200) : null;
    case 'accountNumber':
      return v.slice(0, 64);
    case 'crmId':
      return v.slice(0, 128);
  }
}

const IMPLICIT_INPUT_ROLES: Record<string, string> = {
  button: 'button', submit: 'button', reset: 'button', image: 'button', checkbox: 'checkbox', radio: 'radio',
};

/** The element's ARIA role: explicit, else the implicit role of its tag. */
export function roleOf(el: Element): string | null {
  const explicit = el.getAttribute('role')?.trim().split(/\s+/)[0];
  if (explicit) return explicit.toLowerCase();
  switch (el.tagName.toLowerCase()) {
    case 'button':
    case 'summary':
      return 'button';
    case 'a':
    case 'area':
      return el.hasAttribute('href') ? 'link' : null;
    case 'input':
      return IMPLICIT_INPUT_ROLES[(el.getAttribute('type') ?? 'text').toLowerCase()] ?? 'textbox';
    case 'select':
      return 'combobox';
    case 'option':
      return 'option';
    case 'textarea':
      return 'textbox';
    default:
      return null;
  }
}

/** The accessible name, simplified: labelled-by, aria-label, a button input's value, text, title. */
export function accessibleName(el: Element): string {
  const by = el.getAttribute('aria-labelledby');
  if (by) {
    const root = el.getRootNode() as Document | ShadowRoot;
    const text = by
      .split(/\s+/)
      .map((id) => (typeof root.getElementById === 'function' ? root.getElementById(id)?.textContent : null) ?? '')
      .join(' ');
    if (cleanLabel(text)) return cleanLabel(text);
  }
  const label = el.getAttribute('aria-label');
  if (label && cleanLabel(label)) return cleanLabel(label);
  if (el.tagName === 'INPUT' && IMPLICIT_INPUT_ROLES[(el.getAttribute('type') ?? '').toLowerCase()] === 'button') {
    return cleanLabel((el as HTMLInputElement).value || el.getAttribute('value'));
  }
  return cleanLabel(el.textContent) || cleanLabel(el.getAttribute('title'));
}

const CLICKABLE_ROLES = new Set([
  'button', 'link', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'tab', 'option', 'checkbox', 'radio', 'switch', 'treeitem',
]);
const same = (a: string, b: string) => cleanLabel(a).toLowerCase() === cleanLabel(b).toLowerCase();

type CompiledRule = ActionRule & { test: (el: Element) => boolean };

function compileRule(rule: ActionRule): CompiledRule {
  let test: (el: Element) => boolean;
  if (rule.selector !== undefined) {
    const sel = rule.selector;
    test = (el) => {
      try {
        return el.matches(sel);
      } catch {
        return false;
      }
    };
  } else if (rule.role !== undefined) {
    const role = rule.role;
    const name = rule.name ?? '';
    test = (el) => roleOf(el) === role && same(accessibleName(el), name);
  } else {
    const text = rule.text ?? '';
    test = (el) => {
      const role = roleOf(el);
      return role !== null && CLICKABLE_ROLES.has(role) && same(el.textContent ?? '', text);
    };
  }
  return { ...rule, test };
}

function matchOf(rule: CompiledRule, el: Element): ControlMatch {
  const control = rule.label ?? controlLabel(el, rule.action);
  if (rule.action === 'ambiguous') {
    const choices: readonly PurposeChoice[] = rule.choices ?? CALL_PURPOSES;
    return { action: 'ambiguous', control, choices, question: rule.question ?? 'What is this for?' };
  }
  const match: ControlMatch = { action: rule.action, control };
  if (rule.offeredCategory) match.offeredCategory = rule.offeredCategory;
  if (rule.action === 'marketing.launch_campaign') {
    match.campaignId = rule.campaignIdAttribute ? el.getAttribute(rule.campaignIdAttribute) : null;
  }
  if (rule.accountField) match.accountField = rule.accountField;
  return match;
}

/** Builds the adapter a validated document describes. */
export function configuredAdapter(config: AdapterConfig): CrmAdapter {
  const include = patterns(config.matches);
  const exclude = patterns(config.excludeMatches);
  const sources = config.identifiers.map((s) => ({ ...s, re: s.pattern ? new RegExp(s.pattern) : null }));
  const rules = config.actions.map(compileRule);

  const valuesOf = (s: IdentifierSource & { re: RegExp | null }, raws: readonly string[]): string[] => {
    const out: string[] = [];
    for (const raw of raws) {
      let v: string | null = raw;
      if (s.re) {
        const m = s.re.exec(raw.slice(0, REGEX_INPUT_MAX));
        v = m ? groupOf(m, s.group) : null;
      }
      const n = v === null ? null : normalize(s.kind, v);
      if (n && !out.includes(n)) out.push(n);
    }
    return out;
  };

  return {
    id: config.id,

    matches(url) {
      return include.some((p) => matchesPattern(p, url)) && !exclude.some((p) => matchesPattern(p, url));
    },

    readRecord(root, url): RecordIdentifiers | null {
      const found: Record<IdentifierKind, string[]> = { crmId: [], phone: [], email: [], accountNumber: [] };
      const add = (kind: IdentifierKind, values: string[]) => {
        for (const v of values) if (!found[kind].includes(v)) found[kind].push(v);
      };
      const urlText = url.pathname + url.search + url.hash;
      for (const s of sources) if (s.from === 'url') add(s.kind, valuesOf(s, [urlText]));

      // Right after an in-app navigation the page may still show the previous record: read
      // the page only from a record element that says it is this one.
      let scope: QueryRoot | null = root;
      if (config.record) {
        const el = root.querySelector(config.record.selector);
        scope = el;
        if (el && config.record.idAttribute) {
          const fromUrl = found[config.record.idKind][0];
          const shown = el.getAttribute(config.record.idAttribute);
          const shownNorm = shown === null ? null : normalize(config.record.idKind, shown);
          if (!fromUrl || shownNorm !== fromUrl) scope = null;
        }
      }
      if (scope) {
        for (const s of sources) {
          if (s.from !== 'element' || !s.selector) continue;
          const els = Array.from(scope.querySelectorAll(s.selector)).slice(0, 50);
          const raws = els.map((e) => (s.attribute ? (e.getAttribute(s.attribute) ?? '') : fieldValue(e)));
          add(s.kind, valuesOf(s, raws));
        }
      }
      const ids: RecordIdentifiers = {
        crm: config.id,
        crmId: found.crmId[0] ?? null,
        accountNumber: found.accountNumber[0] ?? null,
        phones: found.phone.slice(0, MAX_VALUES),
        emails: found.email.slice(0, MAX_VALUES),
      };
      const any = ids.crmId || ids.accountNumber || ids.phones.length || ids.emails.length;
      return any ? ids : null;
    },

    classify(el): ControlMatch | null {
      for (const rule of rules) if (rule.test(el)) return matchOf(rule, el);
      return null;
    },

    panelAnchor(root): PanelAnchor | null {
      if (!('selector' in config.panel)) return null;
      const element = root.querySelector(config.panel.selector);
      return element ? { element, position: config.panel.position } : null;
    },
  };
}

export interface ConfiguredProblem {
  id: string;
  error: string;
}

/** Validates each synced document and builds the good ones; the bad ones are reported, not run. */
export function buildConfiguredAdapters(docs: readonly { id: string; document: unknown }[]): {
  adapters: CrmAdapter[];
  problems: ConfiguredProblem[];
} {
  const adapters: CrmAdapter[] = [];
  const problems: ConfiguredProblem[] = [];
  for (const d of docs) {
    const r = validateAdapterConfig(d.document);
    if (!r.ok) {
      problems.push({ id: d.id, error: r.issues.slice(0, 3).map(formatAdapterIssue).join('; ') });
      continue;
    }
    if (r.config.id !== d.id) {
      problems.push({ id: d.id, error: `the document's id "${r.config.id}" is not "${d.id}"` });
      continue;
    }
    try {
      adapters.push(configuredAdapter(r.config));
    } catch (err) {
      problems.push({ id: d.id, error: errorMessage(err) });
    }
  }
  return { adapters, problems };
}

/**
 * The list the record watcher reads: configured adapters first (an admin's document for a URL
 * wins over a built-in one), then the built-ins. The array is updated in place, so the watcher
 * and the guard see new documents at their next read.
 */
export class AdapterList {
  readonly all: CrmAdapter[];
  private key = '';

  constructor(private readonly builtIns: readonly CrmAdapter[]) {
    this.all = [...builtIns];
  }

  /** Asks the background for this frame's documents; true when the list changed. */
  async load(send: (message: ContentMessage) => Promise<unknown>, log: Pick<Console, 'warn'> = console): Promise<boolean> {
    const reply = AdaptersGetReply.safeParse(await send(ContentMessage.parse({ type: 'adapters.get' })));
    if (!reply.success || !reply.data.ok) return false;
    const docs = reply.data.data.adapters;
    const key = docs.map((d) => `${d.id}@${d.version}`).join(',');
    if (key === this.key) return false;
    this.key = key;
    const { adapters, problems } = buildConfiguredAdapters(docs);
    for (const p of problems) log.warn('CPNI Guard: adapter %s was refused: %s', p.id, p.error);
    this.all.splice(0, this.all.length, ...adapters, ...this.builtIns);
    return true;
  }
}

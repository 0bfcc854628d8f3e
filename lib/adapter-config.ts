// Admin-defined CRM adapters as data (issue 3, item 3): the zod schema of an adapter document
// and everything that decides whether one is safe to run. The same code checks a document in
// the options page, on the backend (PUT /api/adapters/{id}) and in the extension when a synced
// document arrives; a document refused anywhere changes nothing.
//
// Pure: no browser imports. The CSS selector check is a conservative syntax check that runs in
// Node; in a browser `checkSelector` also asks the real engine (a DocumentFragment's
// querySelector), so a selector that would throw there never reaches the guard.
import { z } from 'zod';
import { AccountField } from './calls';
import { ActionKind, ServiceCategory } from './schemas';
import { errorMessage } from './errors';

export const ADAPTER_SCHEMA_VERSION = 1;
/** The built-in adapters' ids: a document may not take one (its `crm` would be ambiguous). */
export const BUILT_IN_ADAPTER_IDS = ['salesforce', 'hubspot', 'dynamics', 'zendesk', 'zoho', 'demo-crm'] as const;
export const MAX_ADAPTER_DOCUMENT_CHARS = 64_000;
/** Regexes run on at most this many characters of a URL or an element's text. */
export const REGEX_INPUT_MAX = 2_000;

// ---------------------------------------------------------------------------------------
// Match patterns (Chrome's syntax, without ports: host permissions ignore ports)
// ---------------------------------------------------------------------------------------

export interface MatchPattern {
  scheme: '*' | 'http' | 'https';
  /** "*.example.com", "example.com" or an IP address; never "*" alone. */
  host: string;
  /** Starts with "/"; "*" matches any run of characters. */
  path: string;
}

const PATTERN_RE = /^(\*|https?):\/\/([^/]+)(\/.*)$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Parses a match pattern, or says in words why it is refused (a pattern for every site, say). */
export function parseMatchPattern(raw: string): { ok: true; pattern: MatchPattern } | { ok: false; error: string } {
  const s = raw.trim();
  if (s === '<all_urls>') return { ok: false, error: '"<all_urls>" would run on every site; name the CRM\'s own host' };
  const m = PATTERN_RE.exec(s);
  if (!m) {
    return { ok: false, error: `"${s}" is not a match pattern like "https://crm.example.com/*" (scheme http, https or *, a host, a path starting with /)` };
  }
  const scheme = m[1] as MatchPattern['scheme'];
  let host = m[2]!.toLowerCase();
  const path = m[3]!;
  if (host.includes('@')) return { ok: false, error: `"${s}": a match pattern's host may not contain user info ("@")` };
  if (/:\d*$/.test(host) && !host.startsWith('[')) {
    return { ok: false, error: `"${s}": leave the port out (match patterns ignore ports; "${scheme}://${host.replace(/:\d*$/, '')}${path}" matches every port)` };
  }
  if (host === '*' || host === '*.') return { ok: false, error: `"${s}" would run on every site; name the CRM's own host` };
  let rest = host;
  if (host.startsWith('*.')) rest = host.slice(2);
  if (rest.includes('*')) return { ok: false, error: `"${s}": "*" may only stand at the start of the host, as in "*.example.com"` };
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(rest) || /^\[[0-9a-f:]+\]$/i.test(rest);
  if (!isIp) {
    const labels = rest.split('.');
    if (labels.some((l) => !HOST_LABEL.test(l))) return { ok: false, error: `"${s}": "${rest}" is not a host name` };
    if (host.startsWith('*.') && labels.length < 2) {
      return { ok: false, error: `"${s}" would run on every site under ".${rest}"; name the CRM's own domain, as in "*.crm.example.com"` };
    }
  } else if (host.startsWith('*.')) {
    return { ok: false, error: `"${s}": an IP address cannot have "*." before it` };
  }
  host = host.startsWith('*.') ? `*.${rest}` : rest;
  return { ok: true, pattern: { scheme, host, path } };
}

export function formatMatchPattern(p: MatchPattern): string {
  return `${p.scheme}://${p.host}${p.path}`;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Does `url` match the pattern? Path globs are tested against path + query, as Chrome does. */
export function matchesPattern(p: MatchPattern, url: URL): boolean {
  const scheme = url.protocol.slice(0, -1);
  if (p.scheme === '*' ? scheme !== 'http' && scheme !== 'https' : scheme !== p.scheme) return false;
  const host = url.hostname.toLowerCase();
  if (p.host.startsWith('*.')) {
    const base = p.host.slice(2);
    if (host !== base && !host.endsWith('.' + base)) return false;
  } else if (host !== p.host) return false;
  const re = new RegExp('^' + p.path.split('*').map(escapeRe).join('.*') + '$');
  return re.test(url.pathname + url.search);
}

/** The origin a host permission is asked for: "https://crm.example.com/*". */
export function originOf(p: MatchPattern): string {
  return `${p.scheme}://${p.host}/*`;
}

/** Is every URL `p` matches also matched by one of `granted` (for example the manifest's)? */
export function patternCoveredBy(p: MatchPattern, granted: readonly string[]): boolean {
  return granted.some((g) => {
    const r = parseMatchPattern(g);
    if (!r.ok) return false;
    const q = r.pattern;
    if (q.scheme !== '*' && q.scheme !== p.scheme) return false;
    const hostOk = q.host.startsWith('*.')
      ? p.host === q.host || p.host === q.host.slice(2) || p.host.endsWith('.' + q.host.slice(2))
      : p.host === q.host;
    return hostOk && (q.path === '/*' || q.path === p.path);
  });
}

// ---------------------------------------------------------------------------------------
// CSS selectors: a conservative syntax check that runs anywhere, plus the real engine in a browser
// ---------------------------------------------------------------------------------------

const SIMPLE_PSEUDOS = new Set([
  'first-child', 'last-child', 'only-child', 'first-of-type', 'last-of-type', 'only-of-type',
  'empty', 'root', 'scope', 'checked', 'disabled', 'enabled', 'required', 'optional',
  'link', 'any-link', 'read-only', 'read-write', 'defined', 'indeterminate', 'default',
  'hover', 'focus', 'focus-within', 'focus-visible', 'active', 'target',
]);
const SELECTOR_PSEUDOS = new Set(['not', 'is', 'where', 'has']);
const NTH_PSEUDOS = new Set(['nth-child', 'nth-last-child', 'nth-of-type', 'nth-last-of-type']);
const NTH_RE = /^\s*(odd|even|[+-]?\d*n\s*([+-]\s*\d+)?|[+-]?\d+)\s*$/i;
const IDENT = /^-?(?:[_a-z\u00a0-\uffff]|\\[0-9a-f]{1,6}\s?|\\[^\n0-9a-f])(?:[\w\u00a0-\uffff-]|\\[0-9a-f]{1,6}\s?|\\[^\n0-9a-f])*/i;
const MAX_SELECTOR = 500;

/**
 * Why `sel` is not a selector this product accepts, or null. Accepts type, universal, id,
 * class and attribute selectors, combinators, lists, :not/:is/:where/:has, :nth-*() and the
 * structural and state pseudo-classes; refuses pseudo-elements (a click never targets one),
 * unknown pseudo-classes and anything it cannot parse. Node-safe.
 */
export function selectorSyntaxProblem(sel: string): string | null {
  if (!sel.trim()) return 'the selector is empty';
  if (sel.length > MAX_SELECTOR) return `the selector is longer than ${MAX_SELECTOR} characters`;
  let i = 0;
  const fail = (what: string) => `${what} at character ${i + 1}`;
  const ws = () => {
    while (i < sel.length && /\s/.test(sel[i]!)) i++;
  };
  const ident = (): string | null => {
    const m = IDENT.exec(sel.slice(i));
    if (!m) return null;
    i += m[0].length;
    return m[0];
  };
  const str = (): boolean => {
    const q = sel[i];
    if (q !== '"' && q !== "'") return false;
    i++;
    while (i < sel.length && sel[i] !== q) {
      if (sel[i] === '\n') return false;
      i += sel[i] === '\\' ? 2 : 1;
    }
    if (sel[i] !== q) return false;
    i++;
    return true;
  };

  // list := complex ( ',' complex )* ; depth limits nesting of :not()/:is()/:has()
  const list = (depth: number, relative: boolean): string | null => {
    for (;;) {
      ws();
      const e = complex(depth, relative);
      if (e) return e;
      ws();
      if (sel[i] !== ',') return null;
      i++;
    }
  };
  const complex = (depth: number, relative: boolean): string | null => {
    if (relative && /[>+~]/.test(sel[i] ?? '')) {
      i++;
      ws();
    }
    let e = compound(depth);
    if (e) return e;
    for (;;) {
      const start = i;
      ws();
      const c = sel[i];
      if (c === '>' || c === '+' || c === '~') {
        i++;
        ws();
      } else if (i === start || c === undefined || c === ',' || c === ')') {
        i = c === undefined || c === ',' || c === ')' ? i : start;
        return null;
      }
      e = compound(depth);
      if (e) return e;
    }
  };
  const compound = (depth: number): string | null => {
    let any = false;
    if (sel[i] === '*') {
      i++;
      any = true;
    } else if (ident()) any = true;
    for (;;) {
      const c = sel[i];
      if (c === '#' || c === '.') {
        i++;
        if (!ident()) return fail(`expected a name after "${c}"`);
      } else if (c === '[') {
        i++;
        ws();
        if (!ident()) return fail('expected an attribute name after "["');
        ws();
        if (sel[i] !== ']') {
          const op = /^[~|^$*]?=/.exec(sel.slice(i));
          if (!op) return fail('expected "]" or an operator (=, ~=, |=, ^=, $=, *=)');
          i += op[0].length;
          ws();
          if (!str() && !ident()) return fail('expected a quoted value');
          ws();
          if (/[is]/i.test(sel[i] ?? '') && /[\s\]]/.test(sel[i + 1] ?? '')) {
            i++;
            ws();
          }
          if (sel[i] !== ']') return fail('expected "]"');
        }
        i++;
      } else if (c === ':') {
        if (sel[i + 1] === ':') return fail('pseudo-elements (::) never receive clicks; remove it');
        i++;
        const at = i;
        const name = ident()?.toLowerCase();
        if (!name) return fail('expected a pseudo-class name after ":"');
        if (SIMPLE_PSEUDOS.has(name)) {
          if (sel[i] === '(') return fail(`:${name} takes no argument`);
        } else if (SELECTOR_PSEUDOS.has(name) || NTH_PSEUDOS.has(name)) {
          if (sel[i] !== '(') return fail(`:${name} needs an argument in parentheses`);
          i++;
          if (SELECTOR_PSEUDOS.has(name)) {
            if (depth >= 3) return fail('selectors nested more than 3 deep');
            const e = list(depth + 1, name === 'has');
            if (e) return e;
          } else {
            const close = sel.indexOf(')', i);
            const arg = close < 0 ? '' : sel.slice(i, close);
            const [nth, of] = arg.split(/\s+of\s+/i);
            if (!NTH_RE.test(nth ?? '') || of !== undefined) return fail(`:${name}() needs an argument like 2, odd or 2n+1`);
            i = close;
          }
          ws();
          if (sel[i] !== ')') return fail(`expected ")" to close :${name}(`);
          i++;
        } else {
          i = at - 1;
          return fail(`":${name}" is not a pseudo-class CPNI Guard accepts`);
        }
      } else break;
      any = true;
    }
    if (!any) return sel[i] === undefined ? fail('the selector ends too early') : fail(`unexpected "${sel[i]}"`);
    return null;
  };

  const e = list(0, false);
  if (e) return e;
  ws();
  if (i < sel.length) return fail(`unexpected "${sel[i]}"`);
  return null;
}

/** Why `sel` cannot be used, or null: the syntax check, then (in a browser) the real engine. */
export function checkSelector(sel: string): string | null {
  const problem = selectorSyntaxProblem(sel);
  if (problem) return problem;
  const doc = (globalThis as { document?: { createDocumentFragment(): DocumentFragment } }).document;
  if (doc && typeof doc.createDocumentFragment === 'function') {
    try {
      doc.createDocumentFragment().querySelector(sel);
    } catch (err) {
      return `the browser refuses it (${errorMessage(err)})`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Regular expressions: must compile, and must not look catastrophic
// ---------------------------------------------------------------------------------------

const MAX_REGEX = 300;

/**
 * Why `source` is not a regex this product runs, or null. Refuses what does not compile,
 * back-references, and the shapes that backtrack exponentially: a repeated group that itself
 * contains a repetition (`(a+)+`, `(\w*)*`) or alternatives (`(a|ab)*`).
 */
export function regexProblem(source: string, flags = ''): string | null {
  if (!source) return 'the pattern is empty';
  if (source.length > MAX_REGEX) return `the pattern is longer than ${MAX_REGEX} characters`;
  try {
    new RegExp(source, flags);
  } catch (err) {
    return `it does not compile (${errorMessage(err)})`;
  }
  if (/\\[1-9]|\\k</.test(source)) return 'back-references (\\1, \\k<name>) can make matching take forever; remove them';
  // Scan: for each open group, did it contain a repetition or an alternation?
  type Group = { repeated: boolean; alternation: boolean };
  const stack: Group[] = [];
  let last: Group | null = null; // the group that just closed (a quantifier may follow)
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      i++;
      last = null;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      last = null;
    } else if (c === '(') {
      stack.push({ repeated: false, alternation: false });
      last = null;
      if (source[i + 1] === '?') {
        // (?: (?= (?! (?<= (?<! (?<name>
        const m = /^\?(?::|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>)/.exec(source.slice(i + 1));
        if (m) i += m[0].length;
      }
    } else if (c === ')') {
      last = stack.pop() ?? null;
      if (last && stack.length) {
        const parent = stack[stack.length - 1]!;
        parent.repeated ||= last.repeated;
      }
    } else if (c === '|') {
      if (stack.length) stack[stack.length - 1]!.alternation = true;
      last = null;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      let repeats = c !== '?';
      if (c === '{') {
        const q = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
        if (!q) {
          last = null;
          continue; // a literal "{"
        }
        repeats = q[2] !== undefined && (q[3] === '' || Number(q[3]) > 1) ? true : Number(q[1]) > 1;
        i += q[0].length - 1;
      }
      if (source[i + 1] === '?') i++; // lazy
      if (repeats && last) {
        if (last.repeated) return 'a repeated group contains another repetition (like "(a+)+"), which can take forever on some input; flatten it';
        if (last.alternation) return 'a repeated group has alternatives (like "(a|b)*"); use a character class such as "[ab]*" instead';
      }
      if (repeats && stack.length) stack[stack.length - 1]!.repeated = true;
      last = null;
    } else {
      last = null;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------

const str = (max: number) => z.string().trim().min(1).max(max);

const Selector = z.string().superRefine((s, ctx) => {
  const p = checkSelector(s);
  if (p) ctx.addIssue({ code: 'custom', message: `"${s.slice(0, 80)}" is not a usable CSS selector: ${p}` });
});

const Regex = z.string().superRefine((s, ctx) => {
  const p = regexProblem(s);
  if (p) ctx.addIssue({ code: 'custom', message: `"${s.slice(0, 80)}" is not a usable regular expression: ${p}` });
});

const Pattern = z.string().superRefine((s, ctx) => {
  const r = parseMatchPattern(s);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
});

export const IdentifierKind = z.enum(['crmId', 'phone', 'email', 'accountNumber']);
export type IdentifierKind = z.infer<typeof IdentifierKind>;

/** A regex group: its number (1 = first) or its name (`(?<id>...)`). */
const Group = z.union([z.number().int().min(0).max(20), z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,31}$/)]);

export const IdentifierSource = z
  .object({
    kind: IdentifierKind,
    /** "url": a regex on the URL's path + query + hash; "element": every element `selector` finds. */
    from: z.enum(['url', 'element']),
    selector: Selector.optional(),
    /** Read this attribute instead of the element's value (input value, tel:/mailto: target or text). */
    attribute: z.string().regex(/^[A-Za-z_:][-A-Za-z0-9_:.]{0,63}$/, 'an attribute name like "data-account"').optional(),
    /** For "url" (required) and optionally for "element": a regex; the identifier is its `group`. */
    pattern: Regex.optional(),
    group: Group.default(1),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.from === 'url' && !s.pattern) ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'an identifier read from the URL needs a "pattern" (a regex with a group)' });
    if (s.from === 'url' && (s.selector || s.attribute)) ctx.addIssue({ code: 'custom', path: [s.selector ? 'selector' : 'attribute'], message: 'an identifier read from the URL takes no selector or attribute' });
    if (s.from === 'element' && !s.selector) ctx.addIssue({ code: 'custom', path: ['selector'], message: 'an identifier read from an element needs a "selector"' });
    if (s.pattern && typeof s.group === 'string' && !s.pattern.includes(`(?<${s.group}>`)) {
      ctx.addIssue({ code: 'custom', path: ['group'], message: `the pattern has no group named "${s.group}"` });
    }
  });
export type IdentifierSource = z.infer<typeof IdentifierSource>;

export const PurposeChoiceConfig = z
  .object({ purpose: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a short id like "service"'), label: str(60), action: ActionKind })
  .strict();

export const ActionRule = z
  .object({
    /** How the control is found: exactly one of selector, role (+ name), text. */
    selector: Selector.optional(),
    /** An ARIA role, explicit or implicit (button, link, menuitem, tab, checkbox, option…). */
    role: z.string().regex(/^[a-z]{2,20}$/, 'an ARIA role like "button" or "link"').optional(),
    /** The accessible name (aria-label, labelled-by text, title or text), whitespace and case ignored. */
    name: str(200).optional(),
    /** The visible text of a button, link or other clickable control, whitespace and case ignored. */
    text: str(200).optional(),
    action: z.union([ActionKind, z.literal('ambiguous')], { error: `"action" must be one of ${[...ActionKind.options, 'ambiguous'].join(', ')}` }),
    /** What the control is called in the audit trail; default: its own label. */
    label: str(200).optional(),
    /** For marketing: the service category the control offers, when it always offers one. */
    offeredCategory: ServiceCategory.optional(),
    /** For marketing.launch_campaign: the attribute holding the CPNI Guard campaign id. */
    campaignIdAttribute: z.string().regex(/^[A-Za-z_:][-A-Za-z0-9_:.]{0,63}$/).optional(),
    /** For account.change: which account field the control changes. */
    accountField: AccountField.optional(),
    /** For ambiguous: the question and the answers (default: "What is this for?" service / marketing). */
    question: str(200).optional(),
    choices: z.array(PurposeChoiceConfig).min(2).max(6).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const ways = [r.selector !== undefined, r.role !== undefined, r.text !== undefined].filter(Boolean).length;
    if (ways !== 1) ctx.addIssue({ code: 'custom', message: 'an action says how to find its control with exactly one of "selector", "role" (with "name") or "text"' });
    if (r.role !== undefined && r.name === undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'a "role" needs the control\'s accessible "name"' });
    if (r.name !== undefined && r.role === undefined) ctx.addIssue({ code: 'custom', path: ['role'], message: '"name" goes with a "role"' });
    if (r.action !== 'ambiguous' && (r.question || r.choices)) ctx.addIssue({ code: 'custom', path: [r.question ? 'question' : 'choices'], message: 'only an "ambiguous" action asks a question' });
    if (r.campaignIdAttribute && r.action !== 'marketing.launch_campaign') ctx.addIssue({ code: 'custom', path: ['campaignIdAttribute'], message: 'only "marketing.launch_campaign" names a campaign' });
    if (r.accountField && r.action !== 'account.change') ctx.addIssue({ code: 'custom', path: ['accountField'], message: 'only "account.change" names an account field' });
  });
export type ActionRule = z.infer<typeof ActionRule>;

export const PanelPlacement = z.union([
  z.object({ selector: Selector, position: z.enum(['before', 'after', 'prepend', 'append']).default('prepend') }).strict(),
  z.object({ floating: z.literal(true) }).strict(),
]);

export const AdapterConfig = z
  .object({
    schemaVersion: z.literal(ADAPTER_SCHEMA_VERSION),
    /** Also the `crm` of the record's identifiers and of the audit events. */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'an id of 2-63 lower-case letters, digits and dashes, like "acme-inhouse"')
      .refine((id) => !(BUILT_IN_ADAPTER_IDS as readonly string[]).includes(id), 'this id belongs to a built-in adapter; choose another'),
    name: str(100),
    /** Which pages: match patterns ("https://crm.example.com/*"); never every site. */
    matches: z.array(Pattern).min(1).max(20),
    /** Pages under `matches` that are not the CRM (login, static assets). */
    excludeMatches: z.array(Pattern).max(20).default([]),
    /**
     * The element that shows the record. With `idAttribute`, identifiers are read from the
     * page only once that attribute equals the identifier of kind `idKind` read from the URL
     * (right after an in-app navigation the page may still show the previous record).
     */
    record: z
      .object({ selector: Selector, idAttribute: z.string().regex(/^[A-Za-z_:][-A-Za-z0-9_:.]{0,63}$/).optional(), idKind: IdentifierKind.default('crmId') })
      .strict()
      .optional(),
    identifiers: z.array(IdentifierSource).min(1).max(20),
    actions: z.array(ActionRule).max(100).default([]),
    panel: PanelPlacement.default({ floating: true }),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.record?.idAttribute && !d.identifiers.some((s) => s.from === 'url' && s.kind === d.record!.idKind)) {
      ctx.addIssue({ code: 'custom', path: ['record', 'idKind'], message: `record.idAttribute is compared with the "${d.record.idKind}" read from the URL, but no identifier of that kind comes from the URL` });
    }
  });
export type AdapterConfig = z.infer<typeof AdapterConfig>;
export type AdapterConfigInput = z.input<typeof AdapterConfig>;

// ---------------------------------------------------------------------------------------
// Validation with line numbers
// ---------------------------------------------------------------------------------------

export interface AdapterIssue {
  /** "actions[2].selector"; "" for the whole document. */
  path: string;
  /** 1-based line and column in the pasted text, when validated from text. */
  line?: number;
  column?: number;
  message: string;
}

export type AdapterValidation = { ok: true; config: AdapterConfig } | { ok: false; issues: AdapterIssue[] };

export const formatIssuePath = (path: readonly PropertyKey[]) =>
  path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');

/** "line 12, actions[2].selector: ..." */
export function formatAdapterIssue(i: AdapterIssue): string {
  const where = [i.line !== undefined ? `line ${i.line}` : null, i.path || null].filter(Boolean).join(', ');
  return where ? `${where}: ${i.message}` : i.message;
}

/** Validates a parsed document. */
export function validateAdapterConfig(raw: unknown): AdapterValidation {
  const r = AdapterConfig.safeParse(raw);
  if (r.success) return { ok: true, config: r.data };
  return {
    ok: false,
    issues: r.error.issues.slice(0, 50).map((i) => {
      // An unknown key (a typo, say): point at the key itself.
      const path = i.code === 'unrecognized_keys' && i.keys.length ? [...i.path, i.keys[0]!] : i.path;
      return { path: formatIssuePath(path), message: i.message };
    }),
  };
}

/** Validates pasted or uploaded JSON; every issue names its line (and column) in `text`. */
export function validateAdapterText(text: string): AdapterValidation {
  if (text.length > MAX_ADAPTER_DOCUMENT_CHARS) {
    return { ok: false, issues: [{ path: '', message: `the document is longer than ${MAX_ADAPTER_DOCUMENT_CHARS} characters` }] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const message = errorMessage(err);
    const at = jsonErrorOffset(message, text);
    const pos = at === null ? null : lineColumn(text, at);
    return { ok: false, issues: [{ path: '', ...(pos ?? {}), message: `not valid JSON: ${message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+.*$/, '')}` }] };
  }
  const r = validateAdapterConfig(raw);
  if (r.ok) return r;
  const positions = jsonPositions(text);
  return {
    ok: false,
    issues: r.issues.map((i) => {
      const pos = nearestPosition(positions, i.path);
      return pos !== null ? { ...i, ...lineColumn(text, pos) } : i;
    }),
  };
}

// ---- a tiny JSON position finder ----

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** The offset a JSON.parse error message names ("at position 12" or "line 3 column 5"). */
function jsonErrorOffset(message: string, text: string): number | null {
  const pos = /position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) {
    const lines = text.split('\n').slice(0, Number(lc[1]) - 1);
    return lines.reduce((n, l) => n + l.length + 1, 0) + Number(lc[2]) - 1;
  }
  if (/end of (JSON )?input/i.test(message)) return text.length;
  return null;
}

/**
 * The offset where each value of a (valid) JSON text starts, keyed by its path as
 * formatIssuePath writes it ("actions[2].selector"); a key's entry points at the key itself.
 */
export function jsonPositions(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: readonly PropertyKey[], keyAt: number | null) => {
    ws();
    out.set(formatIssuePath(path), keyAt ?? i);
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        const at = i;
        const key = string();
        ws();
        i++; // ':'
        value([...path, key], at);
        ws();
        if (text[i++] === '}') return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        value([...path, n], null);
        ws();
        if (text[i++] === ']') return;
      }
    } else if (c === '"') string();
    else while (i < text.length && /[^\s,\]}]/.test(text[i]!)) i++;
  };
  value([], null);
  return out;
}

/** The position of `path`, or of its nearest ancestor that is in the text (a missing key). */
function nearestPosition(positions: Map<string, number>, path: string): number | null {
  let p = path;
  for (;;) {
    const at = positions.get(p);
    if (at !== undefined) return at;
    if (!p) return null;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut < 0 ? '' : p.slice(0, cut);
  }
}

// ---------------------------------------------------------------------------------------
// What an adapter needs from the browser
// ---------------------------------------------------------------------------------------

/** The match patterns of a document, parsed (a validated document's always parse). */
export function patternsOf(config: Pick<AdapterConfig, 'matches'>): MatchPattern[] {
  return config.matches.flatMap((m) => {
    const r = parseMatchPattern(m);
    return r.ok ? [r.pattern] : [];
  });
}

/** The origins to ask host permission for: those of `config` that `granted` does not cover. */
export function originsNeeded(config: Pick<AdapterConfig, 'matches'>, granted: readonly string[]): string[] {
  return [...new Set(patternsOf(config).filter((p) => !patternCoveredBy(p, granted)).map(originOf))];
}

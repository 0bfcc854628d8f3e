// The adapter document schema and its safety checks (lib/adapter-config.ts), in Node: what the
// backend runs. The browser-side selector check is covered in test/content/configured-adapter.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatAdapterIssue,
  jsonPositions,
  lineColumn,
  matchesPattern,
  originsNeeded,
  parseMatchPattern,
  patternCoveredBy,
  regexProblem,
  selectorSyntaxProblem,
  validateAdapterConfig,
  validateAdapterText,
} from '@/lib/adapter-config';
import { CRM_MATCHES } from '@/lib/crm-matches';

const EXAMPLE_TEXT = readFileSync(join(__dirname, '..', 'fixtures', 'inhouse-crm', 'adapter.json'), 'utf8');
const example = () => JSON.parse(EXAMPLE_TEXT) as Record<string, any>;

/** The example document with one change, pretty-printed (so issues have lines to point at). */
function variant(change: (d: Record<string, any>) => void): string {
  const d = example();
  change(d);
  return JSON.stringify(d, null, 2);
}

function lineOf(text: string, needle: string): number {
  return text.slice(0, text.indexOf(needle)).split('\n').length;
}

describe('the example document (test/fixtures/inhouse-crm/adapter.json)', () => {
  it('is valid, with defaults filled in', () => {
    const r = validateAdapterText(EXAMPLE_TEXT);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.id).toBe('acme-desk');
    expect(r.config.excludeMatches).toEqual([]);
    expect(r.config.identifiers[0]!.group).toBe(1);
    expect(r.config.actions).toHaveLength(5);
  });

  it('its validated form validates again unchanged (the extension re-checks what sync delivers)', () => {
    const r = validateAdapterConfig(example());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const again = validateAdapterConfig(JSON.parse(JSON.stringify(r.config)));
    expect(again).toEqual(r);
  });
});

describe('match patterns', () => {
  it.each([
    ['<all_urls>', /every site/],
    ['*://*/*', /every site/],
    ['https://*/*', /every site/],
    ['http://*/*', /every site/],
    ['https://*.com/*', /every site under "\.com"/],
    ['https://crm.acme.example:8443/*', /leave the port out/],
    ['ftp://crm.acme.example/*', /not a match pattern/],
    ['https://crm.acme.example', /not a match pattern/],
    ['https://cr*m.acme.example/*', /only stand at the start/],
    ['https://user@crm.acme.example/*', /user info/],
  ])('refuses %s', (p, why) => {
    const r = parseMatchPattern(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });

  it.each(['https://crm.acme.example/*', 'https://*.acme.example/desk/*', '*://desk.acme.example/*', 'http://127.0.0.1/inhouse/*'])('accepts %s', (p) => {
    expect(parseMatchPattern(p).ok).toBe(true);
  });

  it('matches scheme, host (subdomains with *.) and path + query, on any port', () => {
    const p = (s: string) => (parseMatchPattern(s) as { ok: true; pattern: any }).pattern;
    expect(matchesPattern(p('http://127.0.0.1/inhouse/*'), new URL('http://127.0.0.1:41234/inhouse/customer/1'))).toBe(true);
    expect(matchesPattern(p('http://127.0.0.1/inhouse/*'), new URL('http://127.0.0.1/contacts/C-1'))).toBe(false);
    expect(matchesPattern(p('https://*.acme.example/*'), new URL('https://desk.acme.example/x'))).toBe(true);
    expect(matchesPattern(p('https://*.acme.example/*'), new URL('https://acme.example/'))).toBe(true);
    expect(matchesPattern(p('https://*.acme.example/*'), new URL('https://evilacme.example/'))).toBe(false);
    expect(matchesPattern(p('https://*.acme.example/*'), new URL('http://desk.acme.example/'))).toBe(false);
    expect(matchesPattern(p('*://desk.acme.example/c?id=*'), new URL('http://desk.acme.example/c?id=9'))).toBe(true);
  });

  it('knows which origins lie outside the manifest (those are asked for at run time)', () => {
    expect(originsNeeded({ matches: ['http://127.0.0.1/inhouse/*'] }, CRM_MATCHES)).toEqual([]);
    expect(originsNeeded({ matches: ['https://desk.acme.example/app/*', 'https://desk.acme.example/v2/*'] }, CRM_MATCHES)).toEqual([
      'https://desk.acme.example/*',
    ]);
    const p = (parseMatchPattern('https://eu1.org.crm4.dynamics.com/*') as { ok: true; pattern: any }).pattern;
    expect(patternCoveredBy(p, CRM_MATCHES)).toBe(true);
  });
});

describe('CSS selectors (the Node-side syntax check)', () => {
  it.each([
    'button',
    'button.js-offer',
    "a[href^='tel:' i]",
    '#main > article.customer-card [data-email]',
    'li + li ~ li',
    'button:not(.a, [disabled])',
    'div:has(> img)',
    'tr:nth-child(2n+1) td:first-child',
    'input[type=submit], button[type="submit"]',
    '.a\\:b',
  ])('accepts %s', (s) => expect(selectorSyntaxProblem(s)).toBeNull());

  it.each([
    ['button[', /attribute name/],
    ['div::before', /pseudo-elements/],
    ['button:contains("Send")', /not a pseudo-class/],
    ['a,', /ends too early/],
    ['', /empty/],
    ['a >', /ends too early/],
    [')', /unexpected/],
    ['li:nth-child(x)', /argument like/],
    ['[data-x="unterminated]', /quoted value/],
  ])('refuses %s', (s, why) => expect(selectorSyntaxProblem(s)).toMatch(why));
});

describe('regular expressions', () => {
  it.each(['^/inhouse/customer/(\\d+)', '(?<id>[A-Z]{2}-\\d{4,8})', '(?:ab)+c', 'a{2,}', '(ACCT-\\d+)?x'])('accepts %s', (r) =>
    expect(regexProblem(r)).toBeNull(),
  );

  it.each([
    ['(a+)+', /another repetition/],
    ['(\\w*)*$', /another repetition/],
    ['((ab)*c)+', /another repetition/],
    ['(a{1,3}){2,}', /another repetition/],
    ['(a|ab)*', /alternatives/],
    ['(\\d+)-\\1', /back-references/],
    ['(unclosed', /does not compile/],
  ])('refuses %s', (r, why) => expect(regexProblem(r)).toMatch(why));
});

describe('refused documents name the line and the field', () => {
  it('a selector that throws', () => {
    const text = variant((d) => (d.actions[1] = { selector: 'button[', action: 'export.list' }));
    const r = validateAdapterText(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const [issue] = r.issues;
    expect(issue).toMatchObject({ path: 'actions[1].selector', line: lineOf(text, '"button["') });
    expect(formatAdapterIssue(issue!)).toMatch(/^line \d+, actions\[1\]\.selector: "button\[" is not a usable CSS selector/);
  });

  it('a pattern for every site', () => {
    const text = variant((d) => d.matches.push('*://*/*'));
    const r = validateAdapterText(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]).toMatchObject({ path: 'matches[1]', line: lineOf(text, '"*://*/*"'), message: expect.stringMatching(/every site/) });
  });

  it('a catastrophic regex', () => {
    const text = variant((d) => (d.identifiers[0].pattern = '^/inhouse/customer/((\\d+)*)$'));
    const r = validateAdapterText(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]).toMatchObject({ path: 'identifiers[0].pattern', message: expect.stringMatching(/forever/) });
  });

  it('an unknown key (a typo) points at the key', () => {
    const text = variant((d) => (d.actions[0] = { selecter: 'button', action: 'export.list' }));
    const r = validateAdapterText(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const typo = r.issues.find((i) => i.path === 'actions[0].selecter');
    expect(typo).toMatchObject({ line: lineOf(text, '"selecter"') });
    expect(r.issues.some((i) => /exactly one of "selector", "role"/.test(i.message))).toBe(true);
  });

  it('an unknown action, a missing field, a built-in id', () => {
    const text = variant((d) => {
      d.id = 'salesforce';
      delete d.name;
      d.actions[2].action = 'marketing.spam';
    });
    const r = validateAdapterText(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.issues.map((i) => [i.path, i]));
    expect(byPath['id']!.message).toMatch(/built-in/);
    expect(byPath['name']!.line).toBe(1); // missing: the document's opening brace
    expect(byPath['actions[2].action']!.message).toMatch(/must be one of .*ambiguous/);
    expect(byPath['actions[2].action']!.line).toBe(lineOf(text, '"marketing.spam"'));
  });

  it('a URL identifier without a pattern, a role without a name, a question on a plain action', () => {
    const r = validateAdapterConfig({
      ...example(),
      identifiers: [{ kind: 'crmId', from: 'url' }],
      actions: [{ role: 'button', action: 'export.list' }, { selector: 'a', action: 'export.list', question: 'Why?' }],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['identifiers[0].pattern', 'actions[0].name', 'actions[1].question']));
  });

  it('record.idAttribute with no URL identifier of its kind', () => {
    const r = validateAdapterConfig({ ...example(), record: { selector: 'article', idAttribute: 'data-x', idKind: 'accountNumber' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]!.path).toBe('record.idKind');
  });

  it('text that is not JSON', () => {
    const r = validateAdapterText('{\n  "schemaVersion": 1,\n  "id": "x",\n}\n');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]).toMatchObject({ path: '', line: 4, message: expect.stringMatching(/^not valid JSON/) });
  });
});

describe('the JSON position finder', () => {
  it('finds every value and key, nested, with escapes', () => {
    const text = '{\n  "a": [1, {"b\\"c": "x"}],\n  "d": {"e": null}\n}';
    const at = jsonPositions(text);
    expect(lineColumn(text, at.get('a')!)).toEqual({ line: 2, column: 3 });
    expect(text.slice(at.get('a[1].b"c')!)).toMatch(/^"b\\"c"/);
    expect(lineColumn(text, at.get('d.e')!)).toEqual({ line: 3, column: 9 });
    expect(at.get('')).toBe(0);
  });
});

// Admin-defined adapters on the backend: admin-only writes, reads for every role, the same
// validation as the extension (Node-side selector check), and every write in the change feed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setup } from './helpers';

const DOC = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'inhouse-crm', 'adapter.json'), 'utf8'));
const PATH = '/api/adapters/acme-desk';

describe('admin-defined adapters', () => {
  it('an admin puts a document; every role reads it; sync carries it to every extension', async () => {
    const t = await setup();
    const { cursor } = await t.pullAll();
    const r = await t.call('admin', 'PUT', PATH, DOC);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: 'acme-desk', version: 1, document: { id: 'acme-desk', excludeMatches: [] } });

    for (const role of ['rep', 'marketing', 'manager', 'counsel', 'admin'] as const) {
      const list = await t.call(role, 'GET', '/api/adapters');
      expect(list.status).toBe(200);
      expect(list.json.adapters.map((a: { id: string }) => a.id)).toEqual(['acme-desk']);
    }

    const delta = await t.pullAll(cursor);
    expect(delta.changes).toEqual([
      { op: 'upsert', entity: 'adapter', id: 'acme-desk', version: 1, data: { id: 'acme-desk', document: r.json.document } },
    ]);

    const again = await t.call('admin', 'PUT', PATH, { ...DOC, name: 'Acme Desk v2' });
    expect(again.json.version).toBe(2);
    const delta2 = await t.pullAll(delta.cursor);
    expect(delta2.changes.map((c) => [c.op, c.version])).toEqual([['upsert', 2]]);
  });

  it('only an admin may write', async () => {
    const t = await setup();
    for (const role of ['rep', 'marketing', 'manager', 'counsel'] as const) {
      expect((await t.call(role, 'PUT', PATH, DOC)).status).toBe(403);
      expect((await t.call(role, 'DELETE', PATH)).status).toBe(403);
    }
    expect((await t.call(null, 'PUT', PATH, DOC)).status).toBe(401);
    expect((await t.call(null, 'GET', '/api/adapters')).status).toBe(401);
  });

  it.each([
    ['a pattern for every site', { matches: ['<all_urls>'] }, 'matches[0]', /every site/],
    ['*://*/*', { matches: ['http://127.0.0.1/inhouse/*', '*://*/*'] }, 'matches[1]', /every site/],
    ['a selector that does not parse', { panel: { selector: 'aside[', position: 'prepend' } }, 'panel.selector', /not a usable CSS selector/],
    ['a catastrophic regex', { identifiers: [{ kind: 'crmId', from: 'url', pattern: '^/c/(\\w+)+$' }] }, 'identifiers[0].pattern', /forever/],
    ['a built-in id', { id: 'salesforce' }, 'id', /built-in/],
    ['an unknown field', { colour: 'red' }, 'colour', /Unrecognized key/],
  ])('refuses %s with the field named, and what is in force stays', async (_what, change, path, why) => {
    const t = await setup();
    expect((await t.call('admin', 'PUT', PATH, DOC)).status).toBe(200);
    const { cursor } = await t.pullAll();
    const id = (change as { id?: string }).id ?? 'acme-desk';
    const r = await t.call('admin', 'PUT', `/api/adapters/${id}`, { ...DOC, ...change });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_adapter');
    expect(r.json.message).toMatch(/nothing changed/);
    expect(r.json.issues).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(why) }]));
    // Nothing changed: the stored document and the feed are as they were.
    const list = await t.call('rep', 'GET', '/api/adapters');
    expect(list.json.adapters).toHaveLength(1);
    expect(list.json.adapters[0]).toMatchObject({ id: 'acme-desk', version: 1, document: { name: DOC.name } });
    expect((await t.pullAll(cursor)).changes).toEqual([]);
  });

  it('refuses a body that is not a document at all, and an id that differs from the path', async () => {
    const t = await setup();
    expect((await t.call('admin', 'PUT', PATH, '{"schemaVersion": 1, ')).status).toBe(400);
    expect((await t.call('admin', 'PUT', PATH, [1, 2])).status).toBe(400);
    const r = await t.call('admin', 'PUT', '/api/adapters/other-desk', DOC);
    expect(r.status).toBe(400);
    expect(r.json.issues).toEqual([{ path: 'id', message: 'must be "other-desk"' }]);
  });

  it('a delete is a tombstone in the feed; deleting again is 404', async () => {
    const t = await setup();
    await t.call('admin', 'PUT', PATH, DOC);
    const { cursor } = await t.pullAll();
    const d = await t.call('admin', 'DELETE', PATH);
    expect(d.status).toBe(200);
    expect(d.json).toEqual({ deleted: true, version: 2 });
    expect((await t.pullAll(cursor)).changes).toEqual([{ op: 'tombstone', entity: 'adapter', id: 'acme-desk', version: 2 }]);
    expect((await t.call('rep', 'GET', '/api/adapters')).json.adapters).toEqual([]);
    expect((await t.call('admin', 'DELETE', PATH)).status).toBe(404);
    // It can come back.
    expect((await t.call('admin', 'PUT', PATH, DOC)).status).toBe(200);
  });
});

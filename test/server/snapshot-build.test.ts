// Prebuilt first-sync snapshots (server/snapshot-build.ts): built once at one feed position,
// served from disk through GET /api/sync/snapshot with the same content as live pages at that
// state, and live pages whenever a build cannot answer. Builds use small pages (maxRows 200 /
// 1000) so a few thousand customers give several pages and the file stays quick.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFLATED_JSON, PullResponse, SnapshotCustomersPage, SnapshotIdentifiersPage, type Change, type ImportRow } from '../../lib/api';
import { createApp } from '../../server/app';
import { hashPassword } from '../../server/crypto';
import { decodeCursor, openSqliteStore, type SqliteStore } from '../../server/db';
import { DEMO_USER_PASSWORD, bulkRows, seedBulk, seedDemo } from '../../server/seed';
import { SnapshotBuilds, buildSnapshot, completeBuilds, removeOldBuilds, type SnapshotBuildsOptions } from '../../server/snapshot-build';
import type { NumberedImportRow } from '../../server/store';
import { T0 } from './helpers';

const ROWS = { customers: 200, identifiers: 1000 };
const HOUR = 3600_000;

let repHash: Promise<string> | null = null;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A file database (a build reads it on its own connection) with `customers` bulk customers and a rep. */
async function world({ customers = 1200, demo = false } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'cpni-snapshot-build-'));
  const dbPath = join(root, 'cpni.db');
  const dir = join(root, 'snapshots');
  const store: SqliteStore = openSqliteStore(dbPath, T0);
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  if (demo) await seedDemo(store, T0);
  else await store.createUser({ email: 'rep@demo.test', name: 'Riley Rep', role: 'rep', passwordHash: await (repHash ??= hashPassword(DEMO_USER_PASSWORD)) });
  await seedBulk(store, customers, T0);
  const clock = { ms: Date.now() };
  const liveApp = createApp({ db: store });
  const signIn = await liveApp.request('/api/auth/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'rep@demo.test', password: DEMO_USER_PASSWORD }),
  });
  const token = ((await signIn.json()) as { token: string }).token;

  /** An app serving builds from `dir` (the store and sessions are shared with the live one). */
  function serving(opts: Partial<SnapshotBuildsOptions> = {}) {
    const builds = new SnapshotBuilds({ dir, dbPath, feedHead: () => store.feedHead(), maxRows: ROWS, now: () => clock.ms, ...opts });
    cleanups.push(() => builds.stop());
    return { builds, app: createApp({ db: store, snapshots: builds }) };
  }
  const { builds, app } = serving();

  async function get(path: string, via: { request: typeof app.request } = app) {
    const res = await via.request(path, { headers: { authorization: `Bearer ${token}` } });
    const type = res.headers.get('content-type');
    // A deflated page is read as the extension reads it: inflated to the JSON text.
    const text = type === DEFLATED_JSON ? inflateRawSync(await res.arrayBuffer()).toString('utf8') : await res.text();
    return { status: res.status, text, json: JSON.parse(text) as any, type };
  }
  type Encoding = 'json' | 'deflate' | undefined;
  /** One snapshot page; `via` defaults to the app that serves builds. */
  async function page(
    q: { phase: 'customers' | 'identifiers'; from?: number; bits?: number; maxRows?: number; build?: string; encoding?: Encoding },
    via?: { request: typeof app.request },
  ) {
    const p = new URLSearchParams({ phase: q.phase, from: String(q.from ?? 0), maxRows: String(q.maxRows ?? ROWS[q.phase]) });
    if (q.bits !== undefined) p.set('bits', String(q.bits));
    if (q.build !== undefined) p.set('build', q.build);
    if (q.encoding !== undefined) p.set('encoding', q.encoding);
    const r = await get(`/api/sync/snapshot?${p}`, via);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.type).toBe(q.encoding === 'deflate' ? DEFLATED_JSON : 'application/json');
    return r;
  }
  /** A whole snapshot as the extension reads it: customers from 0 without bits, then on by `to`, then identifiers. */
  async function snapshot(opts: { build?: string; via?: { request: typeof app.request }; encoding?: Encoding } = {}) {
    const pages: { text: string; page: SnapshotCustomersPage | SnapshotIdentifiersPage }[] = [];
    let bits: number | undefined;
    let build = opts.build;
    for (const phase of ['customers', 'identifiers'] as const) {
      for (let from = 0; ; ) {
        const r = await page({ phase, from, bits, build, encoding: opts.encoding }, opts.via);
        const parsed = phase === 'customers' ? SnapshotCustomersPage.parse(r.json) : SnapshotIdentifiersPage.parse(r.json);
        expect(parsed.from).toBe(from);
        bits = parsed.bits;
        build ??= parsed.build; // later pages ask for the first page's build, as the extension does
        pages.push({ text: r.text, page: parsed });
        if (parsed.done) break;
        from = parsed.to;
      }
    }
    return pages;
  }
  async function pullAfter(cursor: string) {
    const changes: Change[] = [];
    for (;;) {
      const r = PullResponse.parse((await get(`/api/sync/pull?cursor=${cursor}&limit=5000`)).json);
      changes.push(...r.changes);
      cursor = r.cursor;
      if (!r.hasMore) return changes;
    }
  }
  const build = () => buildSnapshot(dbPath, dir, { maxRows: ROWS });
  return { root, dbPath, dir, store, clock, builds, app, liveApp, serving, get, page, snapshot, pullAfter, build };
}

const customerIds = (pages: { page: SnapshotCustomersPage | SnapshotIdentifiersPage }[]) =>
  pages.flatMap(({ page }) => (page.phase === 'customers' ? page.buckets.flatMap((b) => b.customers.map((e) => e.customer.id)) : []));

async function importNow(store: SqliteStore, values: unknown[]) {
  const r = await store.importRows(values.map((value, i) => ({ row: i + 1, value }) as NumberedImportRow), T0);
  expect(r.ok).toBe(true);
}
type CustomerInput = Extract<ImportRow, { type: 'customer' }>['customer'];
/** Bulk customer B-<k> (server/seed.ts bulkRows) with some fields changed. */
const bulkCustomer = (k: number, over: Partial<CustomerInput>) => {
  const row = bulkRows(1, T0, k).next().value as Extract<ImportRow, { type: 'customer' }>;
  return { type: 'customer', customer: { ...row.customer, ...over } };
};
const renamed = (k: number, name: string) => bulkCustomer(k, { name });

describe('prebuilt first-sync snapshot', () => {
  it('its pages, read through the route with the build id, are the live pages of the same state with one cursor and the build id', async () => {
    const w = await world({ demo: true });
    const m = w.build();
    expect(m.id).toMatch(/^s\d+-\d+$/);
    expect(m.seq).toBe(w.store.feedHead());
    expect(m.maxRows).toEqual(ROWS);

    // Stored deflated, and sent so to the extension (encoding=deflate) or inflated to plain JSON.
    const built = await w.snapshot({ encoding: 'deflate' });
    expect((await w.snapshot()).map((p) => p.text)).toEqual(built.map((p) => p.text));
    expect(m.bytes).toBeLessThan(m.jsonBytes / 4);
    const live = await w.snapshot({ via: w.liveApp });
    expect((await w.snapshot({ via: w.liveApp, encoding: 'deflate' })).map((p) => p.text)).toEqual(live.map((p) => p.text));
    expect(built.length).toBe(m.pages.length);
    expect(built.filter((p) => p.page.phase === 'customers').length).toBeGreaterThan(3);
    expect(built.filter((p) => p.page.phase === 'identifiers').length).toBeGreaterThan(3);
    expect(built.map((p) => [p.page.phase, p.page.from, p.page.to])).toEqual(m.pages.map((p) => [p.phase, p.from, p.to]));
    for (const { page } of built) {
      expect(page.build).toBe(m.id);
      expect(page.cursor).toBe(m.cursor);
      expect(page.bits).toBe(m.bits);
    }
    expect(live.length).toBe(built.length);
    built.forEach(({ page, text }, i) => {
      const { build: _b, ...rest } = page;
      expect(live[i]!.page).toEqual(rest);
      expect('build' in live[i]!.page).toBe(false);
      // Byte for byte: a build's page is the live page with the build id added.
      expect(text.replace(`,"build":"${m.id}"`, '')).toBe(live[i]!.text);
    });
    expect(customerIds(built)).toHaveLength(36 + 1200);
  });

  it('a write made during the build is not in its pages but is in live pages, and a pull after its cursor brings it', async () => {
    const w = await world();
    let wrote = false;
    const m = buildSnapshot(w.dbPath, w.dir, {
      maxRows: ROWS,
      // While the build's read is open, another connection commits (WAL): the build must not see it.
      onPage: () => {
        if (wrote) return;
        wrote = true;
        void importNow(w.store, [
          renamed(5, 'Renamed During Build'),
          bulkCustomer(0, { id: 'LATE-1', accountNumber: 'LATE-ACCT-1', crmRefs: [{ crm: 'demo-crm', id: 'LATE-1' }], name: 'Late Customer' }),
        ]);
      },
    });
    expect(wrote).toBe(true);
    expect(w.store.feedHead()).toBeGreaterThan(m.seq);
    expect(decodeCursor(m.cursor)).toBe(m.seq);

    const built = await w.snapshot({ build: m.id });
    expect(built.every(({ page }) => page.build === m.id && page.cursor === m.cursor)).toBe(true);
    const builtEntries = built.flatMap(({ page }) => (page.phase === 'customers' ? page.buckets.flatMap((b) => b.customers) : []));
    expect(builtEntries.map((e) => e.customer.id)).not.toContain('LATE-1');
    expect(builtEntries.find((e) => e.customer.id === 'B-0000005')!.customer.name).not.toBe('Renamed During Build');
    const builtKeys = built.flatMap(({ page }) => (page.phase === 'identifiers' ? page.buckets.flatMap((b) => b.keys) : []));
    expect(builtKeys.filter(([, id]) => id === 'LATE-1')).toEqual([]);

    const live = await w.snapshot({ via: w.liveApp });
    const liveEntries = live.flatMap(({ page }) => (page.phase === 'customers' ? page.buckets.flatMap((b) => b.customers) : []));
    expect(liveEntries.map((e) => e.customer.id)).toContain('LATE-1');
    expect(liveEntries.find((e) => e.customer.id === 'B-0000005')!.customer.name).toBe('Renamed During Build');
    expect(decodeCursor(live[0]!.page.cursor)).toBeGreaterThan(m.seq);

    const delta = await w.pullAfter(m.cursor);
    expect(delta.map((c) => `${c.op} ${c.entity} ${c.id}`).sort()).toEqual(['upsert customer B-0000005', 'upsert customer LATE-1']);
    expect(delta.find((c) => c.id === 'B-0000005')).toMatchObject({ data: { name: 'Renamed During Build' } });
  });

  it('answers live when the build cannot: unknown build, other maxRows, other bits, a page it does not have', async () => {
    const w = await world();
    const m = w.build();
    const isLive = (r: { json: any }) => expect('build' in r.json).toBe(false);
    isLive(await w.page({ phase: 'customers', build: 's1-1' }));
    isLive(await w.page({ phase: 'identifiers', build: 'not-a-build_id' }));
    isLive(await w.page({ phase: 'customers', build: m.id, maxRows: ROWS.customers + 1 }));
    isLive(await w.page({ phase: 'identifiers', build: m.id, maxRows: 20_000 }));
    isLive(await w.page({ phase: 'customers', build: m.id, bits: m.bits + 1 }));
    const notAPageStart = m.pages[1]!.from - 1;
    expect(m.pages.some((p) => p.from === notAPageStart)).toBe(false);
    isLive(await w.page({ phase: 'customers', build: m.id, bits: m.bits, from: notAPageStart }));
    // A first page at another size (the extension's 4000) is live; at the build's size it is the build's.
    isLive(await w.page({ phase: 'customers', maxRows: 4000 }));
    expect((await w.page({ phase: 'customers' })).json.build).toBe(m.id);
    expect((await w.page({ phase: 'customers', bits: m.bits })).json.build).toBe(m.id);
    isLive(await w.page({ phase: 'customers', bits: m.bits + 1 }));
    // Without a build id only the first page may come from a build.
    isLive(await w.page({ phase: 'customers', from: m.pages[1]!.from, bits: m.bits }));
    isLive(await w.page({ phase: 'identifiers', bits: m.bits }));
  });

  it('a first page comes from the newest build only while it is recent and close to the feed', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    const young = w.serving({ maxAgeMs: HOUR, maxLag: 3 });
    const first = async (app = young.app) => (await w.page({ phase: 'customers' }, app)).json.build as string | undefined;
    w.clock.ms = Date.parse(m.createdAt);
    expect(await first()).toBe(m.id);

    w.clock.ms += HOUR + 1;
    expect(await first()).toBeUndefined();
    w.clock.ms -= 2;
    expect(await first()).toBe(m.id);

    await importNow(w.store, [renamed(1, 'One'), renamed(2, 'Two'), renamed(3, 'Three')]);
    expect(await first()).toBe(m.id); // 3 changes behind: still within the lag
    await importNow(w.store, [renamed(4, 'Four')]);
    expect(await first()).toBeUndefined();
    // A rep already on the build keeps getting its pages: they are as safe as they were.
    expect((await w.page({ phase: 'customers', from: m.pages[1]!.from, bits: m.bits, build: m.id }, young.app)).json.build).toBe(m.id);
  });

  it('ignores an incomplete build (no manifest)', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    // A newer build still being written: its pages exist, its manifest does not yet.
    const newer = `s${m.seq + 1}-${Date.parse(m.createdAt) + 1}`;
    cpSync(join(w.dir, m.id), join(w.dir, newer), { recursive: true });
    rmSync(join(w.dir, newer, 'manifest.json'));
    expect(completeBuilds(w.dir).map((b) => b.id)).toEqual([m.id]);
    expect((await w.page({ phase: 'customers' })).json.build).toBe(m.id);
    expect('build' in (await w.page({ phase: 'customers', build: newer })).json).toBe(false);

    rmSync(join(w.dir, m.id, 'manifest.json'));
    const fresh = w.serving(); // a server that has not seen the build complete
    expect('build' in (await w.page({ phase: 'customers' }, fresh.app)).json).toBe(false);
    expect('build' in (await w.page({ phase: 'customers', build: m.id }, fresh.app)).json).toBe(false);
  });

  it('never serves a page file cut short (a crash before the disk had it all): the rep gets a live page', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    const second = m.pages[1]!;
    const file = join(w.dir, m.id, `${second.phase}-${second.from}.json.deflate`);
    truncateSync(file, second.bytes - 10);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const r = await w.page({ phase: second.phase, from: second.from, bits: m.bits, build: m.id });
      expect('build' in r.json).toBe(false);
      expect(errors.mock.calls.join('\n')).toMatch(/has \d+ bytes, the manifest says/);
    } finally {
      errors.mockRestore();
    }
  });

  it('never serves a page file damaged in place (same size, other bytes): the rep gets a live page', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    const second = m.pages[1]!;
    const file = join(w.dir, m.id, `${second.phase}-${second.from}.json.deflate`);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0x10;
    writeFileSync(file, bytes);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      for (const encoding of ['deflate', 'json'] as const) {
        const r = await w.page({ phase: second.phase, from: second.from, bits: m.bits, build: m.id, encoding });
        expect('build' in r.json).toBe(false);
      }
      expect(errors.mock.calls.join('\n')).toMatch(/does not match its SHA-256/);
    } finally {
      errors.mockRestore();
    }
  });

  it('never serves a build from before pages were stored deflated (plain JSON files): the rep gets a live page', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    const file = join(w.dir, m.id, 'manifest.json');
    const { encoding: _e, jsonBytes: _j, ...old } = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...old, pages: old.pages.map(({ jsonBytes: _p, sha256: _s, ...p }: { jsonBytes: number; sha256: string }) => p) }));
    const fresh = w.serving();
    expect(completeBuilds(w.dir)).toEqual([]);
    expect('build' in (await w.page({ phase: 'customers' }, fresh.app)).json).toBe(false);
  });

  it('refuses a malformed build id with 400', async () => {
    const w = await world({ customers: 10 });
    for (const bad of ['../x', 'a/b', 'x'.repeat(65), '', 's1-1.json']) {
      const r = await w.get(`/api/sync/snapshot?phase=customers&build=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect(r.json).toMatchObject({ error: 'invalid_query', issues: [{ path: 'build' }] });
      expect(r.json.message).toMatch(/snapshot build id/);
    }
  });
});

describe('snapshot builds in the background', () => {
  it('builds at startup in a worker while requests are answered, and does not rebuild a fresh build', async () => {
    const w = await world({ customers: 3000 });
    expect(w.builds.usable()).toBeNull();
    let settled = false;
    const running = w.builds.refresh().finally(() => (settled = true));
    let answered = 0;
    while (!settled) {
      const r = await w.get('/api/health');
      expect(r.status).toBe(200);
      answered++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const m = (await running)!;
    expect(m).not.toBeNull();
    // A build on the event loop would have finished before the first health check was answered.
    expect(answered).toBeGreaterThan(3);
    expect(w.builds.usable()?.id).toBe(m.id);
    expect((await w.page({ phase: 'customers' })).json).toMatchObject({ build: m.id, cursor: m.cursor });
    expect(await w.builds.refresh()).toBeNull();
    expect(readdirSync(w.dir)).toEqual([m.id]);
  });

  it('rebuilds a stale build and keeps only the newest two', async () => {
    const w = await world({ customers: 300 });
    const a = w.build();
    await importNow(w.store, [renamed(1, 'After A')]);
    await new Promise((resolve) => setTimeout(resolve, 2));
    const b = w.build();
    // A build that died half-way before B: no manifest, never served, cleaned up.
    const dead = `s${a.seq}-${Date.parse(b.createdAt) - 1}`;
    cpSync(join(w.dir, a.id), join(w.dir, dead), { recursive: true });
    rmSync(join(w.dir, dead, 'manifest.json'));

    expect(await w.builds.refresh()).toBeNull(); // B is fresh
    w.clock.ms += 25 * HOUR;
    expect(w.builds.usable()).toBeNull();
    const c = (await w.builds.refresh())!;
    expect(c.seq).toBe(b.seq);
    expect(readdirSync(w.dir).sort()).toEqual([b.id, c.id].sort());
    expect(completeBuilds(w.dir).map((x) => x.id)).toEqual([c.id, b.id]);
    // A rep who started on B can finish from it; one who started on A gets live pages.
    expect((await w.page({ phase: 'identifiers', bits: b.bits, build: b.id })).json.build).toBe(b.id);
    expect('build' in (await w.page({ phase: 'identifiers', bits: a.bits, build: a.id })).json).toBe(false);
    w.clock.ms = Date.now();
    expect((await w.page({ phase: 'customers' })).json.build).toBe(c.id);
    expect(removeOldBuilds(w.dir)).toEqual([]);
    expect(existsSync(join(w.dir, c.id, 'manifest.json'))).toBe(true);
  });
});

// Prebuilt first-sync snapshots (server/snapshot-build.ts): built once at one feed position,
// stored as bucket pages (lib/bucket-page.ts) and served from disk through GET
// /api/sync/snapshot to requests with encoding=buckets (what the extension asks for), with the
// same content as live pages at that state; every other request, and any a build cannot answer,
// gets a live page. Built and live bucket pages differ in their bytes (deflate levels), so pages
// are compared as content (pageContent): the header's fields and every bucket's texts, inflated.
// Builds use small pages (maxRows 200 / 1000) so a few thousand customers give several pages and
// the file stays quick.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BUCKET_PAGE, DEFLATED_JSON, PullResponse, SnapshotCustomersPage, SnapshotIdentifiersPage, type Change, type ImportRow } from '../../lib/api';
import { readBucketPage, type StoredText } from '../../lib/bucket-page';
import { identifierLines, linesText, summaryLine, type IdentifierMap } from '../../lib/bucket-lines';
import { packCustomer, unpackCustomer, type PackedCustomer } from '../../lib/packing';
import { createApp } from '../../server/app';
import { hashPassword } from '../../server/crypto';
import { decodeCursor, openSqliteStore, type SqliteStore } from '../../server/db';
import { DEMO_USER_PASSWORD, bulkRows, seedBulk, seedDemo } from '../../server/seed';
import { SnapshotBuilds, buildSnapshot, completeBuilds, removeOldBuilds, type SnapshotBuildsOptions, type SnapshotManifest } from '../../server/snapshot-build';
import type { NumberedImportRow } from '../../server/store';
import { T0 } from './helpers';

const ROWS = { customers: 200, identifiers: 1000 };
const HOUR = 3600_000;

let repHash: Promise<string> | null = null;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

type Phase = 'customers' | 'identifiers';
/**
 * A snapshot page's content, whatever form it came in: the header's fields (`build` only when the
 * page has one) and, per bucket, the texts the extension stores (lib/bucket-lines.ts): customers
 * and their summaries, or identifier keys (null: an empty bucket, as readBucketPage gives it).
 */
type PageContent = {
  phase: Phase;
  bits: number;
  from: number;
  to: number;
  done: boolean;
  cursor: string;
  build?: string;
  others?: Change[];
  buckets: { b: number; customers?: string | null; summaries?: string | null; keys?: string }[];
};
const SNAPSHOT_TYPES = { json: 'application/json', deflate: DEFLATED_JSON, buckets: BUCKET_PAGE } as const;

/**
 * A snapshot answer (200) as comparable content. A bucket page is read as the extension reads it
 * (readBucketPage: refused unless every bucket checks) and its texts inflated; a JSON page (plain
 * or deflated) is checked against its schema and its buckets written in the same texts.
 */
function pageContent(r: { type: string | null; bytes: Uint8Array; text: string }, phase: Phase): PageContent {
  if (r.type === BUCKET_PAGE) {
    const read = readBucketPage(r.bytes, phase);
    if (!read.ok) throw new Error(`a bad bucket page: ${read.problem}`);
    const p = read.page;
    const text = (t: StoredText | null) => {
      if (t === null) return null;
      // Deflated with the fixed Huffman codes (server/snapshot-build.ts deflateBucketText): the
      // first block is never one with codes of its own (BTYPE 2), which the extension inflates slower.
      expect((t.data[0]! >> 1) & 3).not.toBe(2);
      return inflateRawSync(t.data).toString('utf8');
    };
    const head = { phase: p.phase, bits: p.bits, from: p.from, to: p.to, done: p.done, cursor: p.cursor, ...(p.build === undefined ? {} : { build: p.build }) };
    return p.phase === 'customers'
      ? { ...head, others: p.others, buckets: p.buckets.map(({ b, customers, summaries }) => ({ b, customers: text(customers), summaries: text(summaries) })) }
      : { ...head, buckets: p.buckets.map(({ b, keys }) => ({ b, keys: text(keys)! })) };
  }
  expect(['application/json', DEFLATED_JSON]).toContain(r.type);
  // The schema checks the page; the texts come from its JSON as sent (as the route encodes a live page).
  const json = JSON.parse(r.text);
  (phase === 'customers' ? SnapshotCustomersPage : SnapshotIdentifiersPage).parse(json);
  expect(json.phase).toBe(phase);
  const { phase: _p, bits, from, to, done, cursor, build } = json as SnapshotCustomersPage | SnapshotIdentifiersPage;
  const head = { phase, bits, from, to, done, cursor, ...(build === undefined ? {} : { build }) };
  if (phase === 'identifiers') {
    const page = json as SnapshotIdentifiersPage;
    return { ...head, buckets: page.buckets.map(({ b, keys }) => ({ b, keys: linesText(identifierLines(keys), '{}') })) };
  }
  const page = json as SnapshotCustomersPage;
  return {
    ...head,
    others: page.others,
    buckets: page.buckets.map(({ b, customers }) => {
      const packed = customers.map(packCustomer);
      const text = (lines: string[]) => (packed.length ? linesText(lines, '[]') : null);
      return { b, customers: text(packed.map((c) => JSON.stringify(c))), summaries: text(packed.map(summaryLine)) };
    }),
  };
}

/** The customers on snapshot pages, unpacked from their buckets' texts. */
const entriesOf = (pages: PageContent[]) =>
  pages.flatMap((p) => p.buckets.flatMap((b) => (b.customers ? (JSON.parse(b.customers) as PackedCustomer[]).map(unpackCustomer) : [])));
const customerIds = (pages: PageContent[]) => entriesOf(pages).map((e) => e.customer.id);
/** The [identifier key, customer id] rows on snapshot pages, from their buckets' texts. */
const keyRowsOf = (pages: PageContent[]) =>
  pages.flatMap((p) =>
    p.buckets.flatMap((b) =>
      b.keys === undefined ? [] : Object.entries(JSON.parse(b.keys) as IdentifierMap).flatMap(([key, ids]) => [ids].flat().map((id) => [key, id] as const)),
    ),
  );
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

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
    const bytes = new Uint8Array(await res.arrayBuffer());
    // A deflated JSON page is read as the extension reads it: inflated to the JSON text. A bucket page has no one text.
    const text = type === BUCKET_PAGE ? '' : (type === DEFLATED_JSON ? inflateRawSync(bytes) : Buffer.from(bytes)).toString('utf8');
    return { status: res.status, type, bytes, text, json: (type === BUCKET_PAGE ? undefined : JSON.parse(text)) as any };
  }
  /** How a page is asked for; null: no `encoding` (plain JSON). */
  type Encoding = keyof typeof SNAPSHOT_TYPES | null;
  /**
   * One snapshot page, as comparable content. `encoding` defaults to buckets, what the extension
   * asks for and the only form a build is served in; `via` defaults to the app that serves builds.
   */
  async function page(
    q: { phase: Phase; from?: number; bits?: number; maxRows?: number; build?: string; encoding?: Encoding },
    via?: { request: typeof app.request },
  ): Promise<PageContent> {
    const encoding = q.encoding === undefined ? 'buckets' : q.encoding;
    const p = new URLSearchParams({ phase: q.phase, from: String(q.from ?? 0), maxRows: String(q.maxRows ?? ROWS[q.phase]) });
    if (q.bits !== undefined) p.set('bits', String(q.bits));
    if (q.build !== undefined) p.set('build', q.build);
    if (encoding !== null) p.set('encoding', encoding);
    const r = await get(`/api/sync/snapshot?${p}`, via);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.type).toBe(SNAPSHOT_TYPES[encoding ?? 'json']);
    const content = pageContent(r, q.phase);
    expect(content.from).toBe(q.from ?? 0);
    return content;
  }
  /** A whole snapshot as the extension reads it: customers from 0 without bits, then on by `to`, then identifiers. */
  async function snapshot(opts: { build?: string; via?: { request: typeof app.request }; encoding?: Encoding } = {}) {
    const pages: PageContent[] = [];
    let bits: number | undefined;
    let build = opts.build;
    for (const phase of ['customers', 'identifiers'] as const) {
      for (let from = 0; ; ) {
        const p = await page({ phase, from, bits, build, encoding: opts.encoding }, opts.via);
        bits = p.bits;
        build ??= p.build; // later pages ask for the first page's build, as the extension does
        pages.push(p);
        if (p.done) break;
        from = p.to;
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
  it('its pages, read through the route as bucket pages with the build id, carry the content of the live pages of the same state with one cursor and the build id', async () => {
    const w = await world({ demo: true });
    const m = w.build();
    expect(m.id).toMatch(/^s\d+-\d+$/);
    expect(m.seq).toBe(w.store.feedHead());
    expect(m.maxRows).toEqual(ROWS);

    // Stored as bucket pages (every bucket's text deflated), several times smaller than the pages'
    // JSON, and sent as stored (encoding=buckets, what the extension asks for).
    expect(m.bytes).toBeLessThan(m.jsonBytes / 4);
    const first = await w.get(`/api/sync/snapshot?phase=customers&maxRows=${ROWS.customers}&encoding=buckets`);
    expect(first.type).toBe(BUCKET_PAGE);
    expect(Buffer.from(first.bytes).equals(readFileSync(join(w.dir, m.id, 'customers-0.buckets')))).toBe(true);
    const built = await w.snapshot();
    const live = await w.snapshot({ via: w.liveApp });
    // A live page has the same content in every form it can be asked in.
    expect(await w.snapshot({ via: w.liveApp, encoding: 'json' })).toEqual(live);
    expect(await w.snapshot({ via: w.liveApp, encoding: 'deflate' })).toEqual(live);
    expect(built.length).toBe(m.pages.length);
    expect(built.filter((p) => p.phase === 'customers').length).toBeGreaterThan(3);
    expect(built.filter((p) => p.phase === 'identifiers').length).toBeGreaterThan(3);
    expect(built.map((p) => [p.phase, p.from, p.to])).toEqual(m.pages.map((p) => [p.phase, p.from, p.to]));
    for (const page of built) {
      expect(page.build).toBe(m.id);
      expect(page.cursor).toBe(m.cursor);
      expect(page.bits).toBe(m.bits);
    }
    expect(live.length).toBe(built.length);
    built.forEach((page, i) => {
      // Bucket by bucket, text for text: a build's page is the live page with the build id added.
      const { build: _b, ...rest } = page;
      expect(live[i]).toEqual(rest);
      expect('build' in live[i]!).toBe(false);
    });
    expect(customerIds(built)).toHaveLength(36 + 1200);
    expect(keyRowsOf(built).length).toBeGreaterThan(1236);
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
    expect(built.every((page) => page.build === m.id && page.cursor === m.cursor)).toBe(true);
    const builtEntries = entriesOf(built);
    expect(builtEntries.map((e) => e.customer.id)).not.toContain('LATE-1');
    expect(builtEntries.find((e) => e.customer.id === 'B-0000005')!.customer.name).not.toBe('Renamed During Build');
    const builtKeys = keyRowsOf(built);
    expect(builtKeys.some(([, id]) => id === 'B-0000005')).toBe(true);
    expect(builtKeys.filter(([, id]) => id === 'LATE-1')).toEqual([]);

    const live = await w.snapshot({ via: w.liveApp });
    const liveEntries = entriesOf(live);
    expect(liveEntries.map((e) => e.customer.id)).toContain('LATE-1');
    expect(liveEntries.find((e) => e.customer.id === 'B-0000005')!.customer.name).toBe('Renamed During Build');
    expect(keyRowsOf(live).some(([, id]) => id === 'LATE-1')).toBe(true);
    expect(decodeCursor(live[0]!.cursor)).toBeGreaterThan(m.seq);

    const delta = await w.pullAfter(m.cursor);
    expect(delta.map((c) => `${c.op} ${c.entity} ${c.id}`).sort()).toEqual(['upsert customer B-0000005', 'upsert customer LATE-1']);
    expect(delta.find((c) => c.id === 'B-0000005')).toMatchObject({ data: { name: 'Renamed During Build' } });
  });

  it('answers live when the build cannot: unknown build, other maxRows, other bits, a page it does not have', async () => {
    const w = await world();
    const m = w.build();
    const isLive = (p: PageContent) => expect('build' in p).toBe(false);
    isLive(await w.page({ phase: 'customers', build: 's1-1' }));
    isLive(await w.page({ phase: 'identifiers', build: 'not-a-build_id' }));
    isLive(await w.page({ phase: 'customers', build: m.id, maxRows: ROWS.customers + 1 }));
    isLive(await w.page({ phase: 'identifiers', build: m.id, maxRows: 20_000 }));
    isLive(await w.page({ phase: 'customers', build: m.id, bits: m.bits + 1 }));
    const notAPageStart = m.pages[1]!.from - 1;
    expect(m.pages.some((p) => p.from === notAPageStart)).toBe(false);
    isLive(await w.page({ phase: 'customers', build: m.id, bits: m.bits, from: notAPageStart }));
    // A first page at another size (an older extension's 4000) is live; at the build's size it is the build's.
    isLive(await w.page({ phase: 'customers', maxRows: 4000 }));
    expect((await w.page({ phase: 'customers' })).build).toBe(m.id);
    expect((await w.page({ phase: 'customers', bits: m.bits })).build).toBe(m.id);
    isLive(await w.page({ phase: 'customers', bits: m.bits + 1 }));
    // Without a build id only the first page may come from a build.
    isLive(await w.page({ phase: 'customers', from: m.pages[1]!.from, bits: m.bits }));
    isLive(await w.page({ phase: 'identifiers', bits: m.bits }));
  });

  it('serves a built page only as a bucket page: the same request for JSON or deflated JSON gets the live page', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    for (const { phase, from } of [m.pages[0]!, m.pages[1]!, m.pages.find((p) => p.phase === 'identifiers')!]) {
      const q = { phase, from, bits: m.bits, build: m.id };
      const built = await w.page({ ...q, encoding: 'buckets' });
      expect(built.build).toBe(m.id);
      const { build: _b, ...content } = built;
      for (const encoding of ['deflate', 'json', null] as const) {
        const live = await w.page({ ...q, encoding });
        expect('build' in live, `${phase} from ${from}, encoding ${encoding}`).toBe(false);
        // Nothing was written since the build: the live page says what the built one says.
        expect(live).toEqual(content);
      }
    }
    // So is a first page without a build id.
    expect((await w.page({ phase: 'customers' })).build).toBe(m.id);
    expect('build' in (await w.page({ phase: 'customers', encoding: 'deflate' }))).toBe(false);
    expect('build' in (await w.page({ phase: 'customers', encoding: null }))).toBe(false);
  });

  it('a first page comes from the newest build only while it is recent and close to the feed', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    const young = w.serving({ maxAgeMs: HOUR, maxLag: 3 });
    const first = async (app = young.app) => (await w.page({ phase: 'customers' }, app)).build;
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
    expect((await w.page({ phase: 'customers', from: m.pages[1]!.from, bits: m.bits, build: m.id }, young.app)).build).toBe(m.id);
  });

  it('ignores an incomplete build (no manifest)', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    // A newer build still being written: its pages exist, its manifest does not yet.
    const newer = `s${m.seq + 1}-${Date.parse(m.createdAt) + 1}`;
    cpSync(join(w.dir, m.id), join(w.dir, newer), { recursive: true });
    rmSync(join(w.dir, newer, 'manifest.json'));
    expect(completeBuilds(w.dir).map((b) => b.id)).toEqual([m.id]);
    expect((await w.page({ phase: 'customers' })).build).toBe(m.id);
    expect('build' in (await w.page({ phase: 'customers', build: newer }))).toBe(false);

    rmSync(join(w.dir, m.id, 'manifest.json'));
    const fresh = w.serving(); // a server that has not seen the build complete
    expect('build' in (await w.page({ phase: 'customers' }, fresh.app))).toBe(false);
    expect('build' in (await w.page({ phase: 'customers', build: m.id }, fresh.app))).toBe(false);
  });

  it('never serves a page file cut short (a crash before the disk had it all): the rep gets a live page', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    const second = m.pages[1]!;
    const file = join(w.dir, m.id, `${second.phase}-${second.from}.buckets`);
    expect(readFileSync(file).length).toBe(second.bytes);
    truncateSync(file, second.bytes - 10);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const p = await w.page({ phase: second.phase, from: second.from, bits: m.bits, build: m.id });
      expect('build' in p).toBe(false);
      expect(errors.mock.calls.join('\n')).toMatch(/has \d+ bytes, the manifest says/);
    } finally {
      errors.mockRestore();
    }
  });

  it('never serves a page file damaged in place (same size, other bytes): the rep gets a live page, and again when asked again', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    const second = m.pages[1]!;
    const file = join(w.dir, m.id, `${second.phase}-${second.from}.buckets`);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0x10;
    writeFileSync(file, bytes);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      // The second time the build is read anew (the first forgot it): the file is refused again.
      for (let i = 0; i < 2; i++) {
        const p = await w.page({ phase: second.phase, from: second.from, bits: m.bits, build: m.id });
        expect('build' in p).toBe(false);
      }
      expect(errors.mock.calls.join('\n')).toMatch(/does not match its SHA-256/);
      expect(errors).toHaveBeenCalledTimes(2);
    } finally {
      errors.mockRestore();
    }
  });

  it('never serves a build of an older format (plain JSON files, or JSON files deflated): the rep gets a live page', async () => {
    const w = await world({ customers: 300 });
    const m = w.build();
    type Stored = SnapshotManifest['pages'][number];
    // Each older build as it was written: its pages' JSON (with its id) in files of its own names, then its manifest.
    const older = [
      {
        id: `s${m.seq}-${Date.parse(m.createdAt) + 1}`,
        file: (p: Stored) => `${p.phase}-${p.from}.json`,
        bytes: (json: Buffer) => json,
        // Before deflated pages: no encoding, no sizes of the JSON, no checksums.
        manifest: ({ encoding: _e, jsonBytes: _j, ...rest }: SnapshotManifest, pages: Stored[]) => ({
          ...rest,
          pages: pages.map(({ jsonBytes: _p, sha256: _s, ...p }) => p),
        }),
      },
      {
        id: `s${m.seq}-${Date.parse(m.createdAt) + 2}`,
        file: (p: Stored) => `${p.phase}-${p.from}.json.deflate`,
        bytes: (json: Buffer) => deflateRawSync(json, { level: 6 }),
        manifest: (old: SnapshotManifest, pages: Stored[]) => ({ ...old, encoding: 'deflate', pages }),
      },
    ];
    for (const o of older) {
      const dir = join(w.dir, o.id);
      mkdirSync(dir);
      const pages: Stored[] = [];
      for (const p of m.pages) {
        const live = await w.get(`/api/sync/snapshot?phase=${p.phase}&from=${p.from}&bits=${m.bits}&maxRows=${ROWS[p.phase]}`, w.liveApp);
        const json = Buffer.from(JSON.stringify({ ...live.json, build: o.id }));
        const bytes = o.bytes(json);
        writeFileSync(join(dir, o.file(p)), bytes);
        pages.push({ ...p, bytes: bytes.length, jsonBytes: json.length, sha256: sha256(bytes) });
      }
      const manifest = o.manifest(m, pages);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, id: o.id, bytes: pages.reduce((n, p) => n + p.bytes, 0) }));
    }
    rmSync(join(w.dir, m.id), { recursive: true });
    expect(readdirSync(w.dir).sort()).toEqual(older.map((o) => o.id).sort());

    const fresh = w.serving();
    expect(completeBuilds(w.dir)).toEqual([]);
    expect('build' in (await w.page({ phase: 'customers' }, fresh.app))).toBe(false);
    for (const o of older) {
      for (const p of m.pages) {
        for (const encoding of ['buckets', 'deflate'] as const) {
          const page = await w.page({ phase: p.phase, from: p.from, bits: m.bits, build: o.id, encoding }, fresh.app);
          expect('build' in page, `${o.id} ${p.phase} from ${p.from} as ${encoding}`).toBe(false);
        }
      }
    }
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
    expect(await w.page({ phase: 'customers' })).toMatchObject({ build: m.id, cursor: m.cursor });
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
    expect((await w.page({ phase: 'identifiers', bits: b.bits, build: b.id })).build).toBe(b.id);
    expect('build' in (await w.page({ phase: 'identifiers', bits: a.bits, build: a.id }))).toBe(false);
    w.clock.ms = Date.now();
    expect((await w.page({ phase: 'customers' })).build).toBe(c.id);
    expect(removeOldBuilds(w.dir)).toEqual([]);
    expect(existsSync(join(w.dir, c.id, 'manifest.json'))).toBe(true);
  });
});

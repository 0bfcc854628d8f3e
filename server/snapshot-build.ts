// First-sync snapshots built once and served to every rep (lib/api.ts SnapshotBuildId).
//
// Why: a live snapshot page costs ~0.23 s of CPU per 4,000 customers, so every rep's first sync
// of a million customers cost the backend ~70 s of CPU. A build renders every page once, inside
// ONE read transaction (so all pages show the same database state, feed position S, and carry
// the same cursor), and writes them to disk; GET /api/sync/snapshot then sends the file's bytes.
//
// On disk: <dir>/<id>/<phase>-<from>.buckets, one per page as a bucket page (what the extension
// asks for, lib/api.ts BUCKET_PAGE: each bucket's text deflated, lib/bucket-page.ts; requests for
// JSON pages get live pages), then <dir>/<id>/manifest.json,
// written LAST by rename: a build without a manifest is incomplete (crashed, or still running) and
// is never served. A complete build never changes, so its manifest is cached.
//
// Serving a build is safe for the same reason mixing live pages is: the rep keeps the FIRST
// page's cursor and pulls the changes after it once the snapshot is complete; a page read later
// (from the same build or live) is at least as new, and versions decide.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { SNAPSHOT_PAGE_ROWS, SnapshotBuildId, type SnapshotCustomersPage, type SnapshotIdentifiersPage, type SnapshotQuery } from '../lib/api';
import { encodeBucketPage } from '../lib/bucket-page';
import { deflateBucketText } from './bucket-text';
import { encodeCursor, openSqliteStore } from './db';
import type { SnapshotRequest } from './store';

type SnapshotPhase = SnapshotRequest['phase'];
type PageRows = Record<SnapshotPhase, number>;

// Pages are cut to the extension's sizes (lib/api.ts SNAPSHOT_PAGE_ROWS): a build only helps
// reps whose requests name the same maxRows.
/** A first page comes from a build at most this old... */
export const SNAPSHOT_MAX_AGE_MS = 24 * 3600_000;
/** ...and at most this many changes behind the feed's head (the rep pulls them afterwards). */
export const SNAPSHOT_MAX_LAG = 250_000;
/** How often a running server checks whether its newest build went stale. */
export const SNAPSHOT_CHECK_EVERY_MS = 10 * 60_000;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Where a file database's builds live unless told otherwise: beside it. */
export const defaultSnapshotDir = (dbPath: string) => `${dbPath}.snapshots`;

const BUILD_DIR_RE = /^s(\d+)-(\d+)$/;
const MANIFEST = 'manifest.json';
const pageFileName = (phase: SnapshotPhase, from: number) => `${phase}-${from}.buckets`;

const SnapshotManifest = z.object({
  id: SnapshotBuildId,
  bits: z.number().int().nonnegative(),
  maxRows: z.object({ customers: z.number().int().positive(), identifiers: z.number().int().positive() }),
  seq: z.number().int().nonnegative(), // feed position S: every page was read there
  cursor: z.string(), // encodeCursor(seq), the cursor on every page
  createdAt: z.string(), // when the build's read began: the age of its state
  // How pages are stored (builds from before had JSON files, plain or deflated: their manifests
  // fail here, so they are never served and are removed with the next cleanup).
  encoding: z.literal('buckets'),
  bytes: z.number().int().nonnegative(), // of the files
  jsonBytes: z.number().int().nonnegative(), // of the pages' JSON
  seconds: z.number().nonnegative(),
  pages: z.array(
    z.object({
      phase: z.enum(['customers', 'identifiers']),
      from: z.number().int(),
      to: z.number().int(),
      bytes: z.number().int(), // of the file
      jsonBytes: z.number().int(),
      // of the file: raw DEFLATE has no checksum of its own, and a damaged page could still inflate
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});
export type SnapshotManifest = z.infer<typeof SnapshotManifest>;

export type BuildOptions = {
  /** Rows per page per phase (default SNAPSHOT_PAGE_ROWS; tests use small pages). */
  maxRows?: Partial<PageRows>;
  /** Called after each page is written, still inside the build's read transaction. */
  onPage?: (page: SnapshotManifest['pages'][number]) => void;
};

/**
 * Renders every page of a first-sync snapshot of the database at `dbPath` into a new build under
 * `dir`, on its own connection and in one read transaction (writers may keep writing: WAL). Runs
 * synchronously: the server calls it in a worker (buildSnapshotInWorker), the CLI in the foreground.
 */
export function buildSnapshot(dbPath: string, dir: string, opts: BuildOptions = {}): SnapshotManifest {
  const maxRows: PageRows = { ...SNAPSHOT_PAGE_ROWS, ...opts.maxRows };
  const started = performance.now();
  const store = openSqliteStore(dbPath);
  let buildDir: string | null = null;
  try {
    mkdirSync(dir, { recursive: true });
    const manifest = store.readSnapshot((tables): SnapshotManifest => {
      const seq = tables.feedPosition();
      const createdAt = new Date();
      const id = `s${seq}-${createdAt.getTime()}`;
      buildDir = join(dir, id);
      mkdirSync(buildDir);
      // The layout a live first page without `bits` would pick for this state.
      const bits = tables.suggestedBits();
      const pages: SnapshotManifest['pages'] = [];
      for (const phase of ['customers', 'identifiers'] as const) {
        for (let from = 0; ; ) {
          const p = tables.render({ phase, bits, from, maxRows: maxRows[phase] }, encodeCursor, id);
          // Level 6: slower than level 1 (once per build) for fewer bytes (every rep's download and cache).
          const page = JSON.parse(p.json.toString('utf8')) as SnapshotCustomersPage | SnapshotIdentifiersPage;
          const file = encodeBucketPage(page, deflateBucketText(6));
          writeFileSync(join(buildDir, pageFileName(phase, from)), file);
          const stored = { phase, from, to: p.to, bytes: file.length, jsonBytes: p.json.length, sha256: sha256(file) };
          pages.push(stored);
          opts.onPage?.(stored);
          if (p.done) break;
          from = p.to;
        }
      }
      return {
        id,
        bits,
        maxRows,
        seq,
        cursor: encodeCursor(seq),
        createdAt: createdAt.toISOString(),
        encoding: 'buckets',
        bytes: pages.reduce((n, p) => n + p.bytes, 0),
        jsonBytes: pages.reduce((n, p) => n + p.jsonBytes, 0),
        seconds: 0,
        pages,
      };
    });
    manifest.seconds = Math.round(performance.now() - started) / 1000;
    // The manifest last, atomically: its presence is what makes the build complete.
    const tmp = join(buildDir!, `${MANIFEST}.tmp`);
    writeFileSync(tmp, JSON.stringify(manifest));
    renameSync(tmp, join(buildDir!, MANIFEST));
    return manifest;
  } catch (e) {
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
    throw e;
  } finally {
    store.db.close();
  }
}

// The worker loads this TypeScript file through tsx's API: a worker inherits neither vitest's
// transform nor (reliably) a loader registered in the parent.
const WORKER_SOURCE = `
const { parentPort, workerData: w } = require('node:worker_threads');
import(w.tsx)
  .then(({ tsImport }) => tsImport(w.self, w.self))
  .then((m) => parentPort.postMessage({ ok: true, manifest: m.buildSnapshot(w.dbPath, w.dir, { maxRows: w.maxRows }) }))
  .catch((e) => parentPort.postMessage({ ok: false, message: String((e && e.stack) || e) }));
`;

/**
 * buildSnapshot in a worker thread with its own connection: the ~70 s of CPU of a million
 * customers must not stall the server's event loop. `worker` is there to terminate it.
 */
function buildSnapshotInWorker(
  dbPath: string,
  dir: string,
  maxRows?: Partial<PageRows>,
): { worker: Worker; done: Promise<SnapshotManifest> } {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { tsx: import.meta.resolve('tsx/esm/api'), self: import.meta.url, dbPath, dir, maxRows },
  });
  const done = new Promise<SnapshotManifest>((resolve, reject) => {
    worker.once('message', (m: { ok: true; manifest: SnapshotManifest } | { ok: false; message: string }) =>
      m.ok ? resolve(m.manifest) : reject(new Error(`snapshot build failed: ${m.message}`)),
    );
    worker.once('error', reject);
    // Settles nothing if a message came first (a promise settles once).
    worker.once('exit', (code) => reject(new Error(`snapshot build worker stopped (exit code ${code})`)));
  });
  return { worker, done };
}

/**
 * After a build: removes the builds it makes old (removeOldBuilds) and returns one line on it,
 * for the server's log and the CLI.
 */
export function keepNewest(dir: string, m: SnapshotManifest): string {
  const removed = removeOldBuilds(dir);
  return (
    `snapshot build ${m.id}: ${m.pages.length} pages, ${m.jsonBytes} bytes of JSON (${m.bytes} as bucket pages) in ${m.seconds} s (bits ${m.bits}, feed position ${m.seq})` +
    (removed.length ? `; removed ${removed.join(', ')}` : '')
  );
}

/** The complete builds under `dir`, newest first; incomplete ones (no manifest) are left out. */
export function completeBuilds(dir: string, cache?: Map<string, SnapshotManifest>): SnapshotManifest[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: SnapshotManifest[] = [];
  for (const id of names) {
    if (!BUILD_DIR_RE.test(id)) continue;
    const m = cache?.get(id) ?? readManifest(dir, id);
    if (m) {
      cache?.set(id, m);
      out.push(m);
    }
  }
  return out.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.seq - a.seq);
}

function readManifest(dir: string, id: string): SnapshotManifest | null {
  const file = join(dir, id, MANIFEST);
  if (!existsSync(file)) return null;
  try {
    const m = SnapshotManifest.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return m.success && m.data.id === id ? m.data : null;
  } catch {
    return null;
  }
}

/**
 * Deletes every build that started before the previous complete one: the newest two stay, so a
 * rep mid-snapshot on the previous build can finish from it. Incomplete builds that started
 * later are left alone (one may still be running). Returns the ids removed.
 */
export function removeOldBuilds(dir: string): string[] {
  const kept = completeBuilds(dir).slice(0, 2);
  if (!kept.length) return [];
  const keep = new Set(kept.map((m) => m.id));
  const since = Date.parse(kept[kept.length - 1]!.createdAt);
  const removed: string[] = [];
  for (const id of readdirSync(dir)) {
    const m = BUILD_DIR_RE.exec(id);
    if (!m || keep.has(id) || Number(m[2]) >= since) continue;
    rmSync(join(dir, id), { recursive: true, force: true });
    removed.push(id);
  }
  return removed;
}

export type SnapshotBuildsOptions = {
  /** Where builds live (main.ts: `<db path>.snapshots`). */
  dir: string;
  /** The database file: the build worker opens its own connection to it. */
  dbPath: string;
  /** The live feed's head (newest seq): how far a build lags. */
  feedHead: () => number;
  maxAgeMs?: number;
  maxLag?: number;
  checkEveryMs?: number;
  /** Rows per page of new builds (default SNAPSHOT_PAGE_ROWS, the extension's). */
  maxRows?: Partial<PageRows>;
  /** Clock in ms (tests age builds with it). */
  now?: () => number;
  log?: (line: string) => void;
};


/**
 * The builds of one server: finds the page a request may get from disk, and keeps a fresh build
 * there (at startup and every `checkEveryMs`, in a worker, one at a time).
 */
export class SnapshotBuilds {
  private readonly dir: string;
  private readonly maxRows: Readonly<PageRows>;
  private readonly o: Required<Omit<SnapshotBuildsOptions, 'maxRows' | 'dir'>>;
  /** Complete builds never change: their manifests and pages (by file name) are read once. */
  private readonly manifests = new Map<string, SnapshotManifest>();
  private readonly pageFiles = new Map<string, Map<string, SnapshotManifest['pages'][number]>>();
  private running: Promise<SnapshotManifest> | null = null;
  private worker: Worker | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(opts: SnapshotBuildsOptions) {
    this.dir = opts.dir;
    this.maxRows = { ...SNAPSHOT_PAGE_ROWS, ...opts.maxRows };
    this.o = {
      dbPath: opts.dbPath,
      feedHead: opts.feedHead,
      maxAgeMs: opts.maxAgeMs ?? SNAPSHOT_MAX_AGE_MS,
      maxLag: opts.maxLag ?? SNAPSHOT_MAX_LAG,
      checkEveryMs: opts.checkEveryMs ?? SNAPSHOT_CHECK_EVERY_MS,
      now: opts.now ?? (() => Date.now()),
      log: opts.log ?? (() => {}),
    };
  }

  /** Complete builds on disk, newest first. */
  private list(): SnapshotManifest[] {
    const all = completeBuilds(this.dir, this.manifests);
    // Forget builds deleted since (by cleanup here, or by another process).
    const present = new Set(all.map((m) => m.id));
    for (const id of this.manifests.keys()) if (!present.has(id)) this.forget(id);
    return all;
  }

  /**
   * Fresh enough to start a rep's snapshot on: pages of this server's size, not older than the max
   * age, not more than the max lag behind the feed, and not AHEAD of it (a database restored from
   * an older copy: the build's cursor would skip changes).
   */
  private isFresh(m: SnapshotManifest): boolean {
    const lag = this.o.feedHead() - m.seq;
    return (
      m.maxRows.customers === this.maxRows.customers &&
      m.maxRows.identifiers === this.maxRows.identifiers &&
      this.o.now() - Date.parse(m.createdAt) <= this.o.maxAgeMs &&
      lag >= 0 &&
      lag <= this.o.maxLag
    );
  }

  /** The newest complete build if it is fresh, else null. */
  usable(): SnapshotManifest | null {
    const newest = this.list()[0];
    return newest && this.isFresh(newest) ? newest : null;
  }

  /**
   * The stored bytes (a bucket page, BUCKET_PAGE) of the prebuilt page this request may get, or
   * null for a live page (always for a request of another encoding):
   * - with `build`: that build, still on disk, same bits (or none asked), same maxRows for the
   *   phase, and a page starting at `from`;
   * - without: only the first page (customers from 0), from the newest build if it is fresh.
   */
  async pageFile(q: SnapshotQuery): Promise<Uint8Array<ArrayBuffer> | null> {
    if (q.encoding !== 'buckets') return null;
    let m: SnapshotManifest | null;
    if (q.build !== undefined) {
      // The id names a directory: only the shape builds are given (the route parsed the query).
      if (!BUILD_DIR_RE.test(q.build)) return null;
      m = this.manifests.get(q.build) ?? readManifest(this.dir, q.build);
      if (m) this.manifests.set(m.id, m);
    } else {
      m = q.phase === 'customers' && q.from === 0 ? this.usable() : null;
    }
    if (!m || (q.bits !== undefined && q.bits !== m.bits) || q.maxRows !== m.maxRows[q.phase]) return null;
    let pages = this.pageFiles.get(m.id);
    if (!pages) this.pageFiles.set(m.id, (pages = new Map(m.pages.map((p) => [pageFileName(p.phase, p.from), p]))));
    const name = pageFileName(q.phase, q.from);
    const expected = pages.get(name);
    if (expected === undefined) return null;
    try {
      // A Buffer is a Uint8Array; a whole file read has its own ArrayBuffer (no copy needed).
      const bytes = (await readFile(join(this.dir, m.id, name))) as Uint8Array<ArrayBuffer>;
      // Cut short (a crash before the disk had it all) or damaged: never served (every rep on the
      // build would get the same bad page again); the live page serves the rep.
      if (bytes.length !== expected.bytes) {
        console.error(`[cpni-backend] snapshot build ${m.id}: ${name} has ${bytes.length} bytes, the manifest says ${expected.bytes}; serving live pages`);
      } else if (sha256(bytes) !== expected.sha256) {
        console.error(`[cpni-backend] snapshot build ${m.id}: ${name} does not match its SHA-256 in the manifest; serving live pages`);
      } else return bytes;
    } catch (e) {
      // Deleted meanwhile (an old build cleaned up): the live page serves the rep as well.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') console.error(`[cpni-backend] snapshot build ${m.id}: ${(e as Error).message}`);
    }
    this.forget(m.id);
    return null;
  }

  private forget(id: string) {
    this.manifests.delete(id);
    this.pageFiles.delete(id);
  }

  /** Builds now in the background unless a build is already running (then: that one). */
  build(): Promise<SnapshotManifest> {
    if (this.running) return this.running;
    const { worker, done } = buildSnapshotInWorker(this.o.dbPath, this.dir, this.maxRows);
    this.worker = worker;
    this.o.log(`snapshot build started in ${this.dir}`);
    this.running = done
      .then((m) => {
        this.manifests.set(m.id, m);
        this.o.log(keepNewest(this.dir, m));
        return m;
      })
      .finally(() => {
        this.running = null;
        this.worker = null;
      });
    return this.running;
  }

  /** Starts a background build when no fresh one is on disk; never rejects (a failure is logged, retried next check). */
  async refresh(): Promise<SnapshotManifest | null> {
    if (this.stopped || (!this.running && this.usable())) return null;
    try {
      return await this.build();
    } catch (e) {
      if (!this.stopped) console.error(`[cpni-backend] ${(e as Error).message}`);
      return null;
    }
  }

  /** Checks now, then every `checkEveryMs`. */
  start(): void {
    void this.refresh();
    this.timer ??= setInterval(() => void this.refresh(), this.o.checkEveryMs);
    this.timer.unref();
  }

  /** Stops checking and ends a running build (its incomplete directory is removed by a later cleanup). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const running = this.running;
    await this.worker?.terminate();
    await running?.catch(() => {});
  }
}

// First-sync snapshots and on-demand lookups in the embedded SQLite store (lib/api.ts,
// "First sync" and "On-demand mode"; the bucket layout is lib/buckets.ts). SqliteStore
// (server/db.ts) delegates here.
//
// Speed: a million customers must be served in seconds. Each customer row and each identifier
// key row keeps its 16-bit bucket hash in an indexed column, so one bucket of any 2^bits layout
// is one index range scan; customers and consents also get rowids grouped by bucket, so a
// bucket's rows share a few pages instead of being scattered over the file (2x faster). SQLite
// glues the stored JSON texts together (group_concat) and hands over bytes: no JSON parse,
// re-serialization or string transcoding per row in Node.
//
// Even so, a million customers cost ~70 s of CPU per first sync: server/snapshot-build.ts renders
// all pages once (with `render`, in one read) and the route serves those files to every rep.
import type Database from 'better-sqlite3';
import type { Change } from '../lib/api';
import { MAX_BUCKET_BITS, bucket16, bucket16Range, customerKeys, suggestBucketBits } from '../lib/buckets';
import type { Customer } from '../lib/schemas';
import { SnapshotRangeError, type SnapshotRequest } from './store';

type DB = Database.Database;

/** The SQL functions the schema needs (the backfill computes bucket16 in SQL). */
export function registerSnapshotFunctions(db: DB): void {
  db.function('bucket16', { deterministic: true }, (s: unknown) => bucket16(String(s)));
}

/**
 * Rows of one bucket16 get rowids in [bucket * 2^36, (bucket + 1) * 2^36): rows are stored in
 * rowid order, so a bucket's customers (and their consents) sit together. Locality only: reads
 * select by the bucket column, so a VACUUM that renumbers rowids costs speed, never rows.
 */
const ROWID_SPAN = 2 ** 36;
/** SQL for the next free rowid in the range of bucket `@bucket` (customers: bucket16(id); consents: bucket16(customerId)). */
export const bucketRowidSql = (table: 'customers' | 'consents') =>
  `(SELECT coalesce(max(rowid) + 1, @bucket * ${ROWID_SPAN}) FROM ${table}
    WHERE rowid >= @bucket * ${ROWID_SPAN} AND rowid < (@bucket + 1) * ${ROWID_SPAN})`;

/** A customer's identifier key rows: [bucket16(key), key]. */
export function keyRowsOf(c: Pick<Customer, 'crmRefs' | 'accountNumber' | 'phones' | 'emails'>): [number, string][] {
  return customerKeys(c).map((k) => [bucket16(k), k]);
}

/** Migration 4: the bucket hash beside every customer and identifier key (first sync, lookups). */
export function migrateSnapshot(db: DB): void {
  db.exec(`
    -- bucket16(id) (lib/buckets.ts), written with the row (ids never change).
    ALTER TABLE customers ADD COLUMN bucket INTEGER;
    UPDATE customers SET bucket = bucket16(id);
    -- Group rows by bucket (see bucketRowidSql); old rowids are far below 2^36, so no clashes.
    UPDATE customers SET rowid = bucket * ${ROWID_SPAN} + rowid;
    UPDATE consents SET rowid = bucket16(customer_id) * ${ROWID_SPAN} + rowid;
    -- Only live customers are served: tombstoned ones stay out of the index.
    CREATE INDEX customers_bucket ON customers(bucket, id) WHERE deleted_at IS NULL;

    -- Every identifier key (lib/buckets.ts customerKeys) of every live customer. Clustered by
    -- bucket: a bucket range is one scan, a lookup one seek (bucket16(key), key).
    CREATE TABLE customer_keys (
      bucket INTEGER NOT NULL,              -- bucket16(key)
      key TEXT NOT NULL,
      customer_id TEXT NOT NULL REFERENCES customers(id),
      PRIMARY KEY (bucket, key, customer_id)
    ) WITHOUT ROWID;

    -- The snapshot sends the stored JSON as is: make sure it carries the row's version.
    UPDATE customers SET data = json_set(data, '$.version', version)
      WHERE deleted_at IS NULL AND json_extract(data, '$.version') IS NOT version;
    UPDATE consents SET data = json_set(data, '$.version', version)
      WHERE json_extract(data, '$.version') IS NOT version;

    CREATE TEMP TABLE new_keys (bucket INTEGER NOT NULL, key TEXT NOT NULL, customer_id TEXT NOT NULL);
  `);
  // Keys are computed in JS (lib's own functions); gathered unsorted, inserted sorted (much faster).
  const page = db.prepare(`SELECT id, data FROM customers WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT 5000`);
  const add = db.prepare(`INSERT INTO new_keys (bucket, key, customer_id) VALUES (?,?,?)`);
  let after = '';
  for (;;) {
    const rows = page.all(after) as { id: string; data: string }[];
    if (!rows.length) break;
    for (const r of rows) for (const [b, k] of keyRowsOf(JSON.parse(r.data) as Customer)) add.run(b, k, r.id);
    after = rows[rows.length - 1]!.id;
  }
  db.exec(`
    INSERT OR IGNORE INTO customer_keys (bucket, key, customer_id)
      SELECT bucket, key, customer_id FROM new_keys ORDER BY bucket, key, customer_id;
    DROP TABLE temp.new_keys;
    CREATE INDEX customer_keys_customer ON customer_keys(customer_id);
  `);
}

// One customer with its current consents, as CustomerEntry JSON, from the stored texts.
const ENTRY_SQL = `concat('{"customer":', c.data, ',"consents":[',
  (SELECT group_concat(k.data, ',') FROM consents k WHERE k.customer_id = c.id), ']}')`;

const COMMA = Buffer.from(',');

export class SnapshotTables {
  private readonly s;

  constructor(
    db: DB,
    /** Policy, adapters and campaigns as the change feed sends them (inside the caller's read). */
    private readonly others: () => Change[],
  ) {
    this.s = {
      // The feed's position: the newest change (what `pull` returns after reading it).
      feedPosition: db.prepare(`SELECT coalesce(max(seq), 0) FROM change_log`).pluck(),
      liveCustomers: db.prepare(`SELECT count(*) FROM customers WHERE deleted_at IS NULL`).pluck(),
      // One whole bucket as JSON bytes (a blob: no UTF-8 -> JS string -> UTF-8 round trip).
      customerBucket: db
        .prepare(
          `SELECT count(*), CAST(concat('{"b":', @b, ',"customers":[', group_concat(${ENTRY_SQL}, ','), ']}') AS BLOB)
           FROM customers c WHERE c.bucket >= @lo AND c.bucket < @hi AND c.deleted_at IS NULL`,
        )
        .raw(),
      nextCustomerBucket: db
        .prepare(`SELECT bucket FROM customers WHERE bucket >= ? AND deleted_at IS NULL ORDER BY bucket LIMIT 1`)
        .pluck(),
      keyBucket: db
        .prepare(
          `SELECT count(*), CAST(concat('{"b":', @b, ',"keys":[', group_concat(json_array(key, customer_id), ',' ORDER BY bucket, key, customer_id), ']}') AS BLOB)
           FROM customer_keys WHERE bucket >= @lo AND bucket < @hi`,
        )
        .raw(),
      nextKeyBucket: db.prepare(`SELECT bucket FROM customer_keys WHERE bucket >= ? ORDER BY bucket LIMIT 1`).pluck(),
      keyOwners: db.prepare(`SELECT customer_id FROM customer_keys WHERE bucket = ? AND key = ?`).pluck(),
      entry: db.prepare(`SELECT ${ENTRY_SQL} FROM customers c WHERE c.id = ? AND c.deleted_at IS NULL`).pluck(),
    };
  }

  /** The change feed's position (the newest seq) as this read sees it. */
  feedPosition(): number {
    return this.s.feedPosition.get() as number;
  }

  /** The layout a first page without `bits` gets: suggestBucketBits of the live customers. */
  suggestedBits(): number {
    return suggestBucketBits(this.s.liveCustomers.get() as number);
  }

  /**
   * One snapshot page as UTF-8 JSON (SnapshotCustomersPage / SnapshotIdentifiersPage). Call inside
   * one read transaction: the rows and the cursor must come from the same database state.
   */
  page(q: SnapshotRequest, encodeCursor: (seq: number) => string): Buffer<ArrayBuffer> {
    return this.render(q, encodeCursor).json;
  }

  /**
   * `page`, with where its range ends (a snapshot build chains its pages by `to`). `build`: the id
   * of the prebuilt snapshot the page is written for (server/snapshot-build.ts), put in the page.
   */
  render(
    q: SnapshotRequest,
    encodeCursor: (seq: number) => string,
    build?: string,
  ): { json: Buffer<ArrayBuffer>; bits: number; to: number; done: boolean } {
    const bits = q.bits ?? this.suggestedBits();
    const size = 2 ** bits;
    if (q.from > size) throw new SnapshotRangeError(`from ${q.from} is past the ${size} buckets of a ${bits}-bit layout`);
    const customers = q.phase === 'customers';
    const bucket = customers ? this.s.customerBucket : this.s.keyBucket;
    const next = customers ? this.s.nextCustomerBucket : this.s.nextKeyBucket;
    const shift = MAX_BUCKET_BITS - bits;
    const parts: Buffer[] = [];
    let rows = 0;
    let b = q.from;
    // Whole buckets, never split, until at least maxRows rows are on the page.
    while (b < size && rows < q.maxRows) {
      const [lo, hi] = bucket16Range(bits, b, b + 1);
      const [n, json] = bucket.get({ b, lo, hi }) as [number, Buffer];
      if (n > 0) {
        if (parts.length) parts.push(COMMA);
        parts.push(json);
        rows += n;
        b++;
      } else {
        // Skip the run of empty buckets in one seek (sparse layouts would otherwise cost a query each).
        const found = next.get(hi) as number | undefined;
        b = found === undefined ? size : Math.max(b + 1, found >>> shift);
      }
    }
    const cursor = JSON.stringify(encodeCursor(this.feedPosition()));
    // Live pages have no `build` field at all (their bytes stay as they were before builds existed).
    const built = build === undefined ? '' : `,"build":${JSON.stringify(build)}`;
    const others = customers ? `,"others":${q.from === 0 ? JSON.stringify(this.others()) : '[]'}` : '';
    const head = `{"phase":"${q.phase}","bits":${bits},"from":${q.from},"to":${b},"done":${b === size},"cursor":${cursor}${built},"buckets":[`;
    const json = Buffer.concat([Buffer.from(head), ...parts, Buffer.from(`]${others}}`)]);
    return { json, bits, to: b, done: b === size };
  }

  /** LookupResponse as JSON text: the live customers the keys name (at most `max`, by id). */
  lookup(keys: readonly string[], max: number, encodeCursor: (seq: number) => string): string {
    const ids = new Set<string>();
    for (const key of new Set(keys)) for (const id of this.s.keyOwners.all(bucket16(key), key) as string[]) ids.add(id);
    const entries: string[] = [];
    for (const id of [...ids].sort()) {
      if (entries.length >= max) break;
      const e = this.s.entry.get(id) as string | undefined;
      if (e !== undefined) entries.push(e);
    }
    const cursor = JSON.stringify(encodeCursor(this.feedPosition()));
    return `{"matches":[${entries.join(',')}],"cursor":${cursor}}`;
  }
}

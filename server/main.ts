// CLI: tsx server/main.ts [--port 8787] [--host 127.0.0.1] [--db ./cpni.db | :memory:] [--seed demo [--bulk-customers N]]
//        [--snapshot-dir DIR | none] [--build-snapshot]
// Flags also come from the environment: PORT, HOST, CPNI_DB, CPNI_SEED, CPNI_SNAPSHOT_DIR.
//
// Prebuilt first-sync snapshots (server/snapshot-build.ts) live in --snapshot-dir (default
// `<db path>.snapshots`; none for :memory:, whose data no second connection can read). The server
// builds one in the background at startup when none is fresh, and checks every 10 minutes.
// --build-snapshot builds one in the foreground, prints it and exits (run it before starting the
// server and the server's first reps are served from it at once).
import { serve } from '@hono/node-server';
import { parseArgs } from 'node:util';
import { createApp } from './app';
import { openSqliteStore } from './db';
import { seedBulk, seedDemo } from './seed';
import { SnapshotBuilds, buildSnapshot, defaultSnapshotDir, keepNewest } from './snapshot-build';

const USAGE =
  'usage: tsx server/main.ts [--port 8787] [--host 127.0.0.1] [--db ./cpni.db|:memory:] [--seed demo [--bulk-customers N]] [--snapshot-dir DIR|none] [--build-snapshot]';

/** The snapshot directory: given, `none`, or by default beside a file database. */
function snapshotDirFor(given: string | undefined, dbPath: string): string | null {
  if (given === 'none') return null;
  const inMemory = dbPath === ':memory:' || dbPath === '';
  if (given === undefined) return inMemory ? null : defaultSnapshotDir(dbPath);
  // The build reads the database on a connection of its own: a private in-memory one has nothing.
  if (inMemory) throw new Error(`--snapshot-dir needs a database file, not ${dbPath || 'an empty path'}\n${USAGE}`);
  return given;
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      seed: { type: 'string' },
      // With --seed demo: N generated customers besides the demo ones (bench-like data, B-0000000...).
      'bulk-customers': { type: 'string' },
      'snapshot-dir': { type: 'string' },
      'build-snapshot': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port ?? process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${values.port ?? process.env.PORT}\n${USAGE}`);
  const host = values.host ?? process.env.HOST ?? '127.0.0.1';
  const dbPath = values.db ?? process.env.CPNI_DB ?? './cpni.db';
  const seed = values.seed ?? process.env.CPNI_SEED;
  if (seed !== undefined && seed !== 'demo') throw new Error(`unknown --seed ${seed} (only "demo")\n${USAGE}`);
  const bulk = values['bulk-customers'] === undefined ? 0 : Number(values['bulk-customers']);
  if (!Number.isInteger(bulk) || bulk < 0 || bulk > 10_000_000) throw new Error(`bad --bulk-customers ${values['bulk-customers']} (0 to 10,000,000)\n${USAGE}`);
  if (bulk && seed !== 'demo') throw new Error(`--bulk-customers goes with --seed demo\n${USAGE}`);

  const snapshotDir = snapshotDirFor(values['snapshot-dir'] ?? process.env.CPNI_SNAPSHOT_DIR, dbPath);
  if (values['build-snapshot'] && !snapshotDir) throw new Error(`--build-snapshot needs a database file and a snapshot directory\n${USAGE}`);

  const store = openSqliteStore(dbPath);
  if (seed === 'demo' && (await store.isEmpty())) {
    const r = await seedDemo(store);
    console.log(`seeded demo data: ${r.users} users, ${r.customers} customers, ${r.consents} consents`);
    if (bulk) {
      const b = await seedBulk(store, bulk);
      console.log(`seeded ${b.customers} bulk customers, ${b.consents} consents`);
    }
  }

  if (values['build-snapshot']) {
    await store.close();
    console.log(`${keepNewest(snapshotDir!, buildSnapshot(dbPath, snapshotDir!))}, in ${snapshotDir}`);
    return;
  }

  const snapshots = snapshotDir
    ? new SnapshotBuilds({ dir: snapshotDir, dbPath, feedHead: () => store.feedHead(), log: (line) => console.log(line) })
    : undefined;
  const app = createApp({ db: store, snapshots });
  const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
    console.log(`CPNI Guard backend on http://${host}:${info.port} (db ${dbPath}; snapshots ${snapshotDir ?? 'live only'})`);
  });
  snapshots?.start();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    // A running snapshot build is abandoned (its incomplete directory goes at a later cleanup).
    const builds = snapshots?.stop() ?? Promise.resolve();
    server.close(() => {
      void builds.then(() => store.close()).then(() => process.exit(0));
    });
    // Idle keep-alive connections would hold close() open.
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

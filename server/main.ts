// CLI: tsx server/main.ts [--port 8787] [--host 127.0.0.1] [--db ./cpni.db | :memory:] [--seed demo]
// Flags also come from the environment: PORT, HOST, CPNI_DB, CPNI_SEED.
import { serve } from '@hono/node-server';
import { parseArgs } from 'node:util';
import { createApp } from './app';
import { openSqliteStore } from './db';
import { seedDemo } from './seed';

const USAGE = 'usage: tsx server/main.ts [--port 8787] [--host 127.0.0.1] [--db ./cpni.db|:memory:] [--seed demo]';

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      seed: { type: 'string' },
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

  const store = openSqliteStore(dbPath);
  if (seed === 'demo' && (await store.isEmpty())) {
    const r = await seedDemo(store);
    console.log(`seeded demo data: ${r.users} users, ${r.customers} customers, ${r.consents} consents`);
  }
  const app = createApp({ db: store });
  const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
    console.log(`CPNI Guard backend on http://${host}:${info.port} (db ${dbPath})`);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    server.close(() => {
      void store.close().then(() => process.exit(0));
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

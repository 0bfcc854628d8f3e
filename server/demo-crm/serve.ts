// Serves the Acme Telecom demo CRM: static files from this folder, and index.html for any
// in-app route (/, /contacts, /contacts/<id>) so deep links work.
//   tsx server/demo-crm/serve.ts --port 5180 [--host 127.0.0.1]
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(fileURLToPath(import.meta.url));
const STATIC_FILES = new Set(['/index.html', '/app.js', '/contacts.js', '/style.css']);
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface DemoCrmServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function isAppRoute(pathname: string): boolean {
  return pathname === '/' || /^\/(contacts|campaigns)(\/[^/]*)?\/?$/.test(pathname);
}

export async function serveDemoCrm({ port = 5180, host = '127.0.0.1' }: { port?: number; host?: string } = {}): Promise<DemoCrmServer> {
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const { pathname } = new URL(req.url ?? '/', 'http://localhost');
      let file: string | null = null;
      if (STATIC_FILES.has(pathname)) file = pathname;
      else if (isAppRoute(pathname)) file = '/index.html';
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
        return;
      }
      const body = await readFile(join(ROOT, normalize(file)));
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Server error\n');
      console.error('demo-crm:', err);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(name + '='))?.slice(name.length + 1);
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1]);
if (isMain) {
  const args = process.argv.slice(2);
  const port = Number(argValue(args, '--port') ?? process.env.PORT ?? 5180);
  const host = argValue(args, '--host') ?? '127.0.0.1';
  serveDemoCrm({ port, host }).then(
    ({ url }) => console.log(`Acme Telecom CRM (demo) on ${url}/contacts`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

// `npm run demo`: the whole product on this machine. Builds the extension, starts the backend
// on its embedded SQLite database with demo data and the demo CRM, and, where a display
// exists, opens Chromium with the extension loaded. Ctrl-C stops everything.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const BACKEND_PORT = Number(process.env.PORT ?? 8787);
const CRM_PORT = Number(process.env.CRM_PORT ?? 5180);
const DATA_DIR = path.join(ROOT, '.demo');
const DB = process.env.CPNI_DB ?? path.join(DATA_DIR, 'cpni.db');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const EXTENSION_DIR = path.join(ROOT, '.output/chrome-mv3');

const children: ChildProcess[] = [];
function stopAll(code = 0): never {
  for (const c of children) c.kill('SIGTERM');
  process.exit(code);
}
process.on('SIGINT', () => stopAll());
process.on('SIGTERM', () => stopAll());

function run(args: string[], name: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code) => {
    if (code !== null && code !== 0) {
      console.error(`${name} stopped with code ${code}`);
      stopAll(1);
    }
  });
  children.push(child);
  return child;
}

async function waitFor(url: string, what: string) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error(`${what} did not come up at ${url}`);
  stopAll(1);
}

mkdirSync(DATA_DIR, { recursive: true });
if (process.argv.includes('--no-build') && existsSync(path.join(EXTENSION_DIR, 'manifest.json'))) {
  console.log('Using the extension already built in .output/chrome-mv3');
} else {
  console.log('Building the extension (wxt build)...');
  const build = spawnSync('npx', ['wxt', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) stopAll(build.status ?? 1);
}

run(['server/main.ts', '--port', String(BACKEND_PORT), '--db', DB, '--seed', 'demo'], 'backend');
run(['server/demo-crm/serve.ts', '--port', String(CRM_PORT)], 'demo CRM');
await waitFor(`http://127.0.0.1:${BACKEND_PORT}/api/health`, 'backend');
await waitFor(`http://127.0.0.1:${CRM_PORT}/contacts`, 'demo CRM');

const crmUrl = `http://127.0.0.1:${CRM_PORT}/contacts`;
console.log(`
CPNI Guard demo is running.
  Backend    http://127.0.0.1:${BACKEND_PORT}  (SQLite ${path.relative(ROOT, DB)}; API document /api/openapi.json)
  Demo CRM   ${crmUrl}
  Extension  ${path.relative(ROOT, EXTENSION_DIR)}  (chrome://extensions -> Developer mode -> Load unpacked)

Sign in from the extension's options page with backend URL http://127.0.0.1:${BACKEND_PORT}
and password "demo-password" as one of:
  rep@demo.test  rep2@demo.test  marketing@demo.test  manager@demo.test  counsel@demo.test  admin@demo.test
Then open ${crmUrl}/C-1001 (opted in) and ${crmUrl}/C-1002 (no approval) and press
"Send marketing email" on each. Managers see blocked actions on the extension's dashboard page.
Ctrl-C stops everything.`);

if (process.env.DISPLAY && existsSync(CHROMIUM) && !process.argv.includes('--no-browser')) {
  const browser = spawn(
    CHROMIUM,
    [
      `--user-data-dir=${path.join(DATA_DIR, 'chromium-profile')}`,
      `--disable-extensions-except=${EXTENSION_DIR}`,
      `--load-extension=${EXTENSION_DIR}`,
      '--no-first-run',
      '--disable-background-networking',
      crmUrl,
    ],
    { stdio: 'ignore' },
  );
  children.push(browser);
  console.log(`Opened Chromium with the extension loaded (${CHROMIUM}).`);
}

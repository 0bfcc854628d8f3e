// The vendor CRMs' saved pages (test/fixtures/<crm>/) served over HTTPS on 127.0.0.1 under their
// real host names: one node:https server with a throwaway self-signed certificate picks the CRM
// by the Host header, and Chromium is told to resolve the vendors' domains to it
// (--host-resolver-rules, which carries the port) and to accept the certificate. So the
// extension's real match patterns (https://*.lightning.force.com/* ...) are what is exercised.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './harness';

export type VendorCrm = 'salesforce' | 'hubspot' | 'dynamics' | 'zendesk' | 'zoho';

const FIXTURES = path.join(ROOT, 'test/fixtures');

interface Site {
  crm: VendorCrm;
  /** The host the tests open, and the resolver-rule pattern that sends it (and its kin) here. */
  host: string;
  pattern: string;
  hostTest: (host: string) => boolean;
  /** Saved page for a path (+ query); null = 404. */
  page: (url: URL) => string | null;
}

export const SITES: readonly Site[] = [
  {
    crm: 'salesforce',
    host: 'acme.lightning.force.com',
    pattern: '*.lightning.force.com',
    hostTest: (h) => h.endsWith('.lightning.force.com'),
    page: (u) => {
      const m = /^\/lightning\/r\/(?:Contact\/)?([A-Za-z0-9]{18})\/view$/.exec(u.pathname);
      if (m) return `record-${m[1]}.html`;
      return /^\/lightning\/(o\/Contact\/list|page\/home)$/.test(u.pathname) ? 'list.html' : null;
    },
  },
  {
    crm: 'hubspot',
    host: 'app.hubspot.com',
    pattern: 'app.hubspot.com',
    hostTest: (h) => h === 'app.hubspot.com',
    page: (u) => {
      const m = /^\/contacts\/\d+\/(?:record\/0-1|contact)\/(\d+)$/.exec(u.pathname);
      if (m) return `record-${m[1]}.html`;
      return /^\/contacts\/\d+\/objects\/0-1\/views\/all\/list$/.test(u.pathname) ? 'list.html' : null;
    },
  },
  {
    crm: 'dynamics',
    host: 'acme.crm.dynamics.com',
    pattern: '*.dynamics.com',
    hostTest: (h) => h.endsWith('.dynamics.com'),
    page: (u) => {
      const q = u.searchParams;
      const id = (q.get('id') ?? '').replace(/[{}]/g, '').toLowerCase();
      if (u.pathname === '/main.aspx' && q.get('pagetype') === 'entityrecord') return `main-${id}.html`;
      if (u.pathname === '/main.aspx' && q.get('pagetype') === 'entitylist') return 'list.html';
      if (u.pathname === '/form/Page.aspx') return `form-${id}.html`;
      return null;
    },
  },
  {
    crm: 'zendesk',
    host: 'acme.zendesk.com',
    pattern: '*.zendesk.com',
    hostTest: (h) => h.endsWith('.zendesk.com'),
    page: (u) => {
      const m = /^\/agent\/users\/(\d+)(?:\/[a-z_]+)?$/.exec(u.pathname);
      if (m) return `user-${m[1]}.html`;
      return u.pathname === '/agent/user_filters' ? 'list.html' : null;
    },
  },
  {
    crm: 'zoho',
    host: 'crm.zoho.com',
    pattern: 'crm.zoho.com',
    hostTest: (h) => h === 'crm.zoho.com',
    page: (u) => {
      const m = /^\/crm\/(?:org\d+\/)?tab\/Contacts\/(\d+)$/.exec(u.pathname);
      if (m) return `contact-${m[1]}.html`;
      return /^\/crm\/org\d+\/tab\/Contacts\/custom-view\/\d+\/list$/.test(u.pathname) ? 'list.html' : null;
    },
  },
];

export class CrmFixtureServer {
  private server: Server | null = null;
  private dir: string | null = null;
  port = 0;
  readonly requests: string[] = [];

  async start(): Promise<void> {
    this.dir = mkdtempSync(path.join(tmpdir(), 'cpni-crm-tls-'));
    const key = path.join(this.dir, 'key.pem');
    const cert = path.join(this.dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], {
      stdio: 'ignore',
    });
    this.server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      void this.handle(req.headers.host ?? '', req.url ?? '/').then(
        ({ status, type, body }) => {
          res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
          res.end(body);
        },
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  private async handle(hostHeader: string, rawUrl: string): Promise<{ status: number; type: string; body: string }> {
    const host = hostHeader.replace(/:\d+$/, '');
    const site = SITES.find((s) => s.hostTest(host));
    this.requests.push(`${host}${rawUrl}`);
    if (!site) return { status: 404, type: 'text/plain', body: 'no such CRM\n' };
    const url = new URL(rawUrl, `https://${host}`);
    let file: string | null;
    if (url.pathname === '/__fixture/shared.js') file = path.join(FIXTURES, '_shared/fixture-crm.js');
    else if (/^\/__fixture\/[a-z-]+\.js$/.test(url.pathname)) file = path.join(FIXTURES, site.crm, path.basename(url.pathname));
    else {
      const name = site.page(url);
      file = name && /^[\w.-]+$/.test(name) ? path.join(FIXTURES, site.crm, name) : null;
    }
    if (!file) return { status: 404, type: 'text/plain', body: 'not found\n' };
    try {
      const body = await readFile(file, 'utf8');
      return { status: 200, type: file.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8', body };
    } catch {
      return { status: 404, type: 'text/plain', body: 'not found\n' };
    }
  }

  /** Chromium flags that send the vendors' domains here (and nothing else: the backend on
   * 127.0.0.1 and the demo CRM are not mapped). */
  chromiumArgs(): string[] {
    const rules = SITES.map((s) => `MAP ${s.pattern} 127.0.0.1:${this.port}`).join(', ');
    return [`--host-resolver-rules=${rules}`, '--ignore-certificate-errors'];
  }

  url(crm: VendorCrm, pathAndQuery: string): string {
    return `https://${SITES.find((s) => s.crm === crm)!.host}${pathAndQuery}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

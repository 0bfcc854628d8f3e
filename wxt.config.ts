import { defineConfig } from 'wxt';
import { CRM_MATCHES } from './lib/crm-matches';

// The CRMs the built-in adapters know (lib/crm-matches.ts, shared with the content script's
// `matches`), plus the demo CRM and tests on this machine. Admin-defined adapters for other
// origins ask for them at run time (optional_host_permissions).
export default defineConfig({
  modules: ['@wxt-dev/module-react', '@wxt-dev/webextension-polyfill'],
  manifest: {
    name: 'CPNI Guard',
    description:
      'CPNI status, caller verification and approval checks inside your CRM (47 C.F.R. 64.2001-64.2011).',
    permissions: ['storage', 'alarms', 'unlimitedStorage', 'scripting'],
    host_permissions: [...CRM_MATCHES],
    optional_host_permissions: ['https://*/*', 'http://*/*'],
    // The panel must load wherever the guard runs, including origins an admin-defined adapter
    // was granted at run time, which a static list cannot name. A page that frames panel.html
    // learns nothing: the panel gets its data only from the background, for the record our own
    // content script opened in that tab. (use_dynamic_url would hide the extension from probing
    // pages, but changes the panel's origin, which the background checks senders against.)
    web_accessible_resources: [{ resources: ['panel.html'], matches: ['<all_urls>'] }],
  },
});

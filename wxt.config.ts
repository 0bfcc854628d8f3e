import { defineConfig } from 'wxt';

// The CRMs the built-in adapters know, plus the demo CRM and tests on this machine.
// Admin-defined adapters for other origins ask for them at run time (optional_host_permissions).
export const CRM_MATCHES = [
  'http://localhost/*',
  'http://127.0.0.1/*',
];

export default defineConfig({
  modules: ['@wxt-dev/module-react', '@wxt-dev/webextension-polyfill'],
  manifest: {
    name: 'CPNI Guard',
    description:
      'CPNI status, caller verification and approval checks inside your CRM (47 C.F.R. 64.2001-64.2011).',
    permissions: ['storage', 'alarms', 'unlimitedStorage'],
    host_permissions: CRM_MATCHES,
    optional_host_permissions: ['https://*/*', 'http://*/*'],
    web_accessible_resources: [
      { resources: ['panel.html'], matches: CRM_MATCHES },
    ],
  },
});

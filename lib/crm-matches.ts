// The origins the built-in CRM adapters work on: one list for the manifest's host permissions,
// its web-accessible resources and the content script's `matches`. Admin-defined adapters for
// other origins ask for them at run time (optional_host_permissions).
export const CRM_MATCHES = [
  // Salesforce Lightning Experience: <mydomain>.lightning.force.com (sandboxes included)
  'https://*.lightning.force.com/*',
  // HubSpot: app.hubspot.com, and the EU data centre
  'https://app.hubspot.com/*',
  'https://app-eu1.hubspot.com/*',
  // Microsoft Dynamics 365 model-driven apps: <org>.crm[N].dynamics.com
  'https://*.dynamics.com/*',
  // Zendesk Support: <subdomain>.zendesk.com
  'https://*.zendesk.com/*',
  // Zoho CRM, per data centre
  'https://crm.zoho.com/*',
  'https://crm.zoho.eu/*',
  'https://crm.zoho.in/*',
  'https://crm.zoho.com.au/*',
  'https://crm.zoho.jp/*',
  'https://crm.zohocloud.ca/*',
  // The demo CRM and the tests on this machine
  'http://localhost/*',
  'http://127.0.0.1/*',
] as const;

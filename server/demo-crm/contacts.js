// Acme Telecom CRM demo data. The CRM ids (C-1001 ...) match the backend seed (crm "demo-crm");
// C-9999 is a contact the backend does not know. Phones, emails and account numbers follow
// server/seed.ts (+1 407-555-01NN, first.last@example.com, ACCT-7000NN), shown the CRM's way.
export const CONTACTS = [
  { id: 'C-1001', name: 'Ada Opted-In', phone: '(407) 555-0101', email: 'ada.optedin@example.com', account: 'ACCT-700001', services: 'Wireless, Local' },
  { id: 'C-1002', name: 'Ben No-Approval', phone: '(407) 555-0102', email: 'ben.noapproval@example.com', account: 'ACCT-700002', services: 'Wireless' },
  { id: 'C-1003', name: 'Cara Denied', phone: '(407) 555-0103', email: 'cara.denied@example.com', account: 'ACCT-700003', services: 'Local, Long distance' },
  { id: 'C-1004', name: 'Dan Revoked', phone: '(407) 555-0104', email: 'dan.revoked@example.com', account: 'ACCT-700004', services: 'Wireless' },
  { id: 'C-1005', name: 'Eve Pending opt-out', phone: '(407) 555-0105', email: 'eve.pending.optout@example.com', account: 'ACCT-700005', services: 'Local' },
  { id: 'C-1006', name: 'Finn Business', phone: '(407) 555-0106', email: 'finn.business@example.com', account: 'ACCT-700006', services: 'Local, Long distance, Wireless (business)' },
  { id: 'C-1007', name: 'Gus Recent-Address', phone: '(407) 555-0107', email: 'gus.recentaddress@example.com', account: 'ACCT-700007', services: 'Wireless' },
  { id: 'C-1008', name: 'Hana Settled', phone: '(407) 555-0108', email: 'hana.settled@example.com', account: 'ACCT-700008', services: 'Wireless, Long distance' },
  { id: 'C-1009', name: 'Ivan Opt-Out-Effective', phone: '(407) 555-0109', email: 'ivan.optouteffective@example.com', account: 'ACCT-700009', services: 'Local' },
  { id: 'C-1010', name: 'Jade Pending-Mailed', phone: '(407) 555-0110', email: 'jade.pendingmailed@example.com', account: 'ACCT-700010', services: 'Local, Wireless' },
  { id: 'C-1011', name: 'Kofi One-Call', phone: '(407) 555-0111', email: 'kofi.onecall@example.com', account: 'ACCT-700011', services: 'Wireless' },
  { id: 'C-1012', name: 'Lena Third-Party', phone: '(407) 555-0112', email: 'lena.thirdparty@example.com', account: 'ACCT-700012', services: 'Wireless, Local' },
  { id: 'C-9999', name: 'Zed Unknown', phone: '(407) 555-0199', email: 'zed.unknown@example.com', account: 'ACCT-799999', services: 'Local' },
];

export function findContact(id) {
  return CONTACTS.find((c) => c.id === id) ?? null;
}

// A few made-up calls, shown by "Show call detail" (call detail is CPNI: 64.2003(g)).
export function callDetailFor(contact) {
  const n = Number(contact.id.replace(/\D/g, '')) % 7;
  return [
    { at: '2025-11-0' + (n + 1) + ' 09:1' + n, to: '(321) 555-01' + (20 + n), minutes: 3 + n },
    { at: '2025-11-1' + n + ' 17:4' + n, to: '(689) 555-01' + (40 + n), minutes: 12 - n },
  ];
}

// Acme Telecom CRM: a small single-page CRM used to demonstrate and test CPNI Guard.
// Plain JS, no build. Routes: /contacts (list), /contacts/<id> (record). In-app links are
// intercepted and use history.pushState; content renders a little after navigation, like
// real CRMs that fetch the record first. Every action writes a line to the Activity log, so a
// test can tell whether the CRM's own handler ran.
import { CONTACTS, findContact, callDetailFor } from '/contacts.js';

const RENDER_DELAY_MS = 150;
const app = document.getElementById('app');
const log = document.getElementById('activity-log');
let renderTimer = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function activity(text) {
  const time = new Date().toLocaleTimeString('en-US', { hour12: false });
  const entry = el('li', { 'data-testid': 'activity-entry' }, el('time', {}, time), ' ', el('span', { class: 'activity-text' }, text));
  log.prepend(entry);
}

function button(action, label) {
  return el('button', { type: 'button', class: 'btn', 'data-crm-action': action }, label);
}

function renderList() {
  const rows = CONTACTS.map((c) =>
    el(
      'tr',
      { 'data-contact-id': c.id },
      el('td', {}, c.id),
      el('td', {}, el('a', { href: `/contacts/${c.id}`, 'data-testid': 'contact-link' }, c.name)),
      el('td', {}, c.phone),
      el('td', {}, c.email),
    ),
  );
  return el(
    'section',
    { class: 'contact-list', 'data-testid': 'contact-list' },
    el('div', { class: 'toolbar' }, el('h1', {}, 'Contacts'), button('export', 'Export list')),
    el(
      'table',
      { class: 'contacts' },
      el('thead', {}, el('tr', {}, el('th', {}, 'ID'), el('th', {}, 'Name'), el('th', {}, 'Phone'), el('th', {}, 'Email'))),
      el('tbody', {}, ...rows),
    ),
  );
}

function renderRecord(c) {
  const digits = c.phone.replace(/\D/g, '');
  return el(
    'section',
    { class: 'record', 'data-testid': 'contact-record', 'data-contact-id': c.id },
    el('p', { class: 'crumbs' }, el('a', { href: '/contacts' }, '← Contacts')),
    el('div', { class: 'record-header' }, el('h1', { 'data-testid': 'contact-name' }, c.name), el('span', { class: 'crm-id', 'data-testid': 'contact-id' }, c.id)),
    el(
      'dl',
      { class: 'fields' },
      el('dt', {}, 'Phone'), el('dd', { 'data-field': 'phone', 'data-testid': 'contact-phone' }, c.phone),
      el('dt', {}, 'Email'), el('dd', { 'data-field': 'email', 'data-testid': 'contact-email' }, c.email),
      el('dt', {}, 'Account number'), el('dd', { 'data-field': 'account', 'data-testid': 'contact-account' }, c.account),
      el('dt', {}, 'Services'), el('dd', { 'data-field': 'services' }, c.services),
    ),
    el(
      'div',
      { class: 'actions', 'data-testid': 'record-actions' },
      button('marketing-email', 'Send marketing email'),
      button('add-to-campaign', 'Add to campaign'),
      el('a', { href: `tel:+1${digits}`, class: 'btn', 'data-crm-action': 'call' }, 'Call'),
      button('call-detail', 'Show call detail'),
      button('export', 'Export list'),
    ),
    el('div', { id: 'call-detail', 'data-testid': 'call-detail', hidden: true }),
    // Edit account: saving the address of record or the password is an account change (policy §10).
    el(
      'section',
      { class: 'account-edit', 'data-testid': 'account-edit' },
      el('h2', {}, 'Edit account'),
      el('label', { for: 'edit-address' }, 'New address of record '),
      el('input', { id: 'edit-address', name: 'address', size: 28, autocomplete: 'off' }),
      ' ',
      button('save-address', 'Save address of record'),
      el('br'),
      el('label', { for: 'edit-password' }, 'New account password '),
      el('input', { id: 'edit-password', name: 'password', type: 'password', size: 16, autocomplete: 'new-password' }),
      ' ',
      button('save-password', 'Save password'),
    ),
  );
}

// Campaigns: the CRM's campaign screen names the CPNI Guard campaign id it launches.
function renderCampaigns() {
  const form = el(
    'form',
    { class: 'campaign-open', 'data-testid': 'campaign-open' },
    el('label', { for: 'campaign-id' }, 'CPNI Guard campaign id '),
    el('input', { id: 'campaign-id', name: 'id', required: true, size: 40 }),
    ' ',
    el('button', { type: 'submit', class: 'btn' }, 'Open campaign'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = form.elements.id.value.trim();
    if (id) navigate(`/campaigns/${encodeURIComponent(id)}`);
  });
  return el('section', { class: 'campaigns', 'data-testid': 'campaigns' }, el('h1', {}, 'Campaigns'), form);
}

function renderCampaign(id) {
  return el(
    'section',
    { class: 'campaign', 'data-testid': 'campaign', 'data-campaign-id': id },
    el('p', { class: 'crumbs' }, el('a', { href: '/campaigns' }, '← Campaigns')),
    el('h1', {}, 'Campaign'),
    el('p', {}, 'CPNI Guard campaign id: ', el('code', { 'data-testid': 'crm-campaign-id' }, id)),
    el('div', { class: 'actions' }, el('button', { type: 'button', class: 'btn', 'data-crm-action': 'launch-campaign', 'data-campaign-id': id }, 'Launch campaign')),
  );
}

function renderNotFound(id) {
  return el('section', { class: 'not-found', 'data-testid': 'not-found' }, el('h1', {}, 'Contact not found'), el('p', {}, `No contact ${id}.`), el('a', { href: '/contacts' }, 'Back to contacts'));
}

function route() {
  clearTimeout(renderTimer);
  const path = location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/') {
    history.replaceState(null, '', '/contacts');
    return route();
  }
  app.replaceChildren(el('p', { class: 'loading', 'data-testid': 'loading' }, 'Loading…'));
  renderTimer = setTimeout(() => {
    const m = path.match(/^\/contacts\/([^/]+)$/);
    const cm = path.match(/^\/campaigns\/([^/]+)$/);
    let view;
    if (path === '/campaigns') {
      document.title = 'Campaigns · Acme Telecom CRM';
      view = renderCampaigns();
    } else if (cm) {
      document.title = 'Campaign · Acme Telecom CRM';
      view = renderCampaign(decodeURIComponent(cm[1]));
    } else if (path === '/contacts') {
      document.title = 'Contacts · Acme Telecom CRM';
      view = renderList();
    } else if (m) {
      const c = findContact(decodeURIComponent(m[1]));
      document.title = (c ? c.name : 'Not found') + ' · Acme Telecom CRM';
      view = c ? renderRecord(c) : renderNotFound(decodeURIComponent(m[1]));
    } else {
      view = renderNotFound(path);
    }
    app.replaceChildren(view);
  }, RENDER_DELAY_MS);
}

function navigate(href) {
  const url = new URL(href, location.href);
  if (url.href === location.href) return;
  history.pushState(null, '', url.pathname + url.search + url.hash);
  route();
}

function currentContact() {
  const rec = app.querySelector('[data-testid="contact-record"]');
  return rec ? findContact(rec.getAttribute('data-contact-id')) : null;
}

// The CRM's own handlers (bubble phase, delegated, as most CRMs do).
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const target = event.target instanceof Element ? event.target : null;
  const control = target?.closest('[data-crm-action]');
  if (control) {
    const c = currentContact();
    const who = c ? c.name : 'all contacts';
    switch (control.getAttribute('data-crm-action')) {
      case 'marketing-email':
        activity(`Marketing email sent to ${who}`);
        break;
      case 'add-to-campaign':
        activity(`${who} added to campaign "Fiber Fall Promo"`);
        break;
      case 'call':
        // Click-to-dial through the CRM's softphone instead of the OS tel: handler.
        event.preventDefault();
        activity(`Dialing ${who} at ${c ? c.phone : '?'}`);
        break;
      case 'call-detail': {
        if (!c) break;
        const box = document.getElementById('call-detail');
        box.replaceChildren(
          el('h2', {}, 'Call detail'),
          el('ul', {}, ...callDetailFor(c).map((r) => el('li', {}, `${r.at} to ${r.to}, ${r.minutes} min`))),
        );
        box.hidden = false;
        activity(`Call detail shown for ${who}`);
        break;
      }
      case 'export':
        activity(`Contact list exported (${CONTACTS.length} contacts)`);
        break;
      case 'save-address':
        activity(`Address of record updated for ${who}`);
        break;
      case 'save-password':
        activity(`Account password changed for ${who}`);
        break;
      case 'launch-campaign':
        activity(`Campaign ${control.getAttribute('data-campaign-id')} launched`);
        break;
    }
    return;
  }
  const link = target?.closest('a[href]');
  if (link && !link.target) {
    const url = new URL(link.href);
    if (url.origin === location.origin) {
      event.preventDefault();
      navigate(url.href);
    }
  }
});

window.addEventListener('popstate', route);
route();

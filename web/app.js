// Wiring: the tabs, the token field, the problem area, the editor dialog, and the poll that
// redraws the current view. Writes go through the same REST API as curl would: POST to create,
// a JSON merge patch with If-Match to edit, DELETE (with If-Match) to delete.

import { ApiError, getToken, list, onUnauthorized, openapi, request, setToken } from './api.js';
import { endpoint, fill, h, statePill } from './dom.js';
import { schemaForm } from './forms.js';
import { compact, startPolling } from './live.js';
import { kinds, objectTable } from './resources.js';
import { bgpCard, servicesView, syncCard } from './services.js';

const enc = encodeURIComponent;
const views = [{ id: 'services', title: 'Services' }, ...kinds, { id: 'sync', title: 'Sync & BGP' }, { id: 'sessions', title: 'Sessions' }];
const byId = (id) => document.getElementById(id);
const view = byId('view');
const editor = h('dialog', { id: 'editor' });
document.body.append(editor);

let doc = null;
let live = null;
let pollNow = () => {};

const current = () => views.find((v) => `#${v.id}` === location.hash) ?? views[0];

// --- problems: what the API refused, shown until dismissed or (for polling) until it answers.

const problems = new Map();

function renderProblems() {
  const area = byId('problems');
  area.hidden = problems.size === 0;
  fill(area, [...problems].map(([key, { error, at }]) => h('div', { class: 'problem', dataset: { key } },
    h('button', { type: 'button', class: 'dismiss', title: 'dismiss', onclick: () => report(key, null) }, '×'),
    h('strong', {}, error.problem?.title ?? 'Error'),
    error.status ? ` ${error.status}` : '',
    error.method ? h('code', {}, ` ${error.method} ${error.path}`) : '',
    h('span', {}, ` ${error.problem?.detail ?? error.message}`),
    h('span', { class: 'muted' }, ` (${at.toLocaleTimeString()})`),
    (error.problem?.errors ?? []).length > 0 && h('ul', {}, error.problem.errors.map((e) => h('li', {}, h('code', {}, e.field), ` ${e.message}`))))));
}

function report(key, error) {
  if (error) problems.set(key, { error, at: new Date() });
  else problems.delete(key);
  renderProblems();
}

// --- token

const tokenInput = byId('token');
tokenInput.value = getToken();
onUnauthorized(() => {
  tokenInput.classList.add('attention');
  tokenInput.placeholder = 'this appliance needs its token';
});
byId('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  setToken(tokenInput.value.trim());
  tokenInput.classList.remove('attention');
  pollNow();
});

// --- the editor dialog

async function schemaDoc() {
  doc ??= await openapi();
  return doc;
}

// Fields that name another object (the schema says only "a Name"): offered the existing names.
const references = { nic: '/api/v1/nics', localAddressPool: '/api/v1/local-address-pools', healthCheck: '/api/v1/health-checks' };

async function choicesFor(schema) {
  const keys = Object.keys(schema.properties ?? {}).filter((k) => references[k]);
  return Object.fromEntries(await Promise.all(keys.map(async (k) => [k, (await list(references[k])).map((o) => o.name)])));
}

async function openEditor({ schemaName, title, original, fixedName, save }) {
  let d;
  let choices;
  try {
    d = await schemaDoc();
    choices = await choicesFor(d.components.schemas[schemaName]);
  } catch (err) {
    return report('action', err);
  }
  const form = schemaForm({
    doc: d, schemaName, title, original, fixedName, choices,
    onSave: async (sent) => {
      await save(sent);
      editor.close();
      pollNow();
    },
    onCancel: () => editor.close(),
  });
  fill(editor, form);
  editor.showModal();
  form.querySelector('input, select, textarea')?.focus();
}

/** Create (POST to the collection) or edit (merge patch guarded by the version read). */
function editObject({ collection, schemaName, label, original }) {
  const url = original && `${collection}/${enc(original.name)}`;
  return openEditor({
    schemaName,
    title: original ? `Edit ${label} ${original.name}` : `New ${label}`,
    original,
    fixedName: Boolean(original),
    save: ({ body, patch }) => original
      ? Object.keys(patch).length && request('PATCH', url, patch, { contentType: 'application/merge-patch+json', ifMatch: original.resourceVersion })
      : request('POST', collection, body),
  });
}

async function removeObject(collection, label, object) {
  if (!confirm(`Delete ${label} "${object.name}"?`)) return;
  try {
    await request('DELETE', `${collection}/${enc(object.name)}`, undefined, { ifMatch: object.resourceVersion });
    report('action', null);
  } catch (err) {
    report('action', err);
  }
  pollNow();
}

// --- views

const serviceActions = {
  addService: () => editObject({ collection: '/api/v1/virtual-services', schemaName: 'VirtualService', label: 'virtual service' }),
  editService: (s) => editObject({ collection: '/api/v1/virtual-services', schemaName: 'VirtualService', label: 'virtual service', original: s }),
  removeService: (s) => removeObject('/api/v1/virtual-services', 'virtual service', s),
  addServer: (s) => editObject({ collection: `/api/v1/virtual-services/${enc(s.name)}/real-servers`, schemaName: 'RealServer', label: `real server of ${s.name}` }),
  editServer: (s, r) => editObject({ collection: `/api/v1/virtual-services/${enc(s.name)}/real-servers`, schemaName: 'RealServer', label: 'real server', original: r }),
  removeServer: (s, r) => removeObject(`/api/v1/virtual-services/${enc(s.name)}/real-servers`, `real server of ${s.name}`, r),
};

function heading(title, ...extra) {
  return h('div', { class: 'toolbar' }, h('h2', {}, title), ...extra);
}

async function kindView(kind) {
  // NICs come with the poll (their rates need two snapshots); the others are read here.
  const items = kind.id === 'nics' ? live.nics : await list(kind.path);
  const actions = {
    edit: (o) => editObject({ collection: kind.path, schemaName: kind.schema, label: kind.singular, original: o }),
    remove: (o) => removeObject(kind.path, kind.singular, o),
  };
  return [
    heading(kind.title, h('button', { type: 'button', class: 'primary', onclick: () => editObject({ collection: kind.path, schemaName: kind.schema, label: kind.singular }) }, `+ New ${kind.singular}`)),
    objectTable(kind, items, live, actions),
  ];
}

function syncView() {
  return [
    heading('Session sync', h('button', { type: 'button', class: 'primary', onclick: () =>
      openEditor({ schemaName: 'Sync', title: 'Sync settings', original: live.sync, fixedName: false, save: ({ patch }) =>
        Object.keys(patch).length && request('PATCH', '/api/v1/sync', patch, { contentType: 'application/merge-patch+json', ifMatch: live.sync.resourceVersion }) }) }, 'Edit settings')),
    h('div', { class: 'narrow' }, syncCard(live.sync),
      h('section', { class: 'card' }, h('h3', {}, 'Settings'), h('table', { class: 'kv' },
        h('tr', {}, h('th', {}, 'enabled'), h('td', {}, statePill(String(live.sync.enabled ?? false)))),
        h('tr', {}, h('th', {}, 'redis'), h('td', {}, live.sync.redisUrl ?? '—')),
        h('tr', {}, h('th', {}, 'configured role'), h('td', {}, live.sync.role ?? '—'))))),
    heading('BGP', h('span', {},
      live.bgp.enabled && h('button', { type: 'button', onclick: () => patchBgp({ drain: !live.bgp.drain }) }, live.bgp.drain ? 'Undrain' : 'Drain'),
      h('button', { type: 'button', class: 'primary', onclick: () =>
        openEditor({ schemaName: 'Bgp', title: 'BGP settings', original: live.bgp, fixedName: false, save: ({ patch }) => Object.keys(patch).length && patchBgp(patch) }) }, 'Edit settings'))),
    h('div', { class: 'narrow' }, bgpCard(live.bgp)),
  ];
}

function patchBgp(patch) {
  return request('PATCH', '/api/v1/bgp', patch, { contentType: 'application/merge-patch+json', ifMatch: live.bgp.resourceVersion });
}

async function sessionsView() {
  const columns = ['protocol', 'state', 'client', 'virtual', 'local', 'real server', 'service', 'worker', 'expires in', 'origin'];
  const ep = (e) => (e ? endpoint(e.address, e.port) : '');
  let page;
  try {
    page = await request('GET', '/api/v1/sessions?limit=500');
  } catch (err) {
    if (!(err instanceof ApiError) || err.status === 401) throw err;
    return [heading('Sessions'), h('p', { class: 'empty' }, `${err.problem.title}: ${err.problem.detail ?? ''}`)];
  }
  return [
    heading('Sessions', h('span', { class: 'muted' }, `${page.items.length}${page.nextCursor ? '+' : ''} shown (first 500)`)),
    h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c)))),
      h('tbody', {}, page.items.map((s) => h('tr', {},
        h('td', {}, s.protocol), h('td', {}, s.state), h('td', {}, ep(s.client)), h('td', {}, ep(s.virtual)), h('td', {}, ep(s.local)),
        h('td', {}, `${s.realServerName ?? ''} ${ep(s.realServer)}`), h('td', {}, s.virtualService), h('td', { class: 'num' }, s.worker),
        h('td', { class: 'num' }, `${compact(s.expiresInMs / 1000)} s`), h('td', {}, s.origin))))),
  ];
}

async function render() {
  const v = current();
  for (const tab of byId('tabs').children) tab.classList.toggle('current', tab.dataset.view === v.id);
  if (!live) return;
  const kind = kinds.find((k) => k.id === v.id);
  const content = v.id === 'services' ? servicesView(live, serviceActions)
    : v.id === 'sync' ? syncView()
    : v.id === 'sessions' ? await sessionsView()
    : await kindView(kind);
  // A tab switched during the await draws its own view.
  if (current() === v) fill(view, content);
}

fill(byId('tabs'), views.map((v) => h('a', { href: `#${v.id}`, dataset: { view: v.id } }, v.title)));
window.addEventListener('hashchange', () => render().catch((err) => report('poll', err)));

pollNow = startPolling(
  async (snapshot) => {
    live = snapshot;
    byId('poll-state').textContent = `live · ${new Date().toLocaleTimeString()}`;
    byId('poll-state').classList.remove('stale');
    try {
      await render();
      report('poll', null);
    } catch (err) {
      report('poll', err);
    }
  },
  (err) => {
    byId('poll-state').textContent = 'not updating';
    byId('poll-state').classList.add('stale');
    report('poll', err);
  },
);

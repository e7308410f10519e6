// The configuration kinds the panel edits, each with its collection path, its OpenAPI component
// schema (the form) and the columns of its table, and the table itself: rows with Edit and
// Delete buttons. Virtual services and real servers have their own live view (services.js).

import { h, statePill } from './dom.js';
import { compact } from './live.js';

const join = (values) => (values ?? []).join(', ');

/** Kinds edited in a plain table: NICs and their supporting objects. */
export const kinds = [
  {
    id: 'nics', title: 'NICs', singular: 'NIC', path: '/api/v1/nics', schema: 'Nic',
    columns: [
      ['device', (o) => o.device],
      ['networks', (o) => join(o.networks)],
      ['probe address', (o) => o.probeAddress],
      ['gateway', (o) => o.gateway],
      ['mtu', (o) => o.mtu, 'num'],
      ['link', (o) => statePill(o.status?.link ?? 'n/a')],
      ['rx pkt/s', (o, live) => compact(live?.rate(`nic:${o.name}:rxPackets`)), 'num'],
      ['tx pkt/s', (o, live) => compact(live?.rate(`nic:${o.name}:txPackets`)), 'num'],
      ['rx B/s', (o, live) => compact(live?.rate(`nic:${o.name}:rxBytes`)), 'num'],
      ['tx B/s', (o, live) => compact(live?.rate(`nic:${o.name}:txBytes`)), 'num'],
    ],
  },
  {
    id: 'local-address-pools', title: 'Local address pools', singular: 'local address pool', path: '/api/v1/local-address-pools', schema: 'LocalAddressPool',
    columns: [
      ['nic', (o) => o.nic],
      ['addresses', (o) => join(o.addresses)],
      ['ports', (o) => o.portRange && `${o.portRange.min}–${o.portRange.max}`],
    ],
  },
  {
    id: 'routes', title: 'Routes', singular: 'route', path: '/api/v1/routes', schema: 'Route',
    columns: [
      ['prefix', (o) => o.prefix],
      ['via', (o) => o.via],
      ['nic', (o) => o.nic],
    ],
  },
  {
    id: 'health-checks', title: 'Health checks', singular: 'health check', path: '/api/v1/health-checks', schema: 'HealthCheck',
    columns: [
      ['type', (o) => o.type],
      ['interval ms', (o) => o.intervalMs, 'num'],
      ['timeout ms', (o) => o.timeoutMs, 'num'],
      ['rise/fall', (o) => `${o.rise}/${o.fall}`, 'num'],
      ['probe', (o) => (o.http ? `GET ${o.http.path}${o.http.expectBody ? ` ∋ "${o.http.expectBody}"` : ''}` : o.udp ? `"${o.udp.payload}"` : 'connect')],
    ],
  },
];

/** Whether the engine runs an object's last write yet: applied, or pending until it has. */
export function appliedPill(o) {
  const s = o.status ?? {};
  if (s.generation === undefined || s.appliedGeneration === undefined) return null;
  return s.appliedGeneration >= s.generation
    ? statePill('applied', `generation ${s.generation}, engine at ${s.appliedGeneration}`)
    : h('span', { class: 'pill warn', title: `generation ${s.generation}, engine at ${s.appliedGeneration}` }, 'pending');
}

/**
 * A table of `items` with the kind's columns, a name column first and Edit/Delete last.
 * actions: { edit(item), remove(item) }.
 */
export function objectTable(kind, items, live, actions) {
  const head = h('tr', {}, h('th', {}, 'name'), kind.columns.map(([label, , cls]) => h('th', { class: cls }, label)), h('th', {}, 'engine'), h('th', {}, ''));
  const rows = items.map((o) => h('tr', { dataset: { name: o.name } },
    h('td', { class: 'name' }, o.name),
    kind.columns.map(([, value, cls]) => h('td', { class: cls }, value(o, live) ?? '')),
    h('td', {}, appliedPill(o)),
    h('td', { class: 'row-actions' },
      h('button', { type: 'button', onclick: () => actions.edit(o) }, 'Edit'),
      h('button', { type: 'button', class: 'danger', onclick: () => actions.remove(o) }, 'Delete'))));
  return h('table', { class: 'grid', dataset: { kind: kind.id } },
    h('thead', {}, head),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { class: 'empty', colspan: kind.columns.length + 3 }, `No ${kind.title.toLowerCase()} yet.`))));
}

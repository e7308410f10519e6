// The live view: each virtual service with its traffic, sessions and health, its real servers
// with their health through every NIC that probes them, and beside it the NICs' links and
// rates, session sync and the configuration generation. Rebuilt from every poll's snapshot.

import { endpoint, h, pill, statePill } from './dom.js';
import { compact } from './live.js';
import { appliedPill } from './resources.js';

/** The sum of a figure over items; null when no item has it (no data plane). */
function sum(items, get) {
  const values = items.map(get).filter((v) => typeof v === 'number');
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

/** "in / out" rates of a counter pair. */
function inOut(rate, prefix, field) {
  return `${compact(rate(`${prefix}:${field}In`))} / ${compact(rate(`${prefix}:${field}Out`))}`;
}

function healthCell(service, server) {
  const health = server.status?.health;
  if (!health) return h('span', { class: 'muted' }, service.healthCheck ? 'not probed' : 'no check');
  return Object.entries(health).map(([nic, s]) => {
    const detail = [`through NIC ${nic}`, s.egress ? 'forwarding NIC: sets the weight' : 'probed only', s.lastError && `last error: ${s.lastError}`, `since ${s.since}`];
    const el = statePill(s.state, detail.filter(Boolean).join('\n'), `${nic}${s.egress ? ' ▸' : ''} ${s.state}`);
    el.dataset.nic = nic;
    el.dataset.state = s.state;
    return el;
  });
}

function serverRows(service, servers, rate, actions) {
  if (!servers.length) return [h('tr', {}, h('td', { class: 'empty', colspan: 9 }, 'No real servers yet.'))];
  return servers.map((r) => {
    const key = `rs:${service.name}:${r.name}`;
    return h('tr', { dataset: { realServer: r.name } },
      h('td', { class: 'name' }, r.name, r.enabled ? null : [' ', pill('disabled', 'warn')]),
      h('td', {}, endpoint(r.address, r.port)),
      h('td', { class: 'num' }, r.weight),
      h('td', { class: 'health' }, healthCell(service, r)),
      h('td', { class: 'num' }, `${compact(r.status?.activeSessions)} / ${compact(r.status?.inactiveSessions)}`),
      h('td', { class: 'num' }, compact(rate(`${key}:newSessions`))),
      h('td', { class: 'num' }, inOut(rate, key, 'packets')),
      h('td', { class: 'num' }, inOut(rate, key, 'bytes')),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', onclick: () => actions.editServer(service, r) }, 'Edit'),
        h('button', { type: 'button', class: 'danger', onclick: () => actions.removeServer(service, r) }, 'Delete')));
  });
}

function serviceBlock(service, servers, rate, actions) {
  const key = `vs:${service.name}`;
  const health = service.status?.health;
  const figure = (label, value, name) => h('div', { class: 'figure', dataset: { figure: name } }, h('span', { class: 'label' }, label), h('span', { class: 'value' }, value));
  return h('section', { class: 'service', dataset: { service: service.name } },
    h('header', {},
      h('h2', {}, service.name),
      h('span', { class: 'vip' }, `${endpoint(service.address, service.port)}/${service.protocol}`),
      health ? statePill(health.state, health.failingNics.length ? `failing NICs: ${health.failingNics.join(', ')}` : undefined) : pill(service.healthCheck ? 'not probed' : 'no check'),
      service.enabled ? null : pill('disabled', 'warn'),
      appliedPill(service),
      h('span', { class: 'muted' }, `nic ${service.nic} · pool ${service.localAddressPool} · ${service.scheduler}${service.healthCheck ? ` · check ${service.healthCheck}` : ''}${service.clientAddress !== 'none' ? ` · ${service.clientAddress}` : ''}`),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', onclick: () => actions.addServer(service) }, '+ Real server'),
      h('button', { type: 'button', onclick: () => actions.editService(service) }, 'Edit'),
      h('button', { type: 'button', class: 'danger', onclick: () => actions.removeService(service) }, 'Delete')),
    h('div', { class: 'figures' },
      figure('new conn/s', compact(rate(`${key}:newSessions`)), 'connections'),
      figure('pkt/s in / out', inOut(rate, key, 'packets'), 'packets'),
      figure('B/s in / out', inOut(rate, key, 'bytes'), 'bytes'),
      figure('sessions active / inactive', `${compact(sum(servers, (r) => r.status?.activeSessions))} / ${compact(sum(servers, (r) => r.status?.inactiveSessions))}`, 'sessions'),
      figure('servers up / down / unknown', health ? `${health.up} / ${health.down} / ${health.unknown}` : '—', 'health')),
    h('table', { class: 'grid' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'real server'), h('th', {}, 'address'), h('th', { class: 'num' }, 'weight'),
        h('th', { title: '▸ marks the NIC the data plane forwards through: its state sets the weight' }, 'health per NIC'),
        h('th', { class: 'num', title: 'active (TCP established, UDP) / inactive' }, 'sessions'),
        ['conn/s', 'pkt/s in / out', 'B/s in / out'].map((t) => h('th', { class: 'num' }, t)),
        h('th', {}))),
      h('tbody', {}, serverRows(service, servers, rate, actions))));
}

export function syncCard(sync) {
  const s = sync.status ?? {};
  const lag = s.lag ?? {};
  const ms = (v) => (v === null || v === undefined ? '—' : `${v} ms`);
  const peers = s.peers ?? [];
  const row = (label, ...value) => h('tr', {}, h('th', {}, label), h('td', {}, ...value));
  return h('section', { class: 'card', id: 'sync-card' },
    h('h3', {}, 'Session sync'),
    h('table', { class: 'kv' },
      row('state', statePill(s.state ?? (sync.enabled ? 'unknown' : 'disabled'), s.lastError?.message)),
      row('role', s.role ? statePill(s.role) : '—'),
      row('node', s.nodeId ?? sync.nodeId ?? '—'),
      row('peers', `${peers.filter((p) => p.compatible).length} (${peers.filter((p) => !p.compatible).length} refused)`),
      s.role === 'multi-active' && row('cluster', statePill(String(s.clusterReady), 'whether this node holds the cluster\'s sessions (it announces its VIPs only then)', s.clusterReady ? 'ready' : 'joining')),
      row('peer copies / taken over', `${compact(s.records?.peerSessions)} / ${compact(s.records?.takenOver)} (${compact(s.records?.takenOverPackets)} packets)`),
      row('lag p50 / p99', `${ms(lag.p50Ms)} / ${ms(lag.p99Ms)}`),
      row('records sent / recv', `${compact(s.records?.sent)} / ${compact(s.records?.received)}`),
      row('redis errors', compact(s.redisErrors))),
    peers.length > 0 && h('ul', { class: 'peers' }, peers.map((p) =>
      h('li', { title: Object.entries(p.addresses ?? {}).map(([pool, a]) => `${pool}: ${a.join(', ')}`).join('\n') || undefined },
        statePill(p.compatible ? p.role : 'refused', p.reason), ` ${p.nodeId} · ${compact(p.recordsReceived)} records`))));
}

/** The BGP speaker: each neighbour's session and what this node announces. */
export function bgpCard(bgp) {
  const s = bgp.status ?? {};
  const row = (label, ...value) => h('tr', {}, h('th', {}, label), h('td', {}, ...value));
  return h('section', { class: 'card', id: 'bgp-card' },
    h('h3', {}, 'BGP'),
    h('table', { class: 'kv' },
      row('speaker', bgp.enabled ? statePill(s.speakerRunning ? 'up' : 'down', s.lastError?.message, s.speakerRunning ? `bird ${s.version ?? ''}` : 'not running') : statePill('disabled')),
      bgp.enabled && row('drain', s.draining ? pill('drained', 'warn', 'every route withdrawn; forwarding goes on') : pill('no')),
      bgp.enabled && row('announced', s.announced?.length ? h('ul', { class: 'peers' }, s.announced.map((p) => h('li', {}, p))) : '—')),
    (s.neighbors ?? []).length > 0 && h('ul', { class: 'peers' }, s.neighbors.map((n) =>
      h('li', {}, statePill(n.state, n.lastError ?? undefined), ` ${n.address} AS${n.asn} via ${n.nic}`))));
}

function nicCard(nics, rate) {
  return h('section', { class: 'card' },
    h('h3', {}, 'NICs'),
    h('table', { class: 'grid compact' },
      h('thead', {}, h('tr', {}, h('th', {}, 'nic'), h('th', {}, 'link'), h('th', { class: 'num' }, 'rx / tx pkt/s'))),
      h('tbody', {}, nics.map((n) => h('tr', {},
        h('td', { class: 'name' }, n.name),
        h('td', {}, statePill(n.status?.link ?? 'n/a')),
        h('td', { class: 'num' }, `${compact(rate(`nic:${n.name}:rxPackets`))} / ${compact(rate(`nic:${n.name}:txPackets`))}`))))));
}

function generationCard(health) {
  const pending = health.generation !== undefined && health.appliedGeneration !== undefined && health.appliedGeneration < health.generation;
  return h('section', { class: 'card' },
    h('h3', {}, 'Configuration'),
    h('table', { class: 'kv' },
      h('tr', {}, h('th', {}, 'engine'), h('td', {}, health.engine ?? '—')),
      h('tr', {}, h('th', {}, 'generation / applied'), h('td', {}, `${health.generation ?? '—'} / ${health.appliedGeneration ?? '—'} `, pending ? pill('pending', 'warn') : pill('applied', 'good', 'the engine runs the stored configuration')))));
}

/** The whole live view for one snapshot. */
export function servicesView(live, actions) {
  return h('div', { class: 'live' },
    h('div', { class: 'services' },
      h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', onclick: actions.addService }, '+ Virtual service')),
      live.services.length
        ? live.services.map((s) => serviceBlock(s, live.servers[s.name] ?? [], live.rate, actions))
        : h('p', { class: 'empty' }, 'No virtual services yet: create the NICs and a local address pool first, then a service and its real servers.')),
    h('aside', {}, syncCard(live.sync), bgpCard(live.bgp), nicCard(live.nics, live.rate), generationCard(live.health)));
}

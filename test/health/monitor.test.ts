// The health checker wired to a store and an API, probing real HTTP servers on loopback
// addresses. The engine is a stand-in that records the health overlay and reports NIC links,
// so this runs without root or a data plane (the namespace test covers those).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { createAjv } from '../../api/openapi.js';
import type { HealthOverlay } from '../../engine/engine.js';
import { HealthMonitor } from '../../engine/health/monitor.js';
import { OffEngine } from '../../engine/off-engine.js';
import type { NativeNicStatus, NativeStatus } from '../../engine/dataplane/native.js';
import { Reconciler } from '../../engine/reconciler.js';
import { openDb } from '../../store/db.js';
import { Store } from '../../store/store.js';
import { waitFor } from '../e2e/netns.js';

/** The off engine, recording the health overlay and reporting the NIC links a test sets. */
class RecordingEngine extends OffEngine {
  overlay: HealthOverlay = new Map();
  readonly links = new Map<string, boolean>();

  override applyHealth(down: HealthOverlay): void {
    this.overlay = down;
  }
  override nics(): NativeNicStatus[] {
    return this.counters().nics;
  }
  override counters(): NativeStatus {
    const nic = (name: string, linkUp: boolean): NativeNicStatus => ({
      name,
      port: 0,
      tap: '',
      linkUp,
      speedMbps: 0,
      counters: { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, toKernel: 0, fromKernel: 0, arpIn: 0, arpOut: 0, ndIn: 0, ndOut: 0, icmpEcho: 0, drops: {} },
      device: { rxPackets: 0, txPackets: 0, rxMissed: 0, rxErrors: 0, txErrors: 0 },
    });
    const nics = [...this.links].map(([name, up]) => nic(name, up));
    const sync = { eventsQueued: 0, ringOverflows: 0, installed: 0, updated: 0, closed: 0, takenOver: 0, takenOverPackets: 0, peerSessions: 0, dropped: {} };
    return { generation: 0, sessionsLive: 0, sessionsExpired: 0, sessionsReset: 0, sync, nics, services: [], workers: [] };
  }
}

function httpServer(address: string, name: string): Promise<Server> {
  const server = createServer((_req, res) => res.end(`${name}\n`));
  return new Promise((resolve) => server.listen(0, address, () => resolve(server)));
}

const portOf = (s: Server) => (s.address() as { port: number }).port;

describe('health monitor over the API, on loopback', () => {
  let app: FastifyInstance;
  let store: Store;
  let monitor: HealthMonitor;
  const engine = new RecordingEngine();
  const servers: Record<string, Server> = {};
  const ports: Record<string, number> = {};
  const addresses = { rs1: '127.0.1.11', rs2: '127.0.1.12', rs3: '127.0.2.13' };
  const logLines: { level: number; msg: string; cause?: string; realServer?: string; nic?: string }[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });

  const json = async (method: string, url: string, body?: unknown) => {
    const r = await app.inject({ method: method as 'GET', url, ...(body === undefined ? {} : { payload: body as object }) });
    assert.ok(r.statusCode < 300, `${method} ${url} → ${r.statusCode} ${r.body}`);
    return r.body ? r.json() : undefined;
  };
  const health = async (vs: string, rs: string) => (await json('GET', `/api/v1/virtual-services/${vs}/real-servers/${rs}`)).status.health;
  const waitState = (vs: string, rs: string, nic: string, state: string) =>
    waitFor(`${vs}/${rs} ${state} through ${nic}`, async () => (await health(vs, rs))?.[nic]?.state === state, 100, 50);

  before(async () => {
    for (const [name, address] of Object.entries(addresses)) {
      servers[name] = await httpServer(address, name);
      ports[name] = portOf(servers[name]);
    }
    store = new Store(openDb(':memory:'));
    const reconciler = new Reconciler(store, engine);
    reconciler.start();
    monitor = new HealthMonitor(store, engine, { runIp: async () => {} });
    app = await buildApp({ store, reconciler, health: monitor, logger: { level: 'info', stream: logStream } });
    monitor.start(app.log);
    engine.links.set('a', true).set('b', true);
    await json('PUT', '/api/v1/nics/a', { device: 'net_af_packet0,iface=a0', networks: ['127.0.1.0/24'], probeAddress: '127.0.1.2/24' });
    await json('PUT', '/api/v1/nics/b', { device: 'net_af_packet1,iface=b0', networks: ['127.0.2.0/24'], probeAddress: '127.0.2.2/24' });
    await json('PUT', '/api/v1/local-address-pools/lips', { nic: 'a', addresses: ['127.0.1.100'] });
    await json('PUT', '/api/v1/health-checks/web', { type: 'http', intervalMs: 100, timeoutMs: 100, rise: 2, fall: 2, http: { path: '/', expectBody: 'rs' } });
    for (const [vs, vip] of [['web', '10.0.0.1'], ['other', '10.0.0.2']])
      await json('PUT', `/api/v1/virtual-services/${vs}`, { address: vip, port: 80, protocol: 'tcp', nic: 'a', localAddressPool: 'lips', healthCheck: 'web' });
    for (const rs of ['rs1', 'rs2'] as const)
      await json('PUT', `/api/v1/virtual-services/web/real-servers/${rs}`, { address: addresses[rs], port: ports[rs] });
    await json('PUT', '/api/v1/virtual-services/other/real-servers/rs3', { address: addresses.rs3, port: ports.rs3 });
  });

  after(async () => {
    await app.close();
    await monitor.close();
    store.close();
    for (const s of Object.values(servers)) s.close();
  });

  test('servers come up through the NIC that reaches them; the service is healthy', async () => {
    await waitState('web', 'rs1', 'a', 'up');
    await waitState('web', 'rs2', 'a', 'up');
    const h = await health('web', 'rs1');
    assert.deepEqual(Object.keys(h), ['a']);
    assert.equal(h.a.egress, true);
    assert.equal(h.a.lastResult, 'success');
    assert.equal(h.a.transitions, 1);
    const vs = await json('GET', '/api/v1/virtual-services/web');
    assert.deepEqual(vs.status.health, { state: 'healthy', up: 2, down: 0, unknown: 0, failingNics: [] });
    assert.equal(engine.overlay.size, 0);
  });

  test('a stopped server goes down after fall probes and the engine takes it out of scheduling', async () => {
    servers.rs1.close();
    servers.rs1.closeAllConnections();
    await waitState('web', 'rs1', 'a', 'down');
    const h = await health('web', 'rs1');
    assert.match(h.a.lastError, /ECONNREFUSED/);
    await waitFor('the overlay', async () => engine.overlay.get('web')?.has('rs1'));
    assert.equal(engine.overlay.get('web')?.has('rs2'), false);
    const vs = await json('GET', '/api/v1/virtual-services/web');
    assert.equal(vs.status.health.state, 'degraded');
    assert.equal(vs.status.health.down, 1);
    assert.deepEqual(vs.status.health.failingNics, []);
    // The stored weight is untouched: health is status.
    assert.equal((await json('GET', '/api/v1/virtual-services/web/real-servers/rs1')).weight, 1);
  });

  test('back again, it comes up after rise probes and its weight returns', async () => {
    servers.rs1 = createServer((_req, res) => res.end('rs1\n')).listen(ports.rs1, addresses.rs1);
    await waitState('web', 'rs1', 'a', 'up');
    await waitFor('the overlay to clear', async () => engine.overlay.size === 0);
    assert.equal((await health('web', 'rs1')).a.transitions, 3);
  });

  test('a NIC whose link goes down fails the services behind it only', async () => {
    engine.links.set('b', false);
    await waitState('other', 'rs3', 'b', 'down');
    assert.match((await health('other', 'rs3')).b.lastError, /link of NIC b is down/);
    const other = await json('GET', '/api/v1/virtual-services/other');
    assert.equal(other.status.health.state, 'degraded');
    assert.deepEqual(other.status.health.failingNics, ['b']);
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /^l4lb_service_failing_nic\{service="other",nic="b"\} 1$/m);
    assert.match(text, /^l4lb_service_health\{service="other",state="degraded"\} 1$/m);
    assert.match(text, /^l4lb_service_real_servers\{service="other",health="down"\} 1$/m);
    const web = await json('GET', '/api/v1/virtual-services/web');
    assert.equal(web.status.health.state, 'healthy');
    assert.equal((await health('web', 'rs2')).a.state, 'up');
    engine.links.set('b', true);
    await waitState('other', 'rs3', 'b', 'up');
  });

  test('each transition is logged once, with its cause: down at warn with the probe\'s error, up at info', () => {
    const rs1 = logLines.filter((l) => l.realServer === 'rs1' && l.nic === 'a');
    assert.deepEqual(rs1.map((l) => [l.level, l.msg.replace(/: .*/, '')]), [
      [30, 'real server rs1 of web through NIC a is up'],
      [40, 'real server rs1 of web through NIC a is down'],
      [30, 'real server rs1 of web through NIC a is up'],
    ]);
    assert.match(rs1[1].cause!, /ECONNREFUSED/);
    assert.equal(rs1[2].cause, 'its probes succeed');
  });

  test('health in status matches openapi.yaml', async () => {
    const ajv = createAjv({ useDefaults: false, coerceTypes: false });
    for (const [schema, url] of [['RealServer', '/api/v1/virtual-services/web/real-servers/rs1'], ['VirtualService', '/api/v1/virtual-services/other']]) {
      const body = await json('GET', url);
      assert.ok(body.status.health, url);
      const validate = ajv.getSchema(schema)!;
      assert.ok(validate(body), `${url}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  test('metrics count probes, durations, changes and show each state', async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /^l4lb_health_probes_total\{type="http",result="success"\} [1-9]\d*/m);
    assert.match(text, /^l4lb_health_probes_total\{type="http",result="failure"\} [1-9]\d*/m);
    assert.match(text, /^l4lb_health_probe_duration_seconds_count\{type="http"\} [1-9]\d*/m);
    assert.match(text, /^l4lb_health_state_changes_total\{service="web",real_server="rs1",nic="a",to="down"\} 1$/m);
    assert.match(text, /^l4lb_health_state\{service="web",real_server="rs2",nic="a",state="up"\} 1$/m);
    assert.match(text, /^l4lb_health_state\{service="web",real_server="rs2",nic="a",state="down"\} 0$/m);
    // The service-level figures the panel shows (status.health of the virtual services).
    assert.match(text, /^l4lb_service_health\{service="web",state="healthy"\} 1$/m);
    assert.match(text, /^l4lb_service_real_servers\{service="web",health="up"\} 2$/m);
    assert.match(text, /^l4lb_service_real_servers\{service="web",health="down"\} 0$/m);
    assert.match(text, /^l4lb_service_health\{service="other",state="healthy"\} 1$/m);
    assert.doesNotMatch(text, /^l4lb_service_failing_nic\{/m);
  });

  test('removing the health check from a service stops its checks at once', async () => {
    servers.rs2.close();
    servers.rs2.closeAllConnections();
    await waitState('web', 'rs2', 'a', 'down');
    await waitFor('the overlay', async () => engine.overlay.get('web')?.has('rs2'));
    await json('PATCH', '/api/v1/virtual-services/web', { healthCheck: null });
    await waitFor('the overlay to clear', async () => !engine.overlay.get('web'), 20, 10);
    assert.equal(await health('web', 'rs2'), undefined);
    assert.equal((await json('GET', '/api/v1/virtual-services/web')).status.health, undefined);
    await json('PATCH', '/api/v1/virtual-services/web', { healthCheck: 'web' });
    await waitFor('a new check', async () => (await health('web', 'rs2'))?.a !== undefined, 20, 10);
    assert.equal((await health('web', 'rs2')).a.state, 'unknown');
  });

  test('a deleted server leaves the overlay and stops being probed; the other servers keep their state', async () => {
    // The check was attached again just before: rs1 starts unknown, as rs2 does, and must settle first.
    await waitState('web', 'rs1', 'a', 'up');
    await waitFor('rs2 down in the overlay', async () => engine.overlay.get('web')?.has('rs2'), 100, 50);
    const rs1 = await health('web', 'rs1');
    await json('DELETE', '/api/v1/virtual-services/web/real-servers/rs2');
    await waitFor('the overlay to clear', async () => !engine.overlay.get('web'), 20, 10);
    assert.ok(![...monitor.states()].some(({ target }) => target.server === 'rs2'));
    const after = await health('web', 'rs1');
    assert.equal(after.a.transitions, rs1.a.transitions);   // re-read, not restarted
    assert.equal(after.a.state, 'up');
    assert.equal((await health('other', 'rs3')).b.state, 'up');
  });
});

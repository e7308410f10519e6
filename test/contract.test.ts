// The contract test: every operation in openapi.yaml is served, and every response the
// scenario below provokes (successes and problems alike) validates against what the
// document declares for that operation and status.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { fastifyPath } from '../api/openapi.js';
import { assertDeclared, operationById as byId, operations } from './contract-responses.js';
import { seed, testApp } from './helpers.js';

interface Call {
  operationId: string;
  url: string;
  body?: unknown;
  contentType?: string;
}

const vsUrl = '/api/v1/virtual-services/web';
const rsUrl = `${vsUrl}/real-servers`;

/** One call per operation and then some: each success path, and a failure for most. */
const scenario: Call[] = [
  { operationId: 'listNics', url: '/api/v1/nics' },
  { operationId: 'createNic', url: '/api/v1/nics', body: { name: 'extra', device: 'net_af_packet0,iface=dp0', networks: ['10.9.0.0/24'] } },
  { operationId: 'createNic', url: '/api/v1/nics', body: { name: 'extra', device: 'net_af_packet1,iface=dp1', networks: ['10.9.0.0/24'] } },
  { operationId: 'createNic', url: '/api/v1/nics', body: { name: 'bad', device: 'net_af_packet2,iface=dp2', networks: ['10.9.0.0/33'] } },
  { operationId: 'getNic', url: '/api/v1/nics/extra' },
  { operationId: 'getNic', url: '/api/v1/nics/missing' },
  { operationId: 'putNic', url: '/api/v1/nics/extra', body: { device: 'net_af_packet0,iface=dp0', networks: ['10.9.0.0/16'] } },
  { operationId: 'patchNic', url: '/api/v1/nics/extra', body: { mtu: 9000 }, contentType: 'application/merge-patch+json' },
  { operationId: 'createRoute', url: '/api/v1/routes', body: { name: 'far', prefix: '10.50.0.0/16', via: '10.0.2.1', nic: 'server' } },
  { operationId: 'listRoutes', url: '/api/v1/routes' },
  { operationId: 'getRoute', url: '/api/v1/routes/far' },
  { operationId: 'putRoute', url: '/api/v1/routes/far', body: { prefix: '10.50.0.0/16', via: '10.0.2.254', nic: 'server' } },
  { operationId: 'patchRoute', url: '/api/v1/routes/far', body: { via: '10.1.1.1' } },
  { operationId: 'deleteRoute', url: '/api/v1/routes/far' },
  { operationId: 'listLocalAddressPools', url: '/api/v1/local-address-pools' },
  { operationId: 'createLocalAddressPool', url: '/api/v1/local-address-pools', body: { name: 'p2', nic: 'extra', addresses: ['10.9.0.5'] } },
  { operationId: 'getLocalAddressPool', url: '/api/v1/local-address-pools/p2' },
  { operationId: 'putLocalAddressPool', url: '/api/v1/local-address-pools/p2', body: { nic: 'extra', addresses: ['10.9.0.6'], portRange: { min: 2000, max: 3000 } } },
  { operationId: 'patchLocalAddressPool', url: '/api/v1/local-address-pools/p2', body: { portRange: { min: 4000, max: 3000 } } },
  { operationId: 'deleteLocalAddressPool', url: '/api/v1/local-address-pools/p2' },
  { operationId: 'deleteNic', url: '/api/v1/nics/extra' },
  { operationId: 'listHealthChecks', url: '/api/v1/health-checks' },
  { operationId: 'createHealthCheck', url: '/api/v1/health-checks', body: { name: 'dns', type: 'udp', udp: { payload: 'ping', expect: 'pong' } } },
  { operationId: 'getHealthCheck', url: '/api/v1/health-checks/dns' },
  { operationId: 'putHealthCheck', url: '/api/v1/health-checks/dns', body: { type: 'tcp', intervalMs: 500, timeoutMs: 200 } },
  { operationId: 'patchHealthCheck', url: '/api/v1/health-checks/dns', body: { timeoutMs: 900 } },
  { operationId: 'deleteHealthCheck', url: '/api/v1/health-checks/web' },
  { operationId: 'deleteHealthCheck', url: '/api/v1/health-checks/dns' },
  { operationId: 'listVirtualServices', url: '/api/v1/virtual-services' },
  { operationId: 'createVirtualService', url: '/api/v1/virtual-services', body: { address: '10.0.1.20', port: 53, protocol: 'udp', nic: 'client', localAddressPool: 'lips' } },
  { operationId: 'getVirtualService', url: '/api/v1/virtual-services/10.0.1.20-53-udp' },
  { operationId: 'putVirtualService', url: '/api/v1/virtual-services/10.0.1.20-53-udp', body: { address: '10.0.1.20', port: 53, protocol: 'udp', nic: 'client', localAddressPool: 'lips', scheduler: 'mh' } },
  { operationId: 'patchVirtualService', url: '/api/v1/virtual-services/10.0.1.20-53-udp', body: { clientAddress: 'toa' } },
  { operationId: 'deleteVirtualService', url: '/api/v1/virtual-services/10.0.1.20-53-udp' },
  { operationId: 'listRealServers', url: rsUrl },
  { operationId: 'listRealServers', url: '/api/v1/virtual-services/missing/real-servers' },
  { operationId: 'createRealServer', url: rsUrl, body: { address: '10.0.2.13' } },
  { operationId: 'getRealServer', url: `${rsUrl}/10.0.2.13-80` },
  { operationId: 'putRealServer', url: `${rsUrl}/10.0.2.13-80`, body: { address: '10.0.2.13', port: 8080, weight: 0 } },
  { operationId: 'patchRealServer', url: `${rsUrl}/10.0.2.13-80`, body: { enabled: false } },
  { operationId: 'deleteRealServer', url: `${rsUrl}/10.0.2.13-80` },
  { operationId: 'getSync', url: '/api/v1/sync' },
  { operationId: 'putSync', url: '/api/v1/sync', body: { enabled: true, redisUrl: 'unix:///run/redis.sock', redisPassword: 'secret', role: 'backup' } },
  { operationId: 'patchSync', url: '/api/v1/sync', body: { role: 'active' } },
  { operationId: 'patchSync', url: '/api/v1/sync', body: { redisUrl: null } },
  { operationId: 'getBgp', url: '/api/v1/bgp' },
  { operationId: 'putBgp', url: '/api/v1/bgp', body: { enabled: true, asn: 65001, neighbors: [{ address: '10.0.1.254', asn: 65000, nic: 'client' }], coveringPrefixes: ['10.9.1.0/24'] } },
  { operationId: 'putBgp', url: '/api/v1/bgp', body: { enabled: true, asn: 65001, neighbors: [{ address: '10.0.3.254', asn: 65000, nic: 'client' }] } },
  { operationId: 'patchBgp', url: '/api/v1/bgp', body: { drain: true } },
  { operationId: 'patchBgp', url: '/api/v1/bgp', body: { enabled: false } },
  { operationId: 'getConfigStore', url: '/api/v1/config-store' },
  { operationId: 'listSessions', url: '/api/v1/sessions?limit=10' },
  { operationId: 'flushSessions', url: '/api/v1/sessions' },
  { operationId: 'getHealthz', url: '/healthz' },
  { operationId: 'getReadyz', url: '/readyz' },
  { operationId: 'getMetrics', url: '/metrics' },
];

function checkResponse(call: Call, response: LightMyRequestResponse): void {
  const { operation } = byId.get(call.operationId)!;
  const where = `${call.operationId} ${call.url} → ${response.statusCode}`;
  assert.notEqual(response.statusCode, 500, `${where}: ${response.body}`);
  assertDeclared(operation, response, where);
}

test('every operation in openapi.yaml is exercised by the scenario', () => {
  const covered = new Set(scenario.map((c) => c.operationId));
  const missing = [...byId.keys()].filter((id) => !covered.has(id));
  assert.deepEqual(missing, []);
});

test('every operation is served and every response matches the document', async () => {
  const t = await testApp();
  try {
    await seed(t);
    for (const { path, method } of operations) {
      assert.ok(t.app.hasRoute({ method: method.toUpperCase() as 'GET', url: fastifyPath(path) }), `${method} ${path} is not served`);
    }
    const statuses = new Set<number>();
    for (const call of scenario) {
      const { method } = byId.get(call.operationId)!;
      const headers: Record<string, string> = call.body === undefined ? {} : { 'content-type': call.contentType ?? 'application/json' };
      const response = await t.app.inject({
        method: method.toUpperCase() as 'GET',
        url: call.url,
        headers,
        ...(call.body === undefined ? {} : { payload: JSON.stringify(call.body) }),
      });
      checkResponse(call, response);
      statuses.add(response.statusCode);
    }
    // The scenario must have provoked successes and each main failure class.
    for (const status of [200, 201, 204, 400, 404, 409, 422, 503]) assert.ok(statuses.has(status), `no response with status ${status}`);
  } finally {
    await t.close();
  }
});

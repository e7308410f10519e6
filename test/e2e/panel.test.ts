// The admin panel end to end: Debian's Chromium (headless, driven by playwright-core) on the
// panel of an appliance running the DPDK engine in lb1 with a bearer token. Through the panel
// only: the token, the NICs, the pool, an http health check, a virtual service and its two
// real servers; then traffic through the VIP moves the panel's figures, a stopped nginx shows
// down on its NIC, an invalid address shows the API's problem with the field named, an IPv6
// service shows canonical and bracketed, and a delete in the panel removes the service from the API. Leaves test-artifacts/panel.png.
// Needs root; fails rather than skips under CI=true.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectFile } from '../../lib/project-files.js';
import { servicePlan, startAppliance, type Appliance, type ServicePlan } from './appliance.js';
import { curl } from './clients.js';
import { socketProxy, type SocketProxy } from './http-proxy.js';
import { requireRoot } from './netns.js';
import { startNginx, type Server } from './servers.js';
import { buildTopology, plan, plan6, type Topology } from './topology.js';

const skip = requireRoot();
const token = randomBytes(16).toString('hex');
const rs = plan.realServers;
const screenshot = projectFile('test-artifacts', 'panel.png');

describe('the admin panel in a browser (DPDK engine, bearer token)', { skip }, () => {
  let topo: Topology;
  let lb: Appliance;
  let lbPlan: ServicePlan;
  let proxy: SocketProxy;
  let browser: Browser;
  let page: Page;
  const servers: Record<string, Server> = {};
  let traffic: { stop: () => Promise<string[]> } | undefined;

  /** The API as the test sees it: through the same proxy, with the token. */
  const api = async (method: string, path: string, body?: unknown) => {
    const headers = { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const r = await fetch(`${proxy.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: r.status === 204 ? null : await r.json() };
  };

  /** Fills the open editor: [data-path] of each field → its value (a select gets the option). */
  const fillForm = async (values: Record<string, string>) => {
    for (const [path, value] of Object.entries(values)) {
      const input = page.locator(`dialog[open] [data-path="${path}"]`).locator('input, select, textarea').first();
      if ((await input.evaluate((e) => e.tagName)) === 'SELECT') await input.selectOption(value);
      else await input.fill(value);
    }
  };

  /** Submits the open editor; resolves when it closed, throws the problem it shows instead. */
  const submit = async () => {
    await page.locator('dialog[open] button[type=submit]').click();
    await page.waitForFunction(() => !document.querySelector('dialog[open]') || !(document.querySelector('dialog[open] .form-problem') as HTMLElement).hidden);
    const problem = page.locator('dialog[open] .form-problem');
    if (await problem.isVisible()) throw new Error(`the panel shows a problem: ${await problem.textContent()}`);
  };

  const create = async (tab: string, button: string, values: Record<string, string>) => {
    await page.getByRole('link', { name: tab, exact: true }).click();
    await page.getByRole('button', { name: button }).click();
    await fillForm(values);
    await submit();
    await page.locator(`table tr[data-name="${values['/name']}"]`).waitFor();
  };

  const service = (name = 'web') => page.locator(`section.service[data-service="${name}"]`);
  // Up is green (good), down red (bad).
  const healthPill = (server: string, state: 'up' | 'down') =>
    service().locator(`tr[data-real-server="${server}"] .pill.${state === 'up' ? 'good' : 'bad'}[data-nic="server"][data-state="${state}"]`);
  /** A live figure's numbers ("1.50 / 2.00" → [1.5, 2]); "—" is not a number yet. */
  const figure = async (name: string) =>
    ((await service().locator(`[data-figure="${name}"] .value`).textContent()) ?? '').split(' / ').map((v) => Number.parseFloat(v));
  const moving = (name: string) => page.waitForFunction((n) => {
    const text = document.querySelector(`section.service[data-service="web"] [data-figure="${n}"] .value`)?.textContent ?? '';
    return text.split(' / ').every((v) => Number.parseFloat(v) > 0);
  }, name);

  /** curl through the VIP from the client, over and over until stopped; refused attempts are skipped. */
  const startTraffic = () => {
    let running = true;
    const answers: string[] = [];
    const loop = (async () => {
      while (running) answers.push((await curl(topo, `http://${lbPlan.vip}/`).catch(() => '')).trim());
    })();
    return { stop: async () => {
      running = false;
      await loop;
      return answers;
    } };
  };

  before(async () => {
    topo = await buildTopology();
    for (const name of ['rs1', 'rs2'] as const) servers[name] = await startNginx(topo.ns[name], rs[name], { name });
    const dir = mkdtempSync(join(tmpdir(), 'l4e-lb-'));
    lb = await startAppliance(topo.ns.lb1, ['--workers', '1', '--token', token], dir);
    lbPlan = servicePlan(topo, 'lb1', 0);
    proxy = await socketProxy(join(dir, 'api.sock'));
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('dialog', (dialog) => dialog.accept());
  });

  after(async () => {
    await traffic?.stop();
    await browser?.close();
    await proxy?.close();
    if (lb) await lb.stop();
    for (const s of Object.values(servers)) await s.stop();
    await topo?.destroy();
  });

  test('the panel asks for the token on the API\'s 401 and works once it is entered', async () => {
    await page.goto(`${proxy.url}/`);
    await page.locator('#token.attention').waitFor();
    await page.locator('#problems .problem', { hasText: 'Unauthorized' }).waitFor();
    await page.locator('#token').fill(token);
    await page.getByRole('button', { name: 'Use' }).click();
    await page.locator('#poll-state', { hasText: 'live' }).waitFor();
    await page.locator('#problems').waitFor({ state: 'hidden' });
  });

  test('NICs, a local address pool and an http health check are created through the forms', async () => {
    for (const side of ['client', 'server'] as const) {
      await create('NICs', '+ New NIC', {
        '/name': side,
        '/device': lbPlan.vdev(side),
        '/networks': side === 'client' ? plan.clientNetwork : plan.serverNetwork,
        '/probeAddress': lbPlan.probe[side],
      });
    }
    await page.locator('table tr[data-name="server"] .pill', { hasText: 'up' }).waitFor();
    await create('Local address pools', '+ New local address pool', { '/name': 'lips', '/nic': 'server', '/addresses': lbPlan.localAddress });
    await create('Health checks', '+ New health check', {
      '/name': 'http', '/type': 'http', '/intervalMs': '200', '/timeoutMs': '200', '/rise': '2', '/fall': '2', '/http/path': '/', '/http/expectBody': 'rs',
    });
    const check = (await api('GET', '/api/v1/health-checks/http')).body;
    assert.deepEqual([check.type, check.intervalMs, check.http], ['http', 200, { path: '/', expectBody: 'rs', expectStatus: [200] }]);
  });

  test('a virtual service and two real servers built in the panel are in the API as entered', async () => {
    await page.getByRole('link', { name: 'Services', exact: true }).click();
    await page.getByRole('button', { name: '+ Virtual service' }).click();
    await fillForm({
      '/name': 'web', '/address': lbPlan.vip, '/port': '80', '/protocol': 'tcp', '/nic': 'client', '/localAddressPool': 'lips', '/scheduler': 'rr', '/healthCheck': 'http',
    });
    await submit();
    for (const name of ['rs1', 'rs2'] as const) {
      await service().getByRole('button', { name: '+ Real server' }).click();
      await fillForm({ '/name': name, '/address': rs[name] });
      await submit();
      await service().locator(`tr[data-real-server="${name}"]`).waitFor();
    }
    const web = (await api('GET', '/api/v1/virtual-services/web')).body;
    assert.deepEqual(
      [web.address, web.port, web.protocol, web.nic, web.localAddressPool, web.scheduler, web.healthCheck],
      [lbPlan.vip, 80, 'tcp', 'client', 'lips', 'rr', 'http'],
    );
    const list = (await api('GET', '/api/v1/virtual-services/web/real-servers')).body.items;
    assert.deepEqual(list.map((r: any) => [r.name, r.address, r.port, r.weight]), [['rs1', rs.rs1, 80, 1], ['rs2', rs.rs2, 80, 1]]);
  });

  test('both real servers show up through the server NIC', async () => {
    await healthPill('rs1', 'up').waitFor();
    await healthPill('rs2', 'up').waitFor();
    await service().locator('header .pill', { hasText: 'healthy' }).waitFor();
  });

  test('traffic through the VIP moves the panel\'s connection, packet and byte rates', async () => {
    traffic = startTraffic();
    await moving('connections');
    await moving('packets');
    await moving('bytes');
    assert.ok((await figure('connections'))[0]! > 0);
    // The sessions behind those figures, listed one by one.
    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await page.locator('table.grid tbody tr', { hasText: `${lbPlan.vip}:80` }).first().waitFor();
    await page.getByRole('link', { name: 'Services', exact: true }).click();
  });

  test('a stopped nginx shows down on its NIC and the service degraded', async () => {
    await servers.rs2!.stop();
    await healthPill('rs2', 'down').waitFor();
    await healthPill('rs1', 'up').waitFor();
    await service().locator('header .pill', { hasText: 'degraded' }).waitFor();
    await moving('connections');
    mkdirSync(projectFile('test-artifacts'), { recursive: true });
    await page.screenshot({ path: screenshot });
    console.log(`# panel screenshot: ${screenshot}`);
    const answers = await traffic!.stop();
    traffic = undefined;
    assert.ok(answers.includes('rs1') && answers.includes('rs2'), `both servers answered: ${[...new Set(answers)].join(' ')}`);
  });

  test('an invalid address shows the API\'s problem in the form with the field named', async () => {
    await service().getByRole('button', { name: '+ Real server' }).click();
    await fillForm({ '/name': 'bad', '/address': '10.0.2.300' });
    await page.locator('dialog[open] button[type=submit]').click();
    const field = page.locator('dialog[open] [data-path="/address"].invalid');
    await field.locator('.field-error', { hasText: 'address' }).waitFor();
    await page.locator('dialog[open] .form-problem', { hasText: '/body/address' }).waitFor();
    await page.locator('dialog[open]').getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await api('GET', '/api/v1/virtual-services/web/real-servers/bad')).status, 404);
  });

  test('an IPv6 service entered in any spelling shows canonical, with its addresses in brackets', async () => {
    // The NICs get their IPv6 networks through the API; the pool, service and server through the panel.
    for (const [nic, network] of [['client', plan.clientNetwork], ['server', plan.serverNetwork]] as const) {
      const ipv6 = nic === 'client' ? plan6.clientNetwork : plan6.serverNetwork;
      assert.equal((await api('PATCH', `/api/v1/nics/${nic}`, { networks: [network, ipv6] })).status, 200);
    }
    await create('Local address pools', '+ New local address pool', { '/name': 'lips6', '/nic': 'server', '/addresses': '2001:DB8:2:0::100' });
    await page.getByRole('link', { name: 'Services', exact: true }).click();
    await page.getByRole('button', { name: '+ Virtual service' }).click();
    await fillForm({ '/name': 'web6', '/address': '2001:DB8:1:0:0::10', '/port': '80', '/protocol': 'tcp', '/nic': 'client', '/localAddressPool': 'lips6', '/scheduler': 'rr' });
    await submit();
    await service('web6').getByRole('button', { name: '+ Real server' }).click();
    await fillForm({ '/name': 'rs1', '/address': '2001:db8:2:0:0:0:0:11' });
    await submit();
    await service('web6').locator('.vip', { hasText: '[2001:db8:1::10]:80/tcp' }).waitFor();
    await service('web6').locator('tr[data-real-server="rs1"] td', { hasText: '[2001:db8:2::11]:80' }).waitFor();
    assert.deepEqual((await api('GET', '/api/v1/local-address-pools/lips6')).body.addresses, ['2001:db8:2::100']);
  });

  test('deleting the service in the panel removes it from the API', async () => {
    await service().locator('header').getByRole('button', { name: 'Delete' }).click();
    await service().waitFor({ state: 'detached' });
    assert.equal((await api('GET', '/api/v1/virtual-services/web')).status, 404);
    assert.equal((await api('GET', '/api/v1/virtual-services/web/real-servers')).status, 404);
  });
});

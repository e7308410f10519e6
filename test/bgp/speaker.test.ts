// The BGP speaker against a real bird2 router, in two network namespaces joined by a veth:
//
//   router ns: bird (AS 65000), r0 10.9.0.1/24 ─── dtap0 10.9.0.2/24 :speaker ns, BgpSpeaker's bird (AS 65001)
//                                 2001:db8:9::1/64      2001:db8:9::2/64
//
// One session per family (lb over IPv4, lb6 over IPv6), as the appliance peers. `dtap0` stands
// for a NIC's exception (net_tap) interface, which holds no IPv6 link-local address. The router
// imports what it hears into its own tables, read with `birdc show route`. Needs root (but for
// the first test); fails rather than skips under CI=true. Every wait is bounded; nothing here
// measures speed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { BgpSpeaker } from '../../engine/bgp/speaker.js';
import { parseShowProtocols } from '../../engine/bgp/bird-control.js';
import type { NicPath } from '../../engine/bgp/bird-config.js';
import type { BgpSettings } from '../../engine/bgp/settings.js';
import { ip, netnsAdd, netnsDelete, nsSpawn, requireRoot, sh, stopChild, sysctl, waitFor } from '../e2e/netns.js';
import { sweepLeftovers } from '../e2e/topology.js';

const skip = requireRoot();
const routerAddress = { 4: '10.9.0.1', 6: '2001:db8:9::1' };
const speakerAddress = { 4: '10.9.0.2', 6: '2001:db8:9::2' };
/** As announcedPrefixes() orders them: IPv4 first. */
const prefixes = ['10.0.1.10/32', '10.0.1.11/32', '10.0.2.96/28', '2001:db8:1::10/128', '2001:db8:2::/64'];

/** The router's session to the speaker over one family. */
const routerSessionConf = (name: string, family: 4 | 6): string => `protocol bgp ${name} {
  local ${routerAddress[family]} as 65000;
  neighbor ${speakerAddress[family]} as 65001;
  direct;
  bfd on;
  # Short waits so a second speaker (the pdeathsig case) is taken back at once.
  connect delay time 1; connect retry time 2; error wait time 1, 2;
  ipv${family} { import all; export none; };
}
`;
const routerConf = `router id ${routerAddress[4]};
timeformat protocol "%FT%T.%3f%z";
protocol device {}
protocol bfd { interface "r0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
${routerSessionConf('lb', 4)}${routerSessionConf('lb6', 6)}`;

const settings = (drain = false): BgpSettings => ({
  enabled: true,
  asn: 65001,
  neighbors: ([4, 6] as const).map((f) => ({ address: routerAddress[f], asn: 65000, nic: 'uplink', holdTimeSeconds: 9, bfd: true })),
  coveringPrefixes: [],
  drain,
});
const paths = new Map<string, NicPath>([['uplink', { tap: 'dtap0', sources: speakerAddress }]]);

/** Polls every 100 ms until `probe` holds, for at most `seconds`. */
function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, seconds = 30): Promise<T> {
  return waitFor(what, async () => probe(), seconds * 10, 100);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a bird that cannot start is reported in status, never thrown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-bgp-'));
  const speaker = new BgpSpeaker({ runDir: join(dir, 'run'), birdPath: join(dir, 'no-such-bird') });
  try {
    speaker.follow(settings(), paths);
    speaker.announce(prefixes);
    await until('the failure in status', () => speaker.status().lastError);
    const status = speaker.status();
    assert.match(status.lastError!.message, /bird exited/);
    assert.equal(status.speakerRunning, false);
    assert.deepEqual(status.announced, []);
    assert.deepEqual(status.neighbors.map((n) => [n.state, n.lastError]), [['down', 'bird is not running'], ['down', 'bird is not running']]);
  } finally {
    await speaker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('BGP speaker with a bird2 router', { skip }, () => {
  const prefix = `l4e-${process.pid}-${randomBytes(3).toString('hex')}`;
  const ns = { router: `${prefix}-bgprouter`, speaker: `${prefix}-bgpspeaker` };
  let dir: string;
  let router: ChildProcess | undefined;
  let speaker: BgpSpeaker | undefined;
  const routerSocket = (): string => join(dir, 'router.ctl');

  async function routerRoutes(): Promise<string[]> {
    const { stdout } = await sh('birdc', ['-s', routerSocket(), 'show', 'route']);
    // Both tables (master4, master6): a route's line starts with its prefix.
    return [...stdout.matchAll(/^([0-9a-f.:]+\/\d+)\s/gm)].map((m) => m[1]!).sort();
  }
  async function routerSession(name: string): Promise<{ bgpState: string | undefined; since: string | null }> {
    const { stdout } = await sh('birdc', ['-s', routerSocket(), 'show', 'protocols', 'all', name]);
    const p = parseShowProtocols(stdout).protocols.find((x) => x.name === name);
    return { bgpState: p?.bgpState, since: p?.since ?? null };
  }
  const routerSessions = async () => ({ lb: await routerSession('lb'), lb6: await routerSession('lb6') });
  const routesAre = (want: string[]) => async () => JSON.stringify(await routerRoutes()) === JSON.stringify([...want].sort());

  before(async () => {
    await sweepLeftovers();
    dir = mkdtempSync(join(tmpdir(), 'l4lb-bgp-'));
    for (const n of Object.values(ns)) {
      await netnsAdd(n);
      await ip(['link', 'set', 'lo', 'up'], n);
    }
    await ip(['link', 'add', 'r0', 'type', 'veth', 'peer', 'name', 'dtap0', 'netns', ns.speaker], ns.router);
    for (const [n, dev] of [[ns.router, 'r0'], [ns.speaker, 'dtap0']] as const) {
      // No duplicate address detection, so the addresses are usable at once.
      for (const conf of ['all', dev]) {
        await sysctl(n, `net.ipv6.conf.${conf}.disable_ipv6`, 0);
        await sysctl(n, `net.ipv6.conf.${conf}.accept_dad`, 0);
      }
    }
    // Like a NIC's tap: no link-local address, so bird's next hop self is the global address alone.
    await sysctl(ns.speaker, 'net.ipv6.conf.dtap0.addr_gen_mode', 1);
    for (const [n, dev, at] of [[ns.router, 'r0', routerAddress], [ns.speaker, 'dtap0', speakerAddress]] as const) {
      await ip(['addr', 'add', `${at[4]}/24`, 'dev', dev], n);
      await ip(['addr', 'add', `${at[6]}/64`, 'dev', dev], n);
      await ip(['link', 'set', dev, 'up'], n);
    }
    writeFileSync(join(dir, 'router.conf'), routerConf);
    router = nsSpawn(ns.router, 'bird', ['-f', '-c', join(dir, 'router.conf'), '-s', routerSocket(), '-P', join(dir, 'router.pid')]);
    await until('the router bird', () => routerSession('lb').then((s) => s.bgpState !== undefined));
  });

  after(async () => {
    await speaker?.close();
    if (router) await stopChild(router);
    for (const n of Object.values(ns)) await netnsDelete(n);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('establishes, announces, withdraws, drains with the session up, and closes', async () => {
    const birdLog: string[] = [];
    const log = { info: (d: object) => birdLog.push(JSON.stringify(d)), warn() {}, error() {} };
    const reconfigures = (): number => birdLog.filter((l) => /Reconfigured/.test(l)).length;
    speaker = new BgpSpeaker({ runDir: join(dir, 'speaker'), commandPrefix: ['ip', 'netns', 'exec', ns.speaker], log });
    speaker.follow(settings(), paths);
    speaker.announce(prefixes);

    const established = await until('both sessions in Established', () => {
      const neighbors = speaker!.status().neighbors;
      return neighbors.every((n) => n.state === 'established') && neighbors;
    });
    assert.deepEqual(
      established.map((n) => ({ address: n.address, asn: n.asn, nic: n.nic })),
      [4, 6].map((f) => ({ address: routerAddress[f as 4 | 6], asn: 65000, nic: 'uplink' })),
    );
    for (const n of established) assert.ok(n.since && !Number.isNaN(Date.parse(n.since)), `since: ${n.since}`);
    const status = speaker.status();
    assert.equal(status.speakerRunning, true);
    assert.match(status.version ?? '', /^2\./);
    assert.deepEqual(status.announced, prefixes);
    await until('the prefixes at the router', routesAre(prefixes));
    // The IPv6 routes lead to the speaker's global address (its tap has no link-local one), and
    // BFD guards the IPv6 session as it does the IPv4 one.
    const route6 = await sh('birdc', ['-s', routerSocket(), 'show', 'route', '2001:db8:1::10/128']);
    assert.match(route6.stdout, new RegExp(`via ${speakerAddress[6]} on r0`), route6.stdout);
    await until('BFD up for both sessions at the router', async () => {
      const { stdout } = await sh('birdc', ['-s', routerSocket(), 'show', 'bfd', 'sessions']);
      return Object.values(speakerAddress).every((a) => new RegExp(`^${a}\\s+r0\\s+Up\\s`, 'm').test(stdout));
    });

    // A burst of changes in one tick is one reconfigure, of the last set.
    const reconfiguresBefore = reconfigures();
    for (let i = prefixes.length; i >= 1; i--) speaker.announce(prefixes.slice(0, i));
    await until('the withdrawal at the router', routesAre(prefixes.slice(0, 1)));
    await until('bird to log its reconfiguration', () => reconfigures() > reconfiguresBefore, 5);
    assert.equal(reconfigures(), reconfiguresBefore + 1, birdLog.join('\n'));
    assert.deepEqual(speaker.status().announced, prefixes.slice(0, 1));

    // Back to both families, then drain: the IPv6 routes go like the IPv4 ones.
    speaker.announce(prefixes);
    await until('the prefixes back at the router', routesAre(prefixes));
    const sessions = await routerSessions();
    assert.ok(sessions.lb.since && sessions.lb6.since, 'the router reports when its sessions came up');
    speaker.follow(settings(true), paths);
    await until('the drain at the router', routesAre([]));
    assert.equal(speaker.status().draining, true);
    assert.deepEqual(speaker.status().announced, []);
    assert.deepEqual(await routerSessions(), sessions, 'draining must not reset a session');
    assert.deepEqual(speaker.status().neighbors.map((n) => n.state), ['established', 'established']);

    speaker.follow(settings(), paths);
    await until('the prefixes back after the drain', routesAre(prefixes));

    const pid = Number(readFileSync(join(dir, 'speaker', 'bird.pid'), 'utf8'));
    assert.ok(alive(pid));
    await speaker.close();
    assert.equal(alive(pid), false, 'bird must be gone once close() resolves');
    assert.equal(speaker.status().speakerRunning, false);
    await until('the router sessions to leave Established', () => routerSessions().then((s) => s.lb.bgpState !== 'Established' && s.lb6.bgpState !== 'Established'));
    await until('the routes gone at the router', routesAre([]));
  });

  test('bird dies with a speaker process killed with SIGKILL (pdeathsig)', async () => {
    const runDir = join(dir, 'child');
    const script = fileURLToPath(new URL('./speaker-child.js', import.meta.url));
    const options = { runDir, commandPrefix: ['ip', 'netns', 'exec', ns.speaker], settings: settings(), paths: [...paths], prefixes };
    const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      await until('the child speaker running', () => out.includes('running'));
      await until('the prefixes at the router', routesAre(prefixes));
      const pid = Number(readFileSync(join(runDir, 'bird.pid'), 'utf8'));
      assert.ok(alive(pid));

      await stopChild(child, 'SIGKILL');
      await until('bird gone with its parent', () => !alive(pid), 10);
      await until('the routes gone at the router', routesAre([]));
    } finally {
      await stopChild(child, 'SIGKILL');
    }
  });
});

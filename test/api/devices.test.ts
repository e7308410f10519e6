// A NIC's device string reaches DPDK hot-plug as root: only af_packet, af_xdp and PCI
// addresses, each with an allow-list of arguments, get through (store/devices.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { managementRefusal } from '../../engine/dataplane/management-interfaces.js';
import { parseDevice } from '../../store/devices.js';
import { testApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const networks = ['10.9.0.0/24'];

test('a NIC may name only af_packet, af_xdp or a PCI address, with allowed arguments', async () => {
  const t = await testApp();
  try {
    const post = (device: string, name = 'n') => t.request('POST', '/api/v1/nics', { name, device, networks });
    const refused: [string, string][] = [
      ['net_pcap0,tx_pcap=/etc/x.pcap', "device 'net_pcap0' is not allowed"],
      ['net_vhost0,iface=/tmp/s', "device 'net_vhost0' is not allowed"],
      ['net_memif0', "device 'net_memif0' is not allowed"],
      ['net_tap0,iface=tap9', "device 'net_tap0' is not allowed"],
      ['net_bonding0', "device 'net_bonding0' is not allowed"],
      ['net_failsafe0', "device 'net_failsafe0' is not allowed"],
      ['net_softnic0', "device 'net_softnic0' is not allowed"],
      ['net_ring0', "device 'net_ring0' is not allowed"],
      ['net_null0', "device 'net_null0' is not allowed"],
      ['net_af_packet0,iface=c0,bogus=1', "argument 'bogus' is not allowed for net_af_packet"],
      ['net_af_packet0,iface=c0,qpairs=4', "argument 'qpairs' of net_af_packet is not accepted"],
      ['net_af_xdp0,iface=c0,queue_count=2', "argument 'queue_count' of net_af_xdp is not accepted"],
      ['net_af_xdp0,iface=c0,xdp_prog=/tmp/p.o', "argument 'xdp_prog' of net_af_xdp is not accepted"],
      ['net_af_packet0,iface=c0,iface=s0', "argument 'iface' of net_af_packet is given twice"],
      ['net_af_packet0,iface=a/b', "argument iface='a/b' of net_af_packet is not a valid value"],
      ['net_af_packet0,iface=c0,framecnt=-1', "argument framecnt='-1'"],
      ['net_af_packet0', 'net_af_packet needs iface=<interface>'],
      ['0000:03:00.0,foo=1', 'PCI device 0000:03:00.0 takes no arguments'],
    ];
    for (const [device, fact] of refused) {
      const problem = assertProblem(await post(device), 422, '/body/device', fact);
      assert.ok(problem.detail.includes('net_af_packet') || problem.detail.includes('net_af_xdp') || problem.detail.includes('PCI'), problem.detail);
    }
    assert.equal((await t.request('GET', '/api/v1/nics')).json().items.length, 0, 'nothing was stored');

    assert.equal((await post('net_af_packet0,iface=c0,blocksz=4096,framesz=2048,framecnt=512,qdisc_bypass=1', 'a')).statusCode, 201);
    assert.equal((await post('net_af_xdp1,iface=s0,start_queue=0,busy_budget=64,force_copy=1', 'b')).statusCode, 201);
    assert.equal((await t.request('POST', '/api/v1/nics', { name: 'c', device: '03:00.0', networks: ['10.8.0.0/24'] })).statusCode, 201);
  } finally {
    await t.close();
  }
});

test('two NICs may not hold the same vdev, interface or PCI device', async () => {
  const t = await testApp();
  try {
    const post = (name: string, device: string, network: string) => t.request('POST', '/api/v1/nics', { name, device, networks: [network] });
    assert.equal((await post('a', 'net_af_packet0,iface=c0', '10.1.0.0/24')).statusCode, 201);
    assertProblem(await post('b', 'net_af_xdp0,iface=c0', '10.2.0.0/24'), 409, '/body/device', "interface c0 is already used by NIC 'a'");
    assertProblem(await post('b', 'net_af_packet0,iface=s0', '10.2.0.0/24'), 409, '/body/device', "device net_af_packet0 is already used by NIC 'a'");
    assert.equal((await post('p', '0000:03:00.0', '10.3.0.0/24')).statusCode, 201);
    assertProblem(await post('q', '03:00.0', '10.4.0.0/24'), 409, '/body/device', "device 0000:03:00.0 is already used by NIC 'p'");
    // Replacing a NIC with its own device is no conflict.
    assert.equal((await t.request('PUT', '/api/v1/nics/a', { device: 'net_af_packet0,iface=c0', networks: ['10.1.0.0/16'] })).statusCode, 200);
  } finally {
    await t.close();
  }
});

test('parseDevice names the device, its interface, and normalises PCI addresses', () => {
  assert.deepEqual(parseDevice('net_af_packet3,iface=eth1'), { kind: 'vdev', name: 'net_af_packet3', interface: 'eth1' });
  assert.deepEqual(parseDevice('0000:3B:00.1'), { kind: 'pci', name: '0000:3b:00.1' });
  assert.deepEqual(parseDevice('3b:00.1'), { kind: 'pci', name: '0000:3b:00.1' });
  assert.match(parseDevice('net_af_packet0,iface=averyveryverylongname') as string, /not a valid value/);
  assert.match(parseDevice('') as string, /is not allowed/);
});

test('the interface carrying the API\'s address is a management interface', () => {
  const lo = parseDevice('net_af_packet0,iface=lo');
  assert.ok(typeof lo !== 'string');
  assert.match(managementRefusal(lo, { host: '127.0.0.1', port: 8080 }) ?? '', /would take over lo, a management interface \(the API listens on its address\)/);
  assert.equal(managementRefusal(lo, { path: '/run/l4lb.sock' }), undefined);
  const elsewhere = parseDevice('net_af_packet0,iface=l4nosuchif');
  assert.ok(typeof elsewhere !== 'string');
  assert.equal(managementRefusal(elsewhere, { host: '0.0.0.0', port: 8080 }), undefined);
});

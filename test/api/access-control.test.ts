// A virtual service's allow and deny lists through the API: entries of either family stored
// canonical, a malformed entry a 400 and a host-bit, repeated or twice-listed one a 422 naming
// the entry, and lists of 65536 IPv6 entries each accepted, with the time they take printed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyAjv } from '../../api/openapi.js';
import { json, withSeededApp, type TestApp } from '../helpers.js';
import { assertProblem } from './problem.js';

const within = withSeededApp;

const patch = (t: TestApp, accessControl: unknown) => t.request('PATCH', '/api/v1/virtual-services/web', { accessControl });

test('entries are stored and returned canonical, of either family', () =>
  within(async (t) => {
    const r = await patch(t, { allow: ['2001:DB8:0::/32', '10.1.0.0/16'], deny: ['2001:db8:0:0:1:0:0:0/80', '10.1.2.3/32'] });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(json(await t.request('GET', '/api/v1/virtual-services/web')).accessControl, {
      allow: ['2001:db8::/32', '10.1.0.0/16'],
      deny: ['2001:db8:0:0:1::/80', '10.1.2.3/32'],
    });
  }));

test('malformed entries are a 400 naming the entry', () =>
  within(async (t) => {
    assertProblem(await patch(t, { allow: ['10.1.0.0'] }), 400, '/body/accessControl/allow/0');
    assertProblem(await patch(t, { deny: ['10.0.0.0/8', '2001:db8::/129'] }), 400, '/body/accessControl/deny/1');
    assertProblem(await patch(t, { allow: ['10.0.0.0/8'], colour: [] }), 400, '/body/accessControl/colour');
  }));

test('host bits, repeats and a prefix in both lists are a 422 naming the entry', () =>
  within(async (t) => {
    assertProblem(await patch(t, { allow: ['10.1.0.1/16'] }), 422, '/body/accessControl/allow/0', 'host bits', '10.1.0.0/16');
    assertProblem(await patch(t, { deny: ['2001:db8::/32', '2001:db8::1/64'] }), 422, '/body/accessControl/deny/1', 'host bits');
    assertProblem(await patch(t, { allow: ['2001:db8::/32', '2001:DB8:0::/32'] }), 422, '/body/accessControl/allow/1', 'listed twice');
    assertProblem(await patch(t, { allow: ['10.1.0.0/16'], deny: ['10.2.0.0/16', '10.1.0.0/16'] }), 422, '/body/accessControl/deny/1', 'both allow and deny', '/accessControl/allow/0');
    assertProblem(await patch(t, { deny: ['::ffff:10.0.0.0/104'] }), 422, '/body/accessControl/deny/0', 'IPv4-mapped');
    assert.equal(json(await t.request('GET', '/api/v1/virtual-services/web')).accessControl, undefined);
  }));

test('lists of 65536 IPv6 entries each are accepted (times printed)', () =>
  within(async (t) => {
    // Uncompressed spellings, the longest an entry usually takes, each a distinct /128.
    const entries = (tag: string) =>
      Array.from({ length: 65536 }, (_, i) => `2001:0db8:${tag}:0000:0000:0000:${(i >> 8).toString(16).padStart(4, '0')}:${(i & 0xff).toString(16).padStart(4, '0')}/128`);
    const accessControl = { allow: entries('00aa'), deny: entries('00bb') };
    const body = { address: '10.0.1.11', port: 80, protocol: 'tcp', nic: 'client', localAddressPool: 'lips', accessControl };
    const bytes = Buffer.byteLength(JSON.stringify(body, null, 2));

    const validate = bodyAjv.getSchema('VirtualService')!;
    let started = performance.now();
    assert.ok(validate(structuredClone(body)), JSON.stringify(validate.errors));
    const schemaMs = performance.now() - started;

    started = performance.now();
    const r = await t.request('PUT', '/api/v1/virtual-services/big', body);
    const putMs = performance.now() - started;
    assert.equal(r.statusCode, 201, r.body.slice(0, 500));
    console.log(`# 2 × 65536 IPv6 entries: ${(bytes / 2 ** 20).toFixed(1)} MiB indented; schema validation ${schemaMs.toFixed(0)} ms; whole PUT ${putMs.toFixed(0)} ms`);

    const stored = json(await t.request('GET', '/api/v1/virtual-services/big')).accessControl;
    assert.equal(stored.allow.length, 65536);
    assert.equal(stored.deny[65535], '2001:db8:bb::ff:ff/128');
    assertProblem(await t.request('PATCH', '/api/v1/virtual-services/big', { accessControl: { ...accessControl, allow: [...accessControl.allow, '10.0.0.0/8'] } }), 400, '/body/accessControl/allow');
  }));

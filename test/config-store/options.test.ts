// `--config-store` and the etcd flags: what is accepted, what is refused and why.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeOptions } from '../../bin/options.js';
import { parseConfigStore } from '../../store/etcd/location.js';

test('parseConfigStore: sqlite, etcd:// with one or more endpoints and a prefix, etcds:// for TLS', () => {
  assert.deepEqual(parseConfigStore('sqlite'), { backend: 'sqlite' });
  assert.deepEqual(parseConfigStore('etcd://10.0.0.1:2379,etcd-2.example:2379,[fd00::1]:2379/l4lb/prod'), {
    backend: 'etcd',
    endpoints: ['10.0.0.1:2379', 'etcd-2.example:2379', '[fd00::1]:2379'],
    prefix: '/l4lb/prod/',
    tls: false,
  });
  assert.equal((parseConfigStore('etcds://h:2379/l4lb/') as { tls: boolean }).tls, true);
  for (const [text, message] of [
    ['etcd://h:2379', /prefix/],
    ['etcd://h:2379/', /prefix/],
    ['etcd://h/l4lb', /not HOST:PORT/],
    ['etcd://h:99999/l4lb', /not HOST:PORT/],
    ['etcd://h:2379,:2379/l4lb', /not HOST:PORT/],
    ['etcd://h:2379/l4lb/../x', /prefix/],
    ['etcd://h:2379/l4 lb', /prefix/],
    ['http://h:2379/l4lb', /expected sqlite or etcd/],
  ] as const) {
    assert.match(parseConfigStore(text) as string, message, text);
  }
});

test('the etcd flags: TLS files read, user and password file together, refused without an etcd store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4lb-opt-'));
  try {
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const ca = file('ca.pem', 'CA');
    const password = file('password', 's3cret\nignored\n');
    const options = parseServeOptions(['--config-store', 'etcd://h:2379/l4lb', '--etcd-cacert', ca, '--etcd-user', 'l4lb', '--etcd-password-file', password], {});
    assert.equal(options.configStore.tls?.ca?.toString(), 'CA');
    assert.deepEqual(options.configStore.auth, { user: 'l4lb', password: 's3cret' });
    const fromEnv = parseServeOptions([], { L4LB_CONFIG_STORE: 'etcd://h:2379/l4lb' });
    assert.equal(fromEnv.configStore.location.backend, 'etcd');
    assert.equal(parseServeOptions([], {}).configStore.location.backend, 'sqlite');
    assert.throws(() => parseServeOptions(['--etcd-user', 'x', '--etcd-password-file', password], {}), /need --config-store etcd/);
    assert.throws(() => parseServeOptions(['--config-store', 'etcd://h:2379/l4lb', '--etcd-user', 'x'], {}), /go together/);
    assert.throws(() => parseServeOptions(['--config-store', 'etcd://h:2379/l4lb', '--etcd-cert', ca], {}), /go together/);
    assert.throws(() => parseServeOptions(['--config-store', 'etcd://h:2379/l4lb', '--etcd-cacert', join(dir, 'missing')], {}), /--etcd-cacert .*ENOENT/);
    assert.throws(() => parseServeOptions(['--config-store', 'etcd:/h'], {}), /--config-store etcd:\/h: expected/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

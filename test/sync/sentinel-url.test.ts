// `redis+sentinel://` URLs: what redisUrlProblem accepts and refuses (naming what is wrong),
// and the ioredis options they become. No Redis needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connectRedis, disconnectRedis, parseSentinelUrl, redisOptions, redisUrlProblem } from '../../engine/sync/redis.js';
import { redisMissing, RedisServer } from '../redis-server.js';
import { waitFor } from './wait.js';

test('a sentinel URL becomes ioredis sentinel options that still never queue or wait long', () => {
  const o = redisOptions('redis+sentinel://10.0.0.5:26380,sentinel-2.example:26381,[fd00::7]:26382/mymaster/3', 'pw');
  assert.deepEqual(o.sentinels, [
    { host: '10.0.0.5', port: 26380 },
    { host: 'sentinel-2.example', port: 26381 },
    { host: 'fd00::7', port: 26382 },
  ]);
  assert.equal(o.name, 'mymaster');
  assert.equal(o.role, 'master');
  assert.equal(o.db, 3);
  assert.equal(o.password, 'pw');
  assert.equal(o.sentinelPassword, 'pw');
  assert.equal(o.host, undefined);
  assert.equal(o.path, undefined);
  // What holds for every Redis link holds here.
  assert.equal(o.enableOfflineQueue, false);
  assert.equal(o.autoResubscribe, false);
  assert.equal(o.maxRetriesPerRequest, 0);
  assert.ok(o.commandTimeout! <= 1000);
  assert.ok(o.connectTimeout! <= 1000);
  assert.ok(o.sentinelCommandTimeout! <= 1000);
  assert.ok([1, 5, 50, 1000].every((attempt) => (o.retryStrategy!(attempt) as number) <= 250));
  assert.ok([1, 5, 50, 1000].every((attempt) => (o.sentinelRetryStrategy!(attempt) as number) <= 1000));
  // SwitchWatch (connectRedis) does its job, without dropping links already on the new primary.
  assert.equal(o.failoverDetector, false);
  assert.equal(o.reconnectOnError!(new Error("READONLY You can't write against a read only replica.")), 1);
  assert.equal(o.reconnectOnError!(new Error('ERR something else')), false);

  const bare = redisOptions('redis+sentinel://s1/cache', undefined);
  assert.deepEqual(bare.sentinels, [{ host: 's1', port: 26379 }]);
  assert.equal(bare.db, undefined);
  assert.equal(bare.password, undefined);
  assert.equal(bare.sentinelPassword, undefined);
  assert.equal(redisOptions('REDIS+SENTINEL://S1:1/m', undefined).sentinels![0]!.host, 's1');
});

test('good sentinel URLs', () => {
  for (const url of [
    'redis+sentinel://127.0.0.1:26379/mymaster',
    'redis+sentinel://127.0.0.1:26379/mymaster/0',
    'redis+sentinel://127.0.0.1:26379/mymaster/15',
    'redis+sentinel://a:1,b:65535,c/my-master_1.x',
    'redis+sentinel://[::1]/m',
    `redis+sentinel://${Array.from({ length: 16 }, (_, i) => `h${i}:26379`).join(',')}/m`,
    `redis+sentinel://h/${'n'.repeat(64)}`,
  ]) {
    assert.equal(redisUrlProblem(url), undefined, url);
  }
  assert.deepEqual(parseSentinelUrl('redis+sentinel://h1:1,h2/m/7'), { sentinels: [{ host: 'h1', port: 1 }, { host: 'h2', port: 26379 }], name: 'm', db: 7 });
});

test('bad sentinel URLs are refused, each with what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['redis+sentinel://user:pw@h:26379/m', /no user or password; set redisPassword/],
    ['redis+sentinel://:pw@h/m', /no user or password/],
    ['redis+sentinel:h/m', /must be redis\+sentinel:\/\/HOST:PORT\[,HOST:PORT…\]\/MASTERNAME\[\/DB\]/],
    ['redis+sentinel:///m', /no sentinel/],
    ['redis+sentinel://h:26379', /no master name/],
    ['redis+sentinel://h:26379/', /no master name/],
    ['redis+sentinel://h:26379//0', /no master name/],
    ['redis+sentinel://h/m/0/x', /only \/MASTERNAME and an optional \/DB/],
    ['redis+sentinel://h/m?x=1', /no query or fragment/],
    ['redis+sentinel://h/m#f', /no query or fragment/],
    ['redis+sentinel://h/my%20master', /master name 'my%20master'/],
    ['redis+sentinel://h/my:master', /master name 'my:master'/],
    [`redis+sentinel://h/${'n'.repeat(65)}`, /1 to 64 letters/],
    ['redis+sentinel://h/m/16', /database 16; Redis has databases 0 to 15/],
    ['redis+sentinel://h/m/db1', /database 'db1', not a number/],
    ['redis+sentinel://h/m/', /database '', not a number/],
    ['redis+sentinel://h:0/m', /sentinel 1 'h:0', whose port 0 is not from 1 to 65535/],
    ['redis+sentinel://a:1,h:65536/m', /sentinel 2 'h:65536', whose port 65536 is not from 1 to 65535/],
    ['redis+sentinel://h:port/m', /sentinel 1 'h:port', whose port 'port' is not a number/],
    ['redis+sentinel://h:/m', /sentinel 1 'h:', whose port '' is not a number/],
    ['redis+sentinel://a:1,,b:2/m', /empty sentinel 2/],
    ['redis+sentinel://a:1,/m', /empty sentinel 2/],
    ['redis+sentinel://:26379/m', /sentinel 1 ':26379' with no host/],
    ['redis+sentinel://h_1:26379/m', /host 'h_1' is neither an IPv4 address nor a host name/],
    ['redis+sentinel://10.0.0.300:26379/m', /host '10.0.0.300' is neither/],
    ['redis+sentinel://[fd00::zz]:1/m', /\[fd00::zz\] is not an IPv6 address/],
    ['redis+sentinel://fd00::1:26379/m', /not HOST:PORT \(an IPv6 address goes in brackets/],
    ['redis+sentinel://a:1,b:2,A:1/m', /names the sentinel A:1 twice/],
    ['redis+sentinel://a,a:26379/m', /names the sentinel a:26379 twice/],
    [`redis+sentinel://${Array.from({ length: 17 }, (_, i) => `h${i}`).join(',')}/m`, /has 17 sentinels; give 1 to 16/],
  ];
  for (const [url, reason] of cases) {
    const problem = redisUrlProblem(url);
    assert.ok(problem, `${url} is refused`);
    assert.match(problem, reason, url);
  }
  assert.throws(() => redisOptions('redis+sentinel://h/m/16', 'pw'), /the Redis URL has database 16/);
  // The plain schemes' message now names the sentinel one too.
  assert.match(redisUrlProblem('http://h')!, /not redis:, rediss:, unix: or redis\+sentinel:/);
  assert.match(redisUrlProblem('rediss+sentinel://h/m')!, /scheme rediss\+sentinel:/);
});

test('a link ended by anything but disconnectRedis is started again', { skip: redisMissing() }, async () => {
  const redis = new RedisServer();
  await redis.start();
  const links = connectRedis(redis.url, undefined);
  try {
    const ready = (link: Redis) => link.status === 'ready';
    await waitFor('both links ready', () => ready(links.commands) && ready(links.subscriber));
    // What ioredis does to a link whose connection attempt was aborted: status `end`, no retry.
    links.commands.disconnect();
    await waitFor('the link ended', () => links.commands.status === 'end');
    await waitFor('the link back', () => ready(links.commands));
    assert.equal(await links.commands.ping(), 'PONG');
  } finally {
    disconnectRedis(links);
    await redis.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(links.commands.status, 'end', 'closed for good by disconnectRedis');
  assert.equal(links.subscriber.status, 'end');
});

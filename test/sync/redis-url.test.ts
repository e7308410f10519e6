import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisOptions, redisUrlProblem } from '../../engine/sync/redis.js';

test('Redis URLs become ioredis options that never queue or wait long', () => {
  const tcp = redisOptions('redis://10.0.0.5:6380/2', 'pw');
  assert.equal(tcp.host, '10.0.0.5');
  assert.equal(tcp.port, 6380);
  assert.equal(tcp.db, 2);
  assert.equal(tcp.password, 'pw');
  assert.equal(tcp.tls, undefined);
  assert.equal(tcp.enableOfflineQueue, false);
  assert.ok(tcp.commandTimeout! <= 1000);
  assert.ok([1, 5, 50, 1000].every((attempt) => (tcp.retryStrategy!(attempt) as number) <= 1000));

  const tls = redisOptions('rediss://redis.example:6379', undefined);
  assert.deepEqual(tls.tls, { servername: 'redis.example' });
  assert.equal(tls.port, 6379);
  assert.equal(tls.db, undefined);
  assert.equal(tls.password, undefined);
  assert.equal(redisOptions('redis://[fd00::5]', undefined).host, 'fd00::5');

  const unix = redisOptions('unix:///run/redis/redis.sock', undefined);
  assert.equal(unix.path, '/run/redis/redis.sock');
  assert.equal(unix.host, undefined);
});

test('unusable Redis URLs are named with the reason', () => {
  assert.equal(redisUrlProblem('redis://h:1/0'), undefined);
  assert.match(redisUrlProblem('redis://h/db1')!, /database 'db1'/);
  assert.match(redisUrlProblem('redis://')!, /no host/);
  assert.match(redisUrlProblem('unix://host/sock')!, /unix:\/\/\/absolute/);
  assert.match(redisUrlProblem('unix:///')!, /unix:\/\/\/absolute/);
  assert.match(redisUrlProblem('redis://h/0?x=1')!, /no query/);
  assert.match(redisUrlProblem('http://h')!, /scheme http:/);
  assert.throws(() => redisOptions('redis://h/x', undefined), /the Redis URL has database 'x'/);
});

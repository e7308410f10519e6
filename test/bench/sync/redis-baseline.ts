// The baseline the sync benchmark sets its numbers beside, measured on the same redis in the
// same run: batches the size of the bridge's (32-byte header + 111-byte records) published by one
// ioredis connection and received by another, with nothing else on the way — no data plane,
// no drain, no install. Its throughput is the ceiling of Redis Pub/Sub on this machine; its
// lag is the part of sync lag that Redis and the socket alone cost.

import { Redis } from 'ioredis';
import { batchHeaderSize as headerBytes, syncRecordSize as recordBytes } from '../../../engine/sync/wire.js';
import { quantile } from './quantiles.js';

const channel = 'l4lb:bench:baseline';

function connect(socketPath: string): Redis {
  return new Redis({ path: socketPath, lazyConnect: true, maxRetriesPerRequest: 1 });
}

async function pair(socketPath: string): Promise<{ pub: Redis; sub: Redis; close: () => void }> {
  const pub = connect(socketPath);
  const sub = connect(socketPath);
  await Promise.all([pub.connect(), sub.connect()]);
  await sub.subscribe(channel);
  return { pub, sub, close: () => (pub.disconnect(), sub.disconnect()) };
}

/** Records per second through Pub/Sub alone: `batches` batches of `perBatch` records, pipelined. */
export async function redisCeiling(socketPath: string, batches: number, perBatch: number): Promise<number> {
  const { pub, sub, close } = await pair(socketPath);
  const payload = Buffer.alloc(headerBytes + perBatch * recordBytes, 7);
  let received = 0;
  const done = new Promise<void>((resolve) =>
    sub.on('messageBuffer', () => {
      if (++received === batches) resolve();
    }),
  );
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < batches; sent += 64) {
    const pipeline = pub.pipeline();
    for (let i = sent; i < Math.min(batches, sent + 64); ++i) pipeline.publish(channel, payload);
    await pipeline.exec();
  }
  await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('baseline batches lost')), 60_000))]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  close();
  return (batches * perBatch) / seconds;
}

/**
 * Lag of Pub/Sub alone at `recordsPerSecond`, sent the way the bridge sends: one batch per
 * millisecond holding that millisecond's records, for `seconds`. Returns p50/p99 in ms.
 */
export async function redisLag(socketPath: string, recordsPerSecond: number, seconds: number): Promise<{ p50Ms: number; p99Ms: number }> {
  const { pub, sub, close } = await pair(socketPath);
  const perBatch = Math.max(1, Math.round(recordsPerSecond / 1000));
  const lags: number[] = [];
  sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    lags.push(Number(process.hrtime.bigint() - message.readBigUInt64BE(0)) / 1e6);
  });
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const payload = Buffer.alloc(headerBytes + perBatch * recordBytes);
    payload.writeBigUInt64BE(process.hrtime.bigint(), 0);
    await pub.publish(channel, payload);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  close();
  return { p50Ms: quantile(lags, 0.5), p99Ms: quantile(lags, 0.99) };
}

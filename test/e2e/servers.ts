// Real programs in the real-server namespaces: nginx (Debian's, with a config written per run)
// and tiny UDP/TCP echo servers in node. Each is started with `ip netns exec` (which execs, so
// the child's PID is the server's) and stopped by that PID only.

import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync, closeSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostPort } from '../../store/ip.js';
import { nsRun, nsSpawn, stopChild, waitFor } from './netns.js';

export interface Server {
  /** The namespace it runs in, the address and port it listens on. */
  readonly ns: string;
  readonly address: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Per-run directory (config, logs, pid file, content). */
  readonly dir: string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Answer of `GET /` (and its access-log tag): lets a test tell which server answered. */
  name: string;
  port?: number;
  /** Size in bytes of `GET /big` (sparse file of zeros); default 1 MiB. */
  bigBytes?: number;
  /** Fill `/big` with random bytes instead, so a byte lost, added or moved changes its checksum. */
  bigRandom?: boolean;
  /**
   * Also listen here with `proxy_protocol`, answering `/` with `$proxy_protocol_addr:$proxy_protocol_port`.
   * There `$remote_addr:$remote_port` (`GET /ip`) is the client the header names, `GET /big` is
   * served too, `PUT /upload/<file>` stores the body as `<dir>/upload/<file>`, and every request
   * is logged to `<dir>/proxied.log` as `<proxy addr>:<port> <remote addr>:<port> <connection>
   * <request on it> "<request line>"`.
   */
  proxyProtocolPort?: number;
  /** Requests nginx serves on one keep-alive connection before closing it (nginx's default: 1000). */
  keepaliveRequests?: number;
}

/** Collects a child's stderr (bounded) so a failed start can say why. */
function captureStderr(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (text.length < 8192) text += d.toString();
  });
  return () => text;
}

async function waitStarted(child: ChildProcess, what: string, ready: () => Promise<boolean>, stderr: () => string): Promise<void> {
  try {
    await waitFor(what, async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
      return ready();
    });
  } catch (err) {
    await stopChild(child, 'SIGKILL');
    throw err;
  }
}

/**
 * nginx on address:port in namespace `ns`. `GET /` → `<name>\n`, `GET /ip` → the peer as nginx
 * sees it (`addr:port`, to check the source is the LB's local address), `GET /big` → a file of
 * `bigBytes`. Runs as root in the foreground with every path inside its own temp dir.
 */
export async function startNginx(ns: string, address: string, options: NginxOptions): Promise<Server> {
  const port = options.port ?? 80;
  const dir = mkdtempSync(join(tmpdir(), `l4e-nginx-${options.name}-`));
  const big = join(dir, 'big');
  const fd = openSync(big, 'w');
  const bigBytes = options.bigBytes ?? 1 << 20;
  if (options.bigRandom) for (let done = 0; done < bigBytes; done += 1 << 20) writeSync(fd, randomBytes(Math.min(1 << 20, bigBytes - done)));
  else ftruncateSync(fd, bigBytes);
  closeSync(fd);
  mkdirSync(join(dir, 'upload'));
  const pp = options.proxyProtocolPort;
  const conf = `# written by test/e2e/servers.ts for one run
daemon off;
master_process on;
user root;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type text/plain;
  keepalive_timeout 65;${options.keepaliveRequests ? `\n  keepalive_requests ${options.keepaliveRequests};` : ''}
  log_format proxied '$proxy_protocol_addr:$proxy_protocol_port $remote_addr:$remote_port $connection $connection_requests "$request"';
  server {
    listen ${hostPort(address, port)};
    location = / { return 200 "${options.name}\\n"; }
    location = /ip { return 200 "$remote_addr:$remote_port\\n"; }
    location = /big { alias ${big}; }
  }${
    pp
      ? `
  server {
    listen ${hostPort(address, pp)} proxy_protocol;
    set_real_ip_from 0.0.0.0/0;
    set_real_ip_from ::/0;
    real_ip_header proxy_protocol;
    access_log ${dir}/proxied.log proxied;
    client_max_body_size 64m;
    location = / { return 200 "$proxy_protocol_addr:$proxy_protocol_port\\n"; }
    location = /ip { return 200 "$remote_addr:$remote_port\\n"; }
    location = /big { alias ${big}; }
    location /upload/ { root ${dir}; dav_methods PUT; create_full_put_path on; }
  }`
      : ''
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  // -e: the error log before the config is read (otherwise /var/log/nginx/error.log).
  const child = nsSpawn(ns, 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
  const stderr = captureStderr(child);
  await waitStarted(
    child,
    `nginx ${options.name} on ${address}:${port}`,
    async () => {
      const { stdout } = await nsRun(ns, 'curl', ['-sf', '--max-time', '1', `http://${hostPort(address, port)}/`], { timeoutMs: 3000 });
      return stdout === `${options.name}\n`;
    },
    stderr,
  );
  return {
    ns,
    address,
    port,
    child,
    dir,
    stop: async () => {
      // SIGQUIT: graceful; the master waits for its worker, so nothing outlives the PID we own.
      await stopChild(child, 'SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The echo servers: a node script run inside the namespace. It prints "ready" once bound, and
// answers each datagram (UDP) or each chunk (TCP) with `<tag>` + the payload.
const echoScript = `
const [proto, address, port, tag] = process.argv.slice(1);
const prefix = Buffer.from(tag);
const ready = () => process.stdout.write('ready\\n');
process.on('SIGTERM', () => process.exit(0));
// stdin is a pipe from the test: when the test process dies, the server goes with it.
process.stdin.on('end', () => process.exit(0)).on('error', () => process.exit(0)).resume();
if (proto === 'udp') {
  const s = require('node:dgram').createSocket(require('node:net').isIPv6(address) ? 'udp6' : 'udp4');
  s.on('message', (msg, rinfo) => s.send(Buffer.concat([prefix, msg]), rinfo.port, rinfo.address));
  s.bind(Number(port), address, ready);
} else {
  const srv = require('node:net').createServer((c) => {
    c.on('data', (d) => c.write(Buffer.concat([prefix, d])));
    c.on('error', () => c.destroy());
  });
  srv.listen(Number(port), address, ready);
}
`;

/**
 * A UDP or TCP echo server on address:port in `ns`. With `tag` (e.g. the server's name and a
 * space) every answer starts with it, so a test can tell which server answered; default none.
 */
export async function startEcho(ns: string, proto: 'udp' | 'tcp', address: string, port: number, tag = ''): Promise<Server> {
  const child = nsSpawn(ns, process.execPath, ['-e', echoScript, proto, address, String(port), tag], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = captureStderr(child);
  let ready = false;
  child.stdout?.on('data', (d: Buffer) => {
    if (d.toString().includes('ready')) ready = true;
  });
  await waitStarted(child, `${proto} echo on ${address}:${port}`, async () => ready, stderr);
  return { ns, address, port, child, dir: '', stop: () => stopChild(child, 'SIGTERM') };
}

/**
 * One request/response from a client namespace: sends `payload` over UDP (one datagram) or TCP
 * (one write, then half-close) and resolves with the answer, or rejects after `timeoutMs`.
 */
export async function echoRequest(ns: string, proto: 'udp' | 'tcp', address: string, port: number, payload: string, timeoutMs = 2000): Promise<string> {
  const script = `
const [proto, address, port, payload, ms] = process.argv.slice(1);
setTimeout(() => { process.stderr.write('no answer'); process.exit(2); }, Number(ms)).unref();
if (proto === 'udp') {
  const s = require('node:dgram').createSocket(require('node:net').isIPv6(address) ? 'udp6' : 'udp4');
  s.on('message', (m) => { process.stdout.write(m); process.exit(0); });
  s.send(Buffer.from(payload), Number(port), address);
} else {
  const c = require('node:net').connect(Number(port), address, () => c.end(payload));
  const parts = [];
  c.on('data', (d) => parts.push(d));
  c.on('end', () => { process.stdout.write(Buffer.concat(parts)); process.exit(0); });
  c.on('error', (e) => { process.stderr.write(String(e)); process.exit(1); });
}
`;
  const { stdout } = await nsRun(ns, process.execPath, ['-e', script, proto, address, String(port), payload, String(timeoutMs)], { timeoutMs: timeoutMs + 3000 });
  return stdout;
}

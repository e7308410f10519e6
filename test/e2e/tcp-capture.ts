// TCP segments captured with tcpdump in a host namespace and read back header by header, to
// check what no socket shows: TCP options such as TOA (254) and the MSS a SYN-ACK announces.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild, waitFor } from './netns.js';
import { hostInterface, type Topology } from './topology.js';

export interface TcpSegment {
  flags: number;
  options: Buffer;
}

/**
 * Starts tcpdump in `role` writing `filter`'s packets (at most 200) to a file; stop() ends it and
 * returns the TCP segments. --immediate-mode: without it, packets still in the capture ring when
 * tcpdump is interrupted are never written.
 */
export async function captureTcp(topo: Topology, role: 'client' | 'rs1', filter: string): Promise<{ stop(): Promise<TcpSegment[]> }> {
  const dir = mkdtempSync(join(tmpdir(), 'l4e-pcap-'));
  const file = join(dir, 'capture.pcap');
  const child: ChildProcess = topo.spawnIn(role, 'tcpdump', ['-i', hostInterface, '-nn', '-U', '--immediate-mode', '-c', '200', '-w', file, filter]);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(`tcpdump in ${role}`, async () => stderr.includes('listening on'));
  return {
    stop: async () => {
      await stopChild(child, 'SIGINT');
      try {
        return await segmentsOf(topo, file);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The TCP segments of a capture, read back with `tcpdump -x` (hex of each IP packet). An IPv6
 * packet's TCP header follows its 40-byte header: the data plane forwards no extension headers.
 */
async function segmentsOf(topo: Topology, file: string): Promise<TcpSegment[]> {
  const { stdout } = await topo.run('client', 'tcpdump', ['-r', file, '-nn', '-x']);
  const packets: string[][] = [];
  for (const line of stdout.split('\n')) {
    const hex = /^\s+0x[0-9a-f]+:\s+(.*)$/.exec(line);
    if (hex) packets[packets.length - 1]?.push(hex[1]!.replace(/\s+/g, ''));
    else if (line.trim()) packets.push([]);
  }
  return packets.map((words) => {
    const ip = Buffer.from(words.join(''), 'hex');
    const tcp = ip.subarray(ip[0]! >> 4 === 6 ? 40 : (ip[0]! & 0x0f) * 4);
    return { flags: tcp[13]!, options: tcp.subarray(20, (tcp[12]! >> 4) * 4) };
  });
}

/** The bytes of TCP option `kind` (kind and length included), or undefined. */
function tcpOption(options: Buffer, kind: number): Buffer | undefined {
  for (let i = 0; i < options.length; ) {
    if (options[i] === 0) return undefined;
    if (options[i] === 1) {
      i++;
      continue;
    }
    const length = options[i + 1] ?? 0;
    if (length < 2) return undefined;
    if (options[i] === kind) return options.subarray(i, i + length);
    i += length;
  }
  return undefined;
}

/** What a TOA service did to one connection, from captures at the real server and at the client. */
export interface ToaSeen {
  /** Option 254 (kind and length included) on the SYN, which must carry none. */
  onSyn: Buffer | undefined;
  /** Option 254 on the first segment after the handshake. */
  onFirstAck: Buffer | undefined;
  /** How much lower the MSS in the client's SYN-ACK is than the one the server announced. */
  mssLoweredBy: number;
}

/** Reads a TOA connection's captures (one connection in each, from its SYN on). */
export function toaSeen(atServer: readonly TcpSegment[], atClient: readonly TcpSegment[]): ToaSeen {
  const isSynAck = (s: TcpSegment) => (s.flags & 0x12) === 0x12;
  const toServer = atServer.filter((s) => !isSynAck(s));
  const [syn, firstAck] = toServer;
  if (!syn || !firstAck || (syn.flags & 0x12) !== 0x02) throw new Error(`the server-side capture does not start with a SYN and an ACK: ${atServer.length} segments`);
  const [serverSynAck, clientSynAck] = [atServer.find(isSynAck), atClient.find(isSynAck)];
  if (!serverSynAck || !clientSynAck) throw new Error('a capture has no SYN-ACK');
  const mss = (s: TcpSegment) => tcpOption(s.options, 2)!.readUInt16BE(2);
  return { onSyn: tcpOption(syn.options, 254), onFirstAck: tcpOption(firstAck.options, 254), mssLoweredBy: mss(serverSynAck) - mss(clientSynAck) };
}

// IPv6 neighbours as the hosts' kernels see them: the link-layer address a host holds for an
// address, and the unsolicited neighbour advertisements (to all nodes, ff02::1) it hears, which
// is how a promoted backup moves the client and the real servers over to its own MAC.

import { stopChild, waitFor } from './netns.js';
import { hostInterface, type Role, type Topology } from './topology.js';

/** The MAC `role`'s kernel holds for IPv6 `address` on its interface, or undefined. */
export async function neighbourMac(topo: Topology, role: Role, address: string): Promise<string | undefined> {
  const { stdout } = await topo.run(role, 'ip', ['-6', '-j', 'neigh', 'show', 'to', address, 'dev', hostInterface]);
  return (JSON.parse(stdout || '[]') as { lladdr?: string }[])[0]?.lladdr;
}

export interface Advertisement {
  /** The frame's source MAC and the address it announces. */
  mac: string;
  target: string;
}

/** Records the unsolicited neighbour advertisements `role` receives until stop() (at most 100). */
export async function watchAdvertisements(topo: Topology, role: Role): Promise<{ stop(): Promise<Advertisement[]> }> {
  // ip6[40]: the ICMPv6 type (136, advertisement) right after a header without extensions.
  const child = topo.spawnIn(role, 'tcpdump', ['-i', hostInterface, '-l', '-nn', '-e', '-t', '--immediate-mode', '-c', '100', 'icmp6 and ip6[40] == 136 and ip6 dst ff02::1']);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(`tcpdump in ${role}`, async () => {
    if (child.exitCode !== null) throw new Error(`tcpdump exited: ${stderr}`);
    return stderr.includes('listening on');
  });
  return {
    stop: async () => {
      await stopChild(child, 'SIGINT');
      // `-e -t` lines: `<source MAC> > 33:33:00:00:00:01, ethertype IPv6 …, tgt is <address>, length 32`
      return stdout
        .split('\n')
        .map((line) => /^([0-9a-f:]{17}) > .* tgt is ([0-9a-f:]+)/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ mac: m[1]!, target: m[2]! }));
    },
  };
}

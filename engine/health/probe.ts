// One probe of a target, by its check type. A NIC whose link is down fails its probes at
// once: nothing sent through it can arrive, and waiting for timeouts would only delay `fall`.

import type { Probe } from './checker.js';
import { probeHttp } from './probes/http.js';
import { probeTcp } from './probes/tcp.js';
import type { UdpProber } from './probes/udp.js';
import type { HealthTarget } from './targets.js';

const nothingToAbort = () => {};

export function createProbe(udp: UdpProber, linkDown: (nic: string) => boolean): Probe<HealthTarget> {
  return (target, finish) => {
    if (linkDown(target.nic)) {
      finish(`the link of NIC ${target.nic} is down`);
      return nothingToAbort;
    }
    switch (target.type) {
      case 'tcp':
        return probeTcp(target.endpoint, finish);
      case 'http':
        return probeHttp(target.endpoint, target.http!, finish);
      case 'udp':
        return udp.probe(target.endpoint, target.udp!, finish);
    }
  };
}

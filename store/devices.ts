// Which DPDK devices a NIC may name. The device string reaches rte_dev_probe in a process
// running as root, and DPDK's virtual devices can do far more than carry packets: net_pcap's
// tx_pcap= writes any file, net_vhost and net_memif create sockets anywhere, net_tap makes
// kernel interfaces, net_bonding and net_failsafe take over other ports, af_xdp's xdp_prog=
// loads a BPF object from any path. So a device is refused unless it is one of the kinds the
// appliance forwards on, and each argument is on that kind's allow-list with a value of the
// expected shape. Arguments the appliance sets itself (the queue count) are refused too.

/** How a PCI device is written: domain:bus:device.function, the domain optional. */
const pciAddress = /^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
/** A Linux interface name: at most 15 bytes, none of them '/' or white space. */
const interfaceName = /^[A-Za-z0-9_.-]{1,15}$/;
const count = /^[0-9]{1,9}$/;
const flag = /^[01]$/;

interface Driver {
  /** Arguments a user may give, with the shape of their values. */
  arguments: Record<string, RegExp>;
  /** Arguments the appliance sets, and why the user may not. */
  reserved: Record<string, string>;
}

const drivers: Record<string, Driver> = {
  net_af_packet: {
    arguments: { iface: interfaceName, blocksz: count, framesz: count, framecnt: count, qdisc_bypass: flag },
    reserved: { qpairs: 'the appliance gives the port one queue pair per worker' },
  },
  net_af_xdp: {
    arguments: { iface: interfaceName, start_queue: count, busy_budget: count, force_copy: flag },
    reserved: {
      queue_count: 'the appliance gives the port one queue per worker',
      xdp_prog: 'the appliance loads no XDP program from a path it is given',
    },
  },
};

const allowedKinds = 'a PCI address (0000:03:00.0) or net_af_packetN / net_af_xdpN with iface=';

export interface ParsedDevice {
  kind: 'pci' | 'vdev';
  /** The PCI address with its domain, or the vdev's name (net_af_packet0). */
  name: string;
  /** The kernel interface a vdev reads (iface=). */
  interface?: string;
}

/** Parses an allowed device string; a string naming why it is refused otherwise. */
export function parseDevice(device: string): ParsedDevice | string {
  const [name, ...args] = device.split(',');
  if (pciAddress.test(name)) {
    if (args.length > 0) return `PCI device ${name} takes no arguments`;
    return { kind: 'pci', name: (name.length === 7 ? `0000:${name}` : name).toLowerCase() };
  }
  const driverName = /^(net_af_packet|net_af_xdp)[0-9]{0,4}$/.exec(name)?.[1];
  if (!driverName) return `device '${name}' is not allowed: name ${allowedKinds}`;
  const driver = drivers[driverName];
  const seen = new Map<string, string>();
  for (const arg of args) {
    const equals = arg.indexOf('=');
    const key = equals < 0 ? arg : arg.slice(0, equals);
    const value = equals < 0 ? '' : arg.slice(equals + 1);
    const reserved = driver.reserved[key];
    if (reserved) return `argument '${key}' of ${driverName} is not accepted: ${reserved}`;
    const shape = driver.arguments[key];
    if (!shape) return `argument '${key}' is not allowed for ${driverName}; allowed: ${Object.keys(driver.arguments).join(', ')}`;
    if (!shape.test(value)) return `argument ${key}='${value}' of ${driverName} is not a valid value`;
    if (seen.has(key)) return `argument '${key}' of ${driverName} is given twice`;
    seen.set(key, value);
  }
  const iface = seen.get('iface');
  if (!iface) return `${driverName} needs iface=<interface>`;
  return { kind: 'vdev', name, interface: iface };
}

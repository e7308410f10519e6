// `--config-store`: where the cluster-wide objects live. `sqlite` (the default) keeps them in
// the node's own database; `etcd://HOST:PORT[,HOST:PORT…]/PREFIX` (or `etcds://` for TLS)
// keeps them in etcd under PREFIX, shared by every node pointed at it.

export type ConfigStoreLocation =
  | { backend: 'sqlite' }
  | { backend: 'etcd'; endpoints: string[]; prefix: string; tls: boolean };

const host = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;
const prefixPattern = /^(\/(?!\.\.?(\/|$))[A-Za-z0-9._-]+)+\/?$/;

/** The location `text` names, or a message saying what is wrong with it. */
export function parseConfigStore(text: string): ConfigStoreLocation | string {
  if (text === 'sqlite') return { backend: 'sqlite' };
  const match = /^(etcds?):\/\/([^/]+)(\/.*)?$/.exec(text);
  if (!match) return `expected sqlite or etcd://HOST:PORT[,HOST:PORT…]/PREFIX`;
  const endpoints = match[2].split(',');
  for (const endpoint of endpoints) {
    const at = endpoint.lastIndexOf(':');
    const port = Number(endpoint.slice(at + 1));
    if (at <= 0 || !host.test(endpoint.slice(0, at)) || !/^\d{1,5}$/.test(endpoint.slice(at + 1)) || port < 1 || port > 65535) {
      return `endpoint '${endpoint}' is not HOST:PORT`;
    }
  }
  const prefix = match[3];
  if (prefix === undefined || !prefixPattern.test(prefix)) return `the prefix must be a path of letters, digits, '.', '_' and '-', like /l4lb (no . or .. segments)`;
  return { backend: 'etcd', endpoints, prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, tls: match[1] === 'etcds' };
}

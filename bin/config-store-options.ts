// The flags that say where the cluster-wide configuration lives, shared by `l4lb serve` and
// `l4lb config export|import`: --config-store and how to reach and log in to etcd (as
// etcdctl's --cacert/--cert/--key/--user, with the password read from a file).

import { readFileSync } from 'node:fs';
import { parseConfigStore, type ConfigStoreLocation } from '../store/etcd/location.js';
import type { EtcdTls } from '../store/etcd/client.js';
import { UsageError } from './usage-error.js';

export interface ConfigStoreOptions {
  location: ConfigStoreLocation;
  tls?: EtcdTls;
  auth?: { user: string; password: string };
}

export const configStoreFlags = {
  'config-store': { type: 'string' },
  'etcd-cacert': { type: 'string' },
  'etcd-cert': { type: 'string' },
  'etcd-key': { type: 'string' },
  'etcd-user': { type: 'string' },
  'etcd-password-file': { type: 'string' },
} as const;

export const configStoreUsage = `  --config-store sqlite|etcd://HOST:PORT[,HOST:PORT…]/PREFIX
                           where virtual services, real servers and health checks
                           live: this node's database, or etcd under PREFIX, shared
                           by every node pointed at it (etcds:// for TLS)
                                         [L4LB_CONFIG_STORE, default sqlite]
  --etcd-cacert FILE       CA certificate etcd's is checked against (implies TLS)
                                                   [L4LB_ETCD_CACERT]
  --etcd-cert FILE, --etcd-key FILE
                           client certificate and key for etcd  [L4LB_ETCD_CERT,
                                                     L4LB_ETCD_KEY]
  --etcd-user NAME         etcd user (etcd auth enabled)       [L4LB_ETCD_USER]
  --etcd-password-file FILE
                           its password, the file's first line
                                                   [L4LB_ETCD_PASSWORD_FILE]
`;

type Values = Partial<Record<keyof typeof configStoreFlags, string>>;

function readFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`--${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function parseConfigStoreOptions(values: Values, env: NodeJS.ProcessEnv): ConfigStoreOptions {
  const text = values['config-store'] ?? env.L4LB_CONFIG_STORE ?? 'sqlite';
  const location = parseConfigStore(text);
  if (typeof location === 'string') throw new UsageError(`--config-store ${text}: ${location}`);
  const pick = (flag: keyof Values, variable: string) => values[flag] ?? env[variable];
  const files = { ca: pick('etcd-cacert', 'L4LB_ETCD_CACERT'), cert: pick('etcd-cert', 'L4LB_ETCD_CERT'), key: pick('etcd-key', 'L4LB_ETCD_KEY') };
  const user = pick('etcd-user', 'L4LB_ETCD_USER');
  const passwordFile = pick('etcd-password-file', 'L4LB_ETCD_PASSWORD_FILE');
  if (location.backend === 'sqlite') {
    if (Object.values(files).some((f) => f !== undefined) || user || passwordFile) throw new UsageError('the --etcd-* options need --config-store etcd://…');
    return { location };
  }
  if ((files.cert === undefined) !== (files.key === undefined)) throw new UsageError('--etcd-cert and --etcd-key go together');
  if ((user === undefined) !== (passwordFile === undefined)) throw new UsageError('--etcd-user and --etcd-password-file go together');
  const options: ConfigStoreOptions = { location };
  if (location.tls || files.ca || files.cert) {
    options.tls = {
      ...(files.ca ? { ca: readFile('etcd-cacert', files.ca) } : {}),
      ...(files.cert ? { cert: readFile('etcd-cert', files.cert), key: readFile('etcd-key', files.key!) } : {}),
    };
  }
  if (user && passwordFile) {
    const password = readFile('etcd-password-file', passwordFile).toString('utf8').split('\n')[0];
    if (!password) throw new UsageError(`--etcd-password-file ${passwordFile}: the file's first line is empty`);
    options.auth = { user, password };
  }
  return options;
}

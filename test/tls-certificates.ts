// A throwaway certificate authority for tests, made with openssl: a CA, a server certificate
// for one IP address, and a client certificate, all in `dir`.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export function makeTestCertificates(dir: string, ip: string): TestCertificates {
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', timeout: 30_000 });
  const key = (name: string) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(`${name}.key`)]);
  key('ca');
  openssl(['req', '-x509', '-new', '-key', file('ca.key'), '-subj', '/CN=l4lb test CA', '-days', '2', '-out', file('ca.pem')]);
  const issue = (name: string, subject: string, extensions: string) => {
    key(name);
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(['req', '-new', '-key', file(`${name}.key`), '-subj', subject, '-out', file(`${name}.csr`)]);
    openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`)]);
  };
  // clientAuth too: etcd's gateway dials its own gRPC port with the server certificate.
  issue('server', '/CN=etcd', `subjectAltName = IP:${ip}\nextendedKeyUsage = serverAuth, clientAuth\n`);
  // No CommonName: etcd's JSON gateway refuses a client certificate that has one (CN-based
  // users cannot pass through it), so gateway clients authenticate by user and password.
  issue('client', '/O=l4lb', 'extendedKeyUsage = clientAuth\n');
  return { ca: file('ca.pem'), serverCert: file('server.pem'), serverKey: file('server.key'), clientCert: file('client.pem'), clientKey: file('client.key') };
}

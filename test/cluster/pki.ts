/**
 * Credentials for the test cluster, made with the openssl CLI: a CA and the API server's
 * serving certificate (127.0.0.1, localhost), the service-account signing key pair (so
 * ServiceAccount tokens are real signed JWTs) and a static token file holding the admin.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClusterPki {
  caFile: string;
  certFile: string;
  keyFile: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  tokenFile: string;
  adminToken: string;
}

export function makeClusterPki(dir: string): ClusterPki {
  const ssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }); };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '7', '-subj', '/CN=kawin-test-cluster-ca');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'apiserver.key', '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver');
  writeFileSync(join(dir, 'apiserver.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'apiserver.crt', '-days', '7', '-extfile', 'apiserver.ext');
  ssl('genrsa', '-out', 'sa.key', '2048');
  ssl('rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
  const adminToken = randomBytes(24).toString('hex');
  // token,user,uid,"groups": system:masters is the bootstrap superuser group.
  writeFileSync(join(dir, 'tokens.csv'), `${adminToken},kawin-admin,kawin-admin,"system:masters"\n`, { mode: 0o600 });
  return {
    caFile: join(dir, 'ca.crt'), certFile: join(dir, 'apiserver.crt'), keyFile: join(dir, 'apiserver.key'),
    serviceAccountKey: join(dir, 'sa.key'), serviceAccountPub: join(dir, 'sa.pub'), tokenFile: join(dir, 'tokens.csv'), adminToken,
  };
}

/** A kubeconfig for `server` with a bearer token (the admin's, or a ServiceAccount's). */
export function writeKubeconfig(file: string, server: string, caFile: string, token: string, user = 'user'): string {
  const text = `apiVersion: v1
kind: Config
clusters:
- name: kawin-test
  cluster:
    server: ${server}
    certificate-authority: ${caFile}
users:
- name: ${user}
  user:
    token: ${token}
contexts:
- name: kawin-test
  context:
    cluster: kawin-test
    user: ${user}
current-context: kawin-test
`;
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

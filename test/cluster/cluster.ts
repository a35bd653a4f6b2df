/**
 * A real Kubernetes control plane on loopback for tests, benchmarks and `npm run cluster`:
 * Debian's etcd and a kube-apiserver built from the Kubernetes Go modules
 * (test/tools/kube-apiserver), with token authentication, ServiceAccount token signing and
 * the RBAC authorizer on. kawin's CRDs are installed; an admin kubeconfig is written.
 * Everything lives in one temp dir, removed by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { toolBinary } from '../tools/index.js';
import { makeClusterPki, writeKubeconfig, type ClusterPki } from './pki.js';
import { freePort, kubectl, waitFor } from './util.js';

export interface ClusterOptions {
  /** The API server's watch cache (default on, as in production); off makes etcd compaction reach watches at once. */
  watchCache?: boolean;
  /** Write an audit log of every request (metadata level) to `<dir>/audit.log`. */
  audit?: boolean;
  /** Keep the temp dir after stop (npm run cluster prints it). */
  keep?: boolean;
  /** Where to put it (default a new temp dir). */
  dir?: string;
}

export interface TestCluster {
  dir: string;
  /** https://127.0.0.1:<port> */
  server: string;
  port: number;
  pki: ClusterPki;
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  etcdUrl: string;
  auditLog?: string;
  /** kubectl as the admin; returns stdout. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** A kubeconfig for this server (or another URL, e.g. a relay) with the given token. */
  kubeconfigFor(name: string, token: string, server?: string): string;
  /** GET as the admin: JSON body (or text with raw). */
  get(path: string): Promise<unknown>;
  getText(path: string): Promise<string>;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  /** Compact etcd up to its current revision (older resourceVersions → 410 Gone). */
  compactEtcd(): Promise<number>;
  stop(): Promise<void>;
}

const CRD_FILES = ['kubearmorhostpolicies.yaml', 'kubearmorpolicies.yaml', 'kubearmorclusterpolicies.yaml'];
const REPO = join(new URL('.', import.meta.url).pathname, '..', '..');

export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const binary = toolBinary('kube-apiserver');
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kawin-cluster-'));
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const pki = makeClusterPki(dir);
  const [etcdPort, peerPort, port] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = launch('etcd', [
    '--name', 'kawin', '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `kawin=http://127.0.0.1:${peerPort}`,
  ], dir);
  await waitFor(async () => (await fetch(`${etcdUrl}/health`)).ok, 'etcd healthy', 30_000);
  const auditLog = options.audit ? join(dir, 'audit.log') : undefined;
  if (auditLog) writeFileSync(join(dir, 'audit-policy.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n');
  const args = [
    `--etcd-servers=${etcdUrl}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${port}`,
    `--tls-cert-file=${pki.certFile}`, `--tls-private-key-file=${pki.keyFile}`, `--client-ca-file=${pki.caFile}`,
    `--token-auth-file=${pki.tokenFile}`, '--authorization-mode=RBAC', '--anonymous-auth=false',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`, `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--service-cluster-ip-range=10.96.0.0/24', '--allow-privileged=true', `--cert-dir=${join(dir, 'certs')}`,
    `--watch-cache=${options.watchCache ?? true}`, '--enable-priority-and-fairness=false', '--profiling=false',
    ...(auditLog ? [`--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${auditLog}`, '--audit-log-mode=batch'] : []),
  ];
  let apiserver: Running | undefined;
  const server = `https://127.0.0.1:${port}`;
  const kubeconfig = writeKubeconfig(join(dir, 'admin.kubeconfig'), server, pki.caFile, pki.adminToken, 'kawin-admin');
  const agent = new Agent({ ca: readFileSync(pki.caFile), keepAlive: false });
  const getText = (path: string): Promise<string> => httpsGet(agent, `${server}${path}`, pki.adminToken);
  const startApiServer = async (): Promise<void> => {
    apiserver = launch(binary, args, dir, 'kube-apiserver');
    await waitFor(async () => (await getText('/readyz').catch(() => '')) === 'ok', 'kube-apiserver ready', 90_000, () => apiserver!.exited);
  };
  const cluster: TestCluster = {
    dir, server, port, pki, kubeconfig, etcdUrl, auditLog,
    kubectl: (a, input) => kubectl(kubeconfig, a, input),
    kubeconfigFor: (name, token, url = server) => writeKubeconfig(join(dir, `${name}.kubeconfig`), url, pki.caFile, token, name),
    get: async (path) => JSON.parse(await getText(path)) as unknown,
    getText,
    startApiServer,
    stopApiServer: async () => { await apiserver?.stop(); apiserver = undefined; },
    compactEtcd: () => compactEtcd(etcdUrl),
    stop: async () => {
      await apiserver?.stop();
      await etcd.stop();
      agent.destroy();
      if (!options.keep) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
  try {
    await startApiServer();
    await cluster.kubectl(['apply', '--server-side', ...CRD_FILES.flatMap((f) => ['-f', join(REPO, 'crds', f)])]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...CRD_FILES.map((f) => `crd/${f.replace('.yaml', '')}.security.kubearmor.com`)]);
    await waitFor(async () => (await cluster.kubectl(['get', 'namespace', 'default', '-o', 'name']).catch(() => '')).trim() !== '', 'namespace default', 30_000);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

interface Running {
  exited: boolean;
  stop(): Promise<void>;
}

function launch(command: string, args: string[], dir: string, name = command): Running {
  const log = createWriteStream(join(dir, 'logs', `${name}.log`), { flags: 'a' });
  const child: ChildProcess = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const running = { exited: false, stop: async (): Promise<void> => {} };
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.exited = true; resolve(); }));
  running.stop = async () => {
    if (running.exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return running;
}

function httpsGet(agent: Agent, url: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { Authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        if ((res.statusCode ?? 0) >= 400) reject(new Error(`GET ${url}: ${res.statusCode} ${body.slice(0, 300)}`));
        else resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`))).on('error', reject).end();
  });
}

/** etcd's JSON gateway: the current revision, then a physical compaction up to it. */
async function compactEtcd(etcdUrl: string): Promise<number> {
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const range = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
  const revision = Number((range.header as { revision: string }).revision);
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError, changedFields, loadConfig, parseConfig, type ConfigProblem } from './index.js';

function problemsOf(fn: () => unknown): ConfigProblem[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigValidationError, `expected ConfigValidationError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the config to be rejected');
}

void test('an empty config gets every default (Linux)', () => {
  const c = parseConfig('{}', { file: '/etc/kawin/config.json', platform: 'linux', hostName: 'node-a' });
  assert.equal(c.configPath, '/etc/kawin/config.json');
  assert.equal(c.hostName, 'node-a');
  assert.equal(c.clusterName, 'default');
  assert.equal(c.stateDir, '/var/lib/kawin');
  assert.deepEqual(c.driver, {
    kind: 'emulator',
    device: '/var/lib/kawin/emulator/Karmor',
    port: '/var/lib/kawin/emulator/KarmorPort',
    emulator: { dir: '/var/lib/kawin/emulator', flavor: 'windows', drives: { 'C:': '\\Device\\HarddiskVolume3' }, ringCapacity: 8192 },
  });
  assert.deepEqual(c.postures, { process: 'audit', file: 'audit', network: 'audit', registry: 'audit' });
  assert.deepEqual(c.hostTelemetry, { process: false, file: false });
  assert.deepEqual(c.sources, {
    files: { enabled: false, paths: [], debounceMs: 200, debounceMaxWaitMs: 2000, maxFileBytes: 4 * 1024 * 1024, rescanIntervalSeconds: 60 },
    grpc: { enabled: true, kinds: ['KubeArmorHostPolicy', 'KubeArmorPolicy'] },
    crd: {
      enabled: false, kinds: ['KubeArmorHostPolicy', 'KubeArmorPolicy', 'KubeArmorClusterPolicy'], node: { enabled: true },
      requestTimeoutSeconds: 30, listPageSize: 500, watchTimeoutSeconds: 600, watchSilenceSeconds: 180, relistIntervalSeconds: 1800,
      backoff: { initialMs: 500, maxMs: 60000 },
      events: { enabled: true, burst: 25, refillSeconds: 300, seriesWindowSeconds: 360, seriesIntervalSeconds: 30 },
    },
    precedence: ['crd', 'files', 'grpc'],
  });
  assert.deepEqual(c.reconcile, { resyncIntervalSeconds: 300, resyncJitter: 0.1, backoff: { initialMs: 100, maxMs: 30000 } });
  assert.deepEqual(c.grpc, {
    address: '127.0.0.1:32767', subscriberQueueSize: 4096, subscriberQueueBytes: 1024 * 1024, maxSubscribers: 128, maxConcurrentDiffs: 1,
    maxMessageBytes: 4 * 1024 * 1024, maxConnectionIdleSeconds: 300, maxConcurrentStreams: 1000,
    maxConnections: 512, maxConnectionsPerPeer: 128, handshakeTimeoutSeconds: 10, keepaliveSeconds: 120, keepaliveTimeoutSeconds: 20,
  });
  assert.equal(c.reservedDescriptors, 256);
  assert.deepEqual(c.events, { queueSize: 65536 });
  assert.deepEqual(c.outputs.stdout, { enabled: true, alerts: true, logs: false });
  assert.equal(c.outputs.file.path, '/var/lib/kawin/events.jsonl');
  assert.deepEqual(c.metrics, {
    enabled: true, address: '127.0.0.1:9727', maxConnections: 128, maxConnectionsPerPeer: 32, idleTimeoutSeconds: 60, requestTimeoutSeconds: 10,
  });
  assert.deepEqual(c.logging, { level: 'info', format: 'auto', maxFileBytes: 10485760, maxFiles: 5 });
  assert.deepEqual(c.nodeLabels, { 'kubearmor.io/hostname': 'node-a', 'kubernetes.io/os': 'windows' });
  assert.ok(Object.isFrozen(c.driver.emulator), 'the running config cannot be mutated by accident');
});

void test('Windows defaults: ProgramData, the windows driver and its device', () => {
  const c = parseConfig('{"logging": {"file": "logs\\\\agent.log"}}', { file: 'C:\\ProgramData\\kawin\\config.json', platform: 'win32', hostName: 'WIN-1' });
  assert.equal(c.stateDir, 'C:\\ProgramData\\kawin\\state');
  assert.equal(c.driver.kind, 'windows');
  assert.equal(c.driver.device, '\\\\.\\Karmor');
  assert.equal(c.logging.file, 'C:\\ProgramData\\kawin\\logs\\agent.log');
  assert.equal(c.nodeLabels['kubernetes.io/os'], 'windows');
  const defaults = parseConfig('{}', { file: 'C:\\ProgramData\\kawin\\config.json', platform: 'win32', hostName: 'WIN-1' });
  assert.equal(defaults.logging.file, 'C:\\ProgramData\\kawin\\logs\\agent.log', 'a service has no console: Windows logs to a file by default');
  assert.deepEqual([defaults.logging.maxFileBytes, defaults.logging.maxFiles], [10485760, 5]);
});

void test('relative paths resolve against the config file directory; labels set in the file win', () => {
  const text = JSON.stringify({
    stateDir: '../state',
    nodeLabels: { zone: 'a', 'kubernetes.io/os': 'linux' },
    driver: { emulator: { flavor: 'posix', library: 'lib/libkawin_emu.so' } },
    sources: { files: { enabled: true, paths: ['policies', '/abs/dir'] } },
    grpc: { tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' } },
  });
  const c = parseConfig(text, { file: '/opt/kawin/etc/config.json', platform: 'linux', hostName: 'h' });
  assert.equal(c.stateDir, '/opt/kawin/state');
  assert.equal(c.driver.emulator.library, '/opt/kawin/etc/lib/libkawin_emu.so');
  assert.equal(c.driver.device, '/opt/kawin/state/emulator/Karmor');
  assert.deepEqual(c.sources.files.paths, ['/opt/kawin/etc/policies', '/abs/dir']);
  assert.deepEqual(c.grpc.tls, { certFile: '/opt/kawin/etc/tls/cert.pem', keyFile: '/opt/kawin/etc/tls/key.pem' });
  assert.deepEqual(c.nodeLabels, { 'kubearmor.io/hostname': 'h', 'kubernetes.io/os': 'linux', zone: 'a' });
});

void test('every problem is reported at once with line, column and field path in plain words', () => {
  const text = [
    '{',
    '  "driver": { "kind": "linux" },',
    '  "postures": { "fle": "block", "process": "deny" },',
    '  "reconcile": { "resyncIntervalSeconds": 0, "backoff": { "initialMs": 500, "maxMs": 100 } },',
    '  "sources": { "files": { "enabled": true, "paths": ["a", 7] } },',
    '  "events": { "queueSize": "big" },',
    '  "metrics": { "address": "localhost" }',
    '}',
  ].join('\n');
  const problems = problemsOf(() => parseConfig(text, { file: 'cfg.json', platform: 'linux' }));
  const lines = problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
  assert.deepEqual(lines, [
    '2:23 driver.kind: must be one of "windows", "emulator" (got "linux")',
    '3:17 postures.fle: unknown field (known fields here: process, file, network, registry)',
    '3:44 postures.process: must be one of "audit", "block" (got "deny")',
    '4:43 reconcile.resyncIntervalSeconds: must be >= 1 (got 0)',
    '4:86 reconcile.backoff.maxMs: must be >= reconcile.backoff.initialMs (500) (got 100)',
    '5:59 sources.files.paths[1]: must be a string (got a number)',
    '6:28 events.queueSize: must be an integer (got a string)',
    '7:27 metrics.address: "localhost" is not a listen address (host:port, [ipv6]:port or :port, port 0-65535)',
  ]);
  assert.ok(problems.every((p) => p.file === 'cfg.json'));
});

void test('the error message lists file:line:column for each problem', () => {
  try {
    parseConfig('{\n  "clusterName": ""\n}', { file: 'x.json' });
    assert.fail('rejected');
  } catch (error) {
    assert.ok(error instanceof ConfigValidationError);
    assert.equal(error.message, 'invalid config x.json (1 problem):\n  x.json:2:18: clusterName: must not be empty');
  }
});

void test('syntax errors point at the offending character', () => {
  const [comma] = problemsOf(() => parseConfig('{\n  "a": 1,\n}', { file: 'c.json' }));
  assert.deepEqual({ line: comma!.line, column: comma!.column }, { line: 3, column: 1 });
  assert.match(comma!.message, /field name in double quotes/);
  const [comment] = problemsOf(() => parseConfig('{ "logging": // no comments\n {} }', { file: 'c.json' }));
  assert.deepEqual({ line: comment!.line, column: comment!.column }, { line: 1, column: 14 });
  assert.match(comment!.message, /comments and trailing commas are not allowed/);
  const [top] = problemsOf(() => parseConfig('[]', { file: 'c.json' }));
  assert.match(top!.message, /must be a JSON object/);
  const [dup] = problemsOf(() => parseConfig('{"clusterName": "a",\n "clusterName": "b"}', { file: 'c.json' }));
  assert.deepEqual([dup!.line, dup!.path, dup!.message], [2, 'clusterName', 'appears twice in the same object']);
});

void test('gRPC reachable from other machines requires mutual TLS', () => {
  const [p] = problemsOf(() => parseConfig('{"grpc": {"address": "0.0.0.0:32767"}}', { file: 'c.json' }));
  assert.equal(p!.path, 'grpc.address');
  assert.match(p!.message, /reachable from other machines.*clientCaFile/);
  const ok = parseConfig('{"grpc": {"address": "0.0.0.0:32767", "tls": {"certFile": "c", "keyFile": "k", "clientCaFile": "ca"}}}', { file: '/x/c.json', platform: 'linux' });
  assert.equal(ok.grpc.tls?.clientCaFile, '/x/ca');
  const [missing] = problemsOf(() => parseConfig('{"grpc": {"tls": {"certFile": "c"}}}', { file: 'c.json' }));
  assert.equal(missing!.path, 'grpc.tls.keyFile');
  assert.equal(missing!.message, 'is required');
});

void test('localhost means the loopback address, whatever a hosts file says; another host name is never local', () => {
  const c = parseConfig('{"grpc": {"address": "localhost:32767"}, "metrics": {"address": "LocalHost:9727"}}', { file: '/x/c.json', platform: 'linux' });
  assert.equal(c.grpc.address, '127.0.0.1:32767', 'bound to the loopback address itself, not to a name lookup');
  assert.equal(c.metrics.address, '127.0.0.1:9727');
  for (const address of ['node-a.example.com:32767', 'localhost.example.com:1', 'kawin:1']) {
    const [p] = problemsOf(() => parseConfig(`{"grpc": {"address": "${address}"}}`, { file: 'c.json' }));
    assert.match(p!.message, /reachable from other machines/, address);
  }
  assert.equal(parseConfig('{"grpc": {"address": "[::ffff:127.0.0.1]:1"}}', { file: 'c.json' }).grpc.address, '[::ffff:127.0.0.1]:1');
});

void test('unix: gRPC addresses are accepted, local by construction, relative paths resolved', () => {
  assert.equal(parseConfig('{"grpc": {"address": "unix:/run/kawin/grpc.sock"}}', { file: '/x/c.json', platform: 'linux' }).grpc.address, 'unix:/run/kawin/grpc.sock');
  assert.equal(parseConfig('{"grpc": {"address": "unix:grpc.sock"}}', { file: '/x/c.json', platform: 'linux' }).grpc.address, 'unix:/x/grpc.sock');
  const [p] = problemsOf(() => parseConfig('{"grpc": {"address": "unix:"}}', { file: 'c.json' }));
  assert.equal(p!.path, 'grpc.address');
  const [m] = problemsOf(() => parseConfig('{"metrics": {"address": "unix:/run/m.sock"}}', { file: 'c.json' }));
  assert.equal(m!.path, 'metrics.address', 'the metrics listener is TCP only');
});

void test('a config path that is not a regular file is refused at once, never read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-config-fifo-'));
  try {
    const fifo = join(dir, 'config.json');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(loadConfig(fifo), (e: Error) => e instanceof ConfigValidationError && /not a regular file \(a FIFO\)/.test(e.message));
    await assert.rejects(loadConfig(dir), /not a regular file \(a directory\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('deeply nested JSON is a located error, not a stack overflow', () => {
  for (const text of ['['.repeat(200_000), `{"nodeLabels": ${'{"a": '.repeat(50_000)}`]) {
    const [p] = problemsOf(() => parseConfig(text, { file: 'c.json' }));
    assert.match(p!.message, /nested deeper than \d+ levels/);
    assert.equal(p!.line, 1);
    assert.ok((p!.column ?? 0) > 1);
  }
});

void test('command-line flags override the file and are validated like it', () => {
  const c = parseConfig('{"logging": {"level": "warn"}, "driver": {"kind": "windows"}}', {
    file: '/etc/kawin/config.json',
    platform: 'linux',
    overrides: { logLevel: 'debug', driverKind: 'emulator', policyDirs: ['/srv/policies'], metricsAddress: '127.0.0.1:0', stateDir: '/tmp/st', grpcAddress: '[::1]:5000' },
  });
  assert.equal(c.logging.level, 'debug');
  assert.equal(c.driver.kind, 'emulator');
  assert.deepEqual(c.sources.files, { enabled: true, paths: ['/srv/policies'], debounceMs: 200, debounceMaxWaitMs: 2000, maxFileBytes: 4194304, rescanIntervalSeconds: 60 });
  assert.equal(c.metrics.address, '127.0.0.1:0');
  assert.equal(c.stateDir, '/tmp/st');
  assert.equal(c.grpc.address, '[::1]:5000');
  const [flag] = problemsOf(() => parseConfig('{}', { file: 'c.json', overrides: { logLevel: 'loud' } }));
  assert.equal(flag!.file, 'command line');
  assert.equal(flag!.path, '--log-level (logging.level)');
  assert.match(flag!.message, /must be one of "error", "warn", "info", "debug" \(got "loud"\)/);
});

void test('loadConfig reads the file; a missing explicit file is an error, a missing default file means defaults', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-cfg-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, '\ufeff{"clusterName": "prod"}');
    const c = await loadConfig(file, {}, { platform: 'linux' });
    assert.equal(c.clusterName, 'prod');
    assert.equal(c.configPath, file);
    await assert.rejects(loadConfig(join(dir, 'nope.json')), (e: unknown) => e instanceof ConfigValidationError && /does not exist/.test(e.message));
    const d = await loadConfig(join(dir, 'nope.json'), { logLevel: 'debug' }, { optional: true });
    assert.equal(d.logging.level, 'debug');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('changedFields names the leaves that differ', () => {
  const a = parseConfig('{}', { platform: 'linux', hostName: 'h' });
  const b = parseConfig('{"logging": {"level": "debug"}, "postures": {"file": "block"}}', { platform: 'linux', hostName: 'h' });
  assert.deepEqual(changedFields(a, b), ['logging.level', 'postures.file']);
  assert.deepEqual(changedFields(a, a), []);
});

void test('examples/config.json is valid: emulator, the example policies, state under the repo, loopback', async () => {
  const repo = join(import.meta.dirname, '..', '..');
  const c = await loadConfig(join(repo, 'examples', 'config.json'), {}, { platform: 'linux' });
  assert.equal(c.driver.kind, 'emulator');
  assert.deepEqual(c.sources.files.paths, [join(repo, 'examples', 'policies')]);
  assert.equal(c.stateDir, join(repo, '.kawin', 'state'));
  assert.equal(c.grpc.address, '127.0.0.1:32767');
  assert.equal(c.metrics.address, '127.0.0.1:9727');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Counter } from 'prom-client';
import { requireTool, startPrometheus, waitForSeries } from '../../test/prometheus.js';
import { fileSourceMetricsObserver } from '../sources/file/kind.js';
import { createAgentMetrics, driverMetricsObserver, MemoryLogger, startObservabilityServer, workQueueMetricsObserver, type HealthStatus } from './index.js';
import { realClock } from '../clock/index.js';
import { Manager } from '../manager/index.js';

function setup() {
  const metrics = createAgentMetrics({ version: '0.1.0-test', node: 'win-node-1' });
  const health = new Manager({ logger: new MemoryLogger(), clock: realClock, stopDeadlineMs: 1000 });
  return { metrics, health };
}

void test('healthz, readyz with per-check lines, 404 and a clean close', async () => {
  const { metrics, health } = setup();
  const server = await startObservabilityServer({ address: '127.0.0.1:0', registry: metrics.registry, health });
  try {
    assert.equal(server.host, '127.0.0.1');
    const healthz = await fetch(`${server.url}/healthz`);
    assert.equal(healthz.status, 200);
    assert.equal(await healthz.text(), 'ok\n');

    let inSync = false;
    let applied: () => HealthStatus = () => { throw new Error('driver unreachable'); };
    const part = (name: string, ready: () => HealthStatus) => ({ name, ready, start: async () => {}, stop: async () => {} });
    await health.add(part('driver', () => ({ ok: true })));
    await health.add(part('sources', () => (inSync ? { ok: true } : { ok: false, reason: 'not in sync: files' })));
    await health.add(part('first-apply', () => applied()));
    await health.start();
    const notReady = await fetch(`${server.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.equal(await notReady.text(), '[+]driver ok\n[-]sources not in sync: files\n[-]first-apply check failed: driver unreachable\nreadyz check failed\n');

    inSync = true;
    applied = () => ({ ok: true });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'ok\n');
    const verbose = await fetch(`${server.url}/readyz?verbose`);
    assert.equal(await verbose.text(), '[+]driver ok\n[+]sources ok\n[+]first-apply ok\nreadyz check passed\n');

    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    assert.equal((await fetch(`${server.url}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
  await assert.rejects(fetch(`${server.url}/healthz`));
});

void test('a port already in use is a clear error', async () => {
  const { metrics, health } = setup();
  const first = await startObservabilityServer({ address: '127.0.0.1:0', registry: metrics.registry, health });
  try {
    await assert.rejects(startObservabilityServer({ address: `127.0.0.1:${first.port}`, registry: metrics.registry, health }), /cannot listen on 127\.0\.0\.1:\d+ for metrics and health/);
  } finally {
    await first.close();
  }
});

void test('metrics follow the observers and helpers', async () => {
  const { metrics } = setup();
  const driver = driverMetricsObserver(metrics);
  driver.ioctl!('apply', 0.002);
  driver.ioctl!('apply', 0.004, new Error('ERROR_GEN_FAILURE'));
  driver.portConnected!(true);
  const queue = workQueueMetricsObserver(metrics, 'reconcile');
  queue.depth!(3);
  queue.retry!();
  fileSourceMetricsObserver(metrics).rejected!('too_large');
  metrics.setSourceRevision('files', 'sha256:aaa');
  metrics.setSourceRevision('files', 'sha256:bbb');
  metrics.setPolicyStates({ applied: 4, invalid: 1 });
  const text = await metrics.registry.metrics();
  assert.match(text, /^kawin_ioctl_calls_total\{operation="apply"\} 2$/m);
  assert.match(text, /^kawin_ioctl_errors_total\{operation="apply"\} 1$/m);
  assert.match(text, /^kawin_ioctl_duration_seconds_count\{operation="apply"\} 2$/m);
  assert.match(text, /^kawin_driver_port_connected 1$/m);
  assert.match(text, /^kawin_workqueue_depth\{name="reconcile"\} 3$/m);
  assert.match(text, /^kawin_workqueue_retries_total\{name="reconcile"\} 1$/m);
  assert.match(text, /^kawin_source_revision_info\{source="files",revision="sha256:bbb"\} 1$/m);
  assert.doesNotMatch(text, /sha256:aaa/);
  assert.match(text, /^kawin_policies\{state="applied"\} 4$/m);
  assert.match(text, /^kawin_policies\{state="pending"\} 0$/m);
  assert.match(text, /^kawin_reconciles_total\{result="success"\} 0$/m);
  assert.match(text, /^kawin_process_cpu_seconds_total /m);
  assert.match(text, /^kawin_source_files_rejected_total\{source="files",reason="too_large"\} 1$/m);
  assert.match(text, /^kawin_source_files_rejected_total\{source="files",reason="unreadable"\} 0$/m);
});

void test('a real Prometheus scrapes /metrics and promtool finds no problems', async () => {
  requireTool('prometheus');
  requireTool('promtool');
  const { metrics, health } = setup();
  // Another module registering its own metric on the shared registry.
  new Counter({ name: 'kawin_events_total', help: 'Events received from the driver.', registers: [metrics.registry] }).inc(5);
  metrics.reconciles.inc({ result: 'success' });
  metrics.reconcileDuration.observe(0.012);
  const server = await startObservabilityServer({ address: '127.0.0.1:0', registry: metrics.registry, health });
  const dir = mkdtempSync(join(tmpdir(), 'kawin-prom-'));
  let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    const response = await fetch(`${server.url}/metrics`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await response.text();
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(`${lint.stdout}${lint.stderr}`, '', 'promtool check metrics reports no problems');
    assert.equal(lint.status, 0);

    prometheus = await startPrometheus(dir, `127.0.0.1:${server.port}`);
    const series = await waitForSeries(prometheus.url, 'kawin_build_info', prometheus.proc, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${prometheus!.log()}`);
    });
    assert.equal(series.length, 1);
    assert.equal(series[0]!.metric.version, '0.1.0-test');
    assert.equal(series[0]!.metric.node, 'win-node-1');
    assert.equal(series[0]!.value[1], '1');
    const events = await waitForSeries(prometheus.url, 'kawin_events_total', prometheus.proc, 10_000);
    assert.equal(events[0]!.value[1], '5');
  } finally {
    if (prometheus) {
      prometheus.proc.kill('SIGTERM');
      if (prometheus.proc.exitCode === null) await once(prometheus.proc, 'exit');
    }
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A real Prometheus for tests (Debian's package, installed by CI): started on a free
 * loopback port with a temp config and data dir, scraping one target every second.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './net.js';

export { freePort };

/** promtool's verdict on a /metrics body: '' when it finds nothing to report. */
export function promtoolCheck(body: string): string {
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  return `${lint.stdout}${lint.stderr}`;
}

export function requireTool(name: string): void {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    assert.fail(`${name} is not installed: this test needs Debian's prometheus package (apt-get install -y prometheus), which CI installs`);
  }
}

export async function startPrometheus(dir: string, target: string): Promise<{ url: string; proc: ChildProcess; log: () => string }> {
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: kawin\n    static_configs:\n      - targets: ['${target}']\n`);
  const proc = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return { url: `http://127.0.0.1:${port}`, proc, log: () => stderr };
}

/** Poll Prometheus' query API until the series appears (Prometheus is an external process: its scrapes cannot be awaited otherwise). */
export async function waitForSeries(prometheus: string, query: string, proc: ChildProcess, deadlineMs: number): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}`);
    const body = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`).then((r) => r.json() as Promise<{ data?: { result: [] } }>).catch(() => undefined);
    if (body?.data?.result.length) return body.data.result;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`prometheus did not report ${query} within ${deadlineMs} ms`);
}


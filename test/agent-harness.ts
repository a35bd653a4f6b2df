/**
 * Test harness for the agent: a fresh emulated kernel, a temp policy directory and state
 * directory, and an in-process agent runtime configured against them. Assertions read
 * the driver's table back through a separate DriverClient, never the agent's memory.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadConfig, parseConfig, type AgentConfig } from '../controller/config/index.js';
import { MemoryLogger } from '../controller/observability/index.js';
import { startAgentRuntime, type AgentRuntime } from '../controller/agent/runtime.js';
import type { DriverClient } from '../driver/client/index.js';
import type { DriverRule } from '../driver/abi/types.js';
import type { Clock } from '../controller/clock/index.js';
import { startEmulator, type EmulatorFixture } from './emulator.js';

export interface AgentHarness {
  root: string;
  policyDir: string;
  emulator: EmulatorFixture;
  /** A client of its own, for reading the table back. */
  probe: DriverClient;
  logger: MemoryLogger;
  runtime: AgentRuntime | undefined;
  config: AgentConfig;
  start(extra?: Record<string, unknown>, clock?: Clock): Promise<AgentRuntime>;
  /** Start with the config written to `configFile` and watched, as `kawin agent --config` does. */
  startWithConfigFile(extra?: Record<string, unknown>): Promise<AgentRuntime>;
  /** The raw config object (before defaults) for `extra`. */
  rawConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  configFile: string;
  stopAgent(): Promise<void>;
  writePolicy(name: string, text: string): void;
  deletePolicy(name: string): void;
  /** Resolves when the driver's table (read back) satisfies `check`; fails after `timeoutMs`. */
  until(check: (rules: DriverRule[]) => boolean, what: string, timeoutMs?: number): Promise<DriverRule[]>;
  /**
   * Resolves with the first value `check` returns that is neither undefined nor false
   * (polling what the agent shows: status, readiness); fails after `timeoutMs`.
   */
  eventually<T>(check: () => T | undefined | false, what: string, timeoutMs?: number): Promise<T>;
  paths(rules: DriverRule[]): string[];
}

export function hostPolicy(name: string, body: string): string {
  return `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: ${name}
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/os: windows
${body}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startHarness(t: Pick<TestContext, 'after'>): Promise<AgentHarness> {
  const root = mkdtempSync(join(tmpdir(), 'kawin-agent-'));
  const policyDir = join(root, 'policies');
  mkdirSync(policyDir);
  // Registered first so it runs first: the agent must stop before the emulator does, or
  // it would load the "vanished" driver again (as it should) and leave it running.
  const made: { harness?: AgentHarness } = {};
  t.after(async () => {
    await made.harness?.stopAgent();
    rmSync(root, { recursive: true, force: true });
  });
  const emulator = await startEmulator(t);
  const probe = await emulator.client();
  const logger = new MemoryLogger();
  const rawConfig = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    hostName: 'test-node',
    stateDir: join(root, 'state'),
    driver: { kind: 'emulator', device: emulator.device, port: emulator.port, emulator: { dir: emulator.dir, library: emulator.library } },
    sources: { files: { enabled: true, paths: [policyDir], debounceMs: 20 }, grpc: { enabled: false } },
    grpc: { address: '127.0.0.1:0' },
    metrics: { enabled: false, address: '127.0.0.1:0' },
    logging: { format: 'json' },
    ...extra,
  });
  const configFor = (extra: Record<string, unknown> = {}): AgentConfig => parseConfig(JSON.stringify(rawConfig(extra)));
  const configFile = join(root, 'config.json');
  const h: AgentHarness = {
    root, policyDir, emulator, probe, logger, runtime: undefined, config: configFor(), configFile, rawConfig,
    async startWithConfigFile(extra) {
      writeFileSync(configFile, JSON.stringify(rawConfig(extra), null, 2));
      h.config = await loadConfig(configFile);
      h.runtime = await startAgentRuntime({ config: h.config, logger, watchConfig: true });
      return h.runtime;
    },
    async start(extra, clock) {
      h.config = configFor(extra);
      h.runtime = await startAgentRuntime({ config: h.config, logger, watchConfig: false, clock });
      return h.runtime;
    },
    async stopAgent() {
      await h.runtime?.stop();
      h.runtime = undefined;
    },
    writePolicy(name, text) {
      const tmp = join(root, `.${name}.tmp`);
      writeFileSync(tmp, text);
      // Atomic replace, as GitOps tools write.
      writeFileSync(join(policyDir, name), text);
      unlinkSync(tmp);
    },
    deletePolicy(name) { unlinkSync(join(policyDir, name)); },
    async until(check, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: DriverRule[] = [];
      while (Date.now() < deadline) {
        // Injected faults hit whoever calls next, the probe included: retry those.
        const table = await probe.listRules().catch(() => undefined);
        if (table) last = table.rules;
        if (table && check(last)) return last;
        await sleep(20);
      }
      throw new Error(`timed out waiting for ${what}; driver holds: ${JSON.stringify(h.paths(last))}`);
    },
    async eventually(check, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(10);
      }
    },
    paths: (rules) => rules.map((r) => r.target.path).sort(),
  };
  made.harness = h;
  return h;
}

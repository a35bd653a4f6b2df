import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { packageFile } from '../../driver/package-files/index.js';
import { AGENT_NODE_OPTIONS } from './node-flags.js';

const read = (path: string): string => readFileSync(packageFile(path), 'utf8');

void test('every launcher gives the agent the same V8 options', () => {
  const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['start']!;
  const service = /Arguments="([^"]*)"/.exec(read('installer/kawin.wxs'))?.[1] ?? '';
  const daemonset = /name: NODE_OPTIONS\s+value: "([^"]*)"/.exec(read('deploy/daemonset.yaml'))?.[1] ?? '';
  for (const option of AGENT_NODE_OPTIONS) {
    assert.match(start, new RegExp(`^node ${option} bin/kawin\\.js agent`), 'npm start');
    assert.ok(service.startsWith(`${option} `), `the Windows service: ${service}`);
    assert.ok(daemonset.split(' ').includes(option), `the DaemonSet: ${daemonset}`);
  }
});

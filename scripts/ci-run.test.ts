import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// CI runs on machines shared with other work: it must never stop processes it did not
// start (it once ran `pkill -x prometheus`, ending every Prometheus on the machine).
void test('.ci/run stops no process it did not start', () => {
  const script = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')
    .split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');
  for (const killer of [/\bpkill\b/, /\bkillall\b/, /\bsystemctl\s+(stop|kill)\b/, /\bkill\s+(-\d+\s+)?\$\(/]) {
    assert.doesNotMatch(script, killer);
  }
});

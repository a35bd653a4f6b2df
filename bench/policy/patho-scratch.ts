import { performance } from 'node:perf_hooks';
import { needsEventParser, flowHazard } from '../../controller/policy/fast-scan.js';
import { parsePolicies } from '../../controller/policy/index.js';
for (const [name, text] of [['} # ', 'a: ' + '} # '.repeat(2_000_000)], ["'a' ", 'a: [' + "'a', ".repeat(1_000_000) + ']'], ['}#', 'a: ' + '}#'.repeat(4_000_000)], ['"\\\\"', 'a: [' + '"\\\\\\\\", '.repeat(1_000_000) + ']']] as const) {
  const t0 = performance.now(); needsEventParser(text); flowHazard(text); const t1 = performance.now();
  parsePolicies(text, 'x'); console.log(name, text.length, (t1 - t0).toFixed(0), 'ms scan', (performance.now() - t1).toFixed(0), 'ms parse');
}

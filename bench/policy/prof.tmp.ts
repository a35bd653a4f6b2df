import { performance } from 'node:perf_hooks';
import { parseEvents, constructFromEvents } from 'js-yaml';
import { validatorFor } from '../../controller/policy/schema.js';
import { normalizeSpec } from '../../controller/policy/normalize.js';
import { parsePolicies } from '../../controller/policy/index.js';
import { hash } from 'node:crypto';
const { texts } = await import('./texts.tmp.js');
for (let round = 0; round < 2; round++) {
let t = performance.now(); const evs = texts.map((x: string) => parseEvents(x, {})); console.log('events', performance.now() - t);
t = performance.now(); const vals = evs.map((e: any, i: number) => constructFromEvents(e, { source: texts[i], maxAliases: 16 })[0]); console.log('construct', performance.now() - t);
const v = validatorFor('KubeArmorHostPolicy');
t = performance.now(); vals.forEach((x: any) => v(x)); console.log('ajv', performance.now() - t);
t = performance.now(); vals.forEach((x: any) => normalizeSpec('KubeArmorHostPolicy', x.spec)); console.log('normalize', performance.now() - t);
t = performance.now(); vals.forEach((x: any) => hash('sha256', JSON.stringify(x.spec))); console.log('digest', performance.now() - t);
t = performance.now(); texts.forEach((x: string) => parsePolicies(x, 'a')); console.log('parsePolicies', performance.now() - t);
}

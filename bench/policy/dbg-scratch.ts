import { readFileSync } from 'node:fs';
import { parsePolicies } from '../../controller/policy/index.js';
const edits = JSON.parse(process.argv[3]!) as { at: number; remove: number; insert: string }[];
let text = readFileSync(process.argv[2]!, 'utf8');
for (const e of edits) { const at = e.at % (text.length + 1); text = text.slice(0, at) + e.insert + text.slice(at + e.remove); }
const a = parsePolicies(text, 'p'); const b = parsePolicies(text, 'p', { yamlParser: 'events' });
console.log(JSON.stringify(text));
console.log('fast', JSON.stringify(a, (k, v) => (k === 'locate' ? undefined : v)));
console.log('evts', JSON.stringify(b, (k, v) => (k === 'locate' ? undefined : v)));

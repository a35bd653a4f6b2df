import { hash, createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
const xs = Array.from({ length: 100000 }, (_, i) => `kawin-rule-v1|3|2|1|1|C:\\APP${i % 1000}\\V0\\FILE${i % 100}.DAT|1|C:\\TOOLS\\APP${i % 1000}.EXE`);
const t = (name: string, f: () => void) => { let best = 1e9; for (let k = 0; k < 5; k++) { const t0 = performance.now(); f(); best = Math.min(best, performance.now() - t0); } console.log(name.padEnd(20), best.toFixed(1), 'ms'); };
t('hash buffer', () => { for (const x of xs) hash('sha256', x, 'buffer').readBigUInt64BE(0); });
t('hash hex', () => { for (const x of xs) BigInt('0x' + hash('sha256', x, 'hex').slice(0, 16)); });
t('createHash', () => { for (const x of xs) createHash('sha256').update(x).digest().readBigUInt64BE(0); });
t('hash only', () => { for (const x of xs) hash('sha256', x, 'buffer'); });
t('readBig', () => { const b = Buffer.alloc(32, 7); for (let i = 0; i < xs.length; i++) b.readBigUInt64BE(0); });
t('hash b64', () => { for (const x of xs) hash('sha256', x, 'base64'); });
function fromLatin1(s: string): bigint { let hi = 0; let lo = 0; for (let i = 0; i < 4; i++) hi = hi * 256 + s.charCodeAt(i); for (let i = 4; i < 8; i++) lo = lo * 256 + s.charCodeAt(i); return (BigInt(hi) << 32n) | BigInt(lo); }
t('hash latin1', () => { for (const x of xs) fromLatin1(hash('sha256', x, 'latin1')); });
t('hash b64 2', () => { for (const x of xs) hash('sha256', x, 'base64'); });
t('hash buffer 2', () => { for (const x of xs) hash('sha256', x, 'buffer').readBigUInt64BE(0); });
t('hash latin1 2', () => { for (const x of xs) fromLatin1(hash('sha256', x, 'latin1')); });
t('hash hex 2', () => { for (const x of xs) BigInt('0x' + hash('sha256', x, 'hex').slice(0, 16)); });
for (const x of xs.slice(0, 1000)) if (fromLatin1(hash('sha256', x, 'latin1')) !== hash('sha256', x, 'buffer').readBigUInt64BE(0)) throw new Error('mismatch');

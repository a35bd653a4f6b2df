const slab = Buffer.allocUnsafeSlow(256 * 1024);
let c = process.cpuUsage(); let n = 0;
for (let i = 0; i < 2_000_000; i++) { const o = (i * 400) % (200 * 1024); n += slab.subarray(o, o + 400).length; }
let d = process.cpuUsage(c); console.log('subarray', ((d.user + d.system) / 2e6).toFixed(3), 'µs');
const s = '2026-11-21T10:00:00.123456Z C:\\kawin-load\\d01\\file000123.txt and some more text to be long';
c = process.cpuUsage();
for (let i = 0; i < 2_000_000; i++) { let p = 0; for (let j = 0; j < s.length; j++) slab[p++] = s.charCodeAt(j); n += p; }
d = process.cpuUsage(c); console.log('loop', s.length, 'chars', ((d.user + d.system) / 2e6).toFixed(3), 'µs');
c = process.cpuUsage();
for (let i = 0; i < 2_000_000; i++) { n += slab.latin1Write(s, 0); }
d = process.cpuUsage(c); console.log('latin1Write', ((d.user + d.system) / 2e6).toFixed(3), 'µs');
c = process.cpuUsage();
for (let i = 0; i < 2_000_000; i++) { n += slab.write(s, 0, 'latin1'); }
d = process.cpuUsage(c); console.log('write latin1', ((d.user + d.system) / 2e6).toFixed(3), 'µs', n);
c = process.cpuUsage();
for (let i = 0; i < 2_000_000; i++) { n += Buffer.byteLength(s, 'utf8'); }
d = process.cpuUsage(c); console.log('byteLength', ((d.user + d.system) / 2e6).toFixed(3), 'µs');
c = process.cpuUsage();
const re = /[^\x00-\x7f]/;
for (let i = 0; i < 2_000_000; i++) { n += re.test(s) ? 1 : 0; }
d = process.cpuUsage(c); console.log('regex', ((d.user + d.system) / 2e6).toFixed(3), 'µs');
c = process.cpuUsage();
for (let i = 0; i < 2_000_000; i++) { let k = s.length; for (let j = 0; j < s.length; j++) if (s.charCodeAt(j) >= 128) { k = -1; break; } n += k; }
d = process.cpuUsage(c); console.log('scan', ((d.user + d.system) / 2e6).toFixed(3), 'µs');
const short = 'MatchedHostPolicy';
c = process.cpuUsage();
for (let i = 0; i < 2_000_000; i++) { n += Buffer.byteLength(short, 'utf8') + slab.latin1Write(short, 0); }
d = process.cpuUsage(c); console.log('short native', ((d.user + d.system) / 2e6).toFixed(3), 'µs');
c = process.cpuUsage();
for (let i = 0; i < 2_000_000; i++) { let k = short.length; for (let j = 0; j < short.length; j++) if (short.charCodeAt(j) >= 128) { k = -1; break; } let p = 0; for (let j = 0; j < short.length; j++) slab[p++] = short.charCodeAt(j); n += k + p; }
d = process.cpuUsage(c); console.log('short js', ((d.user + d.system) / 2e6).toFixed(3), 'µs');

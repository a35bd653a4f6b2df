import { encodeAlert } from '../../controller/events/wire.js';
import { RecordBuilder } from '../../controller/events/build.js';
import { DriveMap, driverEvent, lookup } from '../../controller/events/test-fixtures.js';
const b = new RecordBuilder({ hostName: 'h', clusterName: 'c', paths: new DriveMap(), hostTelemetry: false, allowAlerts: false, provenance: lookup([{ ruleId: 0x1234n, action: 'Block', origins: [{ kind: 'KubeArmorHostPolicy', policy: 'p', severity: 5, tags: ['a', 'b'], message: 'm' }] }]) });
const mk = (i: number) => b.alert(driverEvent({ processId: i, time: 133_000_000_000_000_000n + BigInt(i * 37), targetPath: `\\Device\\HarddiskVolume3\\kawin-load\\d${i % 32}\\file${i}.txt` }));
for (let round = 0; round < 3; round++) {
  let c = process.cpuUsage(); let n = 0;
  for (let i = 0; i < 200000; i++) n += mk(i).PID;
  let d = process.cpuUsage(c); const tb = (d.user + d.system) / 1000 / 200000;
  c = process.cpuUsage();
  for (let i = 0; i < 200000; i++) n += encodeAlert(mk(i)).length;
  d = process.cpuUsage(c); const te = (d.user + d.system) / 1000 / 200000 - tb;
  console.log(`build ${(tb * 1000).toFixed(2)}µs, encode ${(te * 1000).toFixed(2)}µs`);
}

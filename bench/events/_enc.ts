import { Alert } from '../../proto/gen/feeder.js';
import { encodeAlert } from '../../controller/events/wire.js';
import { RecordBuilder } from '../../controller/events/build.js';
import { DriveMap, driverEvent, lookup } from '../../controller/events/test-fixtures.js';
const b = new RecordBuilder({ hostName: 'h', clusterName: 'c', paths: new DriveMap(), hostTelemetry: false, allowAlerts: false, provenance: lookup([{ ruleId: 0x1234n, action: 'Block', origins: [{ kind: 'KubeArmorHostPolicy', policy: 'p', severity: 5, tags: ['a', 'b'], message: 'm' }] }]) });
const alerts = Array.from({ length: 1000 }, (_, i) => b.alert(driverEvent({ processId: i, targetPath: `\\Device\\HarddiskVolume3\\d\\f${i}.txt` })));
for (const [name, fn] of [['fast', (a) => encodeAlert(a).length], ['tsproto', (a) => Alert.encode(a).finish().length], ['build', null]] as const) {
  const s = performance.now(); let n = 0;
  for (let k = 0; k < 300; k++) for (let i = 0; i < 1000; i++) n += fn ? fn(alerts[i]) : b.alert(driverEvent({ processId: i })).PID;
  console.log(name, Math.round(300000 / ((performance.now() - s) / 1000)), '/s');
}

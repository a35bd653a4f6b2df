import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { emulatorStatus, EmulatorNotBuiltError, startEmulatedKernel, stopEmulatedKernel } from './index.js';

void describe('emulated kernel lifecycle', () => {
  void it('a daemonized kernel outlives its starter, refuses a twin, and stops on request', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kawin-daemon-'));
    t.after(async () => {
      await stopEmulatedKernel(dir);
      rmSync(dir, { recursive: true, force: true });
    });
    const kernel = await startEmulatedKernel({ dir, daemonize: true, flavor: 'posix' });
    assert.deepEqual(emulatorStatus(dir), { running: true, pid: kernel.pid, device: kernel.device, port: kernel.port });
    await assert.rejects(startEmulatedKernel({ dir, daemonize: true }), /another kawin-driverd \(pid \d+\) is running/);
    assert.equal(kernel.machine.layout().abiVersion, 2);
    await stopEmulatedKernel(dir);
    assert.equal(emulatorStatus(dir).running, false);
  });

  void it('says how to build the emulator when it is missing', () => {
    assert.match(new EmulatorNotBuiltError('/x/kawin-driverd').message, /run `npm install`.*C compiler/);
  });
});

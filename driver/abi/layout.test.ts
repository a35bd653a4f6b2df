import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertEmulatorBuilt, EMULATOR_LIBRARY, readEmulatorLayout } from '../emulator/index.js';
import { layout } from './codec.js';

void describe('codec layout equals the C header (KawinEmu_GetLayout)', () => {
  assertEmulatorBuilt();
  const c = readEmulatorLayout(EMULATOR_LIBRARY);

  void it('ABI version', () => assert.equal(layout.abiVersion, c.abiVersion));
  void it('every struct: same size, same fields at the same offsets', () => {
    assert.deepEqual(Object.keys(layout.structs).sort(), Object.keys(c.structs).sort());
    for (const [name, s] of Object.entries(c.structs)) {
      assert.deepEqual({ name, size: layout.structs[name]!.size, fields: layout.structs[name]!.fields }, { name, ...s });
    }
  });
  void it('every constant and IOCTL code', () => {
    assert.deepEqual(layout.constants, c.constants);
  });
});

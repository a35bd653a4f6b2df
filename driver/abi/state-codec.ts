/**
 * SET_CONFIG input, GET_STATE input and output, and the KAWIN_CONFIG they share.
 */
import { CONFIG, HEADER, SET_CONFIG_REQUEST, STATE } from './layout.js';
import { alloc, cursorOf, readHeader, writeHeader } from './control-codec.js';
import type { Cursor } from './rules-codec.js';
import { ABI_VERSION, CONFIG_FLAG_CASE_FOLD, Flavor, Posture, type DriverConfig, type DriverState } from './types.js';
import { AbiDecodeError, expectEnum, need } from './wire.js';

export function writeConfig(view: DataView, at: number, cfg: DriverConfig): void {
  const f = CONFIG.fields;
  view.setUint32(at + f.Flags, cfg.caseFold ? CONFIG_FLAG_CASE_FOLD : 0, true);
  view.setUint32(at + f.EventMask, cfg.eventMask >>> 0, true);
  view.setUint8(at + f.ProcessPosture, cfg.processPosture);
  view.setUint8(at + f.FilePosture, cfg.filePosture);
  view.setUint8(at + f.NetworkPosture, cfg.networkPosture);
  view.setUint8(at + f.RegistryPosture, cfg.registryPosture);
}

export function readConfig(c: Cursor, at: number): DriverConfig {
  const NAME = 'KAWIN_CONFIG';
  need(NAME, at, CONFIG.size, c.end);
  const f = CONFIG.fields;
  const posture = (field: keyof typeof f): Posture => {
    const p = c.view.getUint8(at + f[field]);
    expectEnum(NAME, at + f[field], field, p, [Posture.Audit, Posture.Block]);
    return p;
  };
  return {
    caseFold: (c.view.getUint32(at + f.Flags, true) & CONFIG_FLAG_CASE_FOLD) !== 0,
    eventMask: c.view.getUint32(at + f.EventMask, true),
    processPosture: posture('ProcessPosture'),
    filePosture: posture('FilePosture'),
    networkPosture: posture('NetworkPosture'),
    registryPosture: posture('RegistryPosture'),
  };
}

export function encodeSetConfig(cfg: DriverConfig): Uint8Array {
  const { bytes, view } = alloc(SET_CONFIG_REQUEST.size);
  writeHeader(view, 0, 1, SET_CONFIG_REQUEST.size);
  writeConfig(view, SET_CONFIG_REQUEST.fields.Config, cfg);
  return bytes;
}

export function decodeSetConfig(bytes: Uint8Array): DriverConfig {
  const c = cursorOf(bytes);
  readHeader(c, 0, 'KAWIN_SET_CONFIG_REQUEST', SET_CONFIG_REQUEST.size);
  return readConfig(c, SET_CONFIG_REQUEST.fields.Config);
}

/** GET_STATE input: a bare header. */
export function encodeGetState(): Uint8Array {
  const { bytes, view } = alloc(HEADER.size);
  writeHeader(view, 0, 0, HEADER.size);
  return bytes;
}

export function encodeState(s: DriverState): Uint8Array {
  const { bytes, view } = alloc(STATE.size);
  const f = STATE.fields;
  view.setUint16(f.Version, s.abiVersion, true);
  view.setUint16(f.Size, STATE.size, true);
  view.setUint32(f.Flavor, s.flavor, true);
  view.setBigUint64(f.Generation, s.generation, true);
  view.setUint32(f.RuleCount, s.ruleCount, true);
  view.setUint32(f.PortConnected, s.portConnected ? 1 : 0, true);
  view.setBigUint64(f.EventsEmitted, s.eventsEmitted, true);
  view.setBigUint64(f.EventsDropped, s.eventsDropped, true);
  view.setUint32(f.RingCapacity, s.ringCapacity, true);
  view.setUint32(f.RingUsed, s.ringUsed, true);
  writeConfig(view, f.Config, s.config);
  return bytes;
}

export function decodeState(bytes: Uint8Array, length = bytes.byteLength): DriverState {
  const NAME = 'KAWIN_STATE';
  const c = cursorOf(bytes, length);
  need(NAME, 0, STATE.size, c.end);
  const f = STATE.fields;
  const v = c.view;
  const version = v.getUint16(f.Version, true);
  if (version !== ABI_VERSION) throw new AbiDecodeError(NAME, f.Version, `Version ${version}, expected ${ABI_VERSION}`);
  const size = v.getUint16(f.Size, true);
  if (size < STATE.size || size > c.end) throw new AbiDecodeError(NAME, f.Size, `Size ${size} outside ${STATE.size}..${c.end}`);
  const flavor = v.getUint32(f.Flavor, true);
  expectEnum(NAME, f.Flavor, 'Flavor', flavor, [Flavor.Windows, Flavor.Posix]);
  return {
    abiVersion: version,
    flavor,
    generation: v.getBigUint64(f.Generation, true),
    ruleCount: v.getUint32(f.RuleCount, true),
    portConnected: v.getUint32(f.PortConnected, true) !== 0,
    eventsEmitted: v.getBigUint64(f.EventsEmitted, true),
    eventsDropped: v.getBigUint64(f.EventsDropped, true),
    ringCapacity: v.getUint32(f.RingCapacity, true),
    ringUsed: v.getUint32(f.RingUsed, true),
    config: readConfig(c, f.Config),
  };
}

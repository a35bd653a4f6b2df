import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flavor } from '../abi/types.js';
import { DosPathTranslator, pathTranslatorFor } from './paths.js';

const map = new Map([['C:', '\\Device\\HarddiskVolume3'], ['d:', '\\Device\\HarddiskVolume30'], ['Z:', '\\Device\\Mup\\server\\share']]);

void describe('DosPathTranslator', () => {
  const paths = new DosPathTranslator(map);
  void it('DOS -> NT for every mapped drive, any letter case', () => {
    assert.equal(paths.toDriver('C:\\Windows\\System32\\cmd.exe'), '\\Device\\HarddiskVolume3\\Windows\\System32\\cmd.exe');
    assert.equal(paths.toDriver('c:\\x'), '\\Device\\HarddiskVolume3\\x');
    assert.equal(paths.toDriver('D:\\'), '\\Device\\HarddiskVolume30\\');
    assert.equal(paths.toDriver('C:'), '\\Device\\HarddiskVolume3');
  });
  void it('strips \\\\?\\ and \\??\\ prefixes', () => {
    assert.equal(paths.toDriver('\\\\?\\C:\\x'), '\\Device\\HarddiskVolume3\\x');
    assert.equal(paths.toDriver('\\??\\C:\\x'), '\\Device\\HarddiskVolume3\\x');
  });
  void it('leaves unmapped drives, relative and NT paths alone', () => {
    for (const p of ['E:\\x', 'x\\y', '\\Device\\HarddiskVolume3\\x', 'C:relative', '**\\*.exe']) assert.equal(paths.toDriver(p), p);
  });
  void it('gives the NT form in parts (device, then the DOS path after its drive), as toDriver joins them', () => {
    assert.deepEqual(paths.toDriverParts('C:\\a\\b'), { prefix: '\\Device\\HarddiskVolume3', skip: 2 });
    assert.deepEqual(paths.toDriverParts('\\\\?\\d:\\x'), { prefix: '\\Device\\HarddiskVolume30', skip: 6 });
    for (const p of ['E:\\x', 'x\\y', '\\Device\\HarddiskVolume3\\x']) assert.deepEqual(paths.toDriverParts(p), { prefix: '', skip: 0 }, p);
    for (const p of ['C:\\a\\b', '\\\\?\\d:\\x', '\\??\\C:', 'E:\\x']) {
      const { prefix, skip } = paths.toDriverParts(p);
      assert.equal(prefix + p.slice(skip), paths.toDriver(p));
    }
  });
  void it('names the missing volume of a path on an unmapped drive, whatever its spelling', () => {
    assert.equal(paths.missingVolume('e:\\x'), 'E:');
    assert.equal(paths.missingVolume('\\\\?\\q:\\x'), 'Q:');
    assert.equal(paths.missingVolume('\\??\\E:'), 'E:');
    for (const p of ['C:\\x', 'd:', '\\\\?\\C:\\x', 'x\\y', 'E:relative', '\\Device\\HarddiskVolume9\\x', '\\\\?\\UNC\\s\\x']) assert.equal(paths.missingVolume(p), undefined, p);
  });
  void it('NT -> DOS, case-insensitive, longest device first, only at a separator', () => {
    assert.equal(paths.fromDriver('\\Device\\HarddiskVolume3\\a\\b'), 'C:\\a\\b');
    assert.equal(paths.fromDriver('\\DEVICE\\HARDDISKVOLUME30\\a'), 'D:\\a');
    assert.equal(paths.fromDriver('\\Device\\HarddiskVolume300\\a'), '\\Device\\HarddiskVolume300\\a');
    assert.equal(paths.fromDriver('\\Device\\Mup\\server\\share\\f.txt'), 'Z:\\f.txt');
    assert.equal(paths.fromDriver('\\Device\\HarddiskVolume3'), 'C:');
  });
  void it('round trips', () => {
    for (const p of ['C:\\a b\\ü.txt', 'D:\\x', 'Z:\\deep\\er']) assert.equal(paths.fromDriver(paths.toDriver(p)), p.replace(/^./, (c) => c.toUpperCase()));
  });
  void it('is the identity on the posix flavour', () => {
    const posix = pathTranslatorFor(Flavor.Posix, map);
    assert.equal(posix.toDriver('C:\\x'), 'C:\\x');
    assert.equal(posix.fromDriver('\\Device\\HarddiskVolume3\\x'), '\\Device\\HarddiskVolume3\\x');
  });
});

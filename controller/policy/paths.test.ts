import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Flavor } from '../../driver/abi/types.js';
import { canonicalPath, diagnosePath, foldCase } from './paths.js';
import { environmentLookup, withDefaults } from './environment.js';

const windows = { flavor: Flavor.Windows, environment: environmentLookup(withDefaults(undefined)) };
const posix = { flavor: Flavor.Posix, environment: environmentLookup(withDefaults(undefined)) };
const canon = (value: string, form: 'path' | 'directory' | 'pattern' = 'path', context = windows) => {
  const r = canonicalPath(value, form, context);
  return r.ok ? r.path : `${r.code}: ${r.message}`;
};

void test('the three Windows spellings reduce to one DOS path with an upper-case drive letter', () => {
  for (const spelling of ['C:\\Windows\\System32\\cmd.exe', '/C:/Windows/System32/cmd.exe', '%SystemRoot%\\System32\\cmd.exe', 'c:/Windows//System32\\cmd.exe', '%systemroot%/System32/cmd.exe']) {
    assert.equal(canon(spelling), 'C:\\Windows\\System32\\cmd.exe', spelling);
  }
  assert.equal(canon('/C:/ProgramData/', 'directory'), 'C:\\ProgramData\\');
  assert.equal(canon('%SystemDrive%\\', 'directory'), 'C:\\');
  assert.equal(canon('%ProgramFiles(x86)%\\App\\*.exe', 'pattern'), 'C:\\Program Files (x86)\\App\\*.exe');
});

void test('the caller overrides the default environment (names are case-insensitive)', () => {
  const context = { flavor: Flavor.Windows, environment: environmentLookup(withDefaults({ SYSTEMROOT: 'D:\\Win' })) };
  assert.equal(canon('%SystemRoot%\\notepad.exe', 'path', context), 'D:\\Win\\notepad.exe');
  assert.match(canon('%USERPROFILE%\\x.txt'), /^environment: unknown environment variable %USERPROFILE%/);
});

void test('flavour mismatches are errors that say which flavour the path needs', () => {
  assert.match(canon('/usr/bin/sleep'), /^flavor: .*no drive letter/);
  assert.match(canon('C:\\x.exe', 'path', posix), /^flavor: .*posix-flavour/);
  assert.match(canon('/C:/x.exe', 'path', posix), /^flavor: /);
  assert.equal(canon('/usr//bin/sleep', 'path', posix), '/usr/bin/sleep');
});

void test('diagnosePath names what is wrong on any node', () => {
  const cases: [string, 'path' | 'directory', RegExp][] = [
    ['cmd.exe', 'path', /relative path/],
    ['C:\\a\\..\\b.exe', 'path', /"\.\." segment/],
    ['C:\\a\\.\\b.exe', 'path', /"\." segment/],
    ['\\\\server\\share\\x.exe', 'path', /UNC/],
    ['//server/share/x.exe', 'path', /UNC/],
    ['\\\\?\\C:\\x.exe', 'path', /device/],
    ['\\\\.\\PhysicalDrive0', 'path', /device/],
    ['\\Device\\HarddiskVolume3\\x.exe', 'path', /device/],
    ['C:x.exe', 'path', /current directory of drive C:/],
    ['\\Windows\\x.exe', 'path', /no drive letter/],
    ['C:\\Windows', 'directory', /must end in a separator: write "C:\\Windows\\"/],
    ['C:\\Windows\\', 'path', /ends in a separator/],
    ['%Foo\\x', 'path', /environment variable/],
    ['', 'path', /empty/],
  ];
  for (const [value, form, expected] of cases) assert.match(diagnosePath(value, form) ?? 'ok', expected, value);
  for (const ok of ['C:\\x.exe', '/C:/x.exe', '%SystemRoot%\\x.exe', '/usr/bin/x', '/C:/']) assert.equal(diagnosePath(ok, ok.endsWith('/') ? 'directory' : 'path'), undefined, ok);
});

void test('case folding is one character for one on Windows and identity on posix', () => {
  assert.equal(foldCase('C:\\Straße\\Ärger.txt', Flavor.Windows), 'C:\\STRAßE\\ÄRGER.TXT');
  assert.equal(foldCase('/Etc/X', Flavor.Posix), '/Etc/X');
});

void test('policy paths are normalized as the filter manager normalizes names: trailing dots and spaces, ::$DATA', () => {
  assert.equal(canon('C:\\Windows\\System32\\certutil.exe.'), 'C:\\Windows\\System32\\certutil.exe');
  assert.equal(canon('C:\\Windows.\\System32 \\certutil.exe . .'), 'C:\\Windows\\System32\\certutil.exe');
  assert.equal(canon('C:\\Windows\\System32\\certutil.exe::$DATA'), 'C:\\Windows\\System32\\certutil.exe');
  assert.equal(canon('/C:/Tools./', 'directory'), 'C:\\Tools\\');
  assert.equal(canon('C:\\Logs.\\*.', 'pattern'), 'C:\\Logs\\*.', 'a wildcard component is a pattern, kept as written');
  assert.equal(canon('C:\\a.b\\c d\\x.exe'), 'C:\\a.b\\c d\\x.exe', 'inner dots and spaces are part of the name');
});

/**
 * The plain forms as first defined by regular expressions (paths.ts now checks them in
 * one pass): a drive, components between single separators, none ending in a dot or a
 * space, no final ::$DATA, a final separator for a directory; `/` read as `\` once the
 * path is known to be a /C:/ or expanded spelling.
 */
function plainByDefinition(value: string, form: 'path' | 'directory' | 'pattern'): string | undefined {
  const mapped = /^\/+[A-Za-z]:/.test(value) ? value.replace(/^\/+/, '').replaceAll('/', '\\') : value;
  if (!/^[A-Za-z]:\\(?:[^\\/]+\\)*[^\\/]*$/.test(mapped) || /[. ](?:\\|$)|::\$DATA$/i.test(mapped)) return undefined;
  if (form === 'directory' && !mapped.endsWith('\\')) return undefined;
  return mapped[0]!.toUpperCase() + mapped.slice(1);
}

void test('a plain path (any spelling) reduces to what the definition gives, for any characters', () => {
  const piece = fc.constantFrom('C', 'c', 'z', '@', '[', ':', '\\', '/', '.', ' ', '::$DATA', '::$data', 'a', 'é', '\ud800', '*', '..', 'x.', 'y ');
  const start = fc.constantFrom('C:\\', 'c:\\', 'C:/', '/C:/', '//d:/', 'q:');
  fc.assert(fc.property(start, fc.array(piece, { maxLength: 10 }), fc.constantFrom('path', 'directory', 'pattern'), (head, parts, form) => {
    const value = head + parts.join('');
    const expected = plainByDefinition(value, form);
    if (expected !== undefined) assert.equal(canon(value, form), expected, value);
  }), { numRuns: 20000 });
});

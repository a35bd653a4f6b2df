import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DesiredStore } from './store.js';
import type { ParsedUnit, PolicyEntry } from './types.js';

// A stand-in parser: each line `name=value` is a policy; `name=!` is an invalid version;
// a line `SYNTAX` makes the whole unit unreadable. The real parser is tested in policy/.
function parse(text: string, location: string): ParsedUnit<string> {
  if (text.includes('SYNTAX')) return { documents: [], problems: [{ severity: 'error', location, message: 'bad yaml' }] };
  const documents = text.split('\n').filter(Boolean).map((line) => {
    const [name, value] = line.split('=');
    const identity = { kind: 'KubeArmorHostPolicy', name: name! };
    if (value === '!') return { key: name!, identity, problems: [{ severity: 'error' as const, location, message: 'invalid' }] };
    return { key: name!, identity, policy: value!, problems: [] };
  });
  return { documents, problems: [] };
}

function setup(precedence = ['crd', 'files', 'grpc']) {
  const store = new DesiredStore<string>(parse, precedence);
  const changes: [string, string | undefined][] = [];
  store.setListener({
    policyChanged: (key: string, entry: PolicyEntry<string> | undefined) => changes.push([key, entry?.policy]),
    statusChanged: () => {},
  });
  return { store, changes };
}

const doc = (origin: string, text: string) => ({ origin, text, location: origin });

void test('not ready until every registered source has synced', () => {
  const { store } = setup();
  store.register('files');
  store.register('grpc');
  assert.equal(store.ready(), false);
  store.synced('files', 'r1');
  assert.deepEqual(store.waitingFor(), ['grpc']);
  store.synced('grpc', 'r2');
  assert.equal(store.ready(), true);
});

void test('an invalid new version keeps the previous good version in force', () => {
  const { store, changes } = setup();
  store.upsert('files', doc('/p/a.yaml', 'a=1\nb=1'));
  store.upsert('files', doc('/p/a.yaml', 'a=!\nb=2'));
  assert.equal(store.get('a')?.policy, '1');
  assert.equal(store.get('a')?.rejected.length, 1);
  assert.equal(store.get('b')?.policy, '2');
  assert.deepEqual(changes, [['a', '1'], ['b', '1'], ['b', '2']]);
});

void test('an unreadable unit keeps everything it contributed', () => {
  const { store } = setup();
  store.upsert('files', doc('/p/a.yaml', 'a=1\nb=1'));
  store.upsert('files', doc('/p/a.yaml', 'SYNTAX'));
  assert.deepEqual(store.policies().map((p) => p.key).sort(), ['a', 'b']);
  assert.equal(store.problems().length, 1);
});

void test('a policy dropped from a unit, or a removed unit, is withdrawn', () => {
  const { store } = setup();
  store.upsert('files', doc('/p/a.yaml', 'a=1\nb=1'));
  store.upsert('files', doc('/p/a.yaml', 'a=1'));
  assert.equal(store.get('b'), undefined);
  store.remove('files', '/p/a.yaml');
  assert.equal(store.policies().length, 0);
});

void test('a failed source prunes nothing and stays ready once it has synced', () => {
  const { store } = setup();
  store.upsert('files', doc('/p/a.yaml', 'a=1'));
  store.synced('files', 'r1');
  store.failed('files', new Error('directory vanished'));
  assert.equal(store.get('a')?.policy, '1');
  assert.equal(store.ready(), true);
  assert.equal(store.sourceStatus()[0]?.error, 'directory vanished');
});

void test('the same identity from two sources: precedence decides, the loser is a reported conflict', () => {
  const { store } = setup();
  store.upsert('grpc', doc('grpc:a', 'a=from-grpc'));
  store.upsert('files', doc('/p/a.yaml', 'a=from-files'));
  assert.equal(store.get('a')?.policy, 'from-files');
  assert.deepEqual(store.conflicts('a'), ['grpc:grpc:a']);
  store.remove('files', '/p/a.yaml');
  assert.equal(store.get('a')?.policy, 'from-grpc');
});

void test('unchanged content does not notify', () => {
  const { store, changes } = setup();
  store.upsert('files', doc('/p/a.yaml', 'a=1'));
  const before = changes.length;
  store.upsert('files', doc('/p/a.yaml', 'a=1'));
  assert.equal(changes.length, before);
});

void test('each source counts the units it holds', () => {
  const { store } = setup();
  store.upsert('files', doc('/p/a.yaml', 'a=1'));
  store.upsert('files', doc('/p/b.yaml', 'b=1'));
  store.upsert('files', doc('/p/b.yaml', 'b=2'));
  store.rejected('files', '/p/c.yaml', new Error('too large'));
  store.remove('files', '/p/a.yaml');
  assert.equal(store.sourceStatus().find((s) => s.name === 'files')?.units, 2);
});

void test('a unit just checked is stored without parsing it again', () => {
  let parses = 0;
  const counting = (text: string, location: string) => { parses++; return parse(text, location); };
  const store = new DesiredStore<string>(counting, ['files']);
  store.check('a=1', 'gRPC hostPolicy a');
  store.upsert('grpc', doc('grpc:a', 'a=1'));
  assert.equal(parses, 2, 'another location: parsed again');
  store.check('b=1', 'here');
  store.upsert('grpc', { origin: 'grpc:b', text: 'b=1', location: 'here' });
  assert.equal(parses, 3);
  assert.equal(store.get('b')?.policy, '1');
});

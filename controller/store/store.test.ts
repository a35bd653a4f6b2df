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
  const changes: [string, string | undefined][] = [];
  const store = new DesiredStore<string>(parse, precedence, {
    listener: {
      policyChanged: (key: string, entry: PolicyEntry<string> | undefined) => changes.push([key, entry?.policy]),
      statusChanged: () => {},
    },
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
  assert.deepEqual(store.rejectedUnits().map((u) => [u.source, u.origin, u.problems[0]!.message]), [['files', '/p/a.yaml', 'bad yaml']]);
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
  assert.deepEqual(store.contenders('a'), ['grpc:grpc:a']);
  assert.deepEqual(store.conflicts(), [], 'precedence between sources is configured, not a conflict');
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

void test('two units of one source defining one policy: a conflict both show; the version in force before stays', () => {
  const seen: string[] = [];
  const changes: [string, string | undefined][] = [];
  const store = new DesiredStore<string>(parse, ['files'], {
    observer: { conflict: (c) => seen.push(`${c.key}: ${c.units.join(' ')} kept ${c.kept}`) },
    listener: { policyChanged: (key, entry) => changes.push([key, entry?.policy]), statusChanged: () => {} },
  });
  store.upsert('files', doc('/p/b.yaml', 'a=from-b'));
  store.synced('files', 'r1');
  store.upsert('files', doc('/p/a.yaml', 'a=from-a'));
  assert.equal(store.get('a')?.policy, 'from-b', 'a.yaml sorts first, yet does not replace b.yaml');
  assert.deepEqual(changes, [['a', 'from-b']]);
  assert.deepEqual(seen, ['a: files:/p/a.yaml files:/p/b.yaml kept files:/p/b.yaml']);
  assert.match(store.conflictOf('a')!.message, /^a is also defined in \/p\/a\.yaml; a policy must be defined once \(this one was in force before/);
  const invalid = store.invalid();
  assert.deepEqual(invalid.map((i) => [i.origin, i.errors.map((e) => e.message)]), [
    ['/p/a.yaml', ['a is also defined in /p/b.yaml; a policy must be defined once (the one in force before (/p/b.yaml) stays)']],
  ]);

  store.upsert('files', doc('/p/b.yaml', 'a=from-b2'));
  assert.equal(store.get('a')?.policy, 'from-b2', 'the unit in force may still change its own version');
  store.remove('files', '/p/b.yaml');
  assert.equal(store.get('a')?.policy, 'from-a', 'resolved: the remaining definition takes over');
  assert.equal(store.conflictOf('a'), undefined);
  assert.deepEqual(store.invalid(), []);
});

void test('a conflict with nothing in force before enforces neither', () => {
  const { store, changes } = setup();
  store.upsert('files', doc('/p/x.yaml', 'a=1'));
  store.synced('files', 'r1');
  store.upsert('files', doc('/p/y.yaml', 'a=2'));
  store.upsert('files', doc('/p/z.yaml', 'a=3'));
  assert.equal(store.get('a')?.policy, '1');
  store.remove('files', '/p/x.yaml');
  assert.equal(store.get('a'), undefined, 'y.yaml and z.yaml conflict and neither was in force');
  assert.deepEqual(changes.at(-1), ['a', undefined]);
  assert.deepEqual(store.invalid().map((i) => i.origin), ['/p/y.yaml', '/p/z.yaml']);
  assert.match(store.invalid()[0]!.errors[0]!.message, /also defined in \/p\/z\.yaml; a policy must be defined once \(neither is in force until one of them is removed\)/);
  store.remove('files', '/p/y.yaml');
  assert.equal(store.get('a')?.policy, '3');
});

void test('a conflict found by the first scan enforces neither, unless one of them was applied before the restart', () => {
  const { store } = setup();
  store.upsert('files', doc('/p/a.yaml', 'a=1'));
  store.upsert('files', doc('/p/b.yaml', 'a=2'));
  store.synced('files', 'r1');
  assert.equal(store.get('a'), undefined, 'nothing was written yet: the first file read is not "in force"');
  assert.equal(store.invalid().length, 2);

  const restarted = new DesiredStore<string>(parse, ['files']);
  restarted.restore([{ key: 'a', source: 'files', origin: '/p/b.yaml', location: '/p/b.yaml', text: 'a=2' }]);
  restarted.upsert('files', doc('/p/a.yaml', 'a=1'));
  restarted.upsert('files', doc('/p/b.yaml', 'a=2'));
  assert.equal(restarted.get('a')?.policy, '2', 'b.yaml was applied before the restart and stays');
});

void test('after a restart, a unit unreadable or invalid at its first report keeps the version last applied', () => {
  const before = setup().store;
  before.upsert('files', doc('/p/a.yaml', 'a=1\nb=1'));
  before.upsert('files', doc('/p/c.yaml', 'c=1'));
  const applied = before.snapshot();
  assert.deepEqual(applied.map((p) => [p.key, p.origin, p.text]), [['a', '/p/a.yaml', 'a=1\nb=1'], ['b', '/p/a.yaml', 'a=1\nb=1'], ['c', '/p/c.yaml', 'c=1']]);

  const { store } = setup();
  store.restore(applied);
  store.upsert('files', doc('/p/a.yaml', 'SYNTAX'));
  store.upsert('files', doc('/p/c.yaml', 'c=!'));
  store.synced('files', 'r1');
  assert.deepEqual(store.policies().map((p) => [p.key, p.policy, p.rejected.length]).sort(), [['a', '1', 1], ['b', '1', 1], ['c', '1', 1]]);
  assert.deepEqual(store.snapshot().map((p) => p.text), ['a=1\nb=1', 'a=1\nb=1', 'c=1'], 'still what was applied');
  store.upsert('files', doc('/p/a.yaml', 'a=2'));
  assert.equal(store.get('b'), undefined, 'a readable version that drops b removes it');

  const late = setup().store;
  late.restore(applied);
  late.synced('files', 'r1');
  late.upsert('files', doc('/p/c.yaml', 'c=!'));
  assert.equal(late.get('c'), undefined, 'after the first sync the restored versions are gone');
});

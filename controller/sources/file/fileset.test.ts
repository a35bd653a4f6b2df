// The file set keeps its origins sorted between changes: its revision and its missing
// files must be what a fresh sort of the whole set gives, whatever was recorded and
// forgotten in between.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { FileSet } from './fileset.js';

const origin = fc.constantFrom('/p/a.yaml', '/p/b.yaml', '/p/B.yaml', '/p/sub/c.yaml', '/q/d.yaml', '/p/é.yaml', '/p/a.yaml.bak');
const step = fc.oneof(
  fc.tuple(fc.constant('record' as const), origin, fc.option(fc.constantFrom('d1', 'd2', 'd3'), { nil: undefined })),
  fc.tuple(fc.constant('forget' as const), origin, fc.constant(undefined)),
);

void test('revision and missing equal a fresh sort of the set after any records and forgets', () => {
  fc.assert(fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
    const set = new FileSet();
    const model = new Map<string, string | undefined>();
    let n = 0;
    for (const [op, o, digest] of steps) {
      if (op === 'record') {
        set.record(o, `sig${n++}`, digest);
        model.set(o, digest ?? model.get(o));
      } else {
        set.forget(o);
        model.delete(o);
      }
      const reported = [...model].filter(([, d]) => d !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const expected = `sha256:${createHash('sha256').update(reported.map(([p, d]) => `${p}\0${d}\n`).join('')).digest('hex')}`;
      assert.equal(set.revision(), expected);
      assert.deepEqual(set.missing(new Set(['/p/b.yaml']), ['/p'], ['/p', '/q']), [...model.keys()].filter((k) => k !== '/p/b.yaml' && k.startsWith('/p/')).sort());
    }
  }), { numRuns: 300 });
});

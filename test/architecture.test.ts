/**
 * The shape of the code, checked: no import cycle between files, and none between sibling
 * folders (counting each folder with everything under it), anywhere under controller/ and
 * driver/. Data flows one way (source → store → compiler → reconciler → driver); a cycle
 * is where that breaks. Tests and test fixtures may reach across; product code may not.
 * Also: every registered source kind and driver backend is what the config schema offers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRIVER_KINDS } from '../driver/backends/index.js';
import { SOURCE_KINDS } from '../controller/sources/registry.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TREES = ['controller', 'driver'];
const isProduct = (f: string): boolean => f.endsWith('.ts') && !f.endsWith('.d.ts') && !/\.test\.ts$|fixture|testing\.ts$|test-fixtures\.ts$/.test(f);

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'build' || name === 'test') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (isProduct(path)) out.push(relative(ROOT, path));
  }
  return out;
}

/** file → files it imports (relative imports of product code, .js specifiers mapped to .ts). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const all = TREES.flatMap((t) => files(join(ROOT, t)));
  const known = new Set(all);
  for (const file of all) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)]
      .map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1]!.replace(/\.js$/, '.ts'))))
      .filter((t) => known.has(t));
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one node (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>();
  const stack: string[] = [], out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** For every folder, the graph between its child folders (each with everything under it). */
function siblingGraphs(graph: Map<string, string[]>): Map<string, Map<string, string[]>> {
  const byParent = new Map<string, Map<string, Set<string>>>();
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const a = dirname(from).split('/'), b = dirname(to).split('/');
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      // Only edges between two different children of the common folder count.
      if (i >= a.length || i >= b.length) continue;
      const parent = a.slice(0, i).join('/');
      const x = a.slice(0, i + 1).join('/'), y = b.slice(0, i + 1).join('/');
      const level = byParent.get(parent) ?? new Map<string, Set<string>>();
      byParent.set(parent, level);
      if (!level.has(x)) level.set(x, new Set());
      level.get(x)!.add(y);
    }
  }
  return new Map([...byParent].map(([p, level]) => [p, new Map([...level].map(([k, v]) => [k, [...v]]))]));
}

void test('no import cycle between product files', () => {
  assert.deepEqual(cycles(importGraph()), []);
});

void test('no import cycle between sibling folders under controller/ and driver/', () => {
  const found: string[] = [];
  for (const [parent, level] of siblingGraphs(importGraph())) {
    for (const scc of cycles(level)) found.push(`${parent || '.'}: ${scc.join(' ↔ ')}`);
  }
  assert.deepEqual(found, []);
});

void test('the config schema offers exactly the registered driver backends and has a section per source kind', () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'controller/config/config.schema.json'), 'utf8')) as {
    properties: { driver: { properties: { kind: { enum: string[] } } }; sources: { properties: Record<string, unknown> } };
  };
  assert.deepEqual([...schema.properties.driver.properties.kind.enum].sort(), [...DRIVER_KINDS].sort());
  for (const kind of SOURCE_KINDS) assert.ok(schema.properties.sources.properties[kind.kind], `sources.${kind.kind} in the schema`);
});

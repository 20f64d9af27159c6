/**
 * No import cycles in src/ and commands/, type-only imports included (issue 14: correlate.ts ↔
 * read-log.ts and portqry-text.ts ↔ query-result.ts were the two; this test failed on them), and no
 * upward import from src/ into commands/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { ROOT } from '../helpers/cli';

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? files(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

const all = [...files(path.join(ROOT, 'src')), ...files(path.join(ROOT, 'commands'))];
const known = new Set(all);
const graph = new Map<string, string[]>();
for (const file of all) {
  const text = fs.readFileSync(file, 'utf8');
  const deps: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
    const base = path.resolve(path.dirname(file), m[1]!);
    const target = [`${base}.ts`, path.join(base, 'index.ts')].find((c) => known.has(c));
    if (target) deps.push(target);
  }
  graph.set(file, deps);
}

t.test('the import graph has no cycle', async (t) => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, stack: string[]) => {
    state.set(f, 'open');
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].map((x) => path.relative(ROOT, x)).join(' -> '));
      else if (!state.has(d)) visit(d, [...stack, d]);
    }
    state.set(f, 'done');
  };
  for (const f of all) if (!state.has(f)) visit(f, [f]);
  t.same(cycles, [], 'no cycles');
  t.ok(graph.size > 100, `${graph.size} files read`);
});

t.test('src/ never imports from commands/ (except the entry points that register them)', async (t) => {
  const entry = new Set(['cli.ts', 'main.ts'].map((f) => path.join(ROOT, 'src', f)));
  const upward = [...graph].filter(([f]) => f.startsWith(path.join(ROOT, 'src')) && !entry.has(f)).flatMap(([f, deps]) => deps.filter((d) => d.startsWith(path.join(ROOT, 'commands'))).map((d) => `${path.relative(ROOT, f)} -> ${path.relative(ROOT, d)}`));
  t.same(upward, [], 'no upward imports');
});

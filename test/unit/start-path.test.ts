/**
 * What every start of the executable pays for (issue 13, `--version` <= 1.5x `node -e 0`): the Linux
 * executable starts from a V8 startup snapshot taken after src/cli.ts was loaded (src/main.ts), and V8
 * deserializes all of it at every start. So
 * - the modules src/cli.ts loads (its static import graph: esbuild initialises exactly that graph)
 *   are the command line and query, never what only record, parse, stats, self-check or the
 *   service need (those are imported inside run(), docs/benchmarks.md "startup");
 * - the bundle's source stays one-byte (a single character above U+00FF doubled it in the snapshot);
 * - the parser the snapshot holds as JSON text (compactParser) gives the same results as clipanion's
 *   compiled one, command line by command line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { getCli, lazyNodes } from '../../src/cli';
import { BUNDLE, ROOT } from '../helpers/cli';

/** The static value-import graph (type-only imports are erased by the bundler) from `entry`. */
function startClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [path.join(ROOT, entry)];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
      const base = path.resolve(path.dirname(file), m[1]!);
      const target = [`${base}.ts`, path.join(base, 'index.ts')].find((c) => fs.existsSync(c));
      if (target) stack.push(target);
    }
  }
  return new Set([...seen].map((f) => path.relative(ROOT, f).split(path.sep).join('/')));
}

t.test('the start path (src/cli.ts and what it imports) holds no command implementation but query', async (t) => {
  const loaded = startClosure('src/cli.ts');
  t.ok(loaded.has('src/query/run.ts'), 'query stays in the start path (it is what users run most)');
  t.ok(loaded.has('commands/StatsCommand.ts') && loaded.has('commands/RecordCommand.ts'), 'every command class (its options) is in it');
  const heavy = [
    /^src\/recorder\/(recorder|destroy-capture|watch|local-mode|install|install-action|alerts)\.ts$/,
    /^src\/service\//,
    /^src\/eventlog\/(index|syslog|windows|windows-source)\.ts$/,
    /^src\/platform\/(index|linux|windows|self-check|linux-sockdiag|linux-owners)\.ts$/,
    /^src\/portreporter\/(run-parse|read|read-log|read-ports|correlate|write-log|resolve)\.ts$/,
    /^src\/stats\/(run|engine|html|partial)\.ts$/,
  ];
  const pulled = [...loaded].filter((f) => heavy.some((re) => re.test(f))).sort();
  t.same(pulled, [], 'no recorder, service, event log, platform backend, parse reader or stats engine/HTML in the start path');
  t.ok(loaded.size < 120, `${loaded.size} modules in the start path`);
});

t.test('the bundle source is ASCII (one byte per character in the startup snapshot)', async (t) => {
  if (!fs.existsSync(BUNDLE)) {
    t.fail(`${BUNDLE} is missing: run npm run bundle`);
    return;
  }
  const text = fs.readFileSync(BUNDLE, 'utf8');
  const at = text.search(/[^\x00-\x7f]/);
  t.equal(at, -1, at === -1 ? 'ASCII only' : `non-ASCII at offset ${at}: ${JSON.stringify(text.slice(at - 40, at + 10))}`);
  // table and fast-csv are bound lazily (scripts/bundle.mjs LAZY_PACKAGES): required on first use.
  t.match(text, /"lazy-package:table"/, 'table is bound lazily');
  t.match(text, /"lazy-package:@fast-csv\/format"/, '@fast-csv/format is bound lazily');
});

type Compiled = { machine: { nodes: unknown[] }; process(input: string[]): unknown };

t.test('the parser read from JSON text node by node equals the compiled one', async (t) => {
  const compiled = (getCli() as unknown as { builder: { compile(): Compiled } }).builder.compile();
  const original = compiled.machine.nodes;
  const lines: string[][] = [
    [], ['--help'], ['-h'], ['--version'], ['-v'], ['bogus'],
    ['query', '-n', '127.0.0.1', '-e', '22', '--json'],
    ['query', '--host', 'dc01', '--ports', '53,88', '--protocol', 'both', '--format', 'table', '--timeout', '500'],
    ['query', '-n', 'h', '-e', '80', '--bogus'], ['query', '-n'], ['query', '--help'], ['query', '--preset', 'list'],
    ['query', '--local'], ['query', '--local', '--statistics', '--no-modules', '--format', 'csv'],
    ['query', '--watch-port', '443', '--watch-interval', '5', '--duration', '10m'], ['query', '--watch-pid', '1234'],
    ['record', '--once'], ['record', '--once', '--modules', '--json'], ['record', '--jsonl', '--log-dir', '/tmp/x', '--interval', '2s', '--duration', '60s'],
    ['record', '--install', '--dry-run', '--keep', '5', '--max-total', '2GB'], ['record', '--help'], ['record', '--log-size'],
    ['parse', 'a.log', 'b.log', '--json', '--port', '3389', '--process', 'svchost.exe', '--since', '2026-11-23'],
    ['parse', '--inputs-file', 'logs.txt', '--criteria', 'c.json', '--flagged-only', '--fail-on-flag', '--strict'],
    ['parse', '-', '--computer', 'SRV01', '--resolve', '--resolve-timeout', '500'], ['parse', '--help'],
    ['stats', 'dir', '--statistic', 'process-usage', '--statistic', 'svchost', '--top', '10', '--format', 'table'],
    ['stats', 'dir', '--html', 'r.html', '--per-computer'], ['stats', '--merge', 'a.json', 'b.json'], ['stats', 'dir', '--partial', '--out-file', 'p.json'],
    ['self-check'], ['self-check', '--format', 'text'], ['self-check', 'event-log', '--level', 'warning', '--event-id', '1200', 'msg'],
    ['self-check', 'event-source', '--register'], ['complete', 'query', '--pre'],
    ['stats', 'x', '--format', 'json', '--out-file', 'o', '-y', '--delimiter', ';', '--color'], ['parse', 'x', '--no-color'],
  ];
  const outcome = (argv: string[]) => {
    try {
      return { result: JSON.parse(JSON.stringify(compiled.process(argv))) as unknown };
    } catch (err) {
      return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  };
  const expected = lines.map(outcome);
  try {
    compiled.machine.nodes = lazyNodes(original);
    t.equal(compiled.machine.nodes.length, original.length, 'same number of nodes');
    const actual = lines.map(outcome);
    for (let i = 0; i < lines.length; i++) t.same(actual[i], expected[i], lines[i]!.join(' ') || '(no arguments)');
    t.same(JSON.parse(JSON.stringify([...compiled.machine.nodes])), JSON.parse(JSON.stringify(original)), 'every node parses back to the compiled node');
  } finally {
    compiled.machine.nodes = original;
  }
});

/** The bundle's definition of one of esbuild's helpers, made a function of the helpers it uses. */
function bundleHelper(text: string, name: string): (...args: unknown[]) => unknown {
  const m = new RegExp(`^var ${name} = (.*);$`, 'm').exec(text);
  if (!m) throw new Error(`${name} is not defined on one line of ${BUNDLE}`);
  return new Function('__create', `return ${m[1]};`)(Object.create) as (...args: unknown[]) => unknown;
}

t.test("esbuild's interop helpers give a namespace its module as prototype, not a getter per name", async (t) => {
  if (!fs.existsSync(BUNDLE)) {
    t.fail(`${BUNDLE} is missing: run npm run bundle`);
    return;
  }
  const text = fs.readFileSync(BUNDLE, 'utf8');
  const toESM = bundleHelper(text, '__toESM');
  const toCommonJS = bundleHelper(text, '__toCommonJS');
  // A Node built-in, as `import * as fs from 'node:fs'` binds it (isNodeMode 1, esbuild's node mode).
  const ns = toESM(fs, 1) as typeof fs & { default: typeof fs };
  t.equal(ns.default, fs, 'default is the module');
  t.equal(ns.readFileSync, fs.readFileSync, 'a name reads the module value');
  t.equal(ns.promises, fs.promises, 'a getter of the module (fs.promises) reads through');
  t.same(Object.getOwnPropertyNames(ns), ['default'], 'no copy of the module names: one object, whatever the module holds');
  // Live, as esbuild's getters were: a later change of the module is seen.
  const mod: Record<string, unknown> = { a: 1 };
  const live = toESM(mod, 1) as Record<string, unknown>;
  mod.a = 2;
  mod.b = 3;
  t.equal(live.a, 2, 'a changed value is seen');
  t.equal(live.b, 3, 'a name added later is seen');
  // A Babel-style module (__esModule) outside node mode keeps its own default.
  const babel = { __esModule: true, default: 'd', x: 1 };
  const b = toESM(babel) as Record<string, unknown>;
  t.equal(b.default, 'd', "an __esModule's own default");
  t.equal(b.x, 1);
  t.equal((toESM(null) as object).constructor, Object, 'null gives an empty object');
  // require() of a bundled ES module (src/main.ts loads src/cli.ts this way).
  const exports = {};
  Object.defineProperty(exports, 'runCli', { get: () => 'f', enumerable: true });
  const cjs = toCommonJS(exports) as Record<string, unknown>;
  t.equal(cjs.runCli, 'f', 'an export reads through');
  t.equal(cjs.__esModule, true, '__esModule is set');
  t.same(Object.getOwnPropertyNames(cjs), ['__esModule'], 'no copy of the exports');
});

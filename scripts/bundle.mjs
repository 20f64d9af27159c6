// Bundles src/main.ts and everything it imports into one CommonJS file, dist/main.cjs, which both
// `node dist/main.cjs` and the standalone executables run. koffi stays external: its native part is
// loaded at run time (from node_modules, or from the executable's embedded asset).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

// The Linux executable starts from a V8 startup snapshot of this bundle after its modules have loaded
// (scripts/build.sh, src/main.ts). A few Node built-ins cannot be in a snapshot (loading node:tls
// aborts the snapshot build with "Unknown external reference"), so they are bound lazily: the bundle
// gets an object with the module's export names as getters, and the real module loads on first use.
// util: loaded while the snapshot is built (esbuild's __toESM copy of its exports), it made Node abort
// the executable as soon as a Worker started (`Assertion failed: shutdown_wrap_template_.IsEmpty()`);
// worker_threads is not supported in snapshot builder scripts either. Bound lazily, Workers run
// (test/cli/worker-threads.test.ts).
const SNAPSHOT_UNSAFE_BUILTINS = ['tls', 'worker_threads', 'util'];
const require = createRequire(import.meta.url);

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${SNAPSHOT_UNSAFE_BUILTINS.join('|')})$`);
    b.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin'
        ? { path: `node:${args.path.replace(/^node:/, '')}`, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const names = Object.keys(require(`node:${args.path}`));
      return {
        loader: 'js',
        contents: [
          'let loaded;',
          `const load = () => (loaded ??= require('node:${args.path}'));`,
          `for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`,
        ].join('\n'),
      };
    });
  },
};

// Packages only some runs use (`--format table`, `--format csv`) are bound the same way, so that they
// stay out of the startup snapshot: V8 deserializes every object of the snapshot at every start,
// `--version` included, and these two with their dependencies were about 15 M instructions of it
// (docs/benchmarks.md, startup). The package itself is still in the bundle; it runs on first use.
const LAZY_PACKAGES = ['table', '@fast-csv/format'];

const lazyPackages = {
  name: 'lazy-packages',
  setup(b) {
    const filter = new RegExp(`^(${LAZY_PACKAGES.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => (args.namespace === 'lazy-package' ? undefined : { path: args.path, namespace: 'lazy-package' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => {
      const entry = require.resolve(args.path);
      const names = Object.keys(require(args.path)).filter((n) => n !== '__esModule');
      return {
        loader: 'js',
        resolveDir: process.cwd(),
        contents: [
          'let loaded;',
          `const load = () => (loaded ??= require(${JSON.stringify(entry)}));`,
          `for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`,
        ].join('\n'),
      };
    });
  },
};

// The worker threads of parse (src/portreporter/parse-parallel.ts) and of stats (src/stats/parallel.ts)
// evaluate a bundle's text each: a standalone executable has no file a Worker could load, so the text
// is defined into the main bundle. In the Linux executable a worker that loads node:net, node:tty or
// node:v8 aborts the process, so this code must not import them (test/cli/parse-parallel.test.ts and
// test/cli/stats-parallel.test.ts run the executable).
async function workerBundle(entry) {
  const result = await build({
    entryPoints: [entry],
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node20',
    // Inside a function: top-level names of an evaluated script would be properties of the global object (slow to reach).
    format: 'iife',
    logLevel: 'warning',
    legalComments: 'none',
    minifyWhitespace: true,
    charset: 'ascii',
    define: { 'import.meta.url': '__bundleFileUrl' },
    banner: { js: 'var __bundleFileUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  return JSON.stringify(result.outputFiles[0].text);
}
const parseWorker = await workerBundle('src/portreporter/parse-worker.ts');
const statsWorker = await workerBundle('src/stats/stats-worker.ts');

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['koffi'],
  plugins: [lazyBuiltins, lazyPackages],
  logLevel: 'warning',
  // src/platform/koffi.ts reads import.meta.url only when __filename is absent (ESM under tsx).
  logOverride: { 'empty-import-meta': 'silent' },
  legalComments: 'none',
  // Code shared with the ESM test run uses import.meta.url (e.g. createRequire); in CommonJS it is
  // the bundle's own file URL.
  define: { 'import.meta.url': '__bundleFileUrl', __PORTQRY_PARSE_WORKER__: parseWorker, __PORTQRY_STATS_WORKER__: statsWorker },
  banner: { js: '#!/usr/bin/env node\nvar __bundleFileUrl = require("node:url").pathToFileURL(__filename).href;' },
  // Strings, templates and regular expressions come out ASCII-only (non-ASCII escaped)...
  charset: 'ascii',
});

// ...but comments esbuild keeps (inside object literals and classes) do not. One character above
// U+00FF anywhere in the script (a '→' in a comment) makes V8 hold the whole 1 MB source as UTF-16, in
// the startup snapshot too: 1.1 MB more to deserialize at every start (docs/benchmarks.md, startup).
// Such characters can only be in comments here; they are written as \uXXXX text, which a comment
// does not interpret. A non-ASCII character outside a comment stops the build rather than be changed.
const bundlePath = 'dist/main.cjs';

// esbuild's interop helpers copy every property of a CommonJS module (each Node built-in we import as
// a namespace, clipanion, the lazy bindings above) into a new object as a getter, one closure, one
// context and one accessor per name, and per importing file: `import * as fs from 'node:fs'` in 26
// files made 26 copies of fs's 100 names. That was 7,200 of the 48,000 objects our startup snapshot
// adds to Node's, which V8 deserializes at every start (docs/benchmarks.md, startup). Here a namespace
// is an object whose prototype is the module: the same values, read through the prototype chain
// instead of a getter (live, as before), with `default` (and `__esModule`) as own properties. What
// differs is only what the bundle never does: enumerating a namespace's own keys, or assigning to one.
// The helpers' text is checked, so an esbuild update that changes them stops the build here.
const HELPERS = [
  [
    /^var __toESM = \(mod, isNodeMode, target\) => \(target = mod != null \? __create\(__getProtoOf\(mod\)\) : \{\}, __copyProps\(\n(?:.*\n)*?\)\);\n/m,
    'var __toESM = (mod, isNodeMode) => mod == null ? {} : __create(mod, isNodeMode || !mod.__esModule ? { default: { value: mod, enumerable: true } } : {});\n',
  ],
  [/^var __toCommonJS = \(mod\) => __copyProps\(__defProp\(\{\}, "__esModule", \{ value: true \}\), mod\);\n/m, 'var __toCommonJS = (mod) => __create(mod, { __esModule: { value: true } });\n'],
];
let bundleText = fs.readFileSync(bundlePath, 'utf8');
for (const [pattern, replacement] of HELPERS) {
  if (!pattern.test(bundleText)) throw new Error(`bundle: esbuild's helper ${replacement.split(' = ')[0].slice(4)} is not the expected text (scripts/bundle.mjs, HELPERS)`);
  bundleText = bundleText.replace(pattern, replacement);
}
fs.writeFileSync(bundlePath, bundleText);

const lines = bundleText.split('\n');
let escaped = 0;
for (let i = 0; i < lines.length; i++) {
  const line = lines[i];
  if (!/[^\x00-\x7f]/.test(line)) continue;
  const first = line.search(/[^\x00-\x7f]/);
  const before = line.slice(0, first);
  if (!(before.includes('//') || before.includes('/*') || /^\s*\*/.test(line))) {
    throw new Error(`bundle: non-ASCII character outside a comment at ${bundlePath}:${i + 1}: ${line.trim().slice(0, 120)}`);
  }
  lines[i] = line.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  escaped++;
}
if (escaped > 0) fs.writeFileSync(bundlePath, lines.join('\n'));

// The executables run a minified copy (build/main.min.cjs, scripts/build.sh): names, whitespace and
// syntax minified after the text changes above. dist/main.cjs stays readable, for profiles
// (`node --cpu-prof dist/main.cjs`) and PORTQRY_DEBUG stack traces. Every start deserializes the
// script's source and its scopes' names from the startup snapshot (Linux) or parses the source
// (Windows, no snapshot): 1.24 MB of source became 0.69 MB, and `--version` 2-3 ms faster
// (docs/benchmarks.md, startup). No code here reads a function's or class's `name` (errors.ts sets
// `name` from new.target, which only `PORTQRY_DEBUG` stack traces show).
{
  const { transformSync } = await import('esbuild');
  const minified = transformSync(fs.readFileSync(bundlePath, 'utf8'), {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    charset: 'ascii',
    legalComments: 'none',
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: true,
  });
  fs.mkdirSync('build', { recursive: true });
  fs.writeFileSync('build/main.min.cjs', minified.code);
}

// Bundles src/main.ts and everything it imports into one CommonJS file, dist/main.cjs, which both
// `node dist/main.cjs` and the standalone executables run. koffi stays external: its native part is
// loaded at run time (from node_modules, or from the executable's embedded asset).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['koffi'],
  logLevel: 'warning',
  // src/platform/koffi.ts reads import.meta.url only when __filename is absent (ESM under tsx).
  logOverride: { 'empty-import-meta': 'silent' },
  legalComments: 'none',
  // Code shared with the ESM test run uses import.meta.url (e.g. createRequire); in CommonJS it is
  // the bundle's own file URL.
  define: { 'import.meta.url': '__bundleFileUrl' },
  banner: { js: '#!/usr/bin/env node\nvar __bundleFileUrl = require("node:url").pathToFileURL(__filename).href;' },
});

// scripts/bench/startup's work: `portqry-ts --version` against Node 22.23.3 `node -e 0` (the Node the
// executable embeds), whole processes, interleaved, medians and the ratio (goal <= 1.5x). Extra lines:
// the system node, `self-check` (koffi loaded and one FFI call), and with --with-pkg the same bundle
// built by @yao-pkg/pkg --sea (scripts/bench/startup builds it).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, compare, hyperfine, NODE22, NODE_VERSION, q, requireBuilt, ROOT, save } from './common.mjs';

requireBuilt();
if (!fs.existsSync(NODE22)) {
  console.error(`bench: ${NODE22} is missing: run npm run build (it fetches Node ${NODE_VERSION} into .toolchain)`);
  process.exit(66);
}
const RUNS = Number(process.env.RUNS ?? 30);
const withPkg = process.argv.includes('--with-pkg');
const nativeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-startup-'));
const ANCHOR = `node ${NODE_VERSION} -e 0 (anchor)`;
const OURS = 'portqry-ts --version';
const commands = [
  { name: ANCHOR, cmd: `${q(NODE22)} -e 0` },
  { name: OURS, cmd: `${q(BIN)} --version` },
  { name: 'portqry-ts self-check --json (koffi + one FFI call)', cmd: `${q(BIN)} self-check --json` },
  { name: `node ${process.version} -e 0 (system node)`, cmd: 'node -e 0' },
];
if (withPkg) commands.push({ name: 'pkg --sea (enhanced) --version', cmd: `${q(path.join(ROOT, 'build', 'bench', 'portqry-ts-pkg'))} --version` });
// NODE_EXTRA_CA_CERTS is unset for every command: with it Node parses a CA bundle at start-up, which
// would measure this machine's configuration, not the programs.
const env = { ...process.env, PORTQRY_NATIVE_DIR: nativeDir };
delete env.NODE_EXTRA_CA_CERTS;
let t;
try {
  t = hyperfine(commands, { runs: RUNS, warmup: 3, shell: false, env });
} finally {
  fs.rmSync(nativeDir, { recursive: true, force: true });
}
delete process.env.NODE_EXTRA_CA_CERTS;
const main = compare(`start-up: ${OURS} vs ${ANCHOR} (NODE_EXTRA_CA_CERTS unset)`, t, OURS, ANCHOR, { op: '<=', value: 1.5, of: 'ratio' });
const extra = commands.slice(2).map((c) => ({ name: c.name, median: t[c.name].median, cpu: t[c.name].cpu, ratio: t[c.name].median / t[ANCHOR].median }));
for (const e of extra) console.log(`  ${e.name}: median ${(e.median * 1000).toFixed(1)} ms (${e.ratio.toFixed(2)}x the anchor)`);
const sizes = ['dist/portqry-ts', 'dist/portqry-ts.exe', 'build/bench/portqry-ts-pkg']
  .filter((f) => fs.existsSync(path.join(ROOT, f)))
  .map((f) => ({ file: f, bytes: fs.statSync(path.join(ROOT, f)).size }));
for (const s of sizes) console.log(`  ${s.file}: ${(s.bytes / 1048576).toFixed(1)} MiB`);
save('startup', { comparisons: [main], extra, sizes });

// scripts/bench/snapshot's work: one snapshot of every endpoint and its owner, as a user runs it,
// against `ss -tuanp`, over the same 10,000 sockets (scripts/bench/socket-holder.mjs: thousands of
// client addresses, ephemeral ports, a few local addresses):
//   ours:   dist/portqry-ts record --once --format jsonl > /dev/null
//   anchor: ss -tuanp > /dev/null
// interleaved runs, medians, ratio (goal <= 1.5x). Extra line: the same with --modules.
// Note: ss and we list every socket of the machine, the holder's and any other process's.
import { spawnSync } from 'node:child_process';
import { BIN, compare, hyperfine, q, requireBuilt, requireTool, save } from './common.mjs';
import { startSocketHolder } from './socket-holder.mjs';

requireBuilt();
requireTool('ss', 'iproute2');
const SOCKETS = Math.min(Number(process.argv[2] ?? 10_000), 30_000);
const RUNS = Number(process.env.RUNS ?? 10);
const OURS = 'portqry-ts record --once --format jsonl';
const ANCHOR = 'ss -tuanp';
const MODULES = 'portqry-ts record --once --modules --format jsonl';

const holder = await startSocketHolder(SOCKETS);
try {
  const ours = spawnSync(BIN, ['record', '--once', '--format', 'jsonl'], { encoding: 'utf8', maxBuffer: 1 << 29 });
  if (ours.status !== 0) throw new Error(`record --once failed: ${ours.stderr}`);
  const records = ours.stdout.split('\n').length - 1;
  const mine = ours.stdout.split('\n').filter((l) => l.includes(`"OwningProcess":${holder.pid},`)).length;
  const ssOut = spawnSync('ss', ['-tuanp'], { encoding: 'utf8', maxBuffer: 1 << 29 }).stdout;
  const withModules = spawnSync(BIN, ['record', '--once', '--modules', '--format', 'jsonl'], { encoding: 'utf8', maxBuffer: 1 << 29 }).stdout;
  console.log(`sockets held: ${SOCKETS} (the holder's endpoints seen: ${mine}); endpoints on the machine: ours ${records}, ss ${ssOut.split('\n').length - 2}`);
  console.log(`output: ours ${(ours.stdout.length / 1e6).toFixed(2)} MB (${Math.round(ours.stdout.length / records)} bytes per endpoint), with --modules ${(withModules.length / 1e6).toFixed(2)} MB, ss ${(ssOut.length / 1e6).toFixed(2)} MB`);
  if (mine < SOCKETS) throw new Error(`only ${mine} of the holder's ${SOCKETS} sockets were listed`);
  const t = hyperfine(
    [
      { name: OURS, cmd: `${q(BIN)} record --once --format jsonl` },
      { name: ANCHOR, cmd: 'ss -tuanp' },
      { name: MODULES, cmd: `${q(BIN)} record --once --modules --format jsonl` },
    ],
    { runs: RUNS, warmup: 1 },
  );
  const main = compare(`one snapshot, ${SOCKETS} sockets held (${records} endpoints on the machine), output to /dev/null`, t, OURS, ANCHOR, { op: '<=', value: 1.5, of: 'ratio' });
  const m = t[MODULES];
  console.log(`  extra: with --modules median ${(m.median * 1000).toFixed(1)} ms, ${(m.median / t[ANCHOR].median).toFixed(2)}x ss`);
  save('snapshot', {
    comparisons: [main],
    extra: [{ name: 'record --once --modules --format jsonl', median: m.median, cpu: m.cpu, ratio: m.median / t[ANCHOR].median }],
    sockets: SOCKETS,
    endpoints: records,
    bytes: { ours: ours.stdout.length, modules: withModules.length, ss: ssOut.length },
  });
} finally {
  holder.stop();
}

// scripts/bench/snapshot's work: one snapshot of every endpoint and its owner, as a user runs it,
// against `ss -tuanp`, over the same 10,000 sockets (scripts/bench/socket-holder.mjs: thousands of
// client addresses, ephemeral ports, a few local addresses):
//   ours:   dist/portqry-ts record --once --format jsonl > /dev/null
//   anchor: ss -tuanp > /dev/null
// interleaved runs, medians, ratio (goal <= 1.5x). Extra lines: the same with --modules, and the floor
// (scripts/bench/floors/snapshot.mjs: the same system calls and the same bytes, in the same Node,
// with the least work; its owner part per PID is taken from the executable's output, untimed). The
// floor starts as `node script`; the executable starts from its snapshot with every command in it, so
// `--version` and `node -e 0` run in the same hyperfine run give the floor plus the executable's own
// start-up: the least this executable could take.
// Note: ss and we list every socket of the machine, the holder's and any other process's.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, NODE22, NODE_VERSION, ROOT, WORK, compare, hyperfine, q, requireBuilt, requireTool, save } from './common.mjs';
import { startSocketHolder } from './socket-holder.mjs';

requireBuilt();
requireTool('ss', 'iproute2');
const SOCKETS = Math.min(Number(process.argv[2] ?? 10_000), 30_000);
const RUNS = Number(process.env.RUNS ?? 10);
const OURS = 'portqry-ts record --once --format jsonl';
const ANCHOR = 'ss -tuanp';
const MODULES = 'portqry-ts record --once --modules --format jsonl';
const FLOOR = 'floor: the same system calls and bytes, least work';
const VERSION = 'portqry-ts --version';
const NODE0 = `node ${NODE_VERSION} -e 0`;
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

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
  // The floor's owner parts (',"OwningProcess":' to the end of the line, per PID) from our output.
  const tails = {};
  for (const line of ours.stdout.split('\n')) {
    const a = line.indexOf(',"OwningProcess":');
    if (a < 0) continue;
    const pid = line.slice(a + 17, line.indexOf(',', a + 17));
    tails[pid] ??= line.slice(a);
  }
  fs.mkdirSync(WORK, { recursive: true });
  const tailsFile = path.join(WORK, `snapshot-tails-${process.pid}.json`);
  fs.writeFileSync(tailsFile, JSON.stringify(tails));
  const floorCmd = `${q(NODE22)} ${q(path.join(ROOT, 'scripts', 'bench', 'floors', 'snapshot.mjs'))} ${q(tailsFile)} ${q(os.hostname())}`;
  const floorOut = spawnSync('sh', ['-c', floorCmd], { encoding: 'latin1', maxBuffer: 1 << 29 });
  if (floorOut.status !== 0) throw new Error(`the floor program failed: ${floorOut.stderr}`);
  const again = spawnSync(BIN, ['record', '--once', '--format', 'jsonl'], { encoding: 'latin1', maxBuffer: 1 << 29 }).stdout;
  // Sockets other processes open or close between the runs can differ; the holder's cannot.
  const sameBytes = sha256(floorOut.stdout) === sha256(again);
  console.log(`the floor's output: ${floorOut.stdout.length} bytes, ${sameBytes ? 'the same bytes as the executable\'s (SHA-256)' : 'NOT the same bytes as the executable\'s next run'}`);
  const t = hyperfine(
    [
      { name: OURS, cmd: `${q(BIN)} record --once --format jsonl` },
      { name: ANCHOR, cmd: 'ss -tuanp' },
      { name: MODULES, cmd: `${q(BIN)} record --once --modules --format jsonl` },
      { name: FLOOR, cmd: floorCmd },
      { name: VERSION, cmd: `${q(BIN)} --version` },
      { name: NODE0, cmd: `${q(NODE22)} -e 0` },
    ],
    { runs: RUNS, warmup: 1 },
  );
  const main = compare(`one snapshot, ${SOCKETS} sockets held (${records} endpoints on the machine), output to /dev/null`, t, OURS, ANCHOR, { op: '<=', value: 1.5, of: 'ratio' });
  const m = t[MODULES];
  console.log(`  extra: with --modules median ${(m.median * 1000).toFixed(1)} ms, ${(m.median / t[ANCHOR].median).toFixed(2)}x ss`);
  const floor = compare(`the floor program (same system calls, same bytes, least work) against ss`, t, FLOOR, ANCHOR, { op: '<=', value: 1.5, of: 'ratio' });
  // The floor with the executable's start-up instead of Node's: about the least this executable can take.
  const startUp = t[VERSION].median - t[NODE0].median;
  const bound = (t[FLOOR].median + startUp) / t[ANCHOR].median;
  console.log(`  the floor + the executable's start-up over Node's (--version ${(t[VERSION].median * 1000).toFixed(1)} ms - node -e 0 ${(t[NODE0].median * 1000).toFixed(1)} ms = ${(startUp * 1000).toFixed(1)} ms): ${bound.toFixed(2)}x ss`);
  save('snapshot', {
    comparisons: [main, floor],
    floorOutput: { bytes: floorOut.stdout.length, sameBytes },
    startUp: { version: t[VERSION].median, node: t[NODE0].median, floorWithStartUp: bound },
    extra: [{ name: 'record --once --modules --format jsonl', median: m.median, cpu: m.cpu, ratio: m.median / t[ANCHOR].median }],
    sockets: SOCKETS,
    endpoints: records,
    bytes: { ours: ours.stdout.length, modules: withModules.length, ss: ssOut.length },
  });
} finally {
  holder.stop();
  fs.rmSync(path.join(WORK, `snapshot-tails-${process.pid}.json`), { force: true });
}

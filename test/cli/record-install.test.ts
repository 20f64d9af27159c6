import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { BUNDLE, parseJsonl, runCli } from '../helpers/cli';
import { schemaErrors } from '../helpers/schema';

// `record --install` on Linux refuses a program that a non-root user could replace (the unit runs it as
// root at every boot): the same rule as the Windows service, on the real file system here.

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-install-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('record --install: a program in a folder every user may write is refused (exit 78), nothing written', async (t) => {
  const dir = tmpDir(t);
  const open = path.join(dir, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  const copy = path.join(open, 'main.cjs');
  fs.copyFileSync(BUNDLE, copy);
  const unitDir = path.join(dir, 'units');
  // Runs the copy itself (runCli runs dist/main.cjs).
  const run = (args: string[]) => spawnSync(process.execPath, [copy, ...args], { encoding: 'utf8', cwd: dir });
  const refused = run(['record', '--install', '--unit-dir', unitDir, '-ld', path.join(dir, 'logs')]);
  t.equal(refused.status, 78);
  t.equal(refused.stdout, '');
  t.equal(
    refused.stderr,
    `portqry-ts: record: refusing to install: ${open}: its folder is writable by every user, so a non-administrator could replace what the service runs as root; move it to a root-owned folder that only root can write, such as /usr/local/bin\n`,
  );
  t.notOk(fs.existsSync(unitDir), 'no unit written');
  const dry = run(['record', '--install', '--dry-run', '--unit-dir', unitDir]);
  t.equal(dry.status, 78, '--dry-run tells the same');

  // The program itself writable by others (folder fine) is refused too.
  const safe = path.join(dir, 'safe');
  fs.mkdirSync(safe, { mode: 0o755 });
  const exe = path.join(safe, 'main.cjs');
  fs.copyFileSync(BUNDLE, exe);
  fs.chmodSync(exe, 0o666);
  const r2 = spawnSync(process.execPath, [exe, 'record', '--install', '--unit-dir', unitDir], { encoding: 'utf8', cwd: dir });
  t.equal(r2.status, 78);
  t.match(r2.stderr, new RegExp(`refusing to install: ${exe.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the executable is writable by every user`));
  fs.chmodSync(exe, 0o755);
  // Root-only all the way up (/tmp is sticky): accepted, and the unit is written.
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const calls = path.join(dir, 'calls.txt');
  fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$@" >> '${calls}'\n`, { mode: 0o755 });
  const ok = spawnSync(process.execPath, [exe, 'record', '--install', '--unit-dir', unitDir, '--json'], { encoding: 'utf8', cwd: dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  t.equal(ok.status, 0, ok.stderr);
  for (const rec of parseJsonl(ok.stdout)) t.same(schemaErrors('install-action.schema.json', rec), []);
  t.ok(fs.existsSync(path.join(unitDir, 'portqry-ts-record.service')));
});

t.test('record --service on Linux: one line saying how to run it, exit 64', async (t) => {
  const r = await runCli(['record', '--service']);
  t.equal(r.code, 64);
  t.equal(r.stdout, '');
  t.match(r.stderr, /^portqry-ts: record --service runs only when the Windows service control manager starts it: run 'portqry-ts record' to record in this console, or 'portqry-ts record --install' to install the service\n$/);
});

t.test('--copy-to-program-files: Windows only, with --install only', async (t) => {
  const a = await runCli(['record', '--install', '--copy-to-program-files', '--dry-run']);
  t.equal(a.code, 64);
  t.match(a.stderr, /--copy-to-program-files applies to Windows only/);
  const b = await runCli(['record', '--copy-to-program-files']);
  t.equal(b.code, 64);
  t.match(b.stderr, /--copy-to-program-files only applies to --install/);
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { parseJsonl } from '../helpers/cli';
import { readLogSet } from '../helpers/recorder-logs';
import { schemaErrors } from '../helpers/schema';
import { ensureWinePrefix, EXE, runExe, runWine, stopWine, wineMissing, winePrefix } from '../helpers/wine';

// The recorder as a Windows service under Wine's service control manager (services.exe) and sc.exe:
// install, start, record, stop cleanly, crash, uninstall; and the refusal of an unsafe location.
// What Wine cannot show (real ACLs, failure actions that restart) is covered by the unit tests with
// Windows' semantics injected (test/unit/service/*) and listed in docs/windows-service.md.
const missing = wineMissing();

/** Z:\… for a Linux path (Wine maps / to Z:). */
const winPath = (p: string) => `Z:${p.replace(/\//g, '\\')}`;

async function sc(...args: string[]) {
  // Wine itself sometimes fails to start sc.exe ("Application could not be started ... ShellExecuteEx
  // failed: Internal error", seen once in a clean-clone CI run while our service had stopped cleanly):
  // that is the launcher, not sc's answer about our service, so the launch is tried again (at most 3 times).
  for (let attempt = 1; ; attempt++) {
    const r = await runWine('sc', args, { keepServer: true, timeoutMs: 120_000 });
    if (attempt >= 3 || !/ShellExecuteEx failed/.test(r.stdout + r.stderr)) return r;
  }
}

async function state(): Promise<string | null> {
  const r = await sc('query', 'portqry-ts');
  return /STATE\s+:\s+\d+\s+(\w+)/.exec(r.stdout)?.[1] ?? null;
}

async function waitFor<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Unix PIDs of the Wine process running `record --service` (the service process). */
function servicePids(): number[] {
  const r = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => /portqry-ts\.exe/i.test(l) && / record --service /.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** Every line of every log file complete: no partial record. */
function wholeLines(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => {
    const data = fs.readFileSync(path.join(dir, f), 'utf8');
    return data.length > 0 && !data.endsWith('\n');
  });
}

t.test('record --install / --service / --uninstall under Wine\'s service control manager', { skip: missing ?? false, timeout: 600_000 }, async (t) => {
  if (!fs.existsSync(EXE)) {
    t.fail(`${EXE} does not exist: run npm run build`);
    return;
  }
  ensureWinePrefix();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'portqry-ts-service-'));
  const logDir = path.join(work, 'logs');
  let keepalive: ChildProcess | null = null;
  t.teardown(async () => {
    await runExe(['record', '--uninstall'], { keepServer: true, timeoutMs: 120_000 }).catch(() => undefined);
    keepalive?.kill('SIGKILL');
    stopWine();
    fs.rmSync(work, { recursive: true, force: true });
  });
  // Wine ends the processes services.exe started once no user program runs in the prefix (Windows does
  // not): a user program stays running for the whole test. It is our exe too, recording elsewhere.
  await runExe(['record', '--uninstall'], { keepServer: true, timeoutMs: 120_000 }); // a service left by an aborted run
  // ServicesPipeTimeout: how long the SCM waits for a service process to connect and for a control to be
  // answered (Windows: 30 s by default, a REG_DWORD; Wine 8's services.exe defaults to 10 s and reads the
  // value as a REG_SZ). Under Wine on a shared 2-core CI machine a process start can take 10-30 s,
  // several times a server's, so the test allows 120 s.
  await runWine('reg', ['add', 'HKLM\\System\\CurrentControlSet\\Control', '/v', 'ServicesPipeTimeout', '/t', 'REG_SZ', '/d', '120000', '/f'], { keepServer: true, timeoutMs: 120_000 });
  stopWine(); // services.exe reads it at start
  const startKeepalive = () =>
    spawn('wine', [EXE, 'record', '--duration', '9m', '--interval', '10s', '-ld', winPath(path.join(work, 'keepalive'))], {
      env: { ...process.env, WINEPREFIX: winePrefix(), WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' },
      stdio: 'ignore',
    });
  keepalive = startKeepalive();
  await new Promise((r) => setTimeout(r, 3000));

  t.test('--service from a console: one line saying how to run it, exit 64', async (t) => {
    const r = await runExe(['record', '--service', '-ld', winPath(logDir)], { keepServer: true, timeoutMs: 120_000 });
    t.equal(r.code, 64);
    t.equal(r.stdout, '');
    t.match(r.stderr, /^portqry-ts: record --service runs only when the Windows service control manager starts it: run 'portqry-ts record'.*\n$/);
    t.equal(r.stderr.trim().split('\n').length, 1);
    t.notOk(fs.existsSync(logDir), 'nothing recorded');
  });

  t.test('--install --dry-run: the steps as records, nothing done', async (t) => {
    const r = await runExe(['record', '--install', '--dry-run', '-ld', winPath(logDir), '--json'], { keepServer: true, timeoutMs: 120_000 });
    t.equal(r.code, 0, r.stderr);
    const records = parseJsonl(r.stdout);
    for (const rec of records) t.same(schemaErrors('install-action.schema.json', rec), []);
    t.same(records.map((x) => x.Action), ['CreateService', 'ConfigureService', 'StartService']);
    t.match(records[0]!.Target, `"${winPath(EXE)}" record --service -ld ${winPath(logDir)} -ls 5000 --rotate start,size --interval 1s`);
    t.equal(await state(), null, 'not installed');
  });

  t.test('install → RUNNING; logs appear and grow when a socket opens; sc stop → STOPPED with whole logs; sc start again', async (t) => {
    const inst = await runExe(['record', '--install', '-ld', winPath(logDir), '--json'], { keepServer: true, timeoutMs: 120_000 });
    t.equal(inst.code, 0, inst.stderr);
    const steps = parseJsonl(inst.stdout);
    for (const rec of steps) t.same(schemaErrors('install-action.schema.json', rec), []);
    t.same(steps.map((x) => [x.Action, x.Succeeded]), [['CreateService', true], ['ConfigureService', true], ['StartService', true]]);
    // Wine 8's services.exe stores no failure actions and rejects the non-crash flag; the step says so.
    t.comment(`ConfigureService detail: ${String(steps[1]!.Detail)}`);
    const q = await sc('query', 'portqry-ts');
    t.match(q.stdout, /TYPE\s+:\s+10\s+WIN32_OWN_PROCESS/);
    const reg = await runWine('reg', ['query', 'HKLM\\System\\CurrentControlSet\\Services\\portqry-ts'], { keepServer: true, timeoutMs: 120_000 });
    t.match(reg.stdout, /DisplayName\s+REG_SZ\s+portqry-ts Port Reporter/);
    t.match(reg.stdout, /Start\s+REG_DWORD\s+0x2\b/, 'automatic start');
    t.match(reg.stdout, /ObjectName\s+REG_SZ\s+LocalSystem/);
    t.match(reg.stdout, /Description\s+REG_SZ\s+Records every new TCP and UDP port use/);
    t.match(reg.stdout, new RegExp(`ImagePath\\s+REG_SZ\\s+"${winPath(EXE).replace(/\\/g, '\\\\').replace(/\./g, '\\.')}" record --service -ld `));

    // START_PENDING lasts until the first snapshot is written; on a loaded 2-core machine under Wine that can take a while.
    await waitFor('RUNNING', state, (s) => s === 'RUNNING');
    await waitFor('PR-PORTS', () => readLogSet(logDir, 'PR-PORTS-'), (s) => s.length > 0);
    t.match(readLogSet(logDir, 'PR-INITIAL-'), /^Port Reporter Version/);

    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    const line = new RegExp(`^[^\\n]*,TCP,${port},127\\.0\\.0\\.1,`, 'm');
    await waitFor(`a PR-PORTS line for port ${port}`, () => readLogSet(logDir, 'PR-PORTS-'), (s) => line.test(s));
    server.close();

    const stop = await sc('stop', 'portqry-ts');
    t.equal(stop.code, 0, 'sc stop exits 0');
    await waitFor('STOPPED', state, (s) => s === 'STOPPED');
    t.same(wholeLines(logDir), [], 'every log file ends with a whole record');
    const q2 = await sc('query', 'portqry-ts');
    t.match(q2.stdout, /WIN32_EXIT_CODE\s+:\s+0\s/, 'a clean stop');
    t.same(servicePids(), [], 'the service process exited');
    const setsBefore = fs.readdirSync(logDir).filter((f) => f.startsWith('PR-PORTS-')).length;

    const start = await sc('start', 'portqry-ts');
    t.equal(start.code, 0, 'sc start exits 0');
    await waitFor('RUNNING again', state, (s) => s === 'RUNNING');
    await waitFor('a new set of logs (--rotate start)', () => fs.readdirSync(logDir).filter((f) => f.startsWith('PR-PORTS-')).length, (n) => n > setsBefore);

    // Stop and start in quick succession while the recorder polls: controls must always be answered
    // (a JS thread blocked on the SCM while the SCM waits for HandlerEx would hang here).
    for (let i = 0; i < 4; i++) {
      t.equal((await sc('stop', 'portqry-ts')).code, 0, `cycle ${i + 1}: sc stop exits 0`);
      await waitFor('STOPPED', state, (s) => s === 'STOPPED');
      t.same(wholeLines(logDir), [], `cycle ${i + 1}: whole records after the stop`);
      await waitFor('the service process to exit', servicePids, (p) => p.length === 0);
      t.equal((await sc('start', 'portqry-ts')).code, 0, `cycle ${i + 1}: sc start exits 0`);
      await waitFor('RUNNING', state, (s) => s === 'RUNNING');
    }
  });

  t.test('the service process killed: logs stay whole; after a restart of the machine (Wine: of wineserver) the automatic-start service runs again', async (t) => {
    const pids = await waitFor('the service process', servicePids, (p) => p.length > 0);
    const setsBefore = fs.readdirSync(logDir).filter((f) => f.startsWith('PR-PORTS-')).length;
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitFor('the process to end', servicePids, (p) => p.every((x) => !pids.includes(x)));
    t.same(wholeLines(logDir), [], 'a kill -9 leaves whole records (one write per record)');
    // Windows would now apply the failure actions (restart after 5 s). Wine 8's services.exe neither
    // notices the death (sc query keeps saying RUNNING) nor stores failure actions: checked and said here.
    await new Promise((r) => setTimeout(r, 7000));
    const restarted = servicePids().some((p) => !pids.includes(p));
    t.comment(restarted ? 'the SCM restarted the killed service (failure action honoured)' : `Wine's SCM did not restart the killed service (sc query: ${await state()}); failure actions are covered by unit tests only`);
    // A reboot: every Wine process ends, services.exe starts again and starts the SERVICE_AUTO_START service.
    keepalive?.kill('SIGKILL');
    stopWine();
    keepalive = startKeepalive();
    await waitFor('RUNNING after the restart', state, (s) => s === 'RUNNING', 60_000);
    await waitFor('a new service process', servicePids, (p) => p.length > 0 && p.every((x) => !pids.includes(x)), 60_000);
    await waitFor('a new set of logs', () => fs.readdirSync(logDir).filter((f) => f.startsWith('PR-PORTS-')).length, (n) => n > setsBefore, 60_000);
    t.same(wholeLines(logDir), []);
  });

  t.test('--uninstall: stops (waits) and deletes; sc query then knows no such service', async (t) => {
    const un = await runExe(['record', '--uninstall', '--json'], { keepServer: true, timeoutMs: 120_000 });
    t.equal(un.code, 0, `stderr: ${un.stderr}; stdout: ${un.stdout}`);
    const steps = parseJsonl(un.stdout);
    for (const rec of steps) t.same(schemaErrors('install-action.schema.json', rec), []);
    t.same(steps.map((x) => [x.Action, x.Succeeded, x.Detail]), [['StopService', true, 'stopped'], ['DeleteService', true, 'deleted']]);
    t.equal(await state(), null);
    t.same(servicePids(), []);
    t.same(wholeLines(logDir), []);
    const again = await runExe(['record', '--uninstall', '--format', 'text'], { keepServer: true, timeoutMs: 120_000 });
    t.equal(again.code, 0, 'uninstalling twice is fine');
    t.match(again.stdout, /^stopped service: portqry-ts \(not installed\)\ndeleted service: portqry-ts \(not installed\)\n/);
  });

  t.test('--copy-to-program-files: the copy in %ProgramFiles%\\portqry-ts is what the service runs', async (t) => {
    const target = path.join(winePrefix(), 'drive_c', 'Program Files', 'portqry-ts');
    t.teardown(() => fs.rmSync(target, { recursive: true, force: true }));
    const r = await runExe(['record', '--install', '--copy-to-program-files', '-ld', winPath(logDir), '--json'], { keepServer: true, timeoutMs: 120_000 });
    t.equal(r.code, 0, r.stderr);
    const steps = parseJsonl(r.stdout);
    t.same(steps.map((x) => [x.Action, x.Succeeded]), [['Copy', true], ['CreateService', true], ['ConfigureService', true], ['StartService', true]]);
    t.match(steps[1]!.Target, /: "C:\\Program Files\\portqry-ts\\portqry-ts\.exe" record --service -ld /);
    t.equal(fs.statSync(path.join(target, 'portqry-ts.exe')).size, fs.statSync(EXE).size);
    t.same(fs.readdirSync(target), ['portqry-ts.exe'], 'no temporary file left beside it');
    await waitFor('RUNNING', state, (s) => s === 'RUNNING');
    const pids = await waitFor('the service process', servicePids, (p) => p.length > 0);
    t.ok(pids.length > 0);
    const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pids[0])], { encoding: 'utf8' }).stdout;
    t.match(ps, /C:\\Program Files\\portqry-ts\\portqry-ts\.exe record --service/i, 'the copy runs');
    const un = await runExe(['record', '--uninstall', '--json'], { keepServer: true, timeoutMs: 120_000 });
    t.equal(un.code, 0, `stderr: ${un.stderr}; stdout: ${un.stdout}`);
    t.equal(await state(), null);
    await waitFor('the service process to exit', servicePids, (p) => p.length === 0);
  });

  t.test('install refused: the exe in a folder Everyone may write (a 0777 folder: Wine maps it to an Everyone write ACE)', async (t) => {
    const open = path.join(work, 'everyone');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const copy = path.join(open, 'portqry-ts.exe');
    fs.copyFileSync(EXE, copy);
    const r = await runWine(copy, ['record', '--install', '-ld', winPath(logDir)], { keepServer: true, timeoutMs: 120_000 });
    t.equal(r.code, 78, r.stderr);
    t.equal(r.stdout, '');
    t.equal(r.stderr, `portqry-ts: record: refusing to install: ${winPath(open)}: Everyone may create files, create folders, delete files, delete (0x10046), so a non-administrator could replace what the service runs as SYSTEM; copy portqry-ts.exe to a folder only administrators can write, or run 'portqry-ts record --install --copy-to-program-files'\n`);
    t.equal(await state(), null, 'no service created');
    const dry = await runWine(copy, ['record', '--install', '--dry-run', '-ld', winPath(logDir)], { keepServer: true, timeoutMs: 120_000 });
    t.equal(dry.code, 78, '--dry-run tells the same');
  });
});

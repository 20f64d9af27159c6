/**
 * The Linux backend against `ss -tuanp` on the same sockets: a child process in a private network
 * namespace opens ~2,700 loopback sockets (TCP v4, v6, dual-stack, UDP v4/v6, a connected UDP socket,
 * TIME_WAIT rows, a listener shared by two processes), takes a snapshot and runs ss right after it.
 * Both must list the same endpoints, and every socket ss attributes to a process must carry one of
 * ss's PIDs (the lowest, for a shared socket).
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import type { Endpoint, ProcessInfo } from '../../src/platform/types';
import { ROOT } from '../helpers/cli';

interface ChildReport {
  pid: number;
  otherPid: number;
  execPath: string;
  snapshotMs: number;
  endpoints: Endpoint[];
  /** A second snapshot of the same backend (NETLINK_SOCK_DIAG, owners remembered). */
  endpointsAgain: Endpoint[];
  /** A snapshot of a backend that reads /proc/net text (the fallback when netlink is refused). */
  endpointsText: Endpoint[];
  processes: (Omit<ProcessInfo, 'startTime'> & { startTime: string | null })[];
  ss: string;
}

const SS_STATES: Record<string, string> = {
  ESTAB: 'Established', 'SYN-SENT': 'SynSent', 'SYN-RECV': 'SynReceived', 'FIN-WAIT-1': 'FinWait1',
  'FIN-WAIT-2': 'FinWait2', 'TIME-WAIT': 'TimeWait', CLOSE: 'Closed', UNCONN: 'Closed', 'CLOSE-WAIT': 'CloseWait',
  'LAST-ACK': 'LastAck', LISTEN: 'Listen', CLOSING: 'Closing',
};

/** `127.0.0.1:80`, `[::1]:80`, `[fe80::1]%lo:80`, `*:80` (dual-stack any) → [address, port]. */
function ssAddress(text: string): [string, string] {
  const colon = text.lastIndexOf(':');
  let address = text.slice(0, colon);
  const port = text.slice(colon + 1);
  address = address.replace(/%[^\]]*$/, '').replace(/^\[(.*)\](%.*)?$/, '$1');
  if (address === '*') address = '::';
  return [address, port];
}

function ssRows(text: string): { key: string; pids: number[] }[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [netid, state, , , local, peer, ...rest] = line.trim().split(/\s+/);
      const [la, lp] = ssAddress(local!);
      const [ra, rp] = ssAddress(peer!);
      const pids = [...rest.join(' ').matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
      const tcp = netid === 'tcp';
      const listener = state === 'LISTEN';
      const key = tcp
        ? `TCP ${la} ${lp} ${listener ? '-' : ra} ${listener ? '-' : rp} ${SS_STATES[state!]}`
        : `UDP ${la} ${lp}`;
      return { key, pids: [...new Set(pids)].sort((a, b) => a - b) };
    });
}

function ourKey(e: Endpoint): string {
  return e.protocol === 'TCP'
    ? `TCP ${e.localAddress} ${e.localPort} ${e.remoteAddress ?? '-'} ${e.remotePort ?? '-'} ${e.state}`
    : `UDP ${e.localAddress} ${e.localPort}`;
}

const skip = process.platform !== 'linux' ? 'Linux only' : process.getuid?.() !== 0 ? 'needs root for a private network namespace' : false;

t.test('same endpoints and PIDs as ss -tuanp, with thousands of sockets', { skip }, async (t) => {
  const child = path.join(import.meta.dirname, 'linux-vs-ss.child.ts');
  const run = spawnSync(
    'unshare',
    ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" --import tsx "$1"', process.execPath, child],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 },
  );
  t.equal(run.status, 0, `child exit (stderr: ${run.stderr.slice(0, 2000)})`);
  const report = JSON.parse(run.stdout) as ChildReport;

  const ss = ssRows(report.ss);
  t.ok(ss.length >= 2500, `ss lists ${ss.length} sockets`);
  const ours = report.endpoints.map(ourKey).sort();
  t.same(ours, ss.map((r) => r.key).sort(), 'the same endpoints');

  const byKey = new Map(report.endpoints.map((e) => [ourKey(e), e]));
  let checked = 0;
  const mismatches: string[] = [];
  for (const row of ss) {
    const pid = byKey.get(row.key)?.pid ?? null;
    const expected = row.pids[0] ?? null;
    if (pid !== expected) mismatches.push(`${row.key}: ours ${pid}, ss ${row.pids.join(',') || 'none'}`);
    checked++;
  }
  t.same(mismatches.slice(0, 20), [], `every one of ${checked} sockets has ss's PID`);

  const withPid = (e: Endpoint) => `${ourKey(e)} ${e.pid}`;
  t.same(report.endpointsAgain.map(withPid).sort(), report.endpoints.map(withPid).sort(), 'the second snapshot (sock_diag, remembered owners) lists the same endpoints and PIDs');
  t.same(report.endpointsText.map(withPid).sort(), report.endpoints.map(withPid).sort(), 'a snapshot from /proc/net text lists the same endpoints and PIDs');

  const sharedListener = ss.find((r) => r.pids.length > 1);
  t.ok(sharedListener, 'one listener is held by two processes');
  t.same(sharedListener?.pids, [report.pid, report.otherPid].sort((a, b) => a - b));
  t.ok(report.endpoints.some((e) => e.protocol === 'UDP' && e.pid === report.otherPid), "the second process's own UDP socket");
  const timeWait = report.endpoints.filter((e) => e.state === 'TimeWait');
  t.ok(timeWait.length >= 20 && timeWait.every((e) => e.pid === null), 'TIME_WAIT rows have no owner');

  const self = report.processes.find((p) => p.pid === report.pid);
  t.ok(self, 'the child is among the processes');
  t.equal(self?.name, 'node');
  t.equal(self?.path, report.execPath);
  t.match(self?.commandLine, /linux-vs-ss\.child\.ts/);
  const started = Date.parse(self?.startTime ?? '');
  t.ok(Math.abs(Date.now() - started) < 120_000, `start time ${self?.startTime} is from this test run`);
  t.ok(self?.modules.some((m) => /\/libc\.so\.6$/.test(m)), 'libc.so.6 among the modules');
  const user = os.userInfo().username;
  t.ok(self?.user === `${os.hostname()}\\${user}` || self?.user === user, `user ${self?.user}`);
  t.equal(self?.note, null);
  t.equal(report.processes.length, 2, 'exactly the two owning processes');
  t.comment(`snapshot of ${report.endpoints.length} endpoints took ${report.snapshotMs.toFixed(0)} ms`);
});

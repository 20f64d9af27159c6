import type { Endpoint, PlatformBackend, ProcessInfo, Snapshot } from '../../src/platform/types';

/**
 * A scripted PlatformBackend for unit tests of the recorder's logic (diffing, log layout, rotation):
 * each snapshot() returns the next scripted state. The real backends are tested against the OS in
 * test/cli/record.test.ts; this one only isolates the recorder from timing and from /proc.
 */
export class FakeBackend implements PlatformBackend {
  readonly name = 'linux' as const;
  calls = 0;
  constructor(private readonly states: (() => { endpoints: Endpoint[]; processes: ProcessInfo[] })[], private readonly computerName = 'TESTHOST') {}

  async snapshot(): Promise<Snapshot> {
    const state = this.states[Math.min(this.calls, this.states.length - 1)]!();
    this.calls++;
    return { takenAt: new Date(), computerName: this.computerName, endpoints: state.endpoints, processes: new Map(state.processes.map((p) => [p.pid, p])) };
  }
}

export function tcp(localPort: number, pid: number | null, extra: Partial<Endpoint> = {}): Endpoint {
  return { protocol: 'TCP', family: 4, localAddress: '0.0.0.0', localPort, remoteAddress: null, remotePort: null, state: 'Listen', pid, creationTime: null, ...extra };
}

export function udp(localPort: number, pid: number | null, extra: Partial<Endpoint> = {}): Endpoint {
  return { protocol: 'UDP', family: 4, localAddress: '0.0.0.0', localPort, remoteAddress: null, remotePort: null, state: null, pid, creationTime: null, ...extra };
}

export function proc(pid: number, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    pid,
    startTime: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678) + pid),
    name: `prog${pid}`,
    path: `/usr/bin/prog${pid}`,
    commandLine: `/usr/bin/prog${pid} --serve`,
    user: 'TESTHOST\\alice',
    services: pid === 1 ? ['init.scope'] : [`prog${pid}.service`],
    modules: ['/usr/lib/x86_64-linux-gnu/libc.so.6', `/usr/bin/prog${pid}`],
    note: null,
    ...extra,
  };
}

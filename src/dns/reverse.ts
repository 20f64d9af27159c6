import * as dns from 'node:dns';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/**
 * Reverse name lookups (address → name) that cannot outlive their timeout.
 *
 * The system's getnameinfo() runs on libuv's thread pool (four threads shared with file I/O), cannot be
 * cancelled, and follows the system's resolver configuration, where `options timeout:30 attempts:3` is
 * legal: 64 lookups against a silent DNS server kept a 4-second run alive for 36 s (issue 14). Here the
 * hosts file is read first (as getnameinfo would), then DNS is asked through c-ares (dns.Resolver):
 * no thread pool, our own per-try timeout and a single try whatever resolv.conf says, a bounded number
 * of queries in flight, and close() cancels whatever is still pending, so nothing keeps the process
 * alive after the last record. What this does not ask: NetBIOS and LLMNR on Windows, and NSS modules
 * other than files and DNS (mDNS, LDAP hosts) on Linux.
 */
export interface ReverseResolverOptions {
  /** The longest wait for one address, in ms; the name is then null. */
  timeoutMs: number;
  /** DNS queries in flight at once (default 16); further addresses wait their turn. */
  concurrency?: number;
  /** DNS servers ("127.0.0.53", "127.0.0.9:5353"); default the system's. */
  servers?: readonly string[];
  /** The hosts file to read first; default the system's; null for none. */
  hostsFile?: string | null;
}

export interface ReverseResolver {
  reverse(address: string): Promise<string | null>;
  /** Cancels every pending query; later calls answer null at once. */
  close(): void;
}

/** The test and diagnosis hooks, read from the command's environment: PORTQRY_DNS_SERVERS (comma list), PORTQRY_HOSTS_FILE. */
export function reverseResolverEnv(env: NodeJS.ProcessEnv): { servers?: readonly string[]; hostsFile?: string } {
  const servers = env.PORTQRY_DNS_SERVERS?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { servers: servers && servers.length > 0 ? servers : undefined, hostsFile: env.PORTQRY_HOSTS_FILE || undefined };
}

export function systemHostsFile(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'win32') return path.win32.join(env.SystemRoot ?? 'C:\\Windows', 'System32', 'drivers', 'etc', 'hosts');
  return '/etc/hosts';
}

/** address → first name, from a hosts file's text (`address name [aliases…]`, `#` comments). */
export function parseHostsFile(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [address, name] = line.split(/[ \t]+/);
    if (!address || !name || !net.isIP(address)) continue;
    const key = address.toLowerCase();
    if (!names.has(key)) names.set(key, name);
  }
  return names;
}

const HOSTS_FILE_CAP = 4 << 20;

function readHosts(file: string | null): Map<string, string> {
  if (file === null) return new Map();
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(HOSTS_FILE_CAP);
      const n = fs.readSync(fd, buf, 0, HOSTS_FILE_CAP, 0);
      return parseHostsFile(buf.subarray(0, n).toString('utf8'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return new Map();
  }
}

export function createReverseResolver(options: ReverseResolverOptions): ReverseResolver {
  const timeoutMs = Math.max(1, options.timeoutMs);
  const concurrency = Math.max(1, options.concurrency ?? 16);
  let hosts: Map<string, string> | undefined;
  let resolver: dns.promises.Resolver | undefined;
  let closed = false;
  let active = 0;
  const waiting: (() => void)[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const getResolver = () => {
    if (!resolver) {
      // tries: 1 and our timeout override resolv.conf's attempts and timeout (c-ares reads it too).
      resolver = new dns.promises.Resolver({ timeout: timeoutMs, tries: 1 });
      if (options.servers) resolver.setServers([...options.servers]);
    }
    return resolver;
  };

  async function ask(address: string): Promise<string | null> {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    if (closed) return null;
    active++;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        getResolver()
          .reverse(address)
          .then((names) => names[0] ?? null)
          .catch(() => null),
        // Several servers are tried one after another; the whole lookup still ends at the timeout.
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), timeoutMs);
          timers.add(timer);
        }),
      ]);
    } finally {
      if (timer) {
        clearTimeout(timer);
        timers.delete(timer);
      }
      active--;
      waiting.shift()?.();
    }
  }

  return {
    async reverse(address) {
      if (closed || !net.isIP(address)) return null;
      hosts ??= readHosts(options.hostsFile === undefined ? systemHostsFile() : options.hostsFile);
      const listed = hosts.get(address.toLowerCase());
      if (listed !== undefined) return listed;
      return ask(address);
    },
    close() {
      if (closed) return;
      closed = true;
      resolver?.cancel();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const wake of waiting.splice(0)) wake();
    },
  };
}

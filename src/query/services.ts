import * as fs from 'node:fs';

/**
 * Service names for port numbers, as PortQry prints them ("TCP port 80 (http service)"). The built-in
 * table holds the entries of Windows' %SystemRoot%\System32\drivers\etc\services that PortQry users
 * meet most; on Linux /etc/services, when present, fills in the rest.
 */
const BUILTIN: Record<string, string> = {
  'tcp/7': 'echo', 'udp/7': 'echo', 'tcp/20': 'ftp-data', 'tcp/21': 'ftp', 'tcp/22': 'ssh', 'tcp/23': 'telnet',
  'tcp/25': 'smtp', 'tcp/42': 'nameserver', 'udp/42': 'nameserver', 'tcp/53': 'domain', 'udp/53': 'domain',
  'udp/67': 'bootps', 'udp/68': 'bootpc', 'udp/69': 'tftp', 'tcp/80': 'http', 'tcp/88': 'kerberos', 'udp/88': 'kerberos',
  'tcp/110': 'pop3', 'udp/123': 'ntp', 'tcp/119': 'nntp', 'tcp/135': 'epmap', 'udp/135': 'epmap', 'udp/137': 'netbios-ns',
  'udp/138': 'netbios-dgm', 'tcp/139': 'netbios-ssn', 'tcp/143': 'imap', 'udp/161': 'snmp', 'udp/162': 'snmptrap',
  'tcp/389': 'ldap', 'udp/389': 'ldap', 'tcp/443': 'https', 'tcp/445': 'microsoft-ds', 'tcp/464': 'kpasswd', 'udp/464': 'kpasswd',
  'udp/500': 'isakmp', 'tcp/587': 'submission', 'tcp/593': 'http-rpc-epmap', 'tcp/636': 'ldaps', 'tcp/993': 'imaps', 'tcp/995': 'pop3s',
  'tcp/1433': 'ms-sql-s', 'udp/1434': 'ms-sql-m', 'udp/1701': 'l2tp', 'tcp/1723': 'pptp', 'udp/1812': 'radius', 'udp/1813': 'radacct',
  'tcp/3268': 'msft-gc', 'tcp/3269': 'msft-gc-ssl', 'tcp/3389': 'ms-wbt-server', 'udp/4500': 'ipsec-msft', 'tcp/5985': 'wsman',
  'tcp/5986': 'wsmans', 'tcp/9389': 'adws',
};

let systemTable: Map<string, string> | undefined;

/** Parses services(5) text: "name  port/proto  [aliases...]  [# comment]". Pure, for tests. */
export function parseServicesFile(text: string): Map<string, string> {
  const table = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [name, portProto] = line.split(/\s+/);
    const m = /^(\d+)\/(tcp|udp)$/i.exec(portProto ?? '');
    if (!name || !m) continue;
    const key = `${m[2]!.toLowerCase()}/${Number(m[1])}`;
    if (!table.has(key)) table.set(key, name);
  }
  return table;
}

function loadSystemTable(): Map<string, string> {
  if (systemTable) return systemTable;
  const file = process.platform === 'win32' ? `${process.env.SystemRoot ?? 'C:\\Windows'}\\System32\\drivers\\etc\\services` : '/etc/services';
  try {
    systemTable = parseServicesFile(fs.readFileSync(file, 'latin1'));
  } catch {
    systemTable = new Map();
  }
  return systemTable;
}

/** Port-indexed names per protocol, built once: a full-range scan asks 65535 times. */
let byPort: { TCP: (string | undefined)[]; UDP: (string | undefined)[] } | undefined;

function portTables(): NonNullable<typeof byPort> {
  if (byPort) return byPort;
  const tables = { TCP: new Array<string | undefined>(65536), UDP: new Array<string | undefined>(65536) };
  // System entries first, then the built-in ones over them: the built-in table wins, as on Windows.
  for (const [key, name] of [...loadSystemTable(), ...Object.entries(BUILTIN)]) {
    const [proto, port] = key.split('/');
    tables[proto === 'udp' ? 'UDP' : 'TCP'][Number(port)] = name;
  }
  byPort = tables;
  return tables;
}

/** The service name for a port, or null ("unknown service"). */
export function serviceName(protocol: 'TCP' | 'UDP', port: number): string | null {
  return portTables()[protocol][port] ?? null;
}

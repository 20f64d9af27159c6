import schema from '../../schemas/query-preset.schema.json';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';

/**
 * Named port sets for common checks (`--preset ad`). Each entry says which protocol(s) a port is
 * queried with; README "Presets" and `--preset list` print this table, so it is the only copy.
 */
export interface PortPreset {
  name: string;
  description: string;
  tcp: readonly number[];
  udp: readonly number[];
}

export const PRESETS: readonly PortPreset[] = [
  {
    name: 'ad',
    description: 'Domain controller: DNS, Kerberos, RPC endpoint mapper, NetBIOS, LDAP, SMB, kpasswd, LDAPS, Global Catalog, ADWS; NTP, CLDAP',
    tcp: [53, 88, 135, 139, 389, 445, 464, 636, 3268, 3269, 9389],
    udp: [53, 88, 123, 137, 138, 389, 464],
  },
  {
    name: 'trusts',
    description: "PortQryUI's \"Domains & Trusts\" set, as reimplemented by public wrappers",
    tcp: [42, 53, 88, 135, 139, 389, 445, 636, 3268, 3269],
    udp: [53, 88, 137, 138, 389],
  },
  { name: 'dns', description: 'DNS server', tcp: [53], udp: [53] },
  { name: 'kerberos', description: 'Kerberos KDC and password change', tcp: [88, 464], udp: [88, 464] },
  { name: 'ldap', description: 'LDAP, LDAPS, Global Catalog (plain and TLS), CLDAP', tcp: [389, 636, 3268, 3269], udp: [389] },
  { name: 'rpc', description: 'RPC endpoint mapper', tcp: [135], udp: [135] },
  { name: 'netbios', description: 'NetBIOS name, datagram and session services', tcp: [139], udp: [137, 138] },
  { name: 'smb', description: 'File sharing: SMB direct and over NetBIOS', tcp: [445, 139], udp: [] },
  { name: 'sql', description: 'SQL Server: database engine, dedicated admin connection, Analysis Services, Service Broker; SQL Server Browser', tcp: [1433, 1434, 2383, 4022], udp: [1434] },
  { name: 'web', description: 'HTTP and HTTPS', tcp: [80, 443], udp: [] },
  { name: 'mail', description: 'SMTP, submission, SMTPS, POP3, POP3S, IMAP, IMAPS', tcp: [25, 587, 465, 110, 995, 143, 993], udp: [] },
  { name: 'remoting', description: 'Remote administration: WinRM HTTP/HTTPS, RDP, SSH, and the RPC/SMB ports WMI and PsExec use', tcp: [5985, 5986, 3389, 22, 135, 445], udp: [3389] },
  { name: 'vpn', description: 'IPsec IKE and NAT-T, L2TP, PPTP', tcp: [1723], udp: [500, 4500, 1701] },
  { name: 'time', description: 'NTP', tcp: [], udp: [123] },
  { name: 'snmp', description: 'SNMP agent and traps', tcp: [], udp: [161, 162] },
];

export function presetByName(name: string): PortPreset | undefined {
  return PRESETS.find((p) => p.name === name.toLowerCase());
}

/** `--preset list` records: one per preset. */
export const QueryPresetKind = defineRecordKind(schema as RecordSchema, {
  tableColumns: ['Name', 'TcpPorts', 'UdpPorts', 'Description'],
  text: (r) => {
    const ports = (label: string, list: unknown) => (Array.isArray(list) && list.length ? `${label} ${list.join(',')}` : '');
    return [`${String(r.Name).padEnd(9)} ${[ports('TCP', r.TcpPorts), ports('UDP', r.UdpPorts)].filter(Boolean).join('  ')}`, `          ${String(r.Description)}`];
  },
});

export function presetRecord(p: PortPreset): Record<string, unknown> {
  return { Name: p.name, Description: p.description, TcpPorts: [...p.tcp], UdpPorts: [...p.udp] };
}

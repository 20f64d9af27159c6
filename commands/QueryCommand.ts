import { Command, Option } from 'clipanion';
import { commandLineText } from '../src/query/log-file';
import { PRESETS, presetRecord, QueryPresetKind } from '../src/query/presets';
import { buildQueryRequest, executeQuery } from '../src/query/run';
import { readTargetsFile } from '../src/query/targets-file';
import { BaseCommand } from './BaseCommand';

export class QueryCommand extends BaseCommand {
  static paths = [['query']];
  static usage = Command.Usage({
    description: 'Is a TCP or UDP port LISTENING, NOT LISTENING or FILTERED on a host (PortQry)',
    details: `
      Answers PortQry's question with PortQry's words, options and exit codes, and goes further: many hosts and ports at once, protocol probes, JSON.

      PortQry's own spelling works as typed: \`-n host -e port -p tcp|udp|both -r start:end -o p1,p2 -sp port -sl -nr -cn !community! -q -l file -y\`.

      **Targets**: \`-n\` takes a name, an IPv4/IPv6 address, a comma list or a CIDR block (\`192.0.2.0/24\`; network and broadcast addresses are skipped for IPv4 blocks of /30 and wider; at most 65536 targets). \`--targets-file\` reads more, one or several per line, \`#\` starts a comment. A name that does not resolve is reported on stderr (\`Failed to resolve name to IP address\`) and its ports are skipped.

      **Ports**: one of \`-e 389\` (default 80), \`-r 1:1024\`, \`-o 53,88,135\` (= \`--ports\`; ranges such as \`1000-1024\` allowed inside), or \`--preset ad,web\` (\`--preset list\` prints every set). \`-p both\` queries TCP then UDP for each port. Results come out in that order, target by target, whatever finishes first.

      **Verdicts**: TCP: connected = LISTENING; reset or ICMP port unreachable = NOT LISTENING; silence after \`--retries\` attempts (default 3) or another ICMP unreachable = FILTERED. A loopback connection to itself is NOT LISTENING. UDP: a reply = LISTENING; ICMP port unreachable = NOT LISTENING; another ICMP unreachable = FILTERED; silence = LISTENING or FILTERED, and where a protocol probe knows the port (DNS 53, SNMP 161, ...) its real query follows: a reply makes it LISTENING, silence FILTERED.

      **Probes**: after TCP LISTENING or UDP step 1, the probe registered for the port runs (\`--no-probe\` to skip; \`--probe NAME\` to run one probe on every port of its protocol, e.g. a DNS server on port 5353; \`--tls 8443\` adds ports for the TLS probe). Its fields go to \`ProbeData\`; a failure goes to \`ProbeError\` and never changes a TCP verdict. PortQry's rule holds: with \`-r\` the RPC endpoint mapper is not queried.

      **Timing**: \`--timeout\` ms per attempt (default 1000); \`-sl\` doubles every wait; \`--concurrency\` queries in flight (default 1024, or half the open-file limit when that is lower; a local shortage of sockets lowers it on the fly); \`-sp\` queries one port at a time from that source port.

      **Windows**: the verdicts come from Winsock itself (ws2_32), not Node's sockets: a closed TCP port is NOT LISTENING in one round trip (no SYN retransmissions: \`SIO_TCP_INITIAL_RTO\`) and a closed UDP port NOT LISTENING (WSAECONNRESET). \`Reason\` says what decided, e.g. \`reset (WSAECONNREFUSED in 1 ms: RST, no SYN retransmissions)\`. \`PORTQRY_ENGINE=node|winsock|libc\` forces an engine (diagnosis); \`self-check\` shows the one in use (\`QueryEngine\`). docs/query-windows.md has the details and the check to run on a server.

      **Linux**: a scan of 1,000 TCP ports or more connects through glibc (socket/connect/poll via koffi, the system calls of nmap -sT) instead of one Node socket per port: the same verdicts at about nmap's cost. \`PORTQRY_ENGINE=node\` uses Node's sockets instead; \`self-check\` shows \`QueryEngine\` libc.

      **Exit code**: one answer: 0 LISTENING, 1 NOT LISTENING, 2 FILTERED or LISTENING or FILTERED, as PortQry. Several answers: the highest of their codes, so 0 means every port answered LISTENING, 1 that some were NOT LISTENING and none filtered, 2 that at least one was FILTERED or LISTENING or FILTERED. A target that does not resolve makes it 68; usage errors are 64.

      **-q** prints nothing on stdout (errors still go to stderr) and works with any number of ports (PortQry allowed one), the exit code being the rule above. **-l file** writes PortQry's log layout (header, the text lines, end marker; CRLF). An existing log is overwritten only with \`-y\` (or \`-q\`, as PortQry); otherwise the run stops with exit 73 before querying: portqry-ts never prompts.

      Output: text on a terminal, JSON Lines when redirected (one QueryResult per target × protocol × port; schemas/query-result.schema.json). Progress shows on stderr only when stderr is a terminal.
    `,
    examples: [
      ['Is LDAP listening on a domain controller', '$0 query -n dc01 -e 389'],
      ['The same, as a PowerShell object', '$0 query -n dc01 -e 389 --json | ConvertFrom-Json'],
      ['Exit code only, for a batch file', '$0 query -n 10.0.0.5 -e 445 -q'],
      ['A DNS server over TCP and UDP, with the DNS probe', '$0 query -n dc01 -e 53 -p both'],
      ["All of a domain controller's ports, as a table", '$0 query -n dc01 --preset ad --format table'],
      ['Several servers and ports, to CSV for Excel', '$0 query -n web1,web2,10.0.0.0/28 -o 80,443,3389 --format csv --out-file ports.csv'],
      ['Every TCP port of a host', '$0 query -n 127.0.0.1 -r 1:65535 -nr --format table'],
      ['SNMP with a community name (PortQry spelling)', '$0 query -n printer1 -e 161 -p udp -cn !private!'],
      ['A PortQry log file, overwritten', '$0 query -n dc01 -o 88,389 -p both -l pq.log -y'],
      ['The named port sets', '$0 query --preset list'],
      ['A full scan through Node sockets instead of the Linux libc engine (diagnosis)', 'PORTQRY_ENGINE=node $0 query -n 127.0.0.1 -r 1:65535 -nr --json'],
      ['A closed UDP port through Node sockets instead of Winsock (Windows diagnosis)', '$env:PORTQRY_ENGINE="node"; $0 query -n 127.0.0.1 -p udp -e 9 --json'],
    ],
  });

  host = Option.String('-n,--host', { description: 'Target(s): host name, IP address, comma list or CIDR block' });
  targetsFile = Option.String('--targets-file', { description: 'File with more targets (one or several per line, # comments; - for stdin)' });
  endpoint = Option.String('-e,--port', { description: 'One port to query (default 80)' });
  range = Option.String('-r,--range', { description: 'Range of ports, start:end (PortQry -r)' });
  order = Option.String('-o,--ports', { description: 'Ports in this order, comma-separated; ranges like 1000-1024 allowed' });
  preset = Option.String('--preset', { description: 'Named port set(s): ad, dns, sql, web, remoting, ...; "list" prints them' });
  protocol = Option.String('-p,--protocol', { description: 'tcp, udp or both (default tcp)' });
  sourcePort = Option.String('--source-port', { description: 'Source port for the queries (PortQry -sp)' });
  slowLink = Option.Boolean('--slow-link', false, { description: 'Wait twice as long for answers (PortQry -sl)' });
  noReverse = Option.Boolean('--no-reverse-lookup', false, { description: 'Do not resolve an IP address to a name (PortQry -nr)' });
  community = Option.String('--community', { description: 'SNMP community, PortQry style !name! (PortQry -cn; default public)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print nothing; the exit code is the answer (PortQry -q)' });
  logFile = Option.String('-l,--log-file', { description: "Also write PortQry's text log to this file" });
  overwriteLog = Option.Boolean('--overwrite-log', false, { description: 'Overwrite an existing -l log file' });
  timeout = Option.String('--timeout', { description: 'Milliseconds to wait for each attempt (default 1000)' });
  retries = Option.String('--retries', { description: 'Attempts before FILTERED / LISTENING or FILTERED (default 3 for TCP, 1 for UDP, as PortQry)' });
  concurrency = Option.String('--concurrency', { description: 'Queries in flight at once (default 1024, bounded by the open-file limit)' });
  probe = Option.String('--probe', { description: 'Run this probe on every port of its protocol (e.g. dns on a non-standard port)' });
  noProbe = Option.Boolean('--no-probe', false, { description: 'Status only: run no protocol probe' });
  tls = Option.String('--tls', { description: 'Extra TCP ports where the TLS probe runs, comma-separated' });

  async run(): Promise<number> {
    if (this.preset?.trim().toLowerCase() === 'list') {
      for (const preset of PRESETS) this.output.write(QueryPresetKind, presetRecord(preset));
      return 0;
    }
    const request = buildQueryRequest(this, (path) => this.readTargetsFile(path));
    // -q: nothing reaches stdout, so no output is opened (and no --out-file created).
    const output = this.quiet ? undefined : this.output;
    const log = this.logFile === undefined ? undefined : { path: this.logFile, overwrite: this.overwriteLog || this.force, commandLine: commandLineText(this.context.argv ?? []) };
    return executeQuery(request, output, this.context.io, { quiet: this.quiet, log });
  }

  private readTargetsFile(path: string): string {
    return readTargetsFile(path);
  }
}

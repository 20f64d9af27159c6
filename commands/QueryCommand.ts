import { Command, Option } from 'clipanion';
import { UsageError } from '../src/errors';
import { ExitCode } from '../src/exit-codes';
import { exitCodeForState, QueryResultKind, type QueryResult } from '../src/query/query-result';
import { resolveTarget } from '../src/query/resolve';
import { serviceName } from '../src/query/services';
import { tcpConnect } from '../src/query/tcp-connect';
import { BaseCommand, parseIntegerOption } from './BaseCommand';

export class QueryCommand extends BaseCommand {
  static paths = [['query']];
  static usage = Command.Usage({
    description: 'Is a TCP or UDP port LISTENING, NOT LISTENING or FILTERED on a host (PortQry)',
    details: `
      Answers PortQry's question with PortQry's words and exit codes: 0 LISTENING, 1 NOT LISTENING, 2 FILTERED or LISTENING or FILTERED.

      PortQry's own spelling works as typed (\`-n host -e port -p tcp -nr\`).

      Text output keeps PortQry's lines (\`TCP port 80 (http service): LISTENING\`) for scripts that scrape them; redirected output is JSON Lines, one QueryResult per port (schemas/query-result.schema.json).
    `,
    examples: [
      ['Is LDAP listening on a domain controller', '$0 query -n dc01 -e 389'],
      ['The same, as a PowerShell object', '$0 query -n dc01 -e 389 --json | ConvertFrom-Json'],
      ['Exit code only, for a batch file', '$0 query -n 10.0.0.5 -e 445 -q'],
    ],
  });

  host = Option.String('-n,--host', { description: 'Target host name or IP address', required: true });
  endpoint = Option.String('-e,--port', '80', { description: 'Port to query (default 80)' });
  protocol = Option.String('-p,--protocol', 'tcp', { description: 'tcp, udp or both (default tcp)' });
  noReverse = Option.Boolean('--no-reverse-lookup', false, { description: 'Do not resolve an IP address to a name (PortQry -nr)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Print nothing; the exit code is the answer (PortQry -q)' });
  timeout = Option.String('--timeout', '1000', { description: 'Milliseconds to wait for each attempt (default 1000)' });
  retries = Option.String('--retries', '3', { description: 'TCP attempts before FILTERED (default 3, as PortQry)' });

  async run(): Promise<number> {
    const port = parseIntegerOption('-e', this.endpoint, 1, 65535);
    const timeoutMs = parseIntegerOption('--timeout', this.timeout, 1, 600000);
    const attempts = parseIntegerOption('--retries', this.retries, 1, 20);
    if (this.protocol.toLowerCase() !== 'tcp') throw new UsageError(`invalid -p '${this.protocol}': only tcp is built yet`);

    const target = await resolveTarget(this.host, !this.noReverse);
    if (!this.quiet) this.output.note(['Querying target system called:', '', ` ${this.host}`, '', ...target.notes, 'querying...', '']);
    const result = await tcpConnect(target.address, port, { timeoutMs, attempts });
    const record: QueryResult = {
      ComputerName: this.host,
      RemoteAddress: target.address,
      HostName: target.hostName,
      Protocol: 'TCP',
      RemotePort: port,
      Service: serviceName('TCP', port),
      State: result.state,
      Reason: result.reason,
      ResponseTimeMs: result.elapsedMs,
      Attempts: result.attempts,
      LocalAddress: result.localAddress,
      LocalPort: result.localPort,
      Probe: null,
      ProbeData: null,
      ProbeError: null,
      TimeUtc: new Date().toISOString(),
    };
    if (!this.quiet) this.output.write(QueryResultKind, { ...record });
    return exitCodeForState(result.state) ?? ExitCode.Ok;
  }
}

import { UsageError, writeError } from '../errors';
import type { Output } from '../output/emitter';
import type { IOStreams } from '../output/iostreams';
import { sanitizeLine } from '../output/sanitize';
import { createStyle } from '../output/style';
import { defaultConcurrency, type EngineOptions, runQueries } from './engine';
import { reverseResolverEnv } from '../dns/reverse';
import { QueryLogFile } from './log-file';
import { buildPortSpecs, parseCommunity, parsePort, parseTargets, parseTlsPorts, type PortSpec } from './plan';
import { targetPreamble, resultLines, unresolvedPreamble } from './portqry-text';
import { PROBES, probeByName } from './probes/registry';
import { QueryResultKind } from './query-result-kind';

/** The query options as typed (strings), before validation. */
export interface QueryOptionsText {
  host?: string;
  targetsFile?: string;
  endpoint?: string;
  range?: string;
  order?: string;
  preset?: string;
  protocol?: string;
  sourcePort?: string;
  slowLink: boolean;
  noReverse: boolean;
  community?: string;
  timeout?: string;
  retries?: string;
  concurrency?: string;
  probe?: string;
  noProbe: boolean;
  tls?: string;
}

export interface QueryRequest {
  targets: string[];
  ports: PortSpec[];
  engine: EngineOptions;
}

export const DEFAULT_TIMEOUT_MS = 1000;
export const DEFAULT_TCP_ATTEMPTS = 3;
export const DEFAULT_UDP_ATTEMPTS = 1;

function integer(option: string, value: string, min: number, max: number): number {
  const t = value.trim();
  if (!/^\d+$/.test(t) || Number(t) < min || Number(t) > max) throw new UsageError(`invalid ${option} '${value}': expected a whole number from ${min} to ${max}`);
  return Number(t);
}

/**
 * Validates the options and turns them into targets × ports and engine settings. `readTargetsFile`
 * returns the text of --targets-file (the caller owns file access and its errors).
 */
export function buildQueryRequest(o: QueryOptionsText, readTargetsFile: (path: string) => string): QueryRequest {
  const ports = buildPortSpecs({ endpoint: o.endpoint, range: o.range, order: o.order, preset: o.preset, protocol: o.protocol });
  const timeout = o.timeout === undefined ? DEFAULT_TIMEOUT_MS : integer('--timeout', o.timeout, 1, 600_000);
  const retries = o.retries === undefined ? undefined : integer('--retries', o.retries, 1, 20);
  const sourcePort = o.sourcePort === undefined ? undefined : parsePort('-sp', o.sourcePort);
  // One source port carries one query at a time.
  const concurrency = sourcePort !== undefined ? 1 : o.concurrency === undefined ? defaultConcurrency() : integer('--concurrency', o.concurrency, 1, 10_000);
  if (o.probe !== undefined && o.noProbe) throw new UsageError('--probe and --no-probe cannot be combined');
  let forcedProbe;
  if (o.probe !== undefined) {
    forcedProbe = probeByName(o.probe.trim().toLowerCase());
    if (!forcedProbe) {
      const known = PROBES.map((p) => p.name).join(', ');
      throw new UsageError(`unknown --probe '${o.probe}': ${known ? `use one of ${known}` : 'no probes are built into this version'}`);
    }
  }
  const tlsPorts = parseTlsPorts(o.tls);
  if (tlsPorts.size > 0 && !probeByName('tls')) throw new UsageError(`--tls '${o.tls}': the tls probe is not built into this version`);
  if (o.host === undefined && o.targetsFile === undefined) throw new UsageError('no target: give -n host (or a comma list, or a CIDR block) or --targets-file');
  const targets = parseTargets(o.host, o.targetsFile === undefined ? undefined : readTargetsFile(o.targetsFile));
  if (targets.length === 0) throw new UsageError(`no target in --targets-file '${o.targetsFile}'`);
  return {
    targets,
    ports,
    engine: {
      timeoutMs: o.slowLink ? timeout * 2 : timeout,
      tcpAttempts: retries ?? DEFAULT_TCP_ATTEMPTS,
      udpAttempts: retries ?? DEFAULT_UDP_ATTEMPTS,
      sourcePort,
      community: parseCommunity(o.community),
      probes: !o.noProbe,
      forcedProbe,
      tlsPorts,
      // PortQry does not query the endpoint mapper when scanning a range (-r), to keep it fast.
      skippedProbes: new Set(o.range !== undefined ? ['rpc-epm', 'rpc-epm-udp'] : []),
      concurrency,
      reverseLookup: !o.noReverse,
    },
  };
}

export interface QueryOutputOptions {
  /** -q: nothing on stdout; the exit code is the answer (errors still go to stderr). */
  quiet: boolean;
  log?: { path: string; overwrite: boolean; commandLine: string };
}

/**
 * Runs the request and hands everything to the output layer as it arrives: PortQry's preamble per
 * target as text notes, one QueryResult record per port, the same text into the -l log, progress on a
 * terminal's stderr. Returns the exit code (see engine.ts combineExitCodes).
 */
export async function executeQuery(request: QueryRequest, output: Output | undefined, io: IOStreams, options: QueryOutputOptions): Promise<number> {
  const log = options.log ? QueryLogFile.open(options.log.path, options.log.overwrite || options.quiet, options.log.commandLine) : undefined;
  const plain = createStyle(false);
  const errorStyle = createStyle(io.colorStderr);
  let lastProgress = 0;
  // Backpressure: every 256 records, ask the output whether the reader keeps up; while it does not,
  // the engine starts no new queries, so a slow consumer cannot make the process buffer a whole scan.
  let written = 0;
  let behind: Promise<void> | undefined;
  let completed = false;
  try {
    const { servers, hostsFile } = reverseResolverEnv(io.env);
    const code = await runQueries(request.targets, request.ports, { ...request.engine, dnsServers: servers, hostsFile }, {
      target(target) {
        output?.note(targetPreamble(target));
        log?.write(targetPreamble(target));
      },
      result(record) {
        // The record is not touched after this (no copy: a scan writes 65,535 of them).
        output?.write(QueryResultKind, record as unknown as Parameters<Output['write']>[1]);
        log?.write(resultLines(record, plain));
        if (output && ++written % 256 === 0 && !behind) {
          behind = output.ready().finally(() => {
            behind = undefined;
          });
        }
      },
      hold: () => behind,
      unresolved(target, error) {
        output?.note(unresolvedPreamble(target));
        log?.write(unresolvedPreamble(target));
        io.clearProgress();
        io.stderr.write(`${errorStyle.bad('portqry-ts:')} ${sanitizeLine(error.message)}\n`);
      },
      // Called every 64 answers.
      progress(done, total) {
        const now = Date.now();
        if (total < 50 || (now - lastProgress < 100 && done < total)) return;
        lastProgress = now;
        io.progress(`querying ${done}/${total} (${Math.floor((done * 100) / total)}%)`);
      },
      stopped: () => output?.closed ?? false,
    });
    // The -l log takes its place only once the records are written: a run whose output fails (a full disk,
    // stdout lost) leaves an existing log as it was. Ending the output here is idempotent for the command.
    if (output) await output.end();
    if (io.stdoutError) throw writeError(io.stdoutError, 'to standard output');
    completed = true;
    return code;
  } finally {
    io.clearProgress();
    // A failed run (the output or the log could not be written) leaves an existing log as it was.
    if (completed) log?.close();
    else log?.discard();
  }
}

import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import schema from '../../schemas/stats-partial.schema.json';
import { DataError, fileError, PortqryError, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { defineRecordKind, type RecordSchema } from '../output/record-kind';
import { expandGlob, hasGlob } from '../portreporter/inputs';
import { VERSION } from '../version';
import type { SavedScope, StatsEngine } from './engine';
import type { StatisticDefinition } from './statistic';

/**
 * `stats --partial` and `stats --merge`: statistics computed where the logs are (one summary per
 * server, small enough to send over a remoting session) and combined at the console into the records
 * one `stats` run over every server's logs would give.
 *
 * A partial document is one JSON object (schemas/stats-partial.schema.json), written as one line, so
 * that many of them can be concatenated into one file or stream (JSON Lines). `Scopes` holds each
 * computer's totals and each statistic's saved counts (Accumulator.save()); its layout is versioned
 * by `Version`, and a merge refuses any other version instead of guessing.
 */
export const PARTIAL_FORMAT = 'portqry-ts stats partial';
export const PARTIAL_VERSION = 1;

export const statsPartialKind = defineRecordKind(schema as RecordSchema);

export interface StatsPartial {
  Format: string;
  Version: number;
  ProducedBy: string;
  CreatedUtc: string;
  Statistics: string[];
  Filters: string[];
  ReportedProcess: string | null;
  Records: number;
  Flagged: boolean;
  Approximate: string[];
  Inputs: string[];
  Scopes: SavedScope[];
}

export interface PartialMeta {
  statistics: readonly StatisticDefinition[];
  filters: string[];
  reportedProcess: string | null;
  flagged: boolean;
  inputs: string[];
}

/** The partial document of an engine that has counted every record (made per computer). */
export function makePartial(engine: StatsEngine, meta: PartialMeta): StatsPartial {
  return {
    Format: PARTIAL_FORMAT,
    Version: PARTIAL_VERSION,
    ProducedBy: `portqry-ts ${VERSION}`,
    CreatedUtc: new Date().toISOString(),
    Statistics: meta.statistics.map((s) => s.name),
    Filters: meta.filters,
    ReportedProcess: meta.reportedProcess,
    Records: engine.records,
    Flagged: meta.flagged,
    Approximate: engine.approximate(),
    Inputs: meta.inputs,
    Scopes: engine.save(),
  };
}

/** A partial document and where it came from (for error messages). */
export interface SourcedPartial {
  source: string;
  partial: StatsPartial;
}

/**
 * Reads partial documents from files and `-` (stdin): JSON Lines (one document per line, as
 * `--partial` writes them, concatenated in any number), or one JSON array (`--format json`).
 * UTF-8 with or without BOM and UTF-16LE with BOM (what Windows PowerShell 5.1's `>` writes).
 */
export async function readPartials(inputs: readonly string[], stdin: Readable): Promise<SourcedPartial[]> {
  const out: SourcedPartial[] = [];
  const files: string[] = [];
  // cmd.exe and PowerShell hand wildcards to native programs unexpanded (as parse's inputs).
  for (const input of inputs) {
    if (input === '-' || !hasGlob(input)) files.push(input);
    else {
      const before = files.length;
      for await (const file of expandGlob(input)) files.push(file);
      if (files.length === before) throw new PortqryError(`no file matches ${input}`, ExitCode.NoInput);
    }
  }
  for (const input of files) {
    let bytes: Buffer;
    if (input === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      bytes = Buffer.concat(chunks);
    } else {
      try {
        bytes = fs.readFileSync(input);
      } catch (err) {
        throw fileError(err, input);
      }
    }
    const name = input === '-' ? 'stdin' : input;
    const docs = parseDocuments(decode(bytes), name);
    if (docs.length === 0) throw new DataError(`${name}: no stats partial in it (expected the output of 'portqry-ts stats --partial')`);
    docs.forEach((doc, i) => out.push({ source: docs.length > 1 ? `${name} (document ${i + 1})` : name, partial: checkPartial(doc, name) }));
  }
  return out;
}

function decode(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  return bytes.toString('utf8');
}

function parseDocuments(text: string, name: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    try {
      const all = JSON.parse(trimmed) as unknown;
      if (Array.isArray(all)) return all;
    } catch {
      throw new DataError(`${name}: not a stats partial (not valid JSON)`);
    }
  }
  const docs: unknown[] = [];
  trimmed.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      docs.push(JSON.parse(line));
    } catch {
      throw new DataError(`${name}: line ${i + 1} is not a stats partial (not valid JSON)`);
    }
  });
  return docs;
}

/** Checks what a merge relies on; the saved counts themselves are only read by their own statistic. */
function checkPartial(doc: unknown, name: string): StatsPartial {
  const d = doc as Partial<StatsPartial> | null;
  if (typeof d !== 'object' || d === null || d.Format !== PARTIAL_FORMAT) {
    throw new DataError(`${name}: not a stats partial (expected the output of 'portqry-ts stats --partial')`);
  }
  if (d.Version !== PARTIAL_VERSION) {
    throw new DataError(`${name}: stats partial version ${String(d.Version)} (from ${String(d.ProducedBy)}) cannot be merged by portqry-ts ${VERSION}, which reads version ${PARTIAL_VERSION}: make the partials and the merge with the same portqry-ts version`);
  }
  const okList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!okList(d.Statistics) || !okList(d.Filters) || !okList(d.Approximate) || !Array.isArray(d.Scopes) || typeof d.Records !== 'number') {
    throw new DataError(`${name}: stats partial is damaged (Statistics, Filters, Approximate, Records or Scopes missing)`);
  }
  for (const scope of d.Scopes) {
    if (typeof scope !== 'object' || scope === null || !Array.isArray(scope.Totals) || typeof scope.Statistics !== 'object' || scope.Statistics === null) {
      throw new DataError(`${name}: stats partial is damaged (a scope has no Totals or Statistics)`);
    }
  }
  return d as StatsPartial;
}

/**
 * The statistics a merge computes: those asked for (default: every one the partials all hold), each of
 * which every partial must hold; and the partials must have been counted the same way (filters and
 * the process-by-user process), or their sum would mean nothing.
 */
export function checkMergeable(parts: readonly SourcedPartial[], asked: readonly StatisticDefinition[] | undefined, all: readonly StatisticDefinition[]): StatisticDefinition[] {
  const first = parts[0]!;
  for (const { source, partial } of parts) {
    if (partial.Filters.join('\u0000') !== first.partial.Filters.join('\u0000')) {
      throw new UsageError(`${source}: made with filters '${partial.Filters.join(' ')}' but ${first.source} with '${first.partial.Filters.join(' ')}': partials merged together must be made with the same filters`);
    }
    if (partial.ReportedProcess !== first.partial.ReportedProcess) {
      throw new UsageError(`${source}: process-by-user counted ${partial.ReportedProcess ?? 'every process'} but ${first.source} ${first.partial.ReportedProcess ?? 'every process'}: make the partials with the same --process`);
    }
  }
  const held = all.filter((s) => parts.every(({ partial }) => partial.Statistics.includes(s.name)));
  if (!asked) {
    if (held.length === 0) throw new UsageError('the partials have no statistic in common: make them with the same --statistic');
    return held;
  }
  for (const s of asked) {
    const missing = parts.find(({ partial }) => !partial.Statistics.includes(s.name));
    if (missing) throw new UsageError(`--statistic ${s.name}: ${missing.source} was made without it (it holds ${missing.partial.Statistics.join(', ')})`);
  }
  return [...asked];
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { fileError, PortqryError, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { OUT_FILE_TEMP_SUFFIX } from '../output/emitter';
import type { FileIdentity } from '../output/iostreams';
import type { LogSource } from './read-log';
import { compileWildcard, type Wildcard } from './wildcard';

/** Files the command itself writes (--out-file, --html): never read back as input. */
export interface InputExclusions {
  readonly paths: readonly string[];
  /** By identity: standard output's file, whatever path names it (`> logs\all.jsonl` into a folder being read). */
  readonly files?: readonly FileIdentity[];
}

/**
 * Turns the command line's inputs into log sources, in order: a file; a directory (every file under
 * it, recursively); a glob (`*`, `?`, `[...]`, `**`), expanded here because cmd.exe and PowerShell
 * hand wildcards to native programs unexpanded; `-` for stdin. Files of a directory or glob are read
 * in natural order (PR-PORTS-05-07-6-… before PR-PORTS-05-07-10-…: the unpadded name fields sort as
 * numbers, which is chronological), and those that are not Port Reporter logs are passed over;
 * a file named explicitly must be one.
 */
export async function* expandInputs(inputs: readonly string[], stdin: Readable, platform: NodeJS.Platform = process.platform, exclude: InputExclusions = { paths: [] }): AsyncGenerator<LogSource> {
  let stdinUsed = false;
  const key = (p: string) => (platform === 'win32' ? path.resolve(p).toLowerCase() : path.resolve(p));
  const excluded = new Set(exclude.paths.map(key));
  const files = exclude.files ?? [];
  const isStdout = (st: fs.BigIntStats) => files.some((f) => f.dev === st.dev && f.ino === st.ino);
  // Our own output (or its temporary file, when the output folder is also an input) is passed over;
  // standard output's file too (it would be read while it is written, and grow without end).
  const ours = async (file: string) =>
    excluded.has(key(file)) || file.endsWith(OUT_FILE_TEMP_SUFFIX) || (files.length > 0 && (await fs.promises.stat(file, { bigint: true }).then(isStdout, () => false)));
  for (const input of inputs) {
    if (input === '-') {
      if (stdinUsed) throw new UsageError("'-' (stdin) can be given only once");
      stdinUsed = true;
      yield { name: '-', explicit: true, open: () => stdin };
      continue;
    }
    const stat = await fs.promises.stat(input, { bigint: true }).catch((err: NodeJS.ErrnoException) => err);
    if (!(stat instanceof Error)) {
      if (stat.isDirectory()) {
        for await (const file of walk(input)) if (!(await ours(file))) yield fileSource(file, false);
      } else {
        if (excluded.has(key(input))) throw new UsageError(`${input} is both an input and the output file`);
        if (isStdout(stat)) throw new UsageError(`${input} is both an input and the standard output`);
        yield fileSource(input, true);
      }
      continue;
    }
    if (hasGlob(input)) {
      let matched = 0;
      for await (const file of expandGlob(input, platform)) {
        if (await ours(file)) continue;
        matched++;
        yield fileSource(file, false);
      }
      if (matched === 0) throw new PortqryError(`no file matches ${input}`, ExitCode.NoInput);
      continue;
    }
    throw fileError(stat, input);
  }
}

function fileSource(file: string, explicit: boolean): LogSource {
  return { name: file, path: file, explicit, open: () => openFile(file) };
}

/**
 * Bytes per read of a log file, and so the rows of one reader batch (about 660 of a busy server's
 * PR-PORTS rows; parse's parallel path reads the rest of a file in the same pieces). 256 KiB reads
 * made stats 6-12 % faster (larger batches counted statistic by statistic) but raised its peak RSS on
 * 1 GB of the busy-server log to 201 MB in a script run, over the 200 MB bound (docs/benchmarks.md,
 * stats): 64 KiB stays.
 */
export const READ_BYTES = 1 << 16;

async function* openFile(file: string): AsyncGenerator<Buffer> {
  let stream: fs.ReadStream;
  try {
    const handle = await fs.promises.open(file, 'r');
    stream = handle.createReadStream({ highWaterMark: READ_BYTES });
  } catch (err) {
    throw fileError(err, file);
  }
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    throw fileError(err, file);
  } finally {
    stream.destroy();
  }
}

export function hasGlob(text: string): boolean {
  return /[*?[]/.test(text);
}

/** Files under dir, recursively, in natural order; symbolic links to directories are not followed. */
async function* walk(dir: string): AsyncGenerator<string> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw fileError(err, dir);
  }
  entries.sort((a, b) => naturalCompare(a.name, b.name));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (e.isFile() || (e.isSymbolicLink() && (await fs.promises.stat(full).catch(() => undefined))?.isFile())) yield full;
  }
}

/** Compares names with digit runs as numbers. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.toLowerCase().match(/\d+|\D+/g) ?? [];
  const rb = b.toLowerCase().match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!;
    const y = rb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) return Number(x) - Number(y) || x.length - y.length;
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Files matching a glob pattern; a directory that matches contributes every file under it. */
export async function* expandGlob(pattern: string, platform: NodeJS.Platform = process.platform): AsyncGenerator<string> {
  const windows = platform === 'win32';
  const parts = pattern.split(windows ? /[\\/]/ : /\//);
  let base: string[] = [];
  let i = 0;
  while (i < parts.length - 1 && !hasGlob(parts[i]!)) base.push(parts[i++]!);
  let root = base.join(path.sep) || path.sep;
  if (/^[A-Za-z]:$/.test(root)) root += path.sep;
  const segments = parts.slice(i).filter((s) => s !== '');
  const matchers = segments.map((s) => (s === '**' ? '**' : compileWildcard(s, { caseInsensitive: windows, classes: true, what: 'wildcard' })));
  yield* matchFrom(base.length === 0 ? '' : root, matchers);
}

async function* matchFrom(dir: string, matchers: (Wildcard | '**')[]): AsyncGenerator<string> {
  if (matchers.length === 0) return;
  const [first, ...rest] = matchers;
  const entries = await fs.promises.readdir(dir === '' ? '.' : dir, { withFileTypes: true }).catch(() => [] as fs.Dirent[]);
  entries.sort((a, b) => naturalCompare(a.name, b.name));
  if (first === '**') {
    // Zero directories, then one more level with ** still in front.
    yield* matchFrom(dir, rest);
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) yield* matchFrom(path.join(dir, e.name), matchers);
    return;
  }
  for (const e of entries) {
    if (!first!.test(e.name)) continue;
    const full = dir === '' ? e.name : path.join(dir, e.name);
    if (rest.length > 0) {
      if (e.isDirectory()) yield* matchFrom(full, rest);
    } else if (e.isDirectory()) {
      yield* walk(full);
    } else if (e.isFile() || e.isSymbolicLink()) {
      yield full;
    }
  }
}

/**
 * The paths of an --inputs-file: one per line, for input lists too long for a command line (Windows
 * caps it at 32K characters; PowerShell's Import-PortReporterLog writes one for many files). UTF-8
 * (with or without BOM) or UTF-16 with its BOM, as Windows PowerShell 5.1's Set-Content -Encoding
 * UTF8/Unicode writes them; CRLF or LF; blank lines are skipped, the rest is taken as written.
 */
export function parseInputsFile(bytes: Buffer): string[] {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le').decode(bytes.subarray(2));
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be').decode(bytes.subarray(2));
  else text = new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/** Reads an --inputs-file; a missing or unreadable file is one error naming it. */
export function readInputsFile(file: string): string[] {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw fileError(err, file);
  }
  const paths = parseInputsFile(bytes);
  if (paths.length === 0) throw new UsageError(`no path in --inputs-file '${file}'`);
  return paths;
}

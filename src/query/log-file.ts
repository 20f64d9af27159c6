import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileError, PortqryError, writeError } from '../errors';
import { ExitCode } from '../exit-codes';
import { displayValue, tempPathBeside, type Output } from '../output/emitter';
import { createStyle } from '../output/style';

/**
 * PortQry's `-l` log (PortQry 2.0's -l, KB 310099): a header, the same lines the text output shows, and the end
 * marker, CRLF line ends as on Windows. PortQry asks before overwriting an existing log unless -y
 * (or -q) is given; portqry-ts never prompts, so without -y an existing log is an error (exit 73)
 * and nothing is written.
 *
 * A new log is written in place, line by line as PortQry does (a watch's log can be followed while it
 * runs). An existing log replaced with -y is written to a temporary file beside it and renamed over it
 * when the run completes (close()), as --out-file is (src/output/emitter.ts): a run that fails
 * (discard()) leaves the old log as it was. A symbolic link is never followed; a device or FIFO is
 * written directly.
 */
export class QueryLogFile {
  private constructor(
    private readonly fd: number,
    private readonly path: string,
    /** Where the lines go: path itself, or a temporary file beside an existing log being replaced. */
    private readonly tempPath: string,
  ) {}

  static open(file: string, overwrite: boolean, commandLine: string, now = new Date()): QueryLogFile {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, file, true);
    }
    if (stat?.isSymbolicLink()) throw new PortqryError(`log file '${file}' is a symbolic link; not followed`, ExitCode.CantCreate);
    if (stat?.isDirectory()) throw new PortqryError(`log file '${file}' is a directory`, ExitCode.CantCreate);
    if (stat?.isFile() && !overwrite) throw new PortqryError(`log file '${file}' already exists: add -y to overwrite it`, ExitCode.CantCreate);
    const device = stat !== undefined && !stat.isFile();
    const tempPath = stat?.isFile() ? tempPathBeside(file) : file;
    let fd: number;
    try {
      // 'wx' (O_CREAT|O_EXCL): a file or link planted under the name since the check is never written through.
      fd = fs.openSync(tempPath, device ? 'w' : 'wx', 0o666);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && tempPath === file) throw new PortqryError(`log file '${file}' already exists: add -y to overwrite it`, ExitCode.CantCreate);
      throw fileError(err, file, true);
    }
    const log = new QueryLogFile(fd, file, tempPath);
    try {
      log.write(['PortQry Version 2.0 Log File', '', `System Date: ${ctimeDate(now)}`, '', 'Command run:', ` ${commandLine}`, '', 'Local computer name:', '', ` ${os.hostname().toUpperCase()}`, '']);
    } catch (err) {
      log.discard();
      throw err;
    }
    return log;
  }

  write(lines: readonly string[]): void {
    if (!lines.length) return;
    try {
      fs.writeSync(this.fd, lines.map((l) => `${l}\r\n`).join(''));
    } catch (err) {
      // A full disk is ExitCode.IoError, never a verdict's exit code.
      throw writeError(err, this.path);
    }
  }

  /** The run completed: the end marker, then the log takes the target's place. */
  close(): void {
    try {
      this.write(['', '========= end of log file =========']);
    } catch (err) {
      this.discard();
      throw err;
    }
    fs.closeSync(this.fd);
    if (this.tempPath === this.path) return;
    try {
      fs.renameSync(this.tempPath, this.path);
    } catch (err) {
      fs.rmSync(this.tempPath, { force: true });
      throw fileError(err, this.path, true);
    }
  }

  /** The run failed: a replacement log is removed and the old one stays as it was; a new log keeps what was written. */
  discard(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    if (this.tempPath !== this.path) fs.rmSync(this.tempPath, { force: true });
  }
}

/** `Thu Sep 16 10:35:03 2021`: C's ctime() in local time, as PortQry prints "System Date". */
export function ctimeDate(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

/** The command line as the user typed it, quoted where a word has spaces. */
export function commandLineText(args: readonly string[]): string {
  return ['portqry-ts', ...args].map((a) => (/[\s"]/.test(a) || a === '' ? `"${a.replace(/"/g, '\\"')}"` : a)).join(' ');
}

/**
 * An output that also writes PortQry's text of every record and note into a -l log (local mode, -wport,
 * -wpid); the log is put in place, with its end marker, when the output ends; a failed run discards it.
 */
export function withQueryLog(inner: Output, log: QueryLogFile): Output {
  const plain = createStyle(false);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    log.close();
  };
  return {
    format: inner.format,
    style: inner.style,
    get closed() {
      return inner.closed;
    },
    write(kind, record) {
      inner.write(kind, record);
      log.write(kind.text ? kind.text(record, plain) : [...kind.keys.map((k) => `${k} : ${displayValue(record[k])}`), '']);
    },
    note(lines) {
      inner.note(lines);
      log.write(lines);
    },
    ready: () => inner.ready(),
    async end() {
      try {
        await inner.end();
      } catch (err) {
        closed = true;
        log.discard();
        throw err;
      }
      close();
    },
    abort() {
      inner.abort();
      if (closed) return;
      closed = true;
      log.discard();
    },
  };
}

import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileError, PortqryError, writeError } from '../errors';
import { ExitCode } from '../exit-codes';
import { displayValue, type Output } from '../output/emitter';
import { createStyle } from '../output/style';

/**
 * PortQry's `-l` log (PortQry 2.0's -l, KB 310099): a header, the same lines the text output shows, and the end
 * marker, CRLF line ends as on Windows. PortQry asks before overwriting an existing log unless -y
 * (or -q) is given; portqry-ts never prompts, so without -y an existing log is an error (exit 73)
 * and nothing is written.
 */
export class QueryLogFile {
  private constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {}

  static open(path: string, overwrite: boolean, commandLine: string, now = new Date()): QueryLogFile {
    let fd: number;
    try {
      fd = fs.openSync(path, overwrite ? 'w' : 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new PortqryError(`log file '${path}' already exists: add -y to overwrite it`, ExitCode.CantCreate);
      }
      throw fileError(err, path, true);
    }
    const log = new QueryLogFile(fd, path);
    log.write(['PortQry Version 2.0 Log File', '', `System Date: ${ctimeDate(now)}`, '', 'Command run:', ` ${commandLine}`, '', 'Local computer name:', '', ` ${os.hostname().toUpperCase()}`, '']);
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

  close(): void {
    try {
      this.write(['', '========= end of log file =========']);
    } finally {
      fs.closeSync(this.fd);
    }
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
 * -wpid); the log is closed, with its end marker, when the output ends or the run fails.
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
      } finally {
        close();
      }
    },
    abort() {
      inner.abort();
      try {
        close();
      } catch {
        // the run's own error is the one reported
      }
    },
  };
}

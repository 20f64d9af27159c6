import { PassThrough, Readable, Writable } from 'node:stream';
import { runCli as runCliInProcess } from '../../src/cli';
import { createIOStreams } from '../../src/output/iostreams';
import type { CliResult } from './cli';

export interface InProcessOptions {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  /** A stdout that fails every write with this errno code (ENOSPC: a full disk, EIO …). */
  stdoutError?: string;
  stdoutIsTTY?: boolean;
}

/**
 * Runs one command line inside this process, through the same runCli the executable uses, with test
 * IOStreams over memory streams: no process start, so option and output tests stay fast. The
 * executable itself is proven by the tests that spawn it (test/helpers/cli.ts, standalone.test.ts).
 */
export async function runInProcess(args: string[], options: InProcessOptions = {}): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = options.stdoutError
    ? new Writable({
        write(_chunk, _enc, cb) {
          cb(Object.assign(new Error(`${options.stdoutError}: write failed`), { code: options.stdoutError }));
        },
      })
    : new Writable({
        write(chunk: Buffer, _enc, cb) {
          out.push(Buffer.from(chunk));
          cb();
        },
      });
  const stderr = new Writable({
    write(chunk: Buffer, _enc, cb) {
      err.push(Buffer.from(chunk));
      cb();
    },
  });
  const stdin = options.input === undefined ? Readable.from([]) : Readable.from([Buffer.from(options.input)]);
  const env: NodeJS.ProcessEnv = { ...options.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const io = createIOStreams({ stdin: stdin as unknown as PassThrough, stdout, stderr, env, stdoutIsTTY: options.stdoutIsTTY ?? false });
  // The clock's zone is the process's: a TZ given for the run is applied while it runs (Node reads
  // process.env.TZ changes at once), as a spawned process would get it.
  const savedTz = process.env.TZ;
  if (options.env && 'TZ' in options.env) {
    if (options.env.TZ === undefined) delete process.env.TZ;
    else process.env.TZ = options.env.TZ;
  }
  let code: number;
  try {
    code = await runCliInProcess(args, io);
  } finally {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code, signal: null };
}

import { runCli } from './cli';
import { ExitCode } from './exit-codes';
import { systemIOStreams } from './output/iostreams';

// Entry point of dist/main.cjs and of the standalone executables. The exit code is set, never forced
// with process.exit(), so that everything written to a pipe reaches the reader first.
const io = systemIOStreams();
runCli(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    io.stderr.write(`portqry-ts: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = ExitCode.Software;
  },
);

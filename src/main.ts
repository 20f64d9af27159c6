import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import { exitWhenWritten } from './runtime/exit';
import { VERSION } from './version';

// Entry point of dist/main.cjs and of the standalone executables. The process ends with
// process.exit() only once everything written has been handed to the operating system (exitWhenWritten).
//
// The command line interface (every command and what it imports) is required lazily: `--version`
// then loads nothing else. Where the executable starts from a V8 startup snapshot (Linux) that
// changes nothing, everything is in the snapshot already; where it does not (the Windows .exe, a
// PORTQRY_SNAPSHOT=0 build, `node dist/main.cjs`) `--version` costs what `node -e 0` costs
// (docs/benchmarks.md, startup).
const loadCli = (): typeof import('./cli') => require('./cli') as typeof import('./cli');

function main(): void {
  const argv = process.argv.slice(2);
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    // Straight to descriptor 1: making process.stdout (a stream object over a pipe, a file or a
    // console) costs more than the write itself. What a failed or short write left (a full
    // non-blocking pipe: EAGAIN) goes through process.stdout as before; a reader that is gone (EPIPE)
    // ends quietly. The line is ASCII, so bytes written are characters written.
    const line = `${VERSION}\n`;
    let written = 0;
    try {
      written = fs.writeSync(1, line);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
    }
    if (written >= line.length) process.exit(0);
    process.stdout.write(line.slice(written));
    exitWhenWritten(0);
    return;
  }
  const { runCli } = loadCli();
  const { systemIOStreams } = require('./output/iostreams') as typeof import('./output/iostreams');
  const { ExitCode } = require('./exit-codes') as typeof import('./exit-codes');
  const io = systemIOStreams();
  runCli(argv, io).then(
    (code) => exitWhenWritten(code),
    (err: unknown) => {
      io.stderr.write(`portqry-ts: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      exitWhenWritten(ExitCode.Software);
    },
  );
}

// The Linux executable starts from a V8 startup snapshot taken after this bundle's modules were
// loaded (scripts/build.sh): main() then runs when the snapshot is deserialized, at every start.
if (v8.startupSnapshot?.isBuildingSnapshot()) {
  // Built into the snapshot: commands registered, parser compiled, and its functions already run once.
  const { getCli, compactParser } = loadCli();
  require('./output/iostreams');
  require('./exit-codes');
  const cli = getCli();
  type Context = Parameters<typeof cli.process>[1];
  const warmUp = () => {
    for (const argv of [['--version'], ['--help'], ['query', '-n', 'localhost', '-e', '80', '--json']]) cli.process(argv, {} as Context);
  };
  warmUp();
  // The parser as JSON text, a node parsed on first use (src/cli.ts): far fewer objects to deserialize.
  compactParser();
  warmUp();
  v8.startupSnapshot.setDeserializeMainFunction(main);
} else {
  main();
}

import * as v8 from 'node:v8';
import { getCli, runCli } from './cli';
import { ExitCode } from './exit-codes';
import { systemIOStreams } from './output/iostreams';
import type { PortqryContext } from '../commands/BaseCommand';

// Entry point of dist/main.cjs and of the standalone executables. The exit code is set, never forced
// with process.exit(), so that everything written to a pipe reaches the reader first.
function main(): void {
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
}

// The Linux executable starts from a V8 startup snapshot taken after this bundle's modules were
// loaded (scripts/build.sh): main() then runs when the snapshot is deserialized, at every start.
if (v8.startupSnapshot?.isBuildingSnapshot()) {
  // Built into the snapshot: commands registered, parser compiled, and its functions already run once.
  const cli = getCli();
  for (const argv of [['--version'], ['--help'], ['query', '-n', 'localhost', '-e', '80', '--json']]) cli.process(argv, {} as PortqryContext);
  v8.startupSnapshot.setDeserializeMainFunction(main);
} else {
  main();
}

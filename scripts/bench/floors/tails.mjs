// Reads `parse --format jsonl` output on stdin and writes, as JSON, each PID's first record text from
// ',"OwningProcess"' to '"SourceLine":' (the process part, the same for every row of that PID in the
// generated bench log); scripts/bench/floors/parse.mjs writes it for each row. Untimed preparation.
import * as readline from 'node:readline';

const tails = {};
for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  const a = line.indexOf(',"OwningProcess":');
  const b = line.lastIndexOf('"SourceLine":');
  const pid = line.slice(a + 17, line.indexOf(',', a + 17));
  if (!(pid in tails)) tails[pid] = line.slice(a, b + 13);
}
process.stdout.write(JSON.stringify(tails));

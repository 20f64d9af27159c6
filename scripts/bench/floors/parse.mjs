// The floor of `parse --format jsonl` (scripts/bench/floor.mjs): the least work that writes parse's
// JSON Lines (24 fields) for every row of a PR-PORTS log, in the same Node, one thread. It copies the
// fields' bytes into an 8 MiB output buffer between constant byte runs: no string is made per row
// (a first version that built each row's text as a string took 1.7 times as long). What it skips and
// parse does: checking any field (ports, addresses, PIDs, times, the number of fields), converting the
// time to UTC (it copies the local time), reading PR-PIDS, escaping, flags, filters, schemas.
//   node scripts/bench/floors/parse.mjs PR-PORTS-FILE TAILS.json > out.jsonl
// TAILS.json ({ PID: the record's text from ',"OwningProcess"' to '"SourceLine":' }) is taken from
// parse's own output by scripts/bench/floor.mjs (untimed), so the output is the very bytes parse
// writes for the generated log, which floor.mjs checks (SHA-256).
import * as fs from 'node:fs';
import { forEachRow } from './rows.mjs';

const file = process.argv[2];
const out = Buffer.allocUnsafe(8 << 20);
let o = 0;
const flush = () => {
  let at = 0;
  while (at < o) at += fs.writeSync(1, out, at, o - at);
  o = 0;
};
const pad = (s) => (s.length < 2 ? `0${s}` : s);
const bytes = (s) => Buffer.from(s, 'latin1');
const HEAD = bytes('{"ComputerName":"BENCH01","TimeUtc":"');
const LOCAL_ADDRESS = bytes('","LocalAddress":"');
const LOCAL_PORT = bytes('","LocalPort":');
const REMOTE_ADDRESS = bytes(',"RemoteAddress":"');
const NO_REMOTE_ADDRESS = bytes(',"RemoteAddress":null');
const REMOTE_PORT = bytes(',"RemotePort":');
const NO_REMOTE_PORT = bytes(',"RemotePort":null');
const ESTABLISHED = bytes(',"State":"Established"');
const LISTEN = bytes(',"State":"Listen"');
const NO_STATE = bytes(',"State":null');
const tails = new Map(Object.entries(JSON.parse(fs.readFileSync(process.argv[3], 'utf8'))).map(([pid, text]) => [Number(pid), bytes(text)]));
const lastTime = Buffer.alloc(64);
let lastTimeLength = -1;
let timeText = Buffer.alloc(0);
const digits = Buffer.alloc(16);

forEachRow(file, (buf, start, end, cut, lineNo) => {
  let pid = 0;
  for (let i = cut[6] + 1; i < cut[7]; i++) pid = pid * 10 + buf[i] - 48;
  const tail = tails.get(pid);
  // The time text of a new second (once per second, not per row).
  const timeLength = cut[1] - start;
  if (timeLength !== lastTimeLength || buf.compare(lastTime, 0, timeLength, start, cut[1]) !== 0) {
    const [d, t] = buf.latin1Slice(start, cut[1]).split(',');
    const [y, m, day] = d.split('/');
    const local = `20${y}-${pad(m)}-${pad(day)}T${t.split(':').map(pad).join(':')}`;
    buf.copy(lastTime, 0, start, cut[1]);
    lastTimeLength = timeLength;
    timeText = bytes(`${local}.000Z","TimeLocal":"${local}","Event":"Opened","Protocol":"`);
  }
  if (o > out.length - 4096) flush();
  o += HEAD.copy(out, o);
  o += timeText.copy(out, o);
  o += buf.copy(out, o, cut[1] + 1, cut[2]);
  o += LOCAL_ADDRESS.copy(out, o);
  o += buf.copy(out, o, cut[3] + 1, cut[4]);
  o += LOCAL_PORT.copy(out, o);
  o += buf.copy(out, o, cut[2] + 1, cut[3]);
  // As the log has them: "*" or nothing for none; a TCP row without a remote port (or port 0) listens.
  const tcp = buf[cut[1] + 1] === 84;
  const portLength = cut[5] - cut[4] - 1;
  const noPort = portLength === 0 || (portLength === 1 && buf[cut[4] + 1] === 42);
  const listen = tcp && (noPort || (portLength === 1 && buf[cut[4] + 1] === 48));
  const addressLength = cut[6] - cut[5] - 1;
  if (addressLength === 0 || (addressLength === 1 && buf[cut[5] + 1] === 42)) o += NO_REMOTE_ADDRESS.copy(out, o);
  else {
    o += REMOTE_ADDRESS.copy(out, o);
    o += buf.copy(out, o, cut[5] + 1, cut[6]);
    out[o++] = 34; // "
  }
  if (noPort || listen) o += NO_REMOTE_PORT.copy(out, o);
  else {
    o += REMOTE_PORT.copy(out, o);
    o += buf.copy(out, o, cut[4] + 1, cut[5]);
  }
  o += (tcp ? (listen ? LISTEN : ESTABLISHED) : NO_STATE).copy(out, o);
  o += tail.copy(out, o);
  let n = lineNo;
  let k = digits.length;
  do {
    digits[--k] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  o += digits.copy(out, o, k);
  out[o++] = 125; // }
  out[o++] = 10;
});
flush();

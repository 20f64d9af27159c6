// The floor of `parse --format jsonl` (scripts/bench/floor.mjs): the least work that writes JSON Lines
// of parse's 24 fields for every row of a PR-PORTS log, in the same Node, one thread. What it skips
// and parse does: checking any field (ports, addresses, PIDs, times, the number of fields), converting
// the time to UTC (it copies the local time), reading PR-PIDS (the process part of each record,
// OwningProcess to SourceLine, is bytes per PID made once), escaping, flags, filters, schemas. What it
// keeps: a record per row, written into 8 MiB buffers and those to stdout.
//   node scripts/bench/floors/parse.mjs PR-PORTS-FILE [TAILS.json] > out.jsonl
// TAILS.json ({ PID: the record's text from ',"OwningProcess"' to '"SourceLine":' }, taken from parse's
// own output by scripts/bench/floor.mjs, untimed) makes the output the very bytes parse writes for the
// generated log, which floor.mjs checks (SHA-256); without it the process part is made up.
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
const HEAD = Buffer.from('{"ComputerName":"BENCH01","TimeUtc":"');
const tails = new Map(process.argv[3] ? Object.entries(JSON.parse(fs.readFileSync(process.argv[3], 'utf8'))).map(([pid, text]) => [pid, Buffer.from(text, 'latin1')]) : []);
const sourceFile = JSON.stringify(file);
let lastTime = '';
let lastTimeText = '';
forEachRow(file, (buf, start, end, cut, lineNo) => {
  const pid = buf.latin1Slice(cut[6] + 1, cut[7]);
  let tail = tails.get(pid);
  if (tail === undefined) {
    const image = buf.latin1Slice(cut[7] + 1, cut[8]);
    const user = buf.latin1Slice(cut[8] + 2, end - 1).replace(/\\/g, '\\\\');
    tail = Buffer.from(
      `,"OwningProcess":${pid},"ProcessName":"${image}","ProcessPath":"C:\\\\Windows\\\\System32\\\\${image}","CommandLine":null,"UserName":"${user}","Services":["RpcSs","Dnscache"],"Modules":["C:\\\\Windows\\\\System32\\\\ntdll.dll","C:\\\\Windows\\\\System32\\\\ws2_32.dll"],"ProcessStartTime":null,"LifetimeSeconds":null,"RemoteHostName":null,"Flagged":false,"FlagReasons":[],"SourceFile":${sourceFile},"SourceLine":`,
    );
    tails.set(pid, tail);
  }
  const time = buf.latin1Slice(start, cut[1]);
  if (time !== lastTime) {
    const [d, t] = time.split(',');
    const [y, m, day] = d.split('/');
    const day8 = `20${y}-${pad(m)}-${pad(day)}T${t.split(':').map(pad).join(':')}`;
    lastTime = time;
    lastTimeText = `${day8}.000Z","TimeLocal":"${day8}","Event":"Opened","Protocol":"`;
  }
  if (o > out.length - 4096) flush();
  o += HEAD.copy(out, o);
  // As the log has them: "*" or nothing for none; a TCP row without a remote port is a listener.
  const proto = buf.latin1Slice(cut[1] + 1, cut[2]);
  let remotePort = buf.latin1Slice(cut[4] + 1, cut[5]);
  if (remotePort === '*' || remotePort === '') remotePort = 'null';
  let remoteAddress = buf.latin1Slice(cut[5] + 1, cut[6]);
  remoteAddress = remoteAddress === '*' || remoteAddress === '' ? 'null' : `"${remoteAddress}"`;
  let state = 'null';
  if (proto === 'TCP') {
    if (remotePort === 'null' || remotePort === '0') {
      state = '"Listen"';
      remotePort = 'null';
    } else state = '"Established"';
  }
  o += out.latin1Write(
    `${lastTimeText}${proto}","LocalAddress":"${buf.latin1Slice(cut[3] + 1, cut[4])}","LocalPort":${buf.latin1Slice(cut[2] + 1, cut[3])},"RemoteAddress":${remoteAddress},"RemotePort":${remotePort},"State":${state}`,
    o,
  );
  o += tail.copy(out, o);
  o += out.latin1Write(`${lineNo}}\n`, o);
});
flush();

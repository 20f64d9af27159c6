import t from 'tap';
import type { LogSource } from '../../src/portreporter/read-log';
import { StatsThread, type StatsWorkerSetup } from '../../src/stats/parallel';

// The main thread's side of stats' worker (src/stats/parallel.ts), against stand-in workers (the real
// one runs in the bundle: test/cli/stats-parallel.test.ts): every chunk the main thread reads reaches
// its own reader unchanged whatever the worker does, the worker's rows come back in order, and a
// worker that fails is reported after the reading, never instead of it.

const setup: StatsWorkerSetup = { statistics: ['hour-of-day'], top: undefined, perComputer: false, reportedProcess: null, utcOffsetMinutes: 0, computer: undefined, filter: undefined, maxLineBytes: undefined };

// Acknowledges chunks (after a pause now and then: the main thread must wait for it), counts them, and
// answers 'rows' with one row per chunk it was sent.
const ECHO = `
const { parentPort } = require('node:worker_threads');
let chunks = 0, bytes = 0;
parentPort.on('message', (m) => {
  if (m.t === 'chunk') { chunks++; bytes += m.data.length; if (chunks % 7 === 0) { const until = Date.now() + 5; while (Date.now() < until); } parentPort.postMessage({ t: 'ack' }); }
  if (m.t === 'end') parentPort.postMessage({ t: 'counted', approximate: [chunks === 40] });
  if (m.t === 'rows') {
    const rows = Array.from({ length: chunks }, (_, i) => ({ Statistic: 'X', Index: i, Bytes: bytes }));
    parentPort.postMessage({ t: 'rows', rows: rows.slice(0, 30), done: false });
    parentPort.postMessage({ t: 'rows', rows: rows.slice(30), done: true });
  }
});`;

// Fails at its third chunk, as a worker meeting an error would.
const FAILING = `
const { parentPort } = require('node:worker_threads');
let chunks = 0;
parentPort.on('message', (m) => { if (m.t === 'chunk' && ++chunks === 3) parentPort.postMessage({ t: 'error', message: 'boom' }); });`;

const EXITING = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => { if (m.t === 'chunk') process.exit(3); });`;

function source(chunks: Buffer[]): LogSource {
  return {
    name: 'test.log',
    path: '/nonexistent/test.log',
    explicit: true,
    async *open() {
      yield* chunks;
    },
  };
}

const chunks = Array.from({ length: 40 }, (_, i) => Buffer.from(`chunk ${i} `.repeat(100)));

async function readAll(s: LogSource): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of s.open()) out.push(Buffer.from(c as Buffer));
  return out;
}

t.test('a worker that keeps up: every chunk read here and there, rows in order', async (t) => {
  const thread = new StatsThread(setup, ECHO);
  try {
    const read = await readAll(thread.mirror(source(chunks)));
    t.same(read, chunks, 'the main thread read every chunk unchanged');
    t.same(await thread.counted(), [true], 'the worker saw the 40 chunks');
    const rows = [];
    for await (const row of thread.rows(0)) rows.push(row);
    t.equal(rows.length, 40);
    t.same(rows.map((r) => r.Index), [...Array(40).keys()], 'rows in the order sent, across messages');
    t.equal(rows[0]!.Bytes, Buffer.concat(chunks).length, 'the worker got every byte');
  } finally {
    await thread.close();
  }
});

t.test('a worker that fails: the reading goes on, the failure comes after it', async (t) => {
  const thread = new StatsThread(setup, FAILING);
  try {
    const read = await readAll(thread.mirror(source(chunks)));
    t.same(read, chunks, 'the main thread read every chunk (its own errors would be reported first)');
    await t.rejects(thread.counted(), { message: 'stats worker thread: boom' });
  } finally {
    await thread.close();
  }
});

t.test('a worker that exits', async (t) => {
  const thread = new StatsThread(setup, EXITING);
  try {
    t.same(await readAll(thread.mirror(source(chunks))), chunks);
    await t.rejects(thread.counted(), { message: 'stats worker thread exited (3)' });
  } finally {
    await thread.close();
  }
});

import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import t from 'tap';
import type { Ws2 } from '../../src/query/winsock-api';
import { WinsockPoller } from '../../src/query/winsock-poller';
import { fakeWinsock } from '../helpers/fake-winsock';

// koffi hands a Buffer argument to the native function as the address of its memory and holds no
// reference to the Buffer, also for .async() calls, whose native call runs later on a worker thread
// (koffi 3.3.4 src/koffi/src/call.cc, CallData::PushPointer). A Buffer that only the arguments held
// could be collected, and its memory reused, before select() read it: the poller's timeval was such a
// Buffer, and a select() given a garbage timeout waited for ever (a query under Wine hung after its
// last socket's deadline, about once in a hundred runs; the same code runs on Windows).
// Here the fake's select.async keeps only weak references to its arguments, as koffi does, and the test
// collects garbage while the call is in flight: every argument must still be there when it returns.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test("select()'s buffers live until its callback, as koffi does not hold them", async (t) => {
  const api = fakeWinsock({ peers: { 82: 'drop' } });
  const calls: { args: WeakRef<Buffer>[]; cb: (err: unknown, n: number) => void }[] = [];
  // koffi-like: the call keeps the callback, and only weak references to the Buffers it was given.
  (api.select as unknown as { async: unknown }).async = (_n: number, read: Buffer, write: Buffer, except: Buffer, tv: Buffer, cb: (err: unknown, n: number) => void) => {
    calls.push({ args: [read, write, except, tv].map((b) => new WeakRef(b)), cb });
  };
  const poller = new WinsockPoller(api as Ws2);
  const s = api.socket(2, 1, 6) as unknown as number;
  let fired: string | undefined;
  poller.wait(s, { write: true }, 10_000, (ready) => (fired = ready));
  await turn(); // the poll is scheduled with setImmediate
  t.equal(calls.length, 1, 'one select() in flight');
  // Weak targets are kept until the end of the job that made them: collect on a later turn, twice.
  await turn();
  gc();
  await turn();
  gc();
  t.same(
    calls[0]!.args.map((w) => w.deref() !== undefined),
    [true, true, true, true],
    'read, write and except sets and the timeval are still alive while select() runs',
  );
  // select() returns 0 with every set emptied (fd_count 0).
  for (const w of calls[0]!.args.slice(0, 3)) w.deref()?.fill(0);
  calls[0]!.cb(null, 0);
  t.equal(fired, undefined, 'nothing ready, deadline not reached');
  t.equal(calls.length, 2, 'the next select() is in flight');
});

t.test('holdUntilCalled: the Buffers live until the callback runs, and are let go after it', async (t) => {
  const { holdUntilCalled } = await import('../../src/platform/koffi');
  let made: { ref: WeakRef<Buffer>; cb: (() => void) | undefined } | undefined;
  // As SetServiceStatus.async(handle, bytes, cb) is called: the bytes only in the arguments.
  (() => {
    const bytes = Buffer.alloc(28);
    made = { ref: new WeakRef(bytes), cb: holdUntilCalled([bytes], () => {}) };
  })();
  await turn();
  gc();
  await turn();
  gc();
  t.ok(made!.ref.deref(), 'alive while the call is in flight');
  // koffi drops its reference to the callback once it ran.
  made!.cb!();
  made!.cb = undefined;
  await turn();
  gc();
  await turn();
  gc();
  t.equal(made!.ref.deref(), undefined, 'collectable once the callback ran');
});

t.test('every koffi .async() call in src/ holds its Buffers, or says why it has none', async (t) => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { ROOT } = await import('../helpers/cli');
  const root = path.join(ROOT, 'src');
  const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  const calls: string[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!/\.async\(/.test(line) || /^\s*(\*|\/\/)/.test(line)) return;
      calls.push(`${file}:${i + 1}`);
      // A call without holdUntilCalled names, on the line before, why no Buffer of it needs holding.
      const ok = line.includes('holdUntilCalled(') || /koffi-hold: /.test(lines[i - 1] ?? '');
      t.ok(ok, `${file}:${i + 1} holds its Buffers (holdUntilCalled) or says "koffi-hold: …" on the line before`);
    });
  }
  t.ok(calls.length >= 3, `the async calls were found (${calls.join(', ')})`);
});

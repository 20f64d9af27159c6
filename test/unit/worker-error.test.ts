import t from 'tap';
import { workerFailure } from '../../src/runtime/worker-error';

// A failing worker thread's report (src/runtime/worker-error.ts): one line, no stack trace.
t.test('the message only, on one line', async (t) => {
  const err = new Error('boom');
  t.ok(err.stack!.includes('\n    at '), 'an Error has a stack');
  t.equal(workerFailure(err), 'boom');
  t.equal(workerFailure(new RangeError('not a port: 70000')), 'not a port: 70000');
  t.equal(workerFailure(new Error('first line\n  second line\r\nthird')), 'first line second line third');
  t.equal(workerFailure('a string'), 'a string');
  t.equal(workerFailure(undefined), 'undefined');
  t.equal(workerFailure(new Error('')), 'unknown error');
});

import t from 'tap';
import { processKey, processKeysIn } from '../../../src/portreporter/pids-written';
import { logHeader, processBlock } from '../../../src/portreporter/write-format';
import { proc, tcp } from '../../helpers/fake-backend';

t.test('the blocks of a PIDS file we wrote are read back by parse’s block parser, keyed by PID and start time', async (t) => {
  const a = proc(100);
  const b = proc(200, { startTime: null });
  const when = new Date(Date.UTC(2026, 11, 4, 8, 0, 0));
  const text =
    logHeader('PIDS', { started: when, computerName: 'H', operatingSystem: 'Linux', generatedBy: 'portqry-ts test' }) +
    processBlock(100, a, [tcp(80, 100)], when) +
    processBlock(200, b, [], when);
  t.same([...processKeysIn(text)].sort(), [processKey(100, a), processKey(200, b)].sort());
  t.same(processKey(200, b), '200|', 'no start time: the PID alone');
});

t.test('a torn last block and LF-only files', async (t) => {
  const a = proc(7);
  const when = new Date(Date.UTC(2026, 11, 4, 8, 0, 0));
  const whole = processBlock(7, a, [], when);
  const keys = processKeysIn(`${whole}${'='.repeat(64)}\r\nProcess ID: 8\r\nRecor`);
  t.ok(keys.has(processKey(7, a)));
  t.ok(keys.has('8|'), 'a torn block still names its PID (the repair at start removes it before this is read)');
  t.same([...processKeysIn(whole.replace(/\r\n/g, '\n'))], [processKey(7, a)]);
  t.same([...processKeysIn('')], []);
});

import t from 'tap';
import { runCli } from '../helpers/cli';

// The hidden `complete` command. Windows PowerShell 5.1 drops an empty-string native argument
// (PowerShell#1995), so the module says "complete a new word" with --new-word instead of ''.
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

t.test('--new-word completes the value after an option, as an empty last word does', async (t) => {
  const withMarker = await runCli(['complete', '--new-word', '--', 'query', '--preset']);
  const withEmpty = await runCli(['complete', '--', 'query', '--preset', '']);
  const dropped = await runCli(['complete', '--', 'query', '--preset']);
  t.equal(withMarker.code, 0);
  t.equal(withMarker.stderr, '');
  t.ok(lines(withMarker.stdout).includes('ad'));
  t.equal(withMarker.stdout, withEmpty.stdout);
  // What 5.1 produced before: the empty word gone, the option name itself "completed".
  t.same(lines(dropped.stdout), ['--preset']);
});

t.test('--new-word with no words completes the command names; with words, the options', async (t) => {
  const top = lines((await runCli(['complete', '--new-word', '--'])).stdout);
  t.ok(top.includes('query') && top.includes('parse'));
  const options = lines((await runCli(['complete', '--new-word', '--', 'parse'])).stdout);
  t.ok(options.includes('--inputs-file'));
  t.ok(options.every((o) => o.startsWith('--')));
});

import t from 'tap';
import { computeStatistics } from '../../src/stats/engine';
import { escapeHtml, renderHtmlReport } from '../../src/stats/html';
import { STATISTICS } from '../../src/stats/registry';
import { processKey } from '../../src/stats/statistic';
import { FIXTURE, record } from '../fixtures/stats/records';

const HOSTILE = record({
  TimeUtc: '2026-03-01T12:00:00.000Z',
  LocalPort: 4444,
  RemoteAddress: '10.6.6.6',
  RemotePort: 80,
  State: 'Established',
  OwningProcess: 6666,
  ProcessName: '<script>alert(1)</script>.exe',
  UserName: 'EVIL\\"><img src=x onerror=alert(2)>',
  RemoteHostName: "x' onmouseover='alert(3)",
  Services: ['</td></tr></table><h1>owned</h1>'],
});

async function report() {
  const results = await computeStatistics([...FIXTURE, HOSTILE], STATISTICS, { isReportedProcess: (n) => processKey(n) === 'iexplore.exe' });
  return renderHtmlReport(results, { generatedUtc: '2026-03-03T00:00:00.000Z', version: '0.1.0', inputs: ['C:\\logs\\<srv>'], filters: ['--process', '*'], records: 15 });
}

t.test('escapeHtml escapes markup characters and drops control characters', async (t) => {
  t.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  t.equal(escapeHtml('a\x00b\x1b[31mc\x9bd'), 'ab[31mcd');
  t.equal(escapeHtml('tab\tand\nnewline'), 'tab\tand\nnewline');
});

t.test('the report escapes every log-derived string', async (t) => {
  const html = await report();
  t.notMatch(html, /<script>alert/, 'no injected script element');
  t.notMatch(html, /<img/, 'no injected img element');
  t.notMatch(html, /<h1>owned/, 'no injected heading');
  t.notMatch(html, /onmouseover='/, 'no attribute break-out');
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;\.exe/);
  t.match(html, /C:\\logs\\&lt;srv&gt;/);
  t.equal(html.match(/<script>/g)?.length, 1, 'exactly one script element: the table sorter');
});

t.test('the report is self-contained: no external URL can be fetched', async (t) => {
  const html = await report();
  t.match(html, /Content-Security-Policy" content="default-src 'none'/);
  t.notMatch(html, /\b(?:src|href)="(?:https?:)?\/\//, 'no remote src or href');
  t.notMatch(html, /@import|url\(/, 'no CSS imports or url()');
  t.match(html, /id="chart-hours"/);
  t.match(html, /id="chart-processes"/);
  t.match(html, /id="chart-remote-addresses"/);
  t.same(STATISTICS.map((s) => s.name).filter((name) => !html.includes(`id="stat-${name}"`)), [], 'a section for every statistic (missing ones shown)');
});

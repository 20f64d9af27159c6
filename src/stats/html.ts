import type { OutputRecord } from '../output/record-kind';
import type { StatisticResult } from './engine';

/** What the report says about the run, besides the statistics. */
export interface ReportInfo {
  generatedUtc: string;
  version: string;
  /** The inputs as given on the command line. */
  inputs: readonly string[];
  /** Filters as typed, for the report header ("--process svchost.exe"). */
  filters: readonly string[];
  records: number;
}

/** Rows shown per table; the full data is in --format csv/json. */
export const HTML_TABLE_ROWS = 500;
/** Bars per ranked chart. */
export const CHART_BARS = 15;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text for HTML element content and attribute values: the five markup characters escaped, and the
 * C0/C1 controls, which no log field should carry, dropped (a NUL or a stray ESC cannot render).
 */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g, '')
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function cell(value: unknown, isDateTime: boolean): string {
  if (value === null || value === undefined) return '';
  // "2026-03-01 08:00:00" reads better than ISO's T…Z and does not wrap; the column name says UTC.
  if (isDateTime && typeof value === 'string') return escapeHtml(value.replace('T', ' ').replace(/(?:\.\d+)?Z$/, ''));
  if (Array.isArray(value)) return value.map((v) => escapeHtml(v)).join(', ');
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  return escapeHtml(value);
}

function isNumeric(value: unknown): boolean {
  return typeof value === 'number';
}

interface Bar {
  label: string;
  value: number;
  /** Tooltip detail. */
  detail: string;
}

/** A horizontal bar chart as inline SVG: one row per bar, label left, value right. */
function horizontalBars(id: string, title: string, bars: Bar[], unit: string): string {
  if (bars.length === 0) return `<figure class="chart" id="${id}"><figcaption>${escapeHtml(title)}</figcaption><p class="empty">No data.</p></figure>`;
  const rowHeight = 22;
  const labelWidth = 260;
  const barWidth = 420;
  const width = labelWidth + barWidth + 90;
  const height = bars.length * rowHeight + 8;
  const max = Math.max(...bars.map((b) => b.value), 1);
  const rows = bars
    .map((b, i) => {
      const y = 4 + i * rowHeight;
      const w = Math.max(1, Math.round((b.value / max) * barWidth));
      const label = b.label.length > 38 ? `${b.label.slice(0, 37)}…` : b.label;
      return (
        `<g class="bar" data-label="${escapeHtml(b.label)}" data-value="${b.value}">` +
        `<title>${escapeHtml(b.label)}: ${b.value} ${escapeHtml(unit)}${b.detail ? ` (${escapeHtml(b.detail)})` : ''}</title>` +
        `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(label)}</text>` +
        `<rect x="${labelWidth}" y="${y + 2}" width="${w}" height="${rowHeight - 6}" rx="2"></rect>` +
        `<text class="value" x="${labelWidth + w + 6}" y="${y + 15}">${b.value}</text></g>`
      );
    })
    .join('');
  return (
    `<figure class="chart" id="${id}"><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${rows}</svg></figure>`
  );
}

/** 24 vertical bars, one per hour of the day. */
function hourBars(id: string, title: string, counts: number[]): string {
  const barWidth = 26;
  const gap = 6;
  const plotHeight = 180;
  const left = 50;
  const width = left + 24 * (barWidth + gap) + 10;
  const height = plotHeight + 40;
  const max = Math.max(...counts, 1);
  const bars = counts
    .map((n, hour) => {
      const h = n === 0 ? 0 : Math.max(1, Math.round((n / max) * plotHeight));
      const x = left + hour * (barWidth + gap);
      return (
        `<g class="bar" data-label="${hour}" data-value="${n}"><title>${String(hour).padStart(2, '0')}:00-${String(hour).padStart(2, '0')}:59: ${n} records</title>` +
        `<rect x="${x}" y="${10 + plotHeight - h}" width="${barWidth}" height="${h}" rx="2"></rect>` +
        `<text class="axis" x="${x + barWidth / 2}" y="${plotHeight + 28}" text-anchor="middle">${hour}</text></g>`
      );
    })
    .join('');
  const axis =
    `<line class="axis-line" x1="${left - 4}" y1="${10 + plotHeight}" x2="${width - 6}" y2="${10 + plotHeight}"></line>` +
    `<text class="axis" x="${left - 8}" y="16" text-anchor="end">${max}</text><text class="axis" x="${left - 8}" y="${10 + plotHeight}" text-anchor="end">0</text>`;
  return (
    `<figure class="chart" id="${id}"><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${axis}${bars}</svg></figure>`
  );
}

function withComputer(label: string, row: OutputRecord): string {
  return row.ComputerName === null || row.ComputerName === undefined ? label : `${label} @ ${String(row.ComputerName)}`;
}

function charts(results: readonly StatisticResult[]): string {
  const out: string[] = [];
  const rowsOf = (name: string) => results.find((r) => r.statistic.name === name)?.rows;
  const hours = rowsOf('hour-of-day');
  if (hours) {
    const counts = new Array<number>(24).fill(0);
    for (const r of hours) counts[r.Hour as number]! += r.Records as number;
    out.push(hourBars('chart-hours', 'Port usage by hour of day (server local time)', counts));
  }
  const processes = rowsOf('process-usage');
  if (processes) {
    const bars = [...processes]
      .sort((a, b) => (b.Records as number) - (a.Records as number))
      .slice(0, CHART_BARS)
      .map((r) => ({ label: withComputer(String(r.ProcessName ?? '(unknown)'), r), value: r.Records as number, detail: `${r.RecordPercent}% of records, ${r.PercentOfTime}% of time` }));
    out.push(horizontalBars('chart-processes', `Top processes by records (top ${CHART_BARS})`, bars, 'records'));
  }
  const remotes = rowsOf('remote-address');
  if (remotes) {
    const bars = [...remotes]
      .sort((a, b) => (b.Connections as number) - (a.Connections as number))
      .slice(0, CHART_BARS)
      .map((r) => ({
        label: withComputer(r.RemoteHostName ? `${String(r.RemoteAddress)} (${String(r.RemoteHostName)})` : String(r.RemoteAddress), r),
        value: r.Connections as number,
        detail: `${r.ConnectionPercent}% of connections`,
      }));
    out.push(horizontalBars('chart-remote-addresses', `Top remote addresses by connections (top ${CHART_BARS})`, bars, 'connections'));
  }
  return out.length === 0 ? '' : `<section class="charts">${out.join('')}</section>`;
}

function table(result: StatisticResult): string {
  const { statistic, rows } = result;
  const columns = statistic.kind.keys.filter((k) => k !== 'Statistic' && (k !== 'ComputerName' || rows.some((r) => r.ComputerName !== null)));
  const shown = rows.slice(0, HTML_TABLE_ROWS);
  const head = columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('');
  const body = shown
    .map((r) => `<tr>${columns.map((c) => `<td${isNumeric(r[c]) ? ' class="num"' : statistic.kind.dateTimeKeys.has(c) ? ' class="time"' : ''}>${cell(r[c], statistic.kind.dateTimeKeys.has(c))}</td>`).join('')}</tr>`)
    .join('\n');
  const more = rows.length > shown.length ? `<p class="note">First ${shown.length} of ${rows.length} rows; <code>--statistic ${escapeHtml(statistic.name)} --format csv</code> has them all.</p>` : '';
  return (
    `<section class="statistic" id="stat-${escapeHtml(statistic.name)}"><h2>${escapeHtml(statistic.title)}</h2>` +
    `<p class="definition">${escapeHtml(statistic.definition)}</p>` +
    (rows.length === 0
      ? '<p class="empty">No records for this statistic.</p>'
      : `<div class="scroll"><table class="sortable"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>${more}`) +
    '</section>'
  );
}

const CSS = `
:root{--fg:#1d2430;--muted:#5b6574;--line:#d8dde5;--bar:#2f6fb3;--bg:#fff;--head:#f2f4f7}
*{box-sizing:border-box}body{margin:0;padding:24px 32px;font:14px/1.45 "Segoe UI",system-ui,-apple-system,Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 4px}
.meta{color:var(--muted);margin:0 0 16px}.meta code{color:var(--fg)}
nav{margin:8px 0 16px}nav a{margin-right:12px;color:var(--bar);text-decoration:none}nav a:hover{text-decoration:underline}
.charts{display:flex;flex-wrap:wrap;gap:24px}.chart{margin:0;padding:12px 16px;border:1px solid var(--line);border-radius:6px;max-width:100%;overflow-x:auto}
.chart figcaption{font-weight:600;margin-bottom:8px}.chart rect{fill:var(--bar)}.chart g.bar:hover rect{fill:#1b4f86}
.chart text{font-size:12px;fill:var(--fg)}.chart text.value,.chart text.axis{fill:var(--muted)}.chart .axis-line{stroke:var(--line)}
.definition{color:var(--muted);max-width:960px;margin:0 0 8px}.note,.empty{color:var(--muted);font-style:italic}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top;max-width:420px;overflow-wrap:break-word}
th{background:var(--head);position:sticky;top:0;cursor:pointer;user-select:none;white-space:nowrap}th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.time{white-space:nowrap}tbody tr:nth-child(even){background:#fafbfc}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@media print{th{position:static}.chart{break-inside:avoid}}
`;

// Click a column header to sort by it (numbers as numbers); click again to reverse. No network, no library.
const SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny) && String(nx) === x && String(ny) === y) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.documentElement.setAttribute('data-tables', 'sortable');
`;

/**
 * One self-contained HTML page: inline CSS, SVG charts drawn here (not in the browser), a few lines of
 * inline script for sortable tables, and a Content-Security-Policy that forbids any network access,
 * so the page opens offline in any browser on a server. Every log-derived string is escaped.
 */
export function renderHtmlReport(results: readonly StatisticResult[], info: ReportInfo): string {
  const nav = results.map((r) => `<a href="#stat-${escapeHtml(r.statistic.name)}">${escapeHtml(r.statistic.title)}</a>`).join('');
  const inputs = info.inputs.length === 0 ? '(stdin)' : info.inputs.map((i) => `<code>${escapeHtml(i)}</code>`).join(' ');
  const filters = info.filters.length === 0 ? '' : ` · filters: <code>${escapeHtml(info.filters.join(' '))}</code>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Port Reporter statistics</title>
<style>${CSS}</style>
</head>
<body>
<h1>Port Reporter statistics</h1>
<p class="meta">${info.records} records from ${inputs}${filters} · generated ${escapeHtml(info.generatedUtc)} by portqry-ts ${escapeHtml(info.version)}</p>
<nav>${nav}</nav>
${charts(results)}
${results.map(table).join('\n')}
<footer>"% of time" is the share of observed clock hours (hours in which anything was logged) in which the port, process or address appears in at least one record. Port Reporter logs new endpoints only, so these are counts of port uses, not durations.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

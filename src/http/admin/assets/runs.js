// Run history: the ledger through GET /api/v1/admin/runs/ with the page's
// filters, paged by cursor; the first page updates itself every 5 seconds.
import { api, badge, counts, duration, el, fill, poll, timeEl } from './console.js';
import { drawChart } from './chart.js';

const query = document.getElementById('run-query').dataset;
const tbody = document.querySelector('#runs-table tbody');
const chart = document.getElementById('chart');
const FILTERS = ['job', 'status', 'trigger', 'from', 'to'];

function params(extra) {
  const search = new URLSearchParams();
  for (const name of FILTERS) if (query[name]) search.set(name, query[name]);
  for (const [name, value] of Object.entries(extra)) if (value !== undefined && value !== null && value !== '') search.set(name, value);
  return search;
}

function row(run) {
  const output = run.output_preview
    ? el('span', { class: 'preview', text: run.output_preview + (run.output_truncated ? ' …' : '') })
    : run.error ? el('span', { class: 'bad', text: run.error }) : '–';
  return el('tr', { 'data-run-id': run.id },
    el('th', { scope: 'row', 'data-label': 'Run' }, el('a', { href: `/admin/runs/${run.id}/`, text: `#${run.id}` })),
    el('td', { 'data-label': 'Job', text: run.job }),
    el('td', { 'data-label': 'Status' }, badge(run.status), run.dry_run ? el('span', { class: 'muted small', text: ' dry run' }) : null),
    el('td', { 'data-label': 'Trigger', text: run.trigger }),
    el('td', { 'data-label': 'Started' }, timeEl(run.started_at), run.lateness_ms ? el('div', { class: 'muted small', text: `${duration(run.lateness_ms)} late` }) : null),
    el('td', { 'data-label': 'Duration', text: duration(run.duration_ms) }),
    el('td', { 'data-label': 'Counts', text: counts(run.counts) }),
    el('td', { 'data-label': 'Output' }, output));
}

let lastList = '';
let lastChart = '';
let plot = null;

async function loadList() {
  const page = await api('GET', `/api/v1/admin/runs/?${params({ limit: '50', cursor: query.cursor })}`);
  const body = JSON.stringify(page);
  if (body === lastList) return;
  lastList = body;
  fill(tbody, page.runs.map(row));
  document.getElementById('runs-empty').hidden = page.runs.length > 0;
  const older = document.getElementById('older');
  older.hidden = !page.next_cursor;
  if (page.next_cursor) older.href = `/admin/runs/?${params({ cursor: page.next_cursor })}`;
  const newest = document.getElementById('newest');
  newest.hidden = !query.cursor;
  newest.href = `/admin/runs/?${params({})}`;
}

async function loadChart() {
  const page = await api('GET', `/api/v1/admin/runs/?${params({ limit: '200' })}`);
  const body = JSON.stringify(page.runs.map((run) => [run.id, run.status, run.duration_ms]));
  if (body === lastChart) return;
  lastChart = body;
  plot = drawChart(chart, page.runs, plot);
  document.getElementById('chart-empty').hidden = page.runs.length > 0;
}

document.getElementById('live-note').textContent = query.cursor ? 'An older page: it does not update itself.' : 'Newest runs first; this list updates itself every 5 seconds.';
if (query.cursor) {
  poll(loadList, 3_600_000, 'Runs');
  poll(loadChart, 3_600_000, 'Chart');
} else {
  poll(loadList, 5000, 'Runs');
  poll(loadChart, 5000, 'Chart');
}

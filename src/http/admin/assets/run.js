// One run: GET /api/v1/admin/runs/:id/, its output paged by offset.
import { api, badge, duration, el, fill, notifyError, when } from './console.js';

const root = document.getElementById('run-detail');
const id = root.dataset.runId;
const PART = 4000;
let offset = 0;

function fact(term, ...value) {
  return [el('dt', { text: term }), el('dd', {}, ...value)];
}

function render(run) {
  const failed = run.status === 'failed' || run.status === 'timed_out';
  document.getElementById('run-error').hidden = !(failed || run.error);
  document.getElementById('run-error-message').textContent = run.error ?? '(no message)';
  document.getElementById('run-error-detail').textContent = run.error_detail ?? '';
  document.getElementById('run-error-detail-box').hidden = !run.error_detail;
  if (run.error_detail) document.getElementById('run-error-detail-box').open = true;

  fill(document.getElementById('run-facts'), [
    fact('Job', el('a', { href: `/admin/runs/?job=${encodeURIComponent(run.job)}`, text: run.job })),
    fact('Status', badge(run.status), run.dry_run ? ' (dry run)' : ''),
    fact('Trigger', run.trigger),
    fact('Slot', when(run.scheduled_for)),
    fact('Started', when(run.started_at)),
    fact('Finished', when(run.finished_at)),
    fact('Duration', duration(run.duration_ms)),
    fact('Lateness', run.lateness_ms === null || run.lateness_ms === undefined ? '–' : duration(run.lateness_ms)),
    fact('Instance', run.instance_id ?? '–'),
    fact('Caller IP', run.caller_ip ?? '–'),
    fact('User agent', run.user_agent ?? '–'),
    fact('Request id', run.request_id ?? '–'),
    fact('Parameters', run.params && Object.keys(run.params).length ? JSON.stringify(run.params) : '–'),
  ].flat());

  const entries = Object.entries(run.counts ?? {});
  fill(document.getElementById('run-counts'), entries.length === 0 ? [el('dt', { text: 'none' }), el('dd', { text: '–' })] : entries.flatMap(([name, n]) => fact(name, String(n))));

  const output = run.output ?? '';
  const total = run.output_length ?? output.length;
  document.getElementById('run-output').textContent = output === '' ? '(no output)' : output;
  document.getElementById('output-range').textContent = total === 0 ? '' : `Characters ${offset + 1}–${offset + output.length} of ${total}.`;
  const prev = document.getElementById('output-prev');
  const next = document.getElementById('output-next');
  prev.hidden = offset === 0;
  next.hidden = offset + output.length >= total;
}

async function load() {
  try {
    render(await api('GET', `/api/v1/admin/runs/${encodeURIComponent(id)}/?output_offset=${offset}&output_limit=${PART}`));
  } catch (error) {
    notifyError(error, `Run ${id}`);
  }
}

document.getElementById('output-prev').addEventListener('click', () => { offset = Math.max(0, offset - PART); void load(); });
document.getElementById('output-next').addEventListener('click', () => { offset += PART; void load(); });
void load();

// Jobs: one row per job from GET /cron/status (every 5 seconds), with Run
// now, Dry run and Pause/Resume through the admin jobs API.
import { age, api, badge, counts, duration, el, fill, notify, notifyError, poll, timeEl } from './console.js';
import { confirmAction } from './dialog.js';

const tbody = document.querySelector('#jobs-table tbody');
/** Jobs whose Run now changes users' state: the dry-run counts are shown and confirmed first. */
const CONFIRM_RUN = new Set(['logout-all-users']);
let lastBody = '';
let refresh = async () => undefined;

const jobPath = (name, action) => `/api/v1/admin/jobs/${encodeURIComponent(name)}/${action}/`;

function runNotice(run, what) {
  const text = `${what} of ${run.job}: ${run.status} in ${duration(run.duration_ms)}${Object.keys(run.counts ?? {}).length ? ` (${counts(run.counts)})` : ''}${run.error ? ` — ${run.error}` : ''}. `;
  notify(text, run.status === 'failed' || run.status === 'timed_out' ? 'error' : 'ok', run.id ? { href: `/admin/runs/${run.id}/`, text: `Open run ${run.id}` } : undefined);
}

async function runJob(job, dryRun) {
  try {
    if (!dryRun && CONFIRM_RUN.has(job.job)) {
      const dry = (await api('POST', jobPath(job.job, 'run'), { dry_run: true })).run;
      const answer = await confirmAction({
        title: `Run ${job.job} now?`,
        body: [
          `A dry run just counted what it would do: ${counts(dry.counts)}.`,
          'This cannot be undone: every signed-in user will have to sign in again.',
          job.enabled ? null : `${job.job} is disabled in the configuration: the server will refuse a real run until it is enabled.`,
        ].filter(Boolean),
        confirmLabel: 'Run it for real',
        danger: true,
      });
      if (!answer.ok) {
        notify(`Not run. The dry run counted: ${counts(dry.counts)}.`);
        return;
      }
    }
    const { run } = await api('POST', jobPath(job.job, 'run'), { dry_run: dryRun });
    runNotice(run, dryRun ? 'Dry run' : 'Run');
  } catch (error) {
    notifyError(error, `${dryRun ? 'Dry run' : 'Run'} ${job.job}`);
  }
  await refresh();
}

async function pauseJob(job) {
  const answer = await confirmAction({
    title: `Pause ${job.job}?`,
    body: ['No instance will run it, on schedule or by trigger, until it is resumed.'],
    confirmLabel: 'Pause',
    reason: true,
  });
  if (!answer.ok) return;
  try {
    await api('POST', jobPath(job.job, 'pause'), answer.reason ? { reason: answer.reason } : {});
    notify(`${job.job} is paused.`);
  } catch (error) {
    notifyError(error, `Pause ${job.job}`);
  }
  await refresh();
}

async function resumeJob(job) {
  try {
    await api('POST', jobPath(job.job, 'resume'), {});
    notify(`${job.job} is running on schedule again.`);
  } catch (error) {
    notifyError(error, `Resume ${job.job}`);
  }
  await refresh();
}

function stateCell(job) {
  const parts = [];
  if (job.paused) parts.push(badge('paused'), el('div', { class: 'muted small', text: `by ${job.paused_by ?? 'someone'}${job.paused_at ? ' at ' : ''}` }, job.paused_at ? timeEl(job.paused_at) : null));
  else parts.push(job.enabled ? badge('enabled', 'ok') : badge('disabled', 'muted'));
  if (job.late) parts.push(' ', badge(job.late_by_seconds ? `late ${age(job.late_by_seconds)}` : 'late', 'late'));
  if (job.placeholder) parts.push(el('div', { class: 'muted small', text: job.placeholder }));
  return parts;
}

function lastRunCell(run) {
  if (!run) return ['never'];
  return [
    el('a', { href: run.id ? `/admin/runs/${run.id}/` : '/admin/runs/' }, badge(run.status)),
    ` ${duration(run.duration_ms)}`,
    run.dry_run ? el('span', { class: 'muted', text: ' (dry run)' }) : null,
    el('div', { class: 'muted small', text: counts(run.counts) }),
  ];
}

function row(job) {
  return el('tr', { 'data-job': job.job },
    el('th', { scope: 'row', 'data-label': 'Job' }, el('a', { href: `/admin/runs/?job=${encodeURIComponent(job.job)}`, text: job.job })),
    el('td', { 'data-label': 'Schedule' },
      el('code', { text: job.schedule }), ` ${job.timezone}`,
      job.schedule_text ? el('div', { class: 'muted small', text: job.schedule_text }) : null,
      job.late_after_seconds ? el('div', { class: 'muted small', text: `late after ${age(job.late_after_seconds)}` }) : null),
    el('td', { 'data-label': 'State' }, stateCell(job)),
    el('td', { 'data-label': 'Next run' }, job.paused ? '–' : timeEl(job.next_slot)),
    el('td', { 'data-label': 'Last run' }, lastRunCell(job.last_run)),
    el('td', { 'data-label': 'Failures', class: job.consecutive_failures > 0 ? 'bad' : '' , text: String(job.consecutive_failures) }),
    el('td', { 'data-label': 'Actions', class: 'cell-actions' }, el('div', { class: 'actions' },
      el('button', { type: 'button', 'data-action': 'run', onclick: () => runJob(job, false), 'aria-label': `Run now: ${job.job}`, text: 'Run now' }),
      el('button', { type: 'button', class: 'secondary', 'data-action': 'dry-run', onclick: () => runJob(job, true), 'aria-label': `Dry run: ${job.job}`, text: 'Dry run' }),
      job.paused
        ? el('button', { type: 'button', class: 'secondary', 'data-action': 'resume', onclick: () => resumeJob(job), 'aria-label': `Resume: ${job.job}`, text: 'Resume' })
        : el('button', { type: 'button', class: 'secondary', 'data-action': 'pause', onclick: () => pauseJob(job), 'aria-label': `Pause: ${job.job}`, text: 'Pause' }))));
}

async function load() {
  const status = await api('GET', '/cron/status');
  // Rebuild only on change, so keyboard focus stays put while nothing moves.
  const body = JSON.stringify(status.jobs);
  if (body === lastBody) return;
  lastBody = body;
  fill(tbody, status.jobs.map(row));
  document.body.dataset.jobs = String(status.jobs.length);
}

refresh = poll(load, 5000, 'Jobs');

// Overview: polls GET /api/v1/admin/overview/ every 5 seconds.
import { age, api, el, fill, poll, timeEl } from './console.js';

const $ = (id) => document.getElementById(id);

function firedBy(run) {
  const who = { scheduler: 'the scheduler', 'outside caller': 'an outside caller', CLI: 'the CLI', console: 'an admin in the console' }[run.fired_by] ?? run.fired_by;
  const parts = [`${run.job}, fired by ${who} (${run.trigger})`];
  if (run.caller_ip) parts.push(`from ${run.caller_ip}`);
  return parts.join(' ');
}

function render(data) {
  const late = data.late_jobs ?? [];
  $('late-banner').hidden = late.length === 0;
  fill($('late-list'), late.map((job) => el('li', {},
    el('a', { href: `/admin/runs/?job=${encodeURIComponent(job.job)}`, text: job.job }),
    ` is late by ${age(job.late_by_seconds)} (allowed ${age(job.late_after_seconds)}).`)));

  const last = data.last_cron_run;
  if (last) {
    fill($('last-run-at'), el('a', { href: `/admin/runs/${encodeURIComponent(last.run_id)}/` }, timeEl(last.at)));
    $('last-run-who').textContent = firedBy(last);
  } else {
    $('last-run-at').textContent = 'Never';
    $('last-run-who').textContent = 'No job has run yet.';
  }

  const backlog = data.backlog ?? {};
  $('backlog-due').textContent = `${backlog.due ?? 0} due`;
  $('backlog-age').textContent = backlog.oldest_due_at ? `oldest waiting ${age(backlog.oldest_age_seconds)}` : 'nothing waiting';
  $('missed-slots').textContent = `${backlog.missed_slots_24h ?? 0} missed slots in 24 h`;
  $('online-users').textContent = String(data.online_users ?? 0);
  $('live-sessions').textContent = String(data.live_sessions ?? 0);
  const unknown = data.unknown_sends ?? {};
  $('unknown-sends').textContent = String((unknown.sequence ?? 0) + (unknown.outbox ?? 0));

  const failing = data.failing_jobs ?? [];
  $('failing-none').hidden = failing.length > 0;
  fill($('failing-list'), failing.map((job) => el('li', {},
    el('a', { href: `/admin/runs/?job=${encodeURIComponent(job.job)}&status=failed`, text: job.job }),
    ` — ${job.consecutive_failures} failure${job.consecutive_failures === 1 ? '' : 's'} in a row`,
    job.last_error ? el('span', { class: 'muted', text: `: ${job.last_error}` }) : null)));

  const paused = data.paused_jobs ?? [];
  $('paused-none').hidden = paused.length > 0;
  fill($('paused-list'), paused.map((job) => {
    const name = typeof job === 'string' ? job : job.job;
    const by = typeof job === 'object' && job.paused_by ? ` by ${job.paused_by}` : '';
    return el('li', {}, el('a', { href: '/admin/jobs/', text: name }), by);
  }));
}

poll(async () => render(await api('GET', '/api/v1/admin/overview/')), 5000, 'Overview');

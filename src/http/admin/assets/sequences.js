// Sequences: each sequence's funnel, and the unknown sends to resolve.
import { api, el, fill, notify, notifyError, poll } from './console.js';
import { confirmAction } from './dialog.js';

let refresh = async () => undefined;

function bar(label, value, max) {
  const share = max > 0 ? value / max : 0;
  return el('li', { class: 'funnel-step' },
    el('span', { class: 'funnel-label', text: label }),
    el('meter', { min: '0', max: String(Math.max(max, 1)), value: String(value), 'aria-label': label }),
    el('span', { class: 'funnel-value', text: `${value}${max > 0 ? ` (${Math.round(share * 100)} %)` : ''}` }));
}

/** One funnel: enrolled, then the exact sent count of each step (the API's sent_per_step), then completed. */
function funnel(sequence) {
  const c = sequence.counts ?? {};
  const enrolled = c.enrolled ?? 0;
  const sent = sequence.sent_per_step ?? [];
  return el('article', { class: 'funnel', 'data-sequence': sequence.key },
    el('h3', { text: `${sequence.name} (${sequence.key})${sequence.active ? '' : ' — inactive'}` }),
    el('ol', { class: 'plain' },
      bar('Enrolled', enrolled, enrolled),
      sequence.steps.map((step, index) => bar(`Step ${index + 1} sent: ${step.subject}`, sent[index] ?? 0, enrolled)),
      bar('Completed', c.completed ?? 0, enrolled)),
    el('p', { class: 'muted small', text: `Active ${c.active ?? 0}, unsubscribed ${c.unsubscribed ?? 0}, stopped ${c.stopped ?? 0}; sends: failed ${c.failed ?? 0}, unknown ${c.unknown ?? 0}, due now ${c.due_now ?? 0}.` }));
}

async function resolve(send, outcome) {
  if (outcome === 'retry') {
    const answer = await confirmAction({
      title: 'Send it again?',
      body: [`If the first attempt did arrive, ${send.email ?? 'the recipient'} gets this mail twice.`],
      confirmLabel: 'Send again',
    });
    if (!answer.ok) return;
  }
  try {
    await api('POST', `/api/v1/admin/sends/${encodeURIComponent(send.id)}/resolve/`, { outcome });
    notify(outcome === 'sent' ? `Send ${send.id} marked sent.` : `Send ${send.id} queued again.`);
  } catch (error) {
    notifyError(error, `Resolve ${send.id}`);
  }
  await refresh();
}

async function load() {
  const [{ sequences }, sequenceSends, outboxSends] = await Promise.all([
    api('GET', '/api/v1/admin/sequences/'),
    api('GET', '/api/v1/admin/sends/?state=unknown&limit=200'),
    api('GET', '/api/v1/admin/sends/?state=unknown&source=outbox&limit=200'),
  ]);
  document.getElementById('sequences-none').hidden = sequences.length > 0;
  fill(document.getElementById('funnels'), sequences.map(funnel));
  const unknown = [...sequenceSends.sends, ...outboxSends.sends];
  document.getElementById('unknown-none').hidden = unknown.length > 0;
  fill(document.querySelector('#unknown-table tbody'), unknown.map((send) => el('tr', { 'data-send-id': send.id },
    el('th', { scope: 'row', 'data-label': 'Send', text: send.id }),
    el('td', { 'data-label': 'Sequence / step', text: send.sequence ? `${send.sequence} / step ${send.step}` : 'transactional mail' }),
    el('td', { 'data-label': 'Recipient', text: send.email ?? '–' }),
    el('td', { 'data-label': 'Attempts', text: String(send.attempts ?? 0) }),
    el('td', { 'data-label': 'Last error', text: send.last_error ?? '–' }),
    el('td', { 'data-label': 'Resolve', class: 'cell-actions' }, el('div', { class: 'actions' },
      el('button', { type: 'button', 'data-action': 'mark-sent', onclick: () => resolve(send, 'sent'), text: 'It arrived', 'aria-label': `It arrived: send ${send.id}` }),
      el('button', { type: 'button', class: 'secondary', 'data-action': 'retry', onclick: () => resolve(send, 'retry'), text: 'Send again', 'aria-label': `Send again: send ${send.id}` }))))));
}

refresh = poll(load, 15_000, 'Sequences');

// A confirmation dialog (the page's <dialog id="confirm">): native modal,
// Escape cancels, focus returns to the button that opened it.
import { el, fill } from './console.js';

/**
 * Asks before an action. `body` is a list of lines (strings or nodes);
 * `reason: true` adds an optional reason field. Resolves
 * `{ ok: boolean, reason: string }`.
 */
export function confirmAction({ title, body = [], confirmLabel = 'Confirm', reason = false, danger = false }) {
  const dialog = document.getElementById('confirm');
  const opener = document.activeElement;
  document.getElementById('confirm-title').textContent = title;
  fill(document.getElementById('confirm-body'), body.map((line) => (line instanceof Node ? line : el('p', { text: line }))));
  const reasonField = document.getElementById('confirm-reason-field');
  const reasonInput = document.getElementById('confirm-reason');
  reasonField.hidden = !reason;
  reasonInput.value = '';
  const ok = document.getElementById('confirm-ok');
  ok.textContent = confirmLabel;
  ok.className = danger ? 'danger' : '';
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (opener instanceof HTMLElement) opener.focus();
      resolve({ ok: dialog.returnValue === 'ok', reason: reasonInput.value.trim() });
    }, { once: true });
    dialog.showModal();
    (reason ? reasonInput : ok).focus();
  });
}

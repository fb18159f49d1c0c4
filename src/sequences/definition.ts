import { AppError } from '../errors.js';
import type { SequenceValues, StepValues } from '../db/repositories/sequences.js';
import { parseDelay } from './duration.js';
import { TemplateError, type SequenceTemplates } from './templates.js';

/** Limits on a sequence definition. */
export const LIMITS = { keyLength: 64, nameLength: 200, steps: 50, subjectLength: 200, textLength: 100_000, htmlLength: 200_000 } as const;

const KEY = /^[a-z0-9][a-z0-9_-]*$/;

function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${field}: ${message}`);
}

function string(value: unknown, field: string, max: number, options: { empty?: boolean } = {}): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (!options.empty && value.trim() === '') throw invalid(field, 'must not be empty');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  return value;
}

/** Checks a sequence key (slug). Throws VALIDATION_FAILED naming `key`. */
export function parseKey(value: unknown): string {
  const key = string(value, 'key', LIMITS.keyLength);
  if (!KEY.test(key)) throw invalid('key', 'must be a slug: lower-case letters, digits, "_" and "-", e.g. default_outreach');
  return key;
}

function template(templates: SequenceTemplates, source: string, field: string, kind: 'plain' | 'html'): void {
  try {
    templates.check(source, kind);
  } catch (error) {
    if (error instanceof TemplateError) throw invalid(field, `template error: ${error.message}`);
    throw error;
  }
}

function parseStep(templates: SequenceTemplates, value: unknown, index: number): StepValues {
  const field = `steps[${index}]`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'must be an object {delay, subject, text, html?}');
  const step = value as Record<string, unknown>;
  for (const name of Object.keys(step)) {
    if (!['delay', 'subject', 'text', 'html'].includes(name)) throw invalid(`${field}.${name}`, 'unknown field');
  }
  const delayText = string(step['delay'], `${field}.delay`, 16);
  const delayMs = parseDelay(delayText);
  if (delayMs === undefined) throw invalid(`${field}.delay`, `"${delayText}" is not a duration; use a whole number and s, m, h or d (0s, 30m, 12h, 2d), at most 365d`);
  const subject = string(step['subject'], `${field}.subject`, LIMITS.subjectLength);
  if (/[\r\n]/.test(subject)) throw invalid(`${field}.subject`, 'must be one line');
  const text = string(step['text'], `${field}.text`, LIMITS.textLength);
  const html = step['html'] === undefined || step['html'] === null ? null : string(step['html'], `${field}.html`, LIMITS.htmlLength);
  template(templates, subject, `${field}.subject`, 'plain');
  template(templates, text, `${field}.text`, 'plain');
  if (html !== null) template(templates, html, `${field}.html`, 'html');
  return { delayMs, subject, text, html };
}

/**
 * Validates a sequence definition `{key, name, steps, active?}` completely
 * (templates parsed and rendered against a sample) before anything is
 * written. Throws VALIDATION_FAILED with the field named (`steps[1].text: ...`).
 * `key` may be given separately (PUT /sequences/<key>/).
 */
export function parseSequence(templates: SequenceTemplates, input: unknown, keyFromPath?: string): SequenceValues {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalid('body', 'must be an object {key, name, steps, active?}');
  const body = input as Record<string, unknown>;
  for (const name of Object.keys(body)) {
    if (!['key', 'name', 'steps', 'active'].includes(name)) throw invalid(name, 'unknown field');
  }
  const key = parseKey(keyFromPath ?? body['key']);
  if (keyFromPath !== undefined && body['key'] !== undefined && body['key'] !== keyFromPath) throw invalid('key', 'differs from the key in the path');
  const name = string(body['name'], 'name', LIMITS.nameLength);
  const active = body['active'] ?? true;
  if (typeof active !== 'boolean') throw invalid('active', 'must be true or false');
  const steps = body['steps'];
  if (!Array.isArray(steps) || steps.length === 0) throw invalid('steps', 'must be a non-empty list of {delay, subject, text, html?}');
  if (steps.length > LIMITS.steps) throw invalid('steps', `at most ${LIMITS.steps} steps`);
  return { key, name, active, steps: steps.map((step, index) => parseStep(templates, step, index)) };
}

import { AppError } from '../errors.js';
import { normaliseEmail } from './public-user.js';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
export const EMAIL_MAX_LENGTH = 254;
const NAME_MAX_LENGTH = 150;

export const PROFILE_TYPES = ['worker', 'organization'] as const;
export const SEXES = ['male', 'female', 'other'] as const;

/** A validated profile: `type` always, the rest only when given. */
export interface Profile {
  readonly type: (typeof PROFILE_TYPES)[number];
  readonly first_name?: string;
  readonly last_name?: string;
  /** Calendar date `YYYY-MM-DD` (the date part of a given date-time). */
  readonly birth_date?: string;
  readonly sex?: (typeof SEXES)[number];
}

/** Registration input after parsing: email normalised, profile validated. */
export interface Registration {
  readonly email: string;
  readonly password: string;
  readonly profile: Profile;
}

function invalid(message: string): AppError {
  return new AppError('VALIDATION_FAILED', message);
}

/** Normalises and checks an address; throws VALIDATION_FAILED. Returns the normalised form. */
export function parseEmail(value: unknown): string {
  if (typeof value !== 'string') throw invalid('email must be a string.');
  const email = normaliseEmail(value);
  if (email.length > EMAIL_MAX_LENGTH) throw invalid(`email must be at most ${EMAIL_MAX_LENGTH} characters.`);
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const localOk = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local) && local.length <= 64;
  const domainOk = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain);
  if (at < 1 || !localOk || !domainOk) throw invalid('email is not a valid e-mail address.');
  return email;
}

/** Checks the length rule (8–128 characters, counted as code points); throws VALIDATION_FAILED. */
export function checkPassword(value: unknown): string {
  if (typeof value !== 'string') throw invalid('password must be a string.');
  const length = [...value].length;
  if (length < PASSWORD_MIN_LENGTH) throw invalid(`password must be at least ${PASSWORD_MIN_LENGTH} characters.`);
  if (length > PASSWORD_MAX_LENGTH) throw invalid(`password must be at most ${PASSWORD_MAX_LENGTH} characters.`);
  return value;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-](\d{2}):?(\d{2}))?)?$/;

/** An ISO-8601 date or date-time naming a real day not after `today`; returns `YYYY-MM-DD`. */
function parseBirthDate(value: unknown, now: number): string {
  if (typeof value !== 'string') throw invalid('profile.birth_date must be a string.');
  const match = ISO_DATE.exec(value);
  if (!match) throw invalid('profile.birth_date must be an ISO-8601 date (YYYY-MM-DD) or date-time.');
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = match.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  const date = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 0));
  const realDay = date.getUTCFullYear() === year && date.getUTCMonth() + 1 === month && date.getUTCDate() === day;
  const timeOk = (hour ?? 0) < 24 && (minute ?? 0) < 60 && (second ?? 0) < 60 && (offsetHour ?? 0) < 24 && (offsetMinute ?? 0) < 60;
  if (!realDay || !timeOk) throw invalid('profile.birth_date is not a real date.');
  if ((year ?? 0) < 1900) throw invalid('profile.birth_date must not be before 1900.');
  // Whole-day comparison with a day's slack, so no time zone can call today "the future".
  if (date.getTime() > now + 86_400_000) throw invalid('profile.birth_date must not be in the future.');
  return value.slice(0, 10);
}

function parseName(field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(`profile.${field} must be a string.`);
  const name = value.trim();
  if (name.length === 0) throw invalid(`profile.${field} must not be empty.`);
  if ([...name].length > NAME_MAX_LENGTH) throw invalid(`profile.${field} must be at most ${NAME_MAX_LENGTH} characters.`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid(`profile.${field} must not contain control characters.`);
  return name;
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`profile.${field} must be one of: ${allowed.join(', ')}.`);
  }
  return value as T;
}

const PROFILE_FIELDS = new Set(['type', 'first_name', 'last_name', 'birth_date', 'sex']);

/**
 * The profile, given as an object or as JSON text of one (form posts).
 * `type` is required; `first_name`, `last_name`, `birth_date`, `sex` are
 * optional; any other field is UNKNOWN_FIELD.
 */
export function parseProfile(value: unknown, now: number): Profile {
  let object: unknown = value;
  if (typeof value === 'string') {
    try {
      object = JSON.parse(value);
    } catch {
      throw invalid('profile must be a JSON object (the text is not valid JSON).');
    }
  }
  if (object === null || typeof object !== 'object' || Array.isArray(object)) throw invalid('profile must be a JSON object.');
  const input = object as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!PROFILE_FIELDS.has(key)) throw new AppError('UNKNOWN_FIELD', `Unknown field "profile.${key}".`);
  }
  if (input.type === undefined) throw invalid('profile.type is required.');
  const profile: { -readonly [K in keyof Profile]: Profile[K] } = { type: oneOf('type', input.type, PROFILE_TYPES) };
  if (input.first_name !== undefined) profile.first_name = parseName('first_name', input.first_name);
  if (input.last_name !== undefined) profile.last_name = parseName('last_name', input.last_name);
  if (input.birth_date !== undefined) profile.birth_date = parseBirthDate(input.birth_date, now);
  if (input.sex !== undefined) profile.sex = oneOf('sex', input.sex, SEXES);
  return profile;
}

/** Validates a registration request's fields; throws VALIDATION_FAILED or UNKNOWN_FIELD. */
export function parseRegistration(input: { email?: unknown; password?: unknown; profile?: unknown }, now: number): Registration {
  if (input.email === undefined) throw invalid('email is required.');
  if (input.password === undefined) throw invalid('password is required.');
  if (input.profile === undefined) throw invalid('profile is required.');
  return { email: parseEmail(input.email), password: checkPassword(input.password), profile: parseProfile(input.profile, now) };
}

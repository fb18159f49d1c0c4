import { Cron } from 'croner';

/**
 * Translation helpers between croner expressions and the cron dialects of
 * other schedulers. croner validates every expression first; this module only
 * rewrites fields it has already accepted.
 */
export interface CronFields {
  readonly second: string;
  readonly minute: string;
  readonly hour: string;
  readonly dayOfMonth: string;
  readonly month: string;
  readonly dayOfWeek: string;
}

const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function numberNames(field: string, names: readonly string[], base: number): string {
  return field.toUpperCase().replace(/[A-Z]{3}/g, (name) => {
    const index = names.indexOf(name);
    return index === -1 ? name : String(index + base);
  });
}

/** Throws (croner's message) when croner rejects the expression. */
export function assertValidCron(expression: string, timezone: string): void {
  new Cron(expression, { timezone, paused: true }).stop();
}

/** Splits a croner expression into six fields, resolving nicknames and month/day names. */
export function cronFields(expression: string): CronFields {
  const text = NICKNAMES[expression.trim().toLowerCase()] ?? expression.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) throw new Error(`"${expression}" has ${parts.length} fields; expected 5 or 6`);
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = parts.length === 6 ? parts : ['0', ...parts];
  return {
    second: second ?? '0',
    minute: minute ?? '*',
    hour: hour ?? '*',
    dayOfMonth: (dayOfMonth ?? '*').replace('?', '*'),
    month: numberNames(month ?? '*', MONTHS, 1),
    dayOfWeek: numberNames((dayOfWeek ?? '*').replace('?', '*'), DAYS, 0),
  };
}

/**
 * The 5-field form other schedulers read. A seconds field other than 0 cannot
 * be expressed; the result then fires once a minute and says so in `note`.
 */
export function fiveFieldCron(expression: string): { readonly cron: string; readonly note?: string } {
  const fields = cronFields(expression);
  const cron = [fields.minute, fields.hour, fields.dayOfMonth, fields.month, fields.dayOfWeek].join(' ');
  return fields.second === '0' ? { cron } : { cron, note: `seconds field "${fields.second}" dropped: external schedulers fire at most once a minute` };
}

/** UTC offset of `timezone` at `at`, in minutes (Europe/Berlin in winter: 60). */
export function zoneOffsetMinutes(timezone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' }).formatToParts(at);
  const value = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const local = Date.UTC(value('year'), value('month') - 1, value('day'), value('hour'), value('minute'));
  return Math.round((local - Math.floor(at.getTime() / 60_000) * 60_000) / 60_000);
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const DAY_FIELDS_ANY = (fields: CronFields) => fields.dayOfMonth === '*' && fields.month === '*' && fields.dayOfWeek === '*';

/**
 * A cron for a UTC-only scheduler (GitHub Actions) from a job's expression and
 * zone, using the zone's offset at `at`. Converts when the result is exact
 * for that offset: hour `*` with any day (whole-hour offsets), or a numeric hour
 * list whose shift stays within the day (or any day fields are `*`). Otherwise
 * the expression is kept as UTC and `note` says so. DST changes the offset:
 * `curfew export --check` then reports drift and a re-export fixes it.
 */
export function utcCron(expression: string, timezone: string, at: Date): { readonly cron: string; readonly note?: string } {
  const five = fiveFieldCron(expression);
  const fields = cronFields(expression);
  const offset = zoneOffsetMinutes(timezone, at);
  const year = at.getUTCFullYear();
  const fixedUtc = zoneOffsetMinutes(timezone, new Date(Date.UTC(year, 0, 1))) === 0 && zoneOffsetMinutes(timezone, new Date(Date.UTC(year, 6, 1))) === 0;
  if (fixedUtc) return five;
  if (offset === 0) return { cron: five.cron, note: [five.note, `${timezone} is UTC+00:00 on ${at.toISOString().slice(0, 10)}; re-export when DST changes the offset`].filter(Boolean).join('; ') };
  const keep = (why: string) => ({ cron: five.cron, note: [five.note, `runs on UTC, not ${timezone}: ${why}`].filter(Boolean).join('; ') });
  if (offset % 60 !== 0) return keep(`its offset ${formatOffset(offset)} is not whole hours`);
  const shift = offset / 60;
  if (fields.hour === '*') return DAY_FIELDS_ANY(fields) ? five : keep('the day fields depend on the zone');
  if (!/^\d+(,\d+)*$/.test(fields.hour)) return keep(`hour field "${fields.hour}" cannot be shifted exactly`);
  const hours = fields.hour.split(',').map(Number);
  const shifted = hours.map((hour) => hour - shift);
  if (!DAY_FIELDS_ANY(fields) && shifted.some((hour) => hour < 0 || hour > 23)) return keep('the shift crosses midnight on restricted days');
  const utcHours = [...new Set(shifted.map((hour) => ((hour % 24) + 24) % 24))].sort((a, b) => a - b);
  const cron = [fields.minute, utcHours.join(','), fields.dayOfMonth, fields.month, fields.dayOfWeek].join(' ');
  const note = [five.note, `converted from ${timezone} (UTC${formatOffset(offset)} on ${at.toISOString().slice(0, 10)}); re-export when DST changes the offset`].filter(Boolean).join('; ');
  return { cron, note };
}

import { cronFields } from './cron-fields.js';

/**
 * Maps a croner expression to systemd `OnCalendar=` values. cron fires when
 * day-of-month OR day-of-week matches (if both are restricted); systemd ANDs
 * them, so that case becomes two OnCalendar lines (a timer fires on the union).
 * Throws for croner extensions systemd cannot say (L, W, #).
 */
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function expandStep(start: number, end: number, step: number): number[] {
  const values: number[] = [];
  for (let value = start; value <= end; value += step) values.push(value);
  return values;
}

function numericPart(part: string, min: number, max: number, field: string): string {
  if (/[LW#]/i.test(part)) throw new Error(`${field} "${part}" (croner extension) has no systemd equivalent`);
  const stepped = /^(\*|\d+)(?:-(\d+))?\/(\d+)$/.exec(part);
  if (stepped) {
    const start = stepped[1] === '*' ? min : Number(stepped[1]);
    const step = Number(stepped[3]);
    // "a/n" and "*/n" run to the field's end, which systemd's "a/n" also means.
    if (stepped[2] === undefined) return `${start}/${step}`;
    return expandStep(start, Number(stepped[2]), step).join(',');
  }
  const range = /^(\d+)-(\d+)$/.exec(part);
  if (range) return `${range[1]}..${range[2]}`;
  if (/^\d+$/.test(part)) return part;
  throw new Error(`${field} "${part}" cannot be mapped to systemd`);
}

function numericField(field: string, min: number, max: number, name: string): string {
  if (field === '*') return '*';
  return field.split(',').map((part) => numericPart(part, min, max, name)).join(',');
}

function weekdayField(field: string): string {
  const names = field.split(',').flatMap((part) => {
    if (/[LW#]/i.test(part)) throw new Error(`day of week "${part}" (croner extension) has no systemd equivalent`);
    const stepped = /^(\*|\d+)(?:-(\d+))?\/(\d+)$/.exec(part);
    if (stepped) {
      const start = stepped[1] === '*' ? 0 : Number(stepped[1]);
      const end = stepped[2] === undefined ? 6 : Number(stepped[2]);
      return expandStep(start, end, Number(stepped[3])).map((day) => WEEKDAYS[day] ?? '?');
    }
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) return [`${WEEKDAYS[Number(range[1])] ?? '?'}..${WEEKDAYS[Number(range[2])] ?? '?'}`];
    if (/^\d+$/.test(part) && Number(part) <= 7) return [WEEKDAYS[Number(part)] ?? '?'];
    throw new Error(`day of week "${part}" cannot be mapped to systemd`);
  });
  return [...new Set(names)].join(',');
}

/** OnCalendar values for `expression` in `timezone` (appended unless UTC-only systemd use is wanted). */
export function onCalendar(expression: string, timezone: string): string[] {
  const fields = cronFields(expression);
  const second = numericField(fields.second, 0, 59, 'second');
  const minute = numericField(fields.minute, 0, 59, 'minute');
  const hour = numericField(fields.hour, 0, 23, 'hour');
  const day = numericField(fields.dayOfMonth, 1, 31, 'day of month');
  const month = numericField(fields.month, 1, 12, 'month');
  const time = `${hour}:${minute}:${second}`;
  const zone = ` ${timezone}`;
  const line = (weekdays: string, dayOfMonth: string) => `${weekdays === '' ? '' : `${weekdays} `}*-${month}-${dayOfMonth} ${time}${zone}`;
  if (fields.dayOfWeek === '*') return [line('', day)];
  const weekdays = weekdayField(fields.dayOfWeek);
  if (fields.dayOfMonth === '*') return [line(weekdays, '*')];
  return [line('', day), line(weekdays, '*')];
}

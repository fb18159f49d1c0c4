import cronstrue from 'cronstrue';

/**
 * A cron expression in words ("At 02:00 AM", "Every minute"), for
 * `/cron/status` and the console. croner accepts a few forms cronstrue does
 * not know; those fall back to the expression itself rather than fail status.
 */
export function describeSchedule(expression: string): string {
  try {
    return cronstrue.toString(expression, { throwExceptionOnParseError: true });
  } catch {
    return expression;
  }
}

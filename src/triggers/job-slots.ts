import { latestSlot, type ParsedSchedule } from '../jobs/schedule.js';
import type { SlotSource } from './slot.js';

/** The part of the job registry slot checks read. */
export interface ScheduleLookup {
  find(name: string): { readonly schedule: ParsedSchedule } | undefined;
}

/**
 * The slot a per-job trigger would run for `job` at `now`: the latest slot
 * of its schedule at or before `now` (what a scheduler firing now would
 * record). Undefined for an unknown job; null when the schedule has none.
 */
export function jobSlots(registry: ScheduleLookup): SlotSource {
  return (job, now) => {
    const found = registry.find(job);
    return found === undefined ? undefined : latestSlot(found.schedule, now);
  };
}

import type { CurfewMigration } from './types.js';
import { migration as m0001 } from './0001_users.js';
import { migration as m0002 } from './0002_accounts.js';
import { migration as m0003 } from './0003_auth.js';
import { migration as m0004 } from './0004_scheduler.js';
import { migration as m0005 } from './0005_triggers.js';
import { migration as m0006 } from './0006_presence.js';
import { migration as m0007 } from './0007_maintenance.js';
import { migration as m0008 } from './0008_sequences.js';
import { migration as m0009 } from './0009_lifecycle.js';
import { migration as m0012 } from './0012_ledger_detail.js';
import { migration as m0013 } from './0013_bus.js';
import { migration as m0011 } from './0011_trigger_nonces.js';
import { migration as m0014 } from './0014_job_controls.js';

/** Every migration, in order. Names are permanent once shipped. */
export const migrations: Readonly<Record<string, CurfewMigration>> = {
  '0001_users': m0001,
  '0002_accounts': m0002,
  '0003_auth': m0003,
  '0004_scheduler': m0004,
  '0005_triggers': m0005,
  '0006_presence': m0006,
  '0007_maintenance': m0007,
  '0008_sequences': m0008,
  '0009_lifecycle': m0009,
  '0012_ledger_detail': m0012,
  '0013_bus': m0013,
  '0011_trigger_nonces': m0011,
  '0014_job_controls': m0014,
};

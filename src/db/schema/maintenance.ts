/** Tables owned by src/maintenance. Times are epoch milliseconds. */

/** The last sweep of one table by a maintenance job. */
export interface MaintenanceSweepsTable {
  /** `refresh_tokens`, `session_revocations` or `sessions`. */
  table_name: string;
  job: string;
  started_at: number;
  finished_at: number;
  duration_ms: number;
  /** Rows deleted (or revoked) by that sweep. */
  rows: number;
  /** `ok`, `cancelled` or `failed`. */
  status: string;
}

export interface MaintenanceTables {
  maintenance_sweeps: MaintenanceSweepsTable;
}

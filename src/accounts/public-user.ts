import type { UserRow } from '../db/repositories/users.js';

/** The user as the API describes it: never the password hash. */
export interface PublicUser {
  readonly id: number;
  readonly email: string;
  readonly role: 'user' | 'admin';
  readonly is_active: boolean;
  readonly profile: Readonly<Record<string, unknown>>;
  readonly created_at: string;
  readonly last_login_at: string | null;
}

export function toPublicUser(row: UserRow): PublicUser {
  let profile: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(row.profile);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) profile = parsed as Record<string, unknown>;
  } catch {
    // A profile that is not JSON is shown as empty rather than failing the request.
  }
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    is_active: row.activated_at !== null && row.deactivated_at === null,
    profile,
    created_at: new Date(row.created_at).toISOString(),
    last_login_at: row.last_login_at === null ? null : new Date(row.last_login_at).toISOString(),
  };
}

/** JSON schema of PublicUser, for route response schemas. */
export const publicUserSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    email: { type: 'string' },
    role: { type: 'string', enum: ['user', 'admin'] },
    is_active: { type: 'boolean' },
    profile: { type: 'object', additionalProperties: true },
    created_at: { type: 'string' },
    last_login_at: { type: ['string', 'null'] },
  },
  required: ['id', 'email', 'role', 'is_active', 'profile', 'created_at', 'last_login_at'],
} as const;

/** Trimmed and lower-cased; the only form stored and looked up. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

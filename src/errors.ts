/**
 * API and domain errors: a stable UPPER_SNAKE code, an HTTP status and a
 * human message. One registry holds every code (docs/errors.md lists them and
 * a test keeps the two in step); the HTTP error handler maps them to
 * `{"error": {"code", "message"}}`.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  ACTIVATION_INVALID: 400,
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  UNKNOWN_FIELD: 400,
  INVALID_MULTIPART: 400,
  PASSWORD_TOO_WEAK: 400,
  RESET_TOKEN_INVALID: 400,
  EMAIL_CHANGE_INVALID: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_TOKEN: 401,
  INVALID_CLIENT: 401,
  SESSION_EXPIRED: 401,
  CRON_UNAUTHORIZED: 401,
  SIGNATURE_EXPIRED: 401,
  SIGNATURE_REPLAYED: 401,
  SLOT_MISMATCH: 401,
  FORBIDDEN: 403,
  CSRF_FAILED: 403,
  IP_NOT_ALLOWED: 403,
  PASSWORD_INCORRECT: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  SEQUENCE_NOT_FOUND: 404,
  ENROLLMENT_NOT_FOUND: 404,
  SEND_NOT_FOUND: 404,
  UNSUBSCRIBE_INVALID: 404,
  CLIENT_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  CLIENT_EXISTS: 409,
  JOB_DISABLED: 409,
  JOB_PAUSED: 409,
  CANNOT_CHANGE_OWN_ACCOUNT: 409,
  SEQUENCE_EXISTS: 409,
  SEQUENCE_HAS_ENROLLMENTS: 409,
  USER_NOT_ACTIVATED: 409,
  SEND_NOT_UNKNOWN: 409,
  ACTIVATION_EXPIRED: 410,
  REQUEST_TIMEOUT: 408,
  RESET_TOKEN_EXPIRED: 410,
  EMAIL_CHANGE_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  CRON_NOT_CONFIGURED: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Readonly<Record<string, string>> } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = ERROR_CODES[code];
    this.headers = options.headers ?? {};
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { AppError, type ErrorCode } from '../errors.js';
import { errorAnswer, sendErrorAnswer } from './error-answer.js';

export interface ErrorBody {
  error: { code: string; message: string };
}

/** JSON schema of the error envelope, for route response schemas. */
export const errorBodySchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** Sends the error envelope through the shared refusal encoder (error-answer.ts): the same bytes as the early answers. */
export function sendError(reply: FastifyReply, status: number, code: ErrorCode | string, message: string): FastifyReply {
  return sendErrorAnswer(reply, errorAnswer(status, code, message));
}

/** Seconds a client is told to wait when the database is unreachable. */
const OUTAGE_RETRY_AFTER = '5';

/** Fastify's own error codes that are the client's fault, mapped to ours. */
const FRAMEWORK_ERRORS: Record<string, { code: ErrorCode; status: number; message?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415, message: 'Unsupported Content-Type.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', status: 400, message: 'The JSON body is empty.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', status: 400, message: 'The body is not valid JSON.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', status: 413, message: 'The request body is too large.' },
  FST_REQ_FILE_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', status: 413, message: 'The request body is too large.' },
  FST_PARTS_LIMIT: { code: 'PAYLOAD_TOO_LARGE', status: 413, message: 'Too many form parts.' },
  FST_FIELDS_LIMIT: { code: 'PAYLOAD_TOO_LARGE', status: 413, message: 'Too many form fields.' },
  FST_FILES_LIMIT: { code: 'PAYLOAD_TOO_LARGE', status: 413, message: 'Too many files.' },
  FST_ERR_BAD_URL: { code: 'BAD_REQUEST', status: 400, message: 'Malformed URL.' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
};

/** busboy's plain Errors for a body that is not well-formed multipart (no code to match on). */
const MULTIPART_MESSAGE = /^(Multipart: Boundary not found|Boundary required|Unexpected end of multipart data|\w+ terminated early due to unexpected end of multipart data|Malformed )/;
const MULTIPART_CODES = new Set(['FST_MP_PREMATURE_CLOSE', 'FST_INVALID_JSON_FIELD_ERROR', 'FST_PROTO_VIOLATION']);

/** A malformed multipart body (issue 16 #4: these were 500s): the message to answer 400 INVALID_MULTIPART with, or undefined. */
function malformedMultipart(error: FastifyError | AppError, request: FastifyRequest): string | undefined {
  if (!/^multipart\//i.test(request.headers['content-type'] ?? '')) return undefined;
  if ((error.code !== undefined && MULTIPART_CODES.has(error.code)) || MULTIPART_MESSAGE.test(error.message)) {
    return 'The multipart body is malformed (missing boundary, truncated part or bad field).';
  }
  return undefined;
}

function describeValidation(error: FastifyError): { code: ErrorCode; message: string } {
  const first = error.validation?.[0];
  if (first?.keyword === 'additionalProperties') {
    const field = (first.params as { additionalProperty?: string }).additionalProperty ?? '?';
    return { code: 'UNKNOWN_FIELD', message: `Unknown field "${field}".` };
  }
  // Ajv's messages name the field and the rule but never echo the value.
  return { code: 'VALIDATION_FAILED', message: error.message };
}

/** One error handler for the whole app: every error becomes the JSON envelope. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    // A database outage is the service's state, not a bug: 503 on every route, whoever wrapped it.
    if ((!(error instanceof AppError) || error.status === 500) && isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      reply.header('retry-after', OUTAGE_RETRY_AFTER);
      return sendError(reply, 503, 'SERVICE_UNAVAILABLE', 'The database is not reachable; retry shortly.');
    }
    const multipart = malformedMultipart(error, request);
    if (multipart) return sendError(reply, 400, 'INVALID_MULTIPART', multipart);
    if (error instanceof AppError) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
      return sendError(reply, error.status, error.code, error.message);
    }
    if (error.validation) {
      const { code, message } = describeValidation(error);
      return sendError(reply, 400, code, message);
    }
    const mapped = error.code ? FRAMEWORK_ERRORS[error.code] : undefined;
    if (mapped) return sendError(reply, mapped.status, mapped.code, mapped.message ?? error.message);
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendError(reply, status, status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', error.message);
    }
    // The client hung up while its body was being read: nobody to answer, nothing to alarm anyone about.
    if (error.code === 'ECONNRESET' && error.message === 'aborted') {
      request.log.info('request aborted by the client');
      return sendError(reply, 400, 'BAD_REQUEST', 'The request was aborted.');
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 500, 'INTERNAL_ERROR', 'Something went wrong; the error has been logged.');
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'ROUTE_NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0] ?? ''}.`),
  );
}

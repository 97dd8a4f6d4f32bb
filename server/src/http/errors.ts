import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, DATABASE_RETRY_AFTER_SECONDS, statusOf } from '../errors.js';
import { isStoreUnavailable } from '../store/unavailable.js';

export function sendError(req: Request, res: Response, status: number, code: string, message: string, details?: unknown): void {
  if (res.headersSent) return;
  res.status(status).json({ error: { code, message, ...(details ? { details } : {}) }, request_id: req.requestId });
}

/** Unknown routes answer 404 in the error model. */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(req, res, 404, 'not_found', `There is no ${req.method} ${req.path} endpoint. See /api-docs for the API reference.`);
};

/** The one place errors become responses; anything unexpected is logged and answered with a generic 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (error instanceof AppError) {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      sendError(req, res, statusOf(error), error.code, error.message, error.details);
      return;
    }
    // the database does not answer (down, cut, timed out): a retryable 503, logged without the driver's stack
    if (isStoreUnavailable(error)) {
      logger.warn({ request_id: req.requestId, method: req.method, path: req.path, reason: error.reason }, 'database unavailable: answered 503');
      res.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      return sendError(req, res, 503, 'database_unavailable', `The database does not answer at the moment; nothing was changed unless a retry finds it done. Retry after ${DATABASE_RETRY_AFTER_SECONDS} seconds (with the same Idempotency-Key for creates).`);
    }
    // errors raised by body-parser before any route runs
    const type = (error as { type?: string }).type;
    if (type === 'entity.parse.failed') return sendError(req, res, 400, 'invalid_json', 'The request body is not valid JSON.');
    if (type === 'entity.too.large') return sendError(req, res, 413, 'payload_too_large', 'The request body is larger than 1 MB.');
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') return sendError(req, res, 415, 'unsupported_encoding', 'The request body encoding is not supported; send UTF-8 JSON.');
    const status = (error as { status?: number; statusCode?: number }).status ?? (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(req, res, status, 'bad_request', 'The request could not be processed.');
    }
    logger.error({ err: error, request_id: req.requestId, method: req.method, path: req.path }, 'unhandled error');
    sendError(req, res, 500, 'internal_error', `Something went wrong on our side. Quote request id ${req.requestId} if you contact support.`);
  };
}

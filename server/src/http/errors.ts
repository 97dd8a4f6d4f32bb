import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, statusOf } from '../errors.js';

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

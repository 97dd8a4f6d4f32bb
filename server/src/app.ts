import express, { type RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import pino, { type Logger } from 'pino';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { Config } from './config.js';
import type { Context } from './context.js';
import type { Store } from './store/store.js';
import { loadPlans } from './workspaces/plans.js';
import { WorkspaceService } from './workspaces/service.js';
import { KeyService } from './keys/service.js';
import { KeyActivity } from './keys/activity.js';
import { SessionService } from './auth/sessions.js';
import { authRoutes } from './auth/routes.js';
import { meRoutes } from './workspaces/routes.js';
import { keyRoutes } from './keys/routes.js';
import { mountRoutes } from './http/mount.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { requestLog } from './http/request-log.js';
import type { AnyRoute } from './http/route.js';
import { buildOpenApiDocument, docsRouter } from './docs/openapi.js';

export interface AppOptions {
  config: Config;
  store: Store;
  clock?: Clock;
  logger?: Logger;
}

export interface QrflowApp {
  /** Node's request listener: the redirect fast path, then Express. */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  express: express.Express;
  ctx: Context;
  routes: readonly AnyRoute[];
  services: { workspaces: WorkspaceService; keys: KeyService; sessions: SessionService; activity: KeyActivity };
  openapi: () => Record<string, unknown>;
  /** Starts background work (webhook delivery, scan flushing). */
  start: () => Promise<void>;
  /** Stops timers and writes what is buffered (the store is closed by its owner). */
  stop: () => Promise<void>;
}

/** Builds the whole application without listening, so tests and the server share it. */
export function createApp(options: AppOptions): QrflowApp {
  const logger = options.logger ?? pino({ level: options.config.logLevel });
  const ctx: Context = {
    store: options.store,
    config: options.config,
    clock: options.clock ?? systemClock,
    plans: loadPlans(options.config.plansFile),
    logger,
  };
  const workspaces = new WorkspaceService(ctx);
  const keys = new KeyService(ctx, workspaces);
  const sessions = new SessionService(ctx, workspaces);
  const activity = new KeyActivity(ctx);

  const recordKeyUse: RequestHandler = (req, res, next) => {
    const key = req.auth?.key;
    if (key) {
      keys.touch(key);
      res.on('finish', () => {
        activity.record(key.id, key.workspace_id, {
          time: new Date(ctx.clock.now()).toISOString(),
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ip: req.ip ?? '',
        });
      });
    }
    next();
  };

  const routes: AnyRoute[] = [...authRoutes(sessions), ...meRoutes(), ...keyRoutes(ctx, keys, activity)];

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (ctx.config.trustProxy) app.set('trust proxy', ctx.config.trustProxy);
  app.use(requestLog(logger));
  app.use(express.json({ limit: '1mb', strict: true, type: ['application/json', 'application/*+json'] }));

  const registry = new OpenAPIRegistry();
  const router = express.Router();
  mountRoutes(router, registry, routes, { authenticator: { keys, sessions, workspaces }, afterAuth: [recordKeyUse] });
  const openapi = () => buildOpenApiDocument(registry, ctx.config.publicUrl);
  app.use(docsRouter(openapi));
  app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    app(req as never, res as never);
  };

  return {
    listener,
    express: app,
    ctx,
    routes,
    services: { workspaces, keys, sessions, activity },
    openapi,
    start: async () => {},
    stop: async () => {
      activity.stop();
    },
  };
}

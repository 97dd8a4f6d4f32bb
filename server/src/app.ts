import { geoLookup } from './geo/lookup.js';
import express, { type RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import pino, { type Logger } from 'pino';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { Config } from './config.js';
import type { Context } from './context.js';
import type { Store } from './store/store.js';
import type { ScanStorage } from './store/scans.js';
import { loadPlans } from './workspaces/plans.js';
import { WorkspaceService } from './workspaces/service.js';
import { KeyService } from './keys/service.js';
import { KeyActivity } from './keys/activity.js';
import { SessionService } from './auth/sessions.js';
import { authRoutes } from './auth/routes.js';
import { CsrfGuard } from './auth/csrf.js';
import { confirmAuth } from './auth/middleware.js';
import { SetupService } from './setup/service.js';
import { setupRoutes } from './setup/routes.js';
import { MemberService } from './members/service.js';
import { memberRoutes } from './members/routes.js';
import { ConfigError } from './config.js';
import { meRoutes } from './workspaces/routes.js';
import { keyRoutes } from './keys/routes.js';
import { mountRoutes } from './http/mount.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { requestLog } from './http/request-log.js';
import { fastJson, routeTableListener } from './http/express-compat.js';
import type { AnyRoute } from './http/route.js';
import { describeMiddleware } from './http/answers.js';
import { buildOpenApiDocument, docsRouter } from './docs/openapi.js';
import { consoleRouter } from './console/static.js';
import { redisPinger } from './health/redis.js';
import { healthRoutes } from './health/routes.js';
import { AnalyticsService } from './analytics/service.js';
import { OrphanService } from './analytics/orphans.js';
import { analyticsRoutes } from './analytics/routes.js';
import { EventService } from './events/service.js';
import { eventRoutes } from './events/routes.js';
import { ImageRenderer } from './images/renderer.js';
import { generateRoutes } from './images/generate-routes.js';
import { QrService } from './qr/service.js';
import { qrRoutes } from './qr/routes.js';
import { LogoService } from './qr/logo.js';
import { logoRoutes } from './qr/logo-routes.js';
import { bulkRoutes } from './qr/bulk-routes.js';
import { BulkService } from './qr/bulk.js';
import { DomainService, type TxtResolver } from './domains/service.js';
import { domainRoutes } from './domains/routes.js';
import { ScanRecorder } from './redirect/recorder.js';
import { redirectHandler } from './redirect/handler.js';
import { codeLookupFor } from './redirect/code-cache.js';
import { UsageMeter } from './usage/meter.js';
import { perMinuteLimiter } from './usage/rate-limit.js';
import { SharedRedis } from './redis/client.js';
import { CoherentReads } from './store/coherent-reads.js';
import { useRequestScopes } from './request-scope.js';
import { usageRoutes } from './usage/routes.js';
import { DeliveryWorker } from './webhooks/delivery.js';
import { openJobQueue } from './store/open-store.js';
import { QueuedDeliveries } from './webhooks/queued-deliveries.js';
import { webhookRoutes } from './webhooks/routes.js';
import { WebhookService } from './webhooks/service.js';
import { sendTestEvent } from './webhooks/test-event.js';

/** The largest JSON body accepted (body-parser's syntax); larger ones answer 413 `payload_too_large`. */
export const JSON_BODY_LIMIT = '1mb';

export interface AppOptions {
  config: Config;
  store: Store;
  clock?: Clock;
  logger?: Logger;
  /** Looks up custom domains' TXT records (default: the system's DNS resolvers); tests pass a fake. */
  resolveTxt?: TxtResolver;
}

export interface QrflowApp {
  /** Node's request listener: the redirect fast path, the route table, then Express (docs, console, 404). */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  express: express.Express;
  ctx: Context;
  routes: readonly AnyRoute[];
  services: {
    workspaces: WorkspaceService;
    keys: KeyService;
    sessions: SessionService;
    activity: KeyActivity;
    qr: QrService;
    scans: ScanStorage;
    recorder: ScanRecorder;
    meter: UsageMeter;
    events: EventService;
    renderer: ImageRenderer;
    webhooks: WebhookService;
    deliveries: DeliveryWorker;
    domains: DomainService;
  };
  openapi: () => Record<string, unknown>;
  /** Starts background work (webhook delivery, scan flushing). */
  start: () => Promise<void>;
  /** Stops timers and writes what is buffered (the store is closed by its owner). */
  stop: () => Promise<void>;
}

/** Builds the whole application without listening, so tests and the server share it. */
export async function createApp(options: AppOptions): Promise<QrflowApp> {
  const logger = options.logger ?? pino({ level: options.config.logLevel });
  // every commit that queues a webhook delivery also hands it to the delivery worker
  const queuedDeliveries = new QueuedDeliveries(options.store);
  // one Redis connection for what processes share: limits, monthly allowances, the generations of coherent reads
  // (none: each process counts alone)
  const redis = options.config.redisUrl ? new SharedRedis(options.config.redisUrl, options.config.redisPrefix, logger) : undefined;
  await redis?.started;
  if (redis) useRequestScopes();
  // on a store shared by several processes, keys, workspaces and codes are read from memory when Redis says that
  // nothing changed them since (see CoherentReads); a single process's embedded store is in memory already
  const coherent = redis && options.store.follow ? new CoherentReads(queuedDeliveries.store, redis) : undefined;
  const ctx: Context = {
    store: coherent?.store ?? queuedDeliveries.store,
    config: options.config,
    clock: options.clock ?? systemClock,
    plans: loadPlans(options.config.plansFile),
    logger,
  };
  const workspaces = new WorkspaceService(ctx);
  const keys = new KeyService(ctx, workspaces);
  const sessions = new SessionService(ctx, workspaces);
  const activity = new KeyActivity(ctx);
  const scans = options.store.scans;
  const events = new EventService(ctx);
  const domains = new DomainService(ctx, options.resolveTxt);
  await domains.start();
  const qr = new QrService(ctx, events, coherent ? coherent.scanCounter((id) => scans.humanCount(id)) : (id) => scans.humanCount(id), domains);
  const analytics = new AnalyticsService(scans, ctx.clock);
  const recorder = new ScanRecorder(ctx, scans, events);
  // the redirect hashes visitors with the day's salt synchronously: loaded from the scan storage before serving
  await recorder.ready();
  const webhooks = new WebhookService(ctx);
  // on PostgreSQL a job queue shared by every process; on the embedded store the worker's own memory
  const deliveryJobs = openJobQueue(ctx.config, 'webhook-deliveries', (error) => logger.warn({ reason: error.message }, 'webhook job queue: database error (retried)'));
  const deliveries = new DeliveryWorker(ctx, queuedDeliveries, {}, deliveryJobs);
  const renderer = new ImageRenderer();
  const logos = new LogoService(ctx, qr, events, renderer);
  const meter = new UsageMeter(ctx, redis, coherent);
  const limiter = perMinuteLimiter(redis, meter);
  const redisHealth = ctx.config.rateLimitRedisUrl ? redisPinger(ctx.config.rateLimitRedisUrl) : undefined;

  const recordKeyUse: RequestHandler = (req, _res, next) => {
    if (req.auth?.key) keys.touch(req.auth.key);
    next();
  };
  // each key's activity log, from the request log's 'finish' listener
  const recordKeyActivity = (req: express.Request, res: express.Response) => {
    const key = req.auth?.key;
    if (!key) return;
    // without a trusted proxy req.ip is the socket's address; asking Express parses X-Forwarded-For only to ignore it
    const ip = ctx.config.trustProxy ? req.ip : req.socket.remoteAddress;
    activity.record(key.id, key.workspace_id, { time: new Date(ctx.clock.now()).toISOString(), method: req.method, path: req.path, status: res.statusCode, ip: ip ?? '' });
  };

  const authenticator = { keys, sessions, workspaces };
  const csrf = new CsrfGuard(ctx.config);
  if (!ctx.plans[ctx.config.defaultPlan]) {
    throw new ConfigError(`QRFLOW_DEFAULT_PLAN is "${ctx.config.defaultPlan}", which is not a plan. Known plans: ${Object.keys(ctx.plans).join(', ')}.`);
  }
  const setup = new SetupService(ctx, workspaces, sessions);
  const members = new MemberService(ctx, workspaces);
  // after authentication on every authenticated route: per-minute limit, monthly allowance, key last-used
  const afterAuth = [limiter, meter.middleware(), ...(coherent ? [confirmAuth(authenticator, coherent, meter)] : []), recordKeyUse];
  const routes: AnyRoute[] = [
    ...authRoutes({ config: ctx.config, sessions, csrf, redis }),
    ...setupRoutes({ config: ctx.config, setup, csrf }),
    ...memberRoutes(members),
    ...meRoutes(),
    ...keyRoutes(ctx, keys, activity),
    ...domainRoutes(domains),
    // before qrRoutes: /api/v1/qr/bulk is not a code id
    ...bulkRoutes(new BulkService(ctx, qr, (auth, n) => meter.takeCalls(auth, n))),
    ...qrRoutes(qr, renderer, analytics, meter, logos),
    ...logoRoutes(logos),
    ...analyticsRoutes(new OrphanService(scans, ctx.clock)),
    ...eventRoutes(ctx, scans),
    ...usageRoutes(ctx, meter),
    ...generateRoutes({ authenticator, renderer, credits: meter, afterAuth }),
    ...webhookRoutes(webhooks, (hook) => sendTestEvent(ctx, deliveries, hook)),
    ...healthRoutes(ctx, redisHealth),
  ];

  const registry = new OpenAPIRegistry();
  // the errors it raises become these answers in http/errors.ts
  const bodyParser = describeMiddleware(express.json({ limit: JSON_BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] }), {
    answers: [
      { status: 400, codes: ['invalid_json'], when: 'The body is not valid JSON' },
      { status: 413, codes: ['payload_too_large'], when: `The body is larger than ${JSON_BODY_LIMIT.toUpperCase().replace('MB', ' MB')}` },
      { status: 415, codes: ['unsupported_encoding'], when: 'The body has a Content-Encoding or charset other than UTF-8 JSON (identity, gzip, deflate or br)' },
    ],
  });
  const dispatch = mountRoutes(registry, routes, { authenticator, afterAuth, bodyParser, csrf: csrf.forCookieSessions });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.response.json = fastJson;
  if (ctx.config.trustProxy) app.set('trust proxy', ctx.config.trustProxy);
  // Express answers what the route table does not: the API docs, then 404 in the error model
  const openapi = () => buildOpenApiDocument(registry, ctx.config.publicUrl);
  app.use(docsRouter(openapi));
  // the owners' console (web/dist) for GET/HEAD of pages and its files; the API's unknown paths stay JSON 404s
  app.use(consoleRouter({ dir: ctx.config.consoleDir, https: ctx.config.publicUrl.startsWith('https:') }));
  app.use(notFoundHandler);
  const handleError = errorHandler(logger);
  app.use(handleError);

  // the route table runs on the server's own request classes, outside Express's router (see express-compat.ts)
  const api = routeTableListener({ app, log: requestLog(logger, recordKeyActivity), dispatch, handleError, logger });

  // the codes the redirect serves: followed in memory on a store shared by processes (the raw store: it has the feed)
  const codes = codeLookupFor(options.store);
  const redirect = redirectHandler(ctx, recorder, codes, domains, { countScans: (id) => scans.humanCount(id), redis, geoLookup });
  // opt-in (QRFLOW_DIAGNOSTICS=true, loopback only): the module is not even loaded otherwise
  const diagnostics = ctx.config.diagnostics ? (await import('./http/diagnostics.js')).eventLoopDiagnostics() : undefined;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (redirect(req, res)) return;
    if (diagnostics?.(req, res)) return;
    api(req, res);
  };
  // retention: idempotency keys (24 h), expired sessions, events beyond 30 days / 10,000 per workspace
  const sweeper = setInterval(() => {
    void Promise.all([qr.sweepIdempotency(), sessions.sweep(), events.sweep()]).catch((error: unknown) => logger.error({ err: error }, 'retention sweep failed'));
  }, 10 * 60_000);
  sweeper.unref();

  return {
    listener,
    express: app,
    ctx,
    routes,
    services: { workspaces, keys, sessions, activity, qr, scans, recorder, meter, events, renderer, webhooks, deliveries, domains },
    openapi,
    start: async () => {
      await codes.start();
      await deliveries.start();
    },
    stop: async () => {
      await deliveries.stop();
      await codes.stop();
      redirect.stop();
      domains.stop();
      clearInterval(sweeper);
      await activity.stop();
      await meter.stop();
      await recorder.stop();
      await renderer.close();
      await redisHealth?.close();
      await redis?.close();
    },
  };
}

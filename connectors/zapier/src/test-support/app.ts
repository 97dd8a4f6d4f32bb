// The app under test, without nock: the end-to-end test imports this, because merely loading nock patches
// Node's http module for the whole process, including the real server's outgoing webhook deliveries.
import zapier from 'zapier-platform-core';

import App from '../index.js';

// Outside Zapier, core would patch http.request process-wide to log calls, and its patch drops the options of
// `http.request(url, options)`: the real server that the end-to-end test runs in this process would then send
// its webhook POSTs as bodiless GETs. The app makes every call through z.request, so the patch logs nothing of it.
const appTester = zapier.createAppTester({ ...App, flags: { ...App.flags, skipHttpPatch: true } });

type Method = (...args: never[]) => unknown;
interface LooseOperation {
  perform: Method;
  performList?: Method;
  performSubscribe?: Method;
  performUnsubscribe?: Method;
  inputFields: unknown[];
  sample?: Record<string, unknown>;
  outputFields?: { key: string; label?: string; type?: string }[];
  canPaginate?: boolean;
}
interface LooseAction {
  key: string;
  display: { label?: string; description?: string; hidden?: boolean };
  operation: LooseOperation;
}

/**
 * The app with the precise definition types loosened, so tests can reach any operation's functions.
 * The functions themselves are the app's own: appTester finds them by identity and runs them under their real path.
 */
export const app = App as unknown as {
  triggers: Record<keyof typeof App.triggers, LooseAction>;
  creates: Record<keyof typeof App.creates, LooseAction>;
  searches: Record<keyof typeof App.searches, LooseAction>;
  hydrators: { downloadQrImage: Method };
  searchOrCreates: Record<string, { search: string; create: string }>;
  authentication: { test: Method; connectionLabel: Method; fields: { key: string; type?: string; helpText?: string }[] };
};

/** Runs one of the app's functions (or an ad hoc `(z, bundle) => ...`) the way Zapier would. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test results are asserted on, not typed
export function run<T = any>(method: unknown, bundle: Record<string, unknown> = {}): Promise<T> {
  return appTester(method as never, bundle as never) as Promise<T>;
}

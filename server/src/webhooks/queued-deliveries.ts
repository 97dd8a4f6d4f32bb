import type { DeliveryRecord } from '../store/records.js';
import type { Store } from '../store/store.js';

type Listener = (delivery: DeliveryRecord) => void;

/**
 * Wraps the store so the delivery worker hears of every delivery queued by any feature (QR changes, the
 * scan recorder) once its commit is durable, without each caller having to remember to notify it and
 * without the worker scanning the deliveries collection.
 */
export class QueuedDeliveries {
  readonly store: Store;
  private readonly listeners = new Set<Listener>();

  constructor(inner: Store) {
    const notify = (ops: Parameters<Store['commit']>[0]) => {
      for (const op of ops) {
        if (op.collection === 'deliveries' && 'put' in op) for (const listener of this.listeners) listener(op.put as DeliveryRecord);
      }
    };
    this.store = {
      scans: inner.scans,
      get: (collection, id) => inner.get(collection, id),
      findUnique: (collection, index, value) => inner.findUnique(collection, index, value),
      findMany: (collection, index, value) => inner.findMany(collection, index, value),
      countMany: (collection, index, value) => inner.countMany(collection, index, value),
      all: (collection) => inner.all(collection),
      countByWorkspace: (collection, workspaceId) => inner.countByWorkspace(collection, workspaceId),
      listPage: (collection, workspaceId, page) => inner.listPage(collection, workspaceId, page),
      commit: async (ops) => {
        await inner.commit(ops);
        notify(ops);
      },
      commitSoon: (ops) => {
        inner.commitSoon(ops);
        notify(ops);
      },
      ping: () => inner.ping(),
      close: () => inner.close(),
    };
  }

  /** Calls `listener` with each delivery put after its commit; returns the unsubscribe function. */
  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

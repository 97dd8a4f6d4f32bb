import { expect, it } from 'vitest';
import { JOB_SCHEMA, PgBossJobQueue } from './job-queue.js';
import { createTestDatabase, describePostgres } from './test-database.js';

await describePostgres('the PostgreSQL job queue (pg-boss)', (serverUrl) => {
  it('starts in every process when several start together on a new database (pg-boss may deadlock making the queue)', async () => {
    // before the retry, 3 to 4 of 18 such starts failed with "deadlock detected"
    for (let round = 0; round < 4; round++) {
      const database = await createTestDatabase(serverUrl);
      const queues = Array.from({ length: 3 }, () => new PgBossJobQueue(database.url, 'deliveries', () => undefined));
      try {
        const started = await Promise.allSettled(queues.map((queue) => queue.start({ expireSeconds: 60, retrySeconds: 10 })));
        expect(started.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason))).toEqual([]);
        const { rows } = await database.pool.query<{ n: number }>(`SELECT count(*)::integer AS n FROM ${JOB_SCHEMA}.queue WHERE name = 'deliveries'`);
        expect(rows[0]?.n).toBe(1);
      } finally {
        for (const queue of queues) await queue.stop(100);
        await database.drop();
      }
    }
  }, 120_000);
});

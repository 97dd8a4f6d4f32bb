import { Kysely, type Migration, Migrator, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';

/**
 * The versioned schema, applied in name order by Kysely's Migrator and recorded in `qrflow_migrations`.
 * A migration is never edited once released: a change is a new entry. Records are jsonb, so a new optional
 * record field needs no migration; a new index or ordering does.
 */
const TABLE_0001: ReadonlyArray<{ name: string; columns: string[]; unique: string[]; multi: string[]; ordered?: boolean }> = [
  { name: 'workspaces', columns: ['name'], unique: ['name'], multi: [] },
  { name: 'users', columns: ['email'], unique: ['email'], multi: [] },
  { name: 'members', columns: ['user_id'], unique: [], multi: ['workspace_id', 'user_id'] },
  { name: 'keys', columns: ['hash'], unique: ['hash'], multi: ['workspace_id'] },
  { name: 'sessions', columns: ['token_hash', 'user_id'], unique: ['token_hash'], multi: ['user_id'] },
  { name: 'qrcodes', columns: ['short_code'], unique: ['short_code'], multi: [], ordered: true },
  { name: 'tombstones', columns: [], unique: [], multi: [] },
  { name: 'idempotency', columns: [], unique: [], multi: [] },
  { name: 'usage', columns: [], unique: [], multi: ['workspace_id'] },
  { name: 'key_activity', columns: [], unique: [], multi: [] },
  { name: 'webhooks', columns: [], unique: [], multi: ['workspace_id'] },
  { name: 'events', columns: [], unique: [], multi: [], ordered: true },
  { name: 'deliveries', columns: ['webhook_id'], unique: [], multi: ['webhook_id'] },
  { name: 'delivery_logs', columns: [], unique: [], multi: [] },
];

/** 0009's packed scans, one row a scan in `scan_rows`' column order (its view, and its down step's copy back). */
const PACKED_SCANS_0009 = `SELECT p.first_id + u.i - 1, p.at + u.ms * interval '1 millisecond', p.qr_id, p.workspace_id, u.visitor, u.country, u.device, u.os, u.browser, u.referrer, u.bot, u.variant, u.region, u.city
  FROM scan_packs p CROSS JOIN LATERAL unnest(p.ms, p.visitors, p.countries, p.devices, p.oss, p.browsers, p.referrers, p.bots, p.variants, p.regions, p.cities)
    WITH ORDINALITY AS u(ms, visitor, country, device, os, browser, referrer, bot, variant, region, city, i)`;

/** The SQLSTATE qrflow_check_cap (0007) raises when a commit would pass a CapOp. */
export const CAP_EXCEEDED = 'QF001';

/**
 * The channel on which every write to a followed table (0002) notifies `table:id`. Since 0011 qrflow listens on
 * RECORD_CHANNEL; this one hears writes only while processes of an earlier version listen (a rolling upgrade).
 */
export const CHANGE_CHANNEL = 'qrflow_changes';

/**
 * The channel on which every write to a followed table (0011) notifies the record itself, so that no process reads
 * it back: `=table {record as JSON}` for a record written, `-table id` for one deleted, and `?table id` for a record
 * whose notice would pass PostgreSQL's 8,000-byte payload limit (the listener reads that one back).
 */
export const RECORD_CHANNEL = 'qrflow_records';

/** The largest NOTIFY payload PostgreSQL takes (bytes; its limit is "shorter than 8000"). */
const MAX_PAYLOAD_BYTES = 7999;

export const MIGRATIONS: Record<string, Migration> = {
  '0001_records': {
    async up(db) {
      for (const table of TABLE_0001) {
        const extra = table.columns.map((column) => `, "${column}" text COLLATE "C"`).join('');
        // ids and ISO times compare as the embedded store compares strings: by code point, not by locale
        await sql.raw(`CREATE TABLE "${table.name}" (id text COLLATE "C" PRIMARY KEY, workspace_id text COLLATE "C", created_at text COLLATE "C"${extra}, data jsonb NOT NULL)`).execute(db);
        for (const field of table.unique) await sql.raw(`CREATE UNIQUE INDEX "${table.name}_${field}_unique" ON "${table.name}" ("${field}")`).execute(db);
        for (const field of table.multi) await sql.raw(`CREATE INDEX "${table.name}_${field}_idx" ON "${table.name}" ("${field}")`).execute(db);
        if (table.ordered) await sql.raw(`CREATE INDEX "${table.name}_workspace_order_idx" ON "${table.name}" (workspace_id, created_at, id)`).execute(db);
      }
    },
    async down(db) {
      for (const table of [...TABLE_0001].reverse()) await sql.raw(`DROP TABLE "${table.name}"`).execute(db);
    },
  },
  // every process keeps the codes it redirects in memory and hears of each change through LISTEN/NOTIFY
  '0002_change_notify': {
    async up(db) {
      await sql.raw(`CREATE FUNCTION qrflow_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('${CHANGE_CHANNEL}', TG_TABLE_NAME || ':' || OLD.id);
  ELSE
    PERFORM pg_notify('${CHANGE_CHANNEL}', TG_TABLE_NAME || ':' || NEW.id);
  END IF;
  RETURN NULL;
END $$`).execute(db);
      for (const table of ['qrcodes', 'tombstones']) {
        await sql.raw(`CREATE TRIGGER "${table}_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION qrflow_notify_change()`).execute(db);
      }
    },
    async down(db) {
      for (const table of ['qrcodes', 'tombstones']) await sql.raw(`DROP TRIGGER "${table}_notify_change" ON "${table}"`).execute(db);
      await sql.raw('DROP FUNCTION qrflow_notify_change()').execute(db);
    },
  },
  '0003_scans': {
    async up(db) {
      // every scan, partitioned by month (partitions are made ahead by postgres/scans.ts); the id is the number in
      // evt_scan_N, so it comes from a sequence starting at 0, as positions in the embedded scan log do
      await sql.raw(`CREATE SEQUENCE scans_id_seq AS bigint MINVALUE 0 START 0`).execute(db);
      await sql
        .raw(
          `CREATE TABLE scans (
            id bigint NOT NULL, scanned_at timestamptz NOT NULL,
            qr_id text COLLATE "C" NOT NULL, workspace_id text COLLATE "C" NOT NULL, visitor integer NOT NULL,
            country text NOT NULL, device text NOT NULL, os text NOT NULL, browser text NOT NULL, referrer text NOT NULL,
            bot boolean NOT NULL,
            PRIMARY KEY (id, scanned_at)
          ) PARTITION BY RANGE (scanned_at)`,
        )
        .execute(db);
      await sql.raw(`CREATE INDEX scans_qr_time_idx ON scans (qr_id, scanned_at)`).execute(db);
      await sql.raw(`CREATE INDEX scans_workspace_time_idx ON scans (workspace_id, scanned_at, id) WHERE NOT bot`).execute(db);
      // roll-ups, written in the same transaction as the scans they count: per code and quarter hour (time series and
      // visitors: every time zone's day starts on a quarter hour), per code, UTC day and value (breakdowns), per code
      await sql
        .raw(`CREATE TABLE scan_quarters (qr_id text COLLATE "C" NOT NULL, quarter bigint NOT NULL, bot boolean NOT NULL, scans integer NOT NULL, visitors integer[] NOT NULL, PRIMARY KEY (qr_id, quarter, bot))`)
        .execute(db);
      await sql
        .raw(
          `CREATE TABLE scan_day_values (qr_id text COLLATE "C" NOT NULL, day integer NOT NULL, bot boolean NOT NULL, dimension text COLLATE "C" NOT NULL, value text COLLATE "C" NOT NULL, scans integer NOT NULL, PRIMARY KEY (qr_id, day, bot, dimension, value))`,
        )
        .execute(db);
      await sql.raw(`CREATE TABLE scan_totals (qr_id text COLLATE "C" PRIMARY KEY, humans bigint NOT NULL, bots bigint NOT NULL)`).execute(db);
    },
    async down(db) {
      for (const table of ['scan_totals', 'scan_day_values', 'scan_quarters', 'scans']) await sql.raw(`DROP TABLE "${table}"`).execute(db);
      await sql.raw(`DROP SEQUENCE scans_id_seq`).execute(db);
    },
  },
  // custom domains: a short code is unique per domain (route_key), codes are found by domain, domains are a table
  '0004_custom_domains': {
    async up(db) {
      await sql.raw(`ALTER TABLE "qrcodes" ADD COLUMN "route_key" text COLLATE "C", ADD COLUMN "domain" text COLLATE "C"`).execute(db);
      // every code made before custom domains is on the default public URL, where the route key is the short code
      await sql.raw(`UPDATE "qrcodes" SET "route_key" = "short_code", data = data || jsonb_build_object('route_key', "short_code", 'domain', NULL) WHERE "short_code" IS NOT NULL`).execute(db);
      await sql.raw(`CREATE UNIQUE INDEX "qrcodes_route_key_unique" ON "qrcodes" ("route_key")`).execute(db);
      await sql.raw(`CREATE INDEX "qrcodes_domain_idx" ON "qrcodes" ("domain")`).execute(db);
      await sql.raw(`DROP INDEX "qrcodes_short_code_unique"`).execute(db);
      await sql.raw(`ALTER TABLE "qrcodes" DROP COLUMN "short_code"`).execute(db);
      await sql.raw(`CREATE TABLE "domains" (id text COLLATE "C" PRIMARY KEY, workspace_id text COLLATE "C", created_at text COLLATE "C", "hostname" text COLLATE "C", data jsonb NOT NULL)`).execute(db);
      await sql.raw(`CREATE UNIQUE INDEX "domains_hostname_unique" ON "domains" ("hostname")`).execute(db);
      await sql.raw(`CREATE INDEX "domains_workspace_id_idx" ON "domains" ("workspace_id")`).execute(db);
    },
    async down(db) {
      await sql.raw(`DROP TABLE "domains"`).execute(db);
      await sql.raw(`ALTER TABLE "qrcodes" ADD COLUMN "short_code" text COLLATE "C"`).execute(db);
      await sql.raw(`UPDATE "qrcodes" SET "short_code" = data->>'short_code'`).execute(db);
      await sql.raw(`CREATE UNIQUE INDEX "qrcodes_short_code_unique" ON "qrcodes" ("short_code")`).execute(db);
      await sql.raw(`DROP INDEX "qrcodes_domain_idx"`).execute(db);
      await sql.raw(`DROP INDEX "qrcodes_route_key_unique"`).execute(db);
      await sql.raw(`ALTER TABLE "qrcodes" DROP COLUMN "route_key", DROP COLUMN "domain"`).execute(db);
    },
  },
  // logos of branded codes: one record per code, found by the code's id
  '0005_logos': {
    async up(db) {
      await sql.raw(`CREATE TABLE "logos" (id text COLLATE "C" PRIMARY KEY, workspace_id text COLLATE "C", created_at text COLLATE "C", data jsonb NOT NULL)`).execute(db);
    },
    async down(db) {
      await sql.raw(`DROP TABLE "logos"`).execute(db);
    },
  },
  // scans gain their A/B variant, region and city (GeoIP); orphan scans (of unknown, paused, expired, limit-reached
  // and deleted codes) are counted per scope (a workspace, or '' for the server), UTC day and reason
  '0006_scan_dimensions': {
    async up(db) {
      // on the partitioned parent: every month partition gains the columns (nullable, so no row is rewritten)
      await sql.raw(`ALTER TABLE scans ADD COLUMN variant smallint, ADD COLUMN region text, ADD COLUMN city text`).execute(db);
      // scans from before have no region or city: their days count them as "unknown", as the embedded log does
      for (const dimension of ['region', 'city']) {
        await sql
          .raw(`INSERT INTO scan_day_values (qr_id, day, bot, dimension, value, scans) SELECT qr_id, day, bot, '${dimension}', 'unknown', sum(scans) FROM scan_day_values WHERE dimension = 'country' GROUP BY qr_id, day, bot ON CONFLICT DO NOTHING`)
          .execute(db);
      }
      await sql
        .raw(`CREATE TABLE scan_orphans (scope text COLLATE "C" NOT NULL, day integer NOT NULL, reason text COLLATE "C" NOT NULL, humans bigint NOT NULL, bots bigint NOT NULL, PRIMARY KEY (scope, day, reason))`)
        .execute(db);
    },
    async down(db) {
      await sql.raw(`DROP TABLE scan_orphans`).execute(db);
      await sql.raw(`DELETE FROM scan_day_values WHERE dimension IN ('variant', 'region', 'city')`).execute(db);
      await sql.raw(`ALTER TABLE scans DROP COLUMN variant, DROP COLUMN region, DROP COLUMN city`).execute(db);
    },
  },
  // the codes of each workspace (partition: `ws_…:test` is its own), counted by a trigger in the transaction that
  // inserts or deletes them, so that a commit's CapOp reads an exact count (qrflow_check_cap) without a count(*);
  // and qrflow_check_absent, an AbsentOp's statement
  '0007_qr_counts': {
    async up(db) {
      await sql.raw(`CREATE TABLE qr_counts (workspace_id text COLLATE "C" PRIMARY KEY, codes bigint NOT NULL)`).execute(db);
      await sql.raw(`CREATE FUNCTION qrflow_count_codes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.workspace_id IS NOT NULL THEN
    UPDATE qr_counts SET codes = codes - 1 WHERE workspace_id = OLD.workspace_id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.workspace_id IS NOT NULL THEN
    INSERT INTO qr_counts (workspace_id, codes) VALUES (NEW.workspace_id, 1) ON CONFLICT (workspace_id) DO UPDATE SET codes = qr_counts.codes + 1;
  END IF;
  RETURN NULL;
END $$`).execute(db);
      // the trigger first: it locks out writers (older processes during a rolling upgrade too) until the count is filled
      await sql.raw(`CREATE TRIGGER "qrcodes_count" AFTER INSERT OR DELETE ON "qrcodes" FOR EACH ROW EXECUTE FUNCTION qrflow_count_codes()`).execute(db);
      await sql
        .raw(`CREATE TRIGGER "qrcodes_count_move" AFTER UPDATE OF workspace_id ON "qrcodes" FOR EACH ROW WHEN (OLD.workspace_id IS DISTINCT FROM NEW.workspace_id) EXECUTE FUNCTION qrflow_count_codes()`)
        .execute(db);
      await sql.raw(`INSERT INTO qr_counts (workspace_id, codes) SELECT workspace_id, count(*) FROM "qrcodes" WHERE workspace_id IS NOT NULL GROUP BY workspace_id`).execute(db);
      // a CapOp: raises CAP_EXCEEDED (DETAIL: the tag of the commit, then the count) when the workspace holds more than at_most
      await sql.raw(`CREATE FUNCTION qrflow_check_cap(workspace text, at_most bigint, tag integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE held bigint;
BEGIN
  SELECT codes INTO held FROM qr_counts WHERE workspace_id = workspace;
  IF coalesce(held, 0) > at_most THEN
    RAISE EXCEPTION USING ERRCODE = '${CAP_EXCEEDED}', MESSAGE = 'qrflow: the workspace would hold more codes than its cap', DETAIL = tag || ' ' || held;
  END IF;
END $$`).execute(db);
      // an AbsentOp: a record of the table holding the id is the table's own primary-key violation
      await sql.raw(`CREATE FUNCTION qrflow_check_absent(collection text, key text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE held text;
BEGIN
  EXECUTE format('SELECT id FROM %I WHERE id = $1', collection) INTO held USING key;
  IF held IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'unique_violation', CONSTRAINT = collection || '_pkey', MESSAGE = 'qrflow: ' || collection || ' already holds this id';
  END IF;
END $$`).execute(db);
    },
    async down(db) {
      await sql.raw(`DROP FUNCTION qrflow_check_absent(text, text)`).execute(db);
      await sql.raw(`DROP FUNCTION qrflow_check_cap(text, bigint, integer)`).execute(db);
      await sql.raw(`DROP TRIGGER "qrcodes_count_move" ON "qrcodes"`).execute(db);
      await sql.raw(`DROP TRIGGER "qrcodes_count" ON "qrcodes"`).execute(db);
      await sql.raw(`DROP FUNCTION qrflow_count_codes()`).execute(db);
      await sql.raw(`DROP TABLE qr_counts`).execute(db);
    },
  },
  // unique visitors from per-day roll-ups: each visitor-day's first and last quarter hour (`scan_visitor_days`), and
  // per code and quarter hour how many visitor-days start and end there (`scan_visitor_quarters`, humans alone and
  // with bots), instead of every quarter hour's distinct visitor hashes (`scan_quarters.visitors`, dropped); and the
  // daily visitor salts, in the database rather than beside each host's data file
  '0008_visitor_days': {
    async up(db) {
      await sql
        .raw(
          `CREATE TABLE scan_visitor_days (
            qr_id text COLLATE "C" NOT NULL, day integer NOT NULL, visitor integer NOT NULL,
            human_first smallint, human_last smallint, any_first smallint NOT NULL, any_last smallint NOT NULL,
            was_human_first smallint, was_human_last smallint, was_any_first smallint, was_any_last smallint,
            PRIMARY KEY (qr_id, day, visitor)
          ) WITH (fillfactor = 90)`,
        )
        .execute(db);
      await sql
        .raw(`CREATE TABLE scan_visitor_quarters (qr_id text COLLATE "C" NOT NULL, quarter bigint NOT NULL, with_bots boolean NOT NULL, firsts integer NOT NULL, lasts integer NOT NULL, PRIMARY KEY (qr_id, quarter, with_bots))`)
        .execute(db);
      // from the scans kept (the quarter hours' visitor hashes alone do not say which day's visitor was seen last where)
      const ms = '(extract(epoch FROM scanned_at) * 1000)::bigint';
      await sql
        .raw(
          `INSERT INTO scan_visitor_days (qr_id, day, visitor, human_first, human_last, any_first, any_last)
           SELECT qr_id, day, visitor, min(q) FILTER (WHERE NOT bot), max(q) FILTER (WHERE NOT bot), min(q), max(q)
           FROM (SELECT qr_id, visitor, bot, div(ms, 86400000)::integer AS day, (div(ms, 900000) - div(ms, 86400000) * 96)::smallint AS q
                 FROM (SELECT qr_id, visitor, bot, ${ms} AS ms FROM scans) AS s) AS t
           GROUP BY qr_id, day, visitor`,
        )
        .execute(db);
      await sql
        .raw(
          `INSERT INTO scan_visitor_quarters (qr_id, quarter, with_bots, firsts, lasts)
           SELECT qr_id, day::bigint * 96 + x.q, x.with_bots, sum(x.firsts), sum(x.lasts) FROM scan_visitor_days
             CROSS JOIN LATERAL (VALUES (false, human_first, 1, 0), (false, human_last, 0, 1), (true, any_first, 1, 0), (true, any_last, 0, 1)) AS x(with_bots, q, firsts, lasts)
             WHERE x.q IS NOT NULL
           GROUP BY 1, 2, 3`,
        )
        .execute(db);
      await sql.raw(`ALTER TABLE scan_quarters DROP COLUMN visitors`).execute(db);
      // the daily visitor-hash salts (days since the epoch), shared by every process: yesterday's at most, today's and tomorrow's
      await sql.raw(`CREATE TABLE scan_salts (day integer PRIMARY KEY, salt bytea NOT NULL)`).execute(db);
    },
    async down(db) {
      await sql.raw(`DROP TABLE scan_salts`).execute(db);
      await sql.raw(`ALTER TABLE scan_quarters ADD COLUMN visitors integer[] NOT NULL DEFAULT '{}'`).execute(db);
      await sql
        .raw(
          `UPDATE scan_quarters AS q SET visitors = v.visitors
           FROM (SELECT qr_id, div((extract(epoch FROM scanned_at) * 1000)::bigint, 900000) AS quarter, bot, array_agg(DISTINCT visitor) AS visitors FROM scans GROUP BY 1, 2, 3) AS v
           WHERE q.qr_id = v.qr_id AND q.quarter = v.quarter AND q.bot = v.bot`,
        )
        .execute(db);
      await sql.raw(`ALTER TABLE scan_quarters ALTER COLUMN visitors DROP DEFAULT`).execute(db);
      await sql.raw(`DROP TABLE scan_visitor_quarters`).execute(db);
      await sql.raw(`DROP TABLE scan_visitor_days`).execute(db);
    },
  },
  // a batch's scans of one code within one second are one row of column arrays (`scan_packs`), a scan alone stays a
  // row (`scan_rows`, the old `scans`): a stored scan of a busy code costs PostgreSQL a fraction of a row. Ids are
  // handed out in blocks (`scan_ids`), so a pack's are first_id .. first_id + n - 1. `scans` becomes a view of both.
  '0009_scan_packs': {
    async up(db) {
      await sql.raw(`ALTER TABLE scans RENAME TO scan_rows`).execute(db);
      // lz4 where the server has it (a pack's arrays are compressed when large: lz4 costs a fraction of pglz)
      const { rows } = await sql<{ lz4: boolean }>`SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) AS lz4`.execute(db);
      const packed = rows[0]?.lz4 ? ' COMPRESSION lz4' : '';
      await sql
        .raw(
          `CREATE TABLE scan_packs (
            first_id bigint NOT NULL, at timestamptz NOT NULL,
            qr_id text COLLATE "C" NOT NULL, workspace_id text COLLATE "C" NOT NULL, n integer NOT NULL, humans integer NOT NULL,
            ms smallint[]${packed} NOT NULL, visitors integer[]${packed} NOT NULL,
            countries text[]${packed} NOT NULL, devices text[]${packed} NOT NULL, oss text[]${packed} NOT NULL, browsers text[]${packed} NOT NULL, referrers text[]${packed} NOT NULL,
            bots boolean[]${packed} NOT NULL, variants smallint[]${packed} NOT NULL, regions text[]${packed} NOT NULL, cities text[]${packed} NOT NULL,
            PRIMARY KEY (first_id, at)
          ) PARTITION BY RANGE (at)`,
        )
        .execute(db);
      await sql.raw(`CREATE INDEX scan_packs_qr_time_idx ON scan_packs (qr_id, at)`).execute(db);
      await sql.raw(`CREATE INDEX scan_packs_workspace_time_idx ON scan_packs (workspace_id, at) WHERE humans > 0`).execute(db);
      // a partition of scan_packs beside each one of scan_rows
      const { rows: months } = await sql<{ name: string; bounds: string }>`
        SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bounds FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'scan_rows'::regclass`.execute(db);
      for (const month of months) {
        await sql.raw(`CREATE TABLE "${month.name.replace(/^scans_p/, 'scan_packs_p')}" PARTITION OF scan_packs ${month.bounds}`).execute(db);
      }
      await sql.raw(`CREATE TABLE scan_ids (next_id bigint NOT NULL)`).execute(db);
      await sql.raw(`INSERT INTO scan_ids (next_id) SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM scans_id_seq`).execute(db);
      await sql.raw(`DROP SEQUENCE scans_id_seq`).execute(db);
      await sql
        .raw(`CREATE VIEW scans AS SELECT id, scanned_at, qr_id, workspace_id, visitor, country, device, os, browser, referrer, bot, variant, region, city FROM scan_rows UNION ALL ${PACKED_SCANS_0009}`)
        .execute(db);
    },
    async down(db) {
      await sql.raw(`CREATE SEQUENCE scans_id_seq AS bigint MINVALUE 0 START 0`).execute(db);
      await sql.raw(`SELECT setval('scans_id_seq', next_id, false) FROM scan_ids`).execute(db);
      await sql.raw(`INSERT INTO scan_rows ${PACKED_SCANS_0009}`).execute(db);
      await sql.raw(`DROP VIEW scans`).execute(db);
      await sql.raw(`DROP TABLE scan_ids`).execute(db);
      await sql.raw(`DROP TABLE scan_packs`).execute(db);
      await sql.raw(`ALTER TABLE scan_rows RENAME TO scans`).execute(db);
    },
  },
  // the code counts of 0007 kept by one statement-level trigger per INSERT and DELETE statement (over its transition
  // table) instead of one update of the workspace's count per row: a commit inserting 25 codes updates it once
  // (measured with pgbench, 25-row inserts into one workspace: 1.2-1.7x the rate of the per-row trigger). A move
  // between workspaces (an UPDATE of workspace_id) stays per row: it is rare, and it needs each row's old and new.
  '0010_statement_counts': {
    async up(db) {
      await sql.raw(`CREATE FUNCTION qrflow_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO qr_counts (workspace_id, codes) SELECT workspace_id, count(*) FROM inserted_codes WHERE workspace_id IS NOT NULL GROUP BY workspace_id ORDER BY workspace_id
    ON CONFLICT (workspace_id) DO UPDATE SET codes = qr_counts.codes + EXCLUDED.codes;
  RETURN NULL;
END $$`).execute(db);
      await sql.raw(`CREATE FUNCTION qrflow_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE qr_counts SET codes = qr_counts.codes - gone.codes
    FROM (SELECT workspace_id, count(*) AS codes FROM deleted_codes WHERE workspace_id IS NOT NULL GROUP BY workspace_id) AS gone
    WHERE qr_counts.workspace_id = gone.workspace_id;
  RETURN NULL;
END $$`).execute(db);
      // the new triggers before the old one goes, in this transaction: no write is ever left uncounted
      await sql
        .raw(`CREATE TRIGGER "qrcodes_count_inserts" AFTER INSERT ON "qrcodes" REFERENCING NEW TABLE AS inserted_codes FOR EACH STATEMENT EXECUTE FUNCTION qrflow_count_inserted()`)
        .execute(db);
      await sql
        .raw(`CREATE TRIGGER "qrcodes_count_deletes" AFTER DELETE ON "qrcodes" REFERENCING OLD TABLE AS deleted_codes FOR EACH STATEMENT EXECUTE FUNCTION qrflow_count_deleted()`)
        .execute(db);
      await sql.raw(`DROP TRIGGER "qrcodes_count" ON "qrcodes"`).execute(db);
    },
    async down(db) {
      await sql.raw(`CREATE TRIGGER "qrcodes_count" AFTER INSERT OR DELETE ON "qrcodes" FOR EACH ROW EXECUTE FUNCTION qrflow_count_codes()`).execute(db);
      await sql.raw(`DROP TRIGGER "qrcodes_count_deletes" ON "qrcodes"`).execute(db);
      await sql.raw(`DROP TRIGGER "qrcodes_count_inserts" ON "qrcodes"`).execute(db);
      await sql.raw(`DROP FUNCTION qrflow_count_deleted()`).execute(db);
      await sql.raw(`DROP FUNCTION qrflow_count_inserted()`).execute(db);
    },
  },
  // each write notifies the record as it committed (RECORD_CHANNEL), so that a process hearing of it has no row to
  // read back: before, every process ran a SELECT per batch of notices heard, so each create cost each process a
  // query. Notices are delivered in commit order, so the last one heard of a record is its state. 0002's trigger
  // stays while processes of an earlier version listen for its notices (a rolling upgrade), and goes once none does
  // (retireLegacyNotices, here and from each process's change feed).
  '0011_record_notices': {
    async up(db) {
      await sql.raw(`CREATE FUNCTION qrflow_notify_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  notice text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('${RECORD_CHANNEL}', '-' || TG_TABLE_NAME || ' ' || OLD.id);
  ELSE
    notice := '=' || TG_TABLE_NAME || ' ' || NEW.data::text;
    IF octet_length(notice) > ${MAX_PAYLOAD_BYTES} THEN
      notice := '?' || TG_TABLE_NAME || ' ' || NEW.id;
    END IF;
    PERFORM pg_notify('${RECORD_CHANNEL}', notice);
  END IF;
  RETURN NULL;
END $$`).execute(db);
      for (const table of FOLLOWED_TABLES) {
        await sql.raw(`CREATE TRIGGER "${table}_notify_record" AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION qrflow_notify_record()`).execute(db);
      }
      const { rows } = await sql.raw<{ listeners: number }>(`SELECT (${LEGACY_LISTENERS}) AS listeners`).execute(db);
      if (rows[0]?.listeners === 0) for (const table of FOLLOWED_TABLES) await sql.raw(`DROP TRIGGER "${table}_notify_change" ON "${table}"`).execute(db);
    },
    async down(db) {
      for (const table of FOLLOWED_TABLES) {
        await sql.raw(`CREATE OR REPLACE TRIGGER "${table}_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION qrflow_notify_change()`).execute(db);
        await sql.raw(`DROP TRIGGER "${table}_notify_record" ON "${table}"`).execute(db);
      }
      await sql.raw(`DROP FUNCTION qrflow_notify_record()`).execute(db);
    },
  },
};

/** The tables whose writes notify (0002, 0011). */
const FOLLOWED_TABLES = ['qrcodes', 'tombstones'] as const;

/** The application_name of the change feed's connection in versions before 0011 (they listen on CHANGE_CHANNEL). */
export const LEGACY_FEED_NAME = 'qrflow-changes';

/** How many sessions of this database are the change feeds of processes of a version before 0011. */
const LEGACY_LISTENERS = `SELECT count(*)::integer FROM pg_stat_activity WHERE datname = current_database() AND application_name = '${LEGACY_FEED_NAME}'`;

/**
 * Drops 0002's `table:id` notices once no process of an earlier version listens for them (no session of this
 * database named LEGACY_FEED_NAME). None can come back: an earlier version does not start on a database migrated
 * past what it knows. Waits at most 1 s for the tables' lock, and otherwise leaves it for the next try. Resolves
 * whether those notices are gone.
 */
export async function retireLegacyNotices(client: pg.ClientBase): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = '1s'`);
    const { rows } = await client.query<{ triggers: number; listeners: number }>(
      `SELECT (SELECT count(*)::integer FROM pg_trigger WHERE tgname IN (${FOLLOWED_TABLES.map((table) => `'${table}_notify_change'`).join(', ')})) AS triggers, (${LEGACY_LISTENERS}) AS listeners`,
    );
    const { triggers = 0, listeners = 0 } = rows[0] ?? {};
    if (triggers > 0 && listeners > 0) {
      await client.query('ROLLBACK');
      return false;
    }
    if (triggers > 0) for (const table of FOLLOWED_TABLES) await client.query(`DROP TRIGGER IF EXISTS "${table}_notify_change" ON "${table}"`);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    // 55P03: the lock was not had within lock_timeout (a long transaction on the table): the next try will do
    if ((error as { code?: string }).code === '55P03') return false;
    throw error;
  }
}

/** The session-level advisory lock that makes processes starting together migrate one at a time (any 64-bit key). */
const MIGRATION_LOCK_KEY = String(0x7172666c6f77); // "qrflow" in ASCII

/** How often a process waiting for another one's migrations asks for the lock again. */
const MIGRATION_LOCK_POLL_MS = 200;

export class MigrationError extends Error {}

/**
 * Brings the database to the latest schema. Holds a PostgreSQL advisory lock meanwhile, so of several processes
 * starting at once one migrates and the others wait, then find nothing to do. Returns the migrations applied.
 */
export async function migrateToLatest(pool: pg.Pool): Promise<string[]> {
  const lockHolder = await pool.connect();
  try {
    // polled rather than waited for in one statement: another process's migrations may take longer than the
    // pool's statement and query timeouts (a busy machine, a large table), and waiting is not a failure
    while (!(await lockHolder.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [MIGRATION_LOCK_KEY])).rows[0]?.locked) {
      await new Promise((resolve) => setTimeout(resolve, MIGRATION_LOCK_POLL_MS));
    }
    const { error, results } = await migratorOf(pool).migrateToLatest();
    if (error) {
      const failed = results?.find((result) => result.status === 'Error')?.migrationName;
      throw new MigrationError(`Migrating the database failed${failed ? ` at ${failed}` : ''}: ${(error as Error).message ?? String(error)}`);
    }
    return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
  } finally {
    await lockHolder.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    lockHolder.release();
  }
}

/** Kysely's Migrator over `migrations` (every one this version knows unless given), recording them where qrflow does. */
export function migratorOf(pool: pg.Pool, migrations: Record<string, Migration> = MIGRATIONS): Migrator {
  // destroying the Kysely instance would end the shared pool; it holds nothing else
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  return new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableName: 'qrflow_migrations', migrationLockTableName: 'qrflow_migrations_lock' });
}

/** Names of every migration this version knows, oldest first (for readiness checks). */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS).sort();

-- CreateEnum
CREATE TYPE "UsageStatus" AS ENUM ('ok', 'error', 'cancelled');

-- CreateTable
CREATE TABLE "price_versions" (
    "id" UUID NOT NULL,
    "org_id" UUID,
    "catalog_key" TEXT,
    "effective_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by_id" UUID,
    "note" TEXT,
    "micros_per_usd" BIGINT,
    "markup_bps" INTEGER,
    "estimate_margin_bps" INTEGER,
    "estimate_output_cap" INTEGER,
    "default_input_nano" BIGINT,
    "default_output_nano" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "price_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "model_prices" (
    "id" UUID NOT NULL,
    "price_version_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "match" JSONB NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "position" INTEGER NOT NULL DEFAULT 0,
    "input_nano" BIGINT NOT NULL,
    "output_nano" BIGINT NOT NULL,
    "cache_read_nano" BIGINT,
    "cache_write_nano" BIGINT,
    "reasoning_nano" BIGINT,
    "tiers" JSONB NOT NULL DEFAULT '[]',
    "request_fee_nano" BIGINT NOT NULL DEFAULT 0,
    "context_window" INTEGER,
    "max_output_tokens" INTEGER,

    CONSTRAINT "model_prices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_records" (
    "id" UUID NOT NULL,
    "org_id" UUID NOT NULL,
    "membership_id" UUID,
    "api_key_id" UUID,
    "model" TEXT,
    "provider" TEXT,
    "input_tokens" BIGINT NOT NULL DEFAULT 0,
    "output_tokens" BIGINT NOT NULL DEFAULT 0,
    "cached_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_write_tokens" BIGINT NOT NULL DEFAULT 0,
    "reasoning_tokens" BIGINT NOT NULL DEFAULT 0,
    "cost" BIGINT NOT NULL DEFAULT 0,
    "price_version_id" UUID,
    "org_price_version_id" UUID,
    "latency_ms" INTEGER,
    "status" "UsageStatus" NOT NULL DEFAULT 'ok',
    "request_id" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "transaction_id" UUID,
    "reservation_id" UUID,
    "usage_event_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "usage_records_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_rollups_hourly" (
    "org_id" UUID NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "membership_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "api_key_id" UUID NOT NULL,
    "status" "UsageStatus" NOT NULL,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "input_tokens" BIGINT NOT NULL DEFAULT 0,
    "output_tokens" BIGINT NOT NULL DEFAULT 0,
    "cached_input_tokens" BIGINT NOT NULL DEFAULT 0,
    "cache_write_tokens" BIGINT NOT NULL DEFAULT 0,
    "reasoning_tokens" BIGINT NOT NULL DEFAULT 0,
    "cost" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "usage_rollups_hourly_pkey" PRIMARY KEY ("org_id","hour","membership_id","model","api_key_id","status")
);

-- CreateIndex
CREATE UNIQUE INDEX "price_versions_catalog_key_key" ON "price_versions"("catalog_key");

-- CreateIndex
CREATE INDEX "price_versions_org_id_effective_at_idx" ON "price_versions"("org_id", "effective_at");

-- CreateIndex
CREATE INDEX "model_prices_price_version_id_priority_position_idx" ON "model_prices"("price_version_id", "priority", "position");

-- CreateIndex
CREATE UNIQUE INDEX "usage_records_reservation_id_key" ON "usage_records"("reservation_id");

-- CreateIndex
CREATE UNIQUE INDEX "usage_records_usage_event_id_key" ON "usage_records"("usage_event_id");

-- CreateIndex
CREATE INDEX "usage_records_org_id_occurred_at_idx" ON "usage_records"("org_id", "occurred_at");

-- CreateIndex
CREATE INDEX "usage_records_org_id_membership_id_occurred_at_idx" ON "usage_records"("org_id", "membership_id", "occurred_at");

-- CreateIndex
CREATE INDEX "usage_records_org_id_model_occurred_at_idx" ON "usage_records"("org_id", "model", "occurred_at");

-- CreateIndex
CREATE INDEX "usage_records_org_id_api_key_id_occurred_at_idx" ON "usage_records"("org_id", "api_key_id", "occurred_at");

-- AddForeignKey
ALTER TABLE "model_prices" ADD CONSTRAINT "model_prices_price_version_id_fkey" FOREIGN KEY ("price_version_id") REFERENCES "price_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Invariants Prisma's schema language cannot express -------------------------------------------------------

-- A price is never zero or negative; an org's default price for unknown models comes as a pair.
ALTER TABLE "model_prices"
  ADD CONSTRAINT "model_prices_prices_positive" CHECK (
    "input_nano" > 0 AND "output_nano" > 0
    AND ("cache_read_nano" IS NULL OR "cache_read_nano" > 0)
    AND ("cache_write_nano" IS NULL OR "cache_write_nano" > 0)
    AND ("reasoning_nano" IS NULL OR "reasoning_nano" > 0)
    AND "request_fee_nano" >= 0);
ALTER TABLE "price_versions"
  ADD CONSTRAINT "price_versions_settings_valid" CHECK (
    ("micros_per_usd" IS NULL OR "micros_per_usd" > 0)
    AND ("markup_bps" IS NULL OR "markup_bps" > -10000)
    AND ("estimate_margin_bps" IS NULL OR "estimate_margin_bps" >= 0)
    AND ("estimate_output_cap" IS NULL OR "estimate_output_cap" > 0)
    AND (("default_input_nano" IS NULL) = ("default_output_nano" IS NULL))
    AND ("default_input_nano" IS NULL OR ("default_input_nano" > 0 AND "default_output_nano" > 0)));
ALTER TABLE "usage_records"
  ADD CONSTRAINT "usage_records_amounts_nonnegative" CHECK (
    "cost" >= 0 AND "input_tokens" >= 0 AND "output_tokens" >= 0 AND "cached_input_tokens" >= 0
    AND "cache_write_tokens" >= 0 AND "reasoning_tokens" >= 0 AND ("latency_ms" IS NULL OR "latency_ms" >= 0));

-- Usage records, written in the transaction of their charge --------------------------------------------------
--
-- The metering code puts what it knows about the request (model, provider, tokens, price versions, API key,
-- request id, latency, status) under the key "$usage" of the operation's metadata, which the ledger stores on
-- the reservation (merged at commit) and on the usage event. The triggers below turn a committed reservation
-- or a new usage event into one usage record; the cost is what the ledger charged. A duplicated event never
-- inserts a usage_events row and a reservation commits once, so a retried request never makes two records
-- (the unique reservation_id and usage_event_id say so too).

CREATE FUNCTION usage_uuid_or_null(p text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN p::uuid END;
$$;

CREATE FUNCTION usage_bigint(p jsonb, p_key text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(p->p_key) IN ('number', 'string') AND (p->>p_key) ~ '^[0-9]{1,18}$'
              THEN (p->>p_key)::bigint ELSE 0 END;
$$;

CREATE FUNCTION usage_status(p jsonb) RETURNS "UsageStatus" LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p->>'status' IN ('ok', 'error', 'cancelled') THEN (p->>'status')::"UsageStatus"
              ELSE 'ok'::"UsageStatus" END;
$$;

CREATE FUNCTION usage_records_from_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "usage_records" (id, org_id, membership_id, api_key_id, model, provider, input_tokens, output_tokens,
                               cached_input_tokens, cache_write_tokens, reasoning_tokens, cost, price_version_id,
                               org_price_version_id, latency_ms, status, request_id, metadata, occurred_at,
                               transaction_id, usage_event_id, created_at)
  SELECT gen_random_uuid(), e.org_id, e.membership_id, usage_uuid_or_null(u->>'api_key_id'), u->>'model',
         u->>'provider', usage_bigint(u, 'input_tokens'), usage_bigint(u, 'output_tokens'),
         usage_bigint(u, 'cached_input_tokens'), usage_bigint(u, 'cache_write_tokens'),
         usage_bigint(u, 'reasoning_tokens'), e.amount, usage_uuid_or_null(u->>'price_version_id'),
         usage_uuid_or_null(u->>'org_price_version_id'),
         CASE WHEN u ? 'latency_ms' THEN least(usage_bigint(u, 'latency_ms'), 2147483647)::int END,
         usage_status(u), u->>'request_id', e.metadata - '$usage', e.occurred_at, e.transaction_id, e.id,
         e.created_at
    FROM (SELECT ne.*, coalesce(ne.metadata->'$usage', '{}'::jsonb) AS u FROM new_events ne) e
  ON CONFLICT (usage_event_id) DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER usage_events_record AFTER INSERT ON "usage_events"
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION usage_records_from_events();

-- ledger_op_usage inserts the event before its charge and names the transaction afterwards.
CREATE FUNCTION usage_records_event_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "usage_records" SET transaction_id = NEW.transaction_id WHERE usage_event_id = NEW.id;
  RETURN NULL;
END $$;

CREATE TRIGGER usage_events_record_transaction AFTER UPDATE OF transaction_id ON "usage_events"
  FOR EACH ROW WHEN (NEW.transaction_id IS DISTINCT FROM OLD.transaction_id)
  EXECUTE FUNCTION usage_records_event_transaction();

-- A commit: what the reservation carried when it was made, overlaid with what the commit carried.
CREATE FUNCTION usage_records_from_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  u jsonb := coalesce(OLD.metadata->'$usage', '{}'::jsonb) || coalesce(NEW.metadata->'$usage', '{}'::jsonb);
BEGIN
  INSERT INTO "usage_records" (id, org_id, membership_id, api_key_id, model, provider, input_tokens, output_tokens,
                               cached_input_tokens, cache_write_tokens, reasoning_tokens, cost, price_version_id,
                               org_price_version_id, latency_ms, status, request_id, metadata, occurred_at,
                               transaction_id, reservation_id, created_at)
  VALUES (gen_random_uuid(), NEW.org_id, NEW.membership_id, usage_uuid_or_null(u->>'api_key_id'), u->>'model',
          u->>'provider', usage_bigint(u, 'input_tokens'), usage_bigint(u, 'output_tokens'),
          usage_bigint(u, 'cached_input_tokens'), usage_bigint(u, 'cache_write_tokens'),
          usage_bigint(u, 'reasoning_tokens'), coalesce(NEW.charged, 0), usage_uuid_or_null(u->>'price_version_id'),
          usage_uuid_or_null(u->>'org_price_version_id'),
          CASE WHEN u ? 'latency_ms' THEN least(usage_bigint(u, 'latency_ms'), 2147483647)::int END,
          usage_status(u), u->>'request_id', NEW.metadata - '$usage', coalesce(NEW.resolved_at, now()),
          NEW.transaction_id, NEW.id, coalesce(NEW.resolved_at, now()))
  ON CONFLICT (reservation_id) DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER reservations_record_commit AFTER UPDATE OF status ON "reservations"
  FOR EACH ROW WHEN (OLD.status = 'active' AND NEW.status = 'committed')
  EXECUTE FUNCTION usage_records_from_commit();

-- Hourly rollups, summed per statement: concurrent writers of one row serialize on its lock (ON CONFLICT DO
-- UPDATE), and each statement writes its rows in key order. The key includes the member, whose account the
-- ledger has already locked for a charge from it, so charges of different members never wait on each other
-- here. Only charges funded by the pool (which lock the pool instead) can meet another transaction on a
-- member's rollup row; should two of them take rows in opposite order, PostgreSQL aborts one with a deadlock
-- error, which the ledger's coalescer retries.
CREATE FUNCTION usage_rollup_records() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "usage_rollups_hourly" AS r (org_id, hour, membership_id, model, api_key_id, status, requests,
                                           input_tokens, output_tokens, cached_input_tokens, cache_write_tokens,
                                           reasoning_tokens, cost)
  SELECT org_id, hour, membership_id, model, api_key_id, status, count(*), sum(input_tokens), sum(output_tokens),
         sum(cached_input_tokens), sum(cache_write_tokens), sum(reasoning_tokens), sum(cost)
    FROM (SELECT n.org_id, date_trunc('hour', n.occurred_at, 'UTC') AS hour,
                 coalesce(n.membership_id, '00000000-0000-0000-0000-000000000000'::uuid) AS membership_id,
                 coalesce(n.model, '') AS model,
                 coalesce(n.api_key_id, '00000000-0000-0000-0000-000000000000'::uuid) AS api_key_id,
                 n.status, n.input_tokens, n.output_tokens, n.cached_input_tokens, n.cache_write_tokens,
                 n.reasoning_tokens, n.cost
            FROM new_records n) x
   GROUP BY org_id, hour, membership_id, model, api_key_id, status
   ORDER BY org_id, hour, membership_id, model, api_key_id, status
  ON CONFLICT (org_id, hour, membership_id, model, api_key_id, status) DO UPDATE
     SET requests = r.requests + EXCLUDED.requests,
         input_tokens = r.input_tokens + EXCLUDED.input_tokens,
         output_tokens = r.output_tokens + EXCLUDED.output_tokens,
         cached_input_tokens = r.cached_input_tokens + EXCLUDED.cached_input_tokens,
         cache_write_tokens = r.cache_write_tokens + EXCLUDED.cache_write_tokens,
         reasoning_tokens = r.reasoning_tokens + EXCLUDED.reasoning_tokens,
         cost = r.cost + EXCLUDED.cost;
  RETURN NULL;
END $$;

CREATE TRIGGER usage_records_rollup AFTER INSERT ON "usage_records"
  REFERENCING NEW TABLE AS new_records FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_records();

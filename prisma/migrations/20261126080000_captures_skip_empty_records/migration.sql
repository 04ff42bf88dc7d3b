-- The statement trigger that writes the usage records of resolved holds returns at once when its statement
-- resolved none. Capturing a request from a lease updates the lease; the trigger then inserted no rows, and
-- that empty insert still ran the rollup trigger of usage_records: two statements per captured request for
-- nothing.

CREATE OR REPLACE FUNCTION usage_records_from_resolved_holds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most updates of reservations resolve none (each request a lease's capture charges updates the lease):
  -- they return here, before an insert of no rows that would still run the rollup trigger of usage_records.
  IF NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.status IN ('committed', 'expired')) THEN
    RETURN NULL;
  END IF;
  INSERT INTO "usage_records" (id, org_id, membership_id, api_key_id, model, provider, input_tokens, output_tokens,
                               cached_input_tokens, cache_write_tokens, reasoning_tokens, cost, price_version_id,
                               org_price_version_id, latency_ms, status, request_id, metadata, occurred_at,
                               transaction_id, reservation_id, created_at)
  SELECT gen_random_uuid(), c.org_id, c.membership_id, usage_uuid_or_null(c.u->>'api_key_id'), c.u->>'model',
         c.u->>'provider', usage_bigint(c.u, 'input_tokens'), usage_bigint(c.u, 'output_tokens'),
         usage_bigint(c.u, 'cached_input_tokens'), usage_bigint(c.u, 'cache_write_tokens'),
         usage_bigint(c.u, 'reasoning_tokens'), coalesce(c.charged, 0), usage_uuid_or_null(c.u->>'price_version_id'),
         usage_uuid_or_null(c.u->>'org_price_version_id'),
         CASE WHEN c.u ? 'latency_ms' THEN least(usage_bigint(c.u, 'latency_ms'), 2147483647)::int END,
         CASE WHEN c.status = 'expired' THEN 'cancelled'::"UsageStatus" ELSE usage_status(c.u) END, c.u->>'request_id', c.metadata - '$usage', coalesce(c.resolved_at, now()),
         c.transaction_id, c.id, coalesce(c.resolved_at, now())
    FROM (SELECT n.*, coalesce(o.metadata->'$usage', '{}'::jsonb) || coalesce(n.metadata->'$usage', '{}'::jsonb) AS u
            FROM new_rows n JOIN old_rows o ON o.id = n.id
           WHERE o.status = 'active' AND (n.status = 'committed' OR (n.status = 'expired' AND NOT (n.metadata ? '$lease')))) c;
  RETURN NULL;
END $$;

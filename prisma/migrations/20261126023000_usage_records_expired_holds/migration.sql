-- A request whose hold expired unresolved (its backend never committed nor released it: it crashed, or lost
-- the answer) still gets its usage record, so the usage log shows every request and where credits were held
-- for nothing: cost 0, status cancelled, what the reservation carried (key, model, request id), at the time
-- the hold expired. The statement trigger on reservations that writes the records of commits now writes these
-- too, from the same transition tables: the sweep expires a member's holds in one statement.

CREATE FUNCTION usage_records_from_resolved_holds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
           WHERE o.status = 'active' AND n.status IN ('committed', 'expired')) c;
  RETURN NULL;
END $$;

DROP TRIGGER reservations_record_commits ON "reservations";
DROP FUNCTION usage_records_from_commits();

CREATE TRIGGER reservations_record_resolutions AFTER UPDATE ON "reservations"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION usage_records_from_resolved_holds();

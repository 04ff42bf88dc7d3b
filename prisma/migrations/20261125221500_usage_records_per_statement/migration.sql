-- Usage records of commits, written once per statement instead of once per row: the ledger commits a batch of
-- holds with one UPDATE of reservations (ledger_fast_batch), and a row trigger would insert their records one
-- by one, each insert running the rollup trigger again. The statement trigger reads the statement's changed
-- rows (transition tables), keeps those that went from active to committed, and inserts their records in one
-- INSERT, whose own statement trigger then adds them to the hourly rollups in one pass. What a record holds is
-- unchanged: what the reservation carried when it was made, overlaid with what the commit carried.

DROP TRIGGER reservations_record_commit ON "reservations";
DROP FUNCTION usage_records_from_commit();

CREATE FUNCTION usage_records_from_commits() RETURNS trigger LANGUAGE plpgsql AS $$
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
         usage_status(c.u), c.u->>'request_id', c.metadata - '$usage', coalesce(c.resolved_at, now()),
         c.transaction_id, c.id, coalesce(c.resolved_at, now())
    FROM (SELECT n.*, coalesce(o.metadata->'$usage', '{}'::jsonb) || coalesce(n.metadata->'$usage', '{}'::jsonb) AS u
            FROM new_rows n JOIN old_rows o ON o.id = n.id
           WHERE o.status = 'active' AND n.status = 'committed') c
  ON CONFLICT (reservation_id) DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER reservations_record_commits AFTER UPDATE ON "reservations"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION usage_records_from_commits();

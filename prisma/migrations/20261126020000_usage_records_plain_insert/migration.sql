-- Usage records are inserted plainly, without ON CONFLICT DO NOTHING. Each record comes from a row this very
-- statement created or changed: a usage event just inserted (its id is new), or a reservation that went from
-- active to committed (which happens once); a conflict cannot occur, and the speculative insertion ON CONFLICT
-- needs (a check of the unique index before each row, then the insert) cost a fifth of writing a record. Should a
-- second record ever be attempted, the unique index refuses it and the charge's transaction rolls back whole.

CREATE OR REPLACE FUNCTION usage_records_from_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
    FROM (SELECT ne.*, coalesce(ne.metadata->'$usage', '{}'::jsonb) AS u FROM new_events ne) e;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION usage_records_from_commits() RETURNS trigger LANGUAGE plpgsql AS $$
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
           WHERE o.status = 'active' AND n.status = 'committed') c;
  RETURN NULL;
END $$;

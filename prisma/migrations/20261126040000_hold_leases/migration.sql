-- Leases: holds captured in parts.
--
-- A lease is a hold a metering process takes once for many requests of one member (its own credits, never the
-- pool's), sized between what the next request needs and a target, and never more than half of what the
-- member has available, so other processes keep room. The process answers requests from it without the
-- database and captures their charges in batches: each captured request is its own charge transaction (its
-- receipt: which lots paid), with its usage record, exactly as a commit of its own hold would be. What a
-- capture takes comes out of the hold's set-aside credits in order; the rest stays held. The lease ends with a
-- release of what is left. A capture names each request by its usage record's id, so a repeated capture (a
-- retry, or a replay of the process's settlement journal) charges nothing twice.

-- A lease captured in full holds nothing until it is released.
ALTER TABLE "reservations" DROP CONSTRAINT "reservations_amount_positive",
  ADD CONSTRAINT "reservations_amount_positive" CHECK ("amount" > 0 OR ("amount" = 0 AND "metadata" ? '$lease'));

-- 'lease' reserves like 'reserve' (same checks, same locks) with the amount fitted to what is available.
CREATE OR REPLACE FUNCTION ledger_op_reserve(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_account uuid := (p_op->>'account_id')::uuid;
  v_amount bigint := (p_op->>'amount')::bigint;
  v_min bigint := (p_op->>'min_amount')::bigint;
  v_ttl int := (p_op->>'ttl_seconds')::int;
  v_funded uuid := v_account;
  v_available bigint;
  v_pieces jsonb;
  v_id uuid := coalesce((p_op->>'id')::uuid, gen_random_uuid());
  v_expires timestamptz;
  v_metadata jsonb := coalesce(p_op->'metadata', '{}'::jsonb);
BEGIN
  IF v_amount IS NULL OR v_amount <= 0 OR (v_min IS NOT NULL AND (v_min <= 0 OR v_min > v_amount)) THEN
    RETURN ledger_result_error(422, 'validation_failed', 'amount must be greater than 0');
  END IF;
  v_available := ledger_available(v_account, p_now);
  IF p_op->>'type' = 'lease' THEN
    -- At most half of what is available, at least the minimum; of the member's own credits only.
    v_amount := least(v_amount, greatest(coalesce(v_min, v_amount), v_available / 2));
    v_metadata := v_metadata || '{"$lease": true}'::jsonb;
    IF v_available < v_amount THEN
      RETURN ledger_result_error(402, 'insufficient_credits', 'Not enough available credits for this reservation',
                                 jsonb_build_object('available', v_available::text, 'requested', v_amount::text));
    END IF;
  ELSIF v_available < v_amount THEN
    IF ledger_pool_allows(p_op, v_amount, p_now) THEN
      v_funded := (p_op->>'pool_account_id')::uuid;
    ELSE
      RETURN ledger_result_error(402, 'insufficient_credits', 'Not enough available credits for this reservation',
                                 jsonb_build_object('available', v_available::text, 'requested', v_amount::text));
    END IF;
  END IF;
  v_pieces := ledger_take_lots(v_funded, v_amount, p_now);
  v_expires := p_now + make_interval(secs => v_ttl);
  INSERT INTO "reservations" (id, org_id, account_id, membership_id, amount, expires_at, hold_lots, metadata,
                              created_at)
  VALUES (v_id, p_org, v_funded, (p_op->>'membership_id')::uuid, v_amount, v_expires, v_pieces, v_metadata, p_now);
  UPDATE "ledger_accounts" SET held = held + v_amount, sweep_at = least(coalesce(sweep_at, v_expires), v_expires),
                               updated_at = now()
   WHERE id = v_funded;
  RETURN jsonb_build_object('ok', true, 'http_status', 201, 'id', v_id, 'status', 'active',
                            'amount', v_amount::text, 'expires_at', v_expires,
                            'funded_by', CASE WHEN v_funded = v_account THEN 'user' ELSE 'pool' END,
                            'balance', ledger_account_state(v_account));
END $$;

-- Charges part of an active lease: {reservation_id, charges: [{id, amount, from_hold?, usage, metadata,
-- occurred_at, actor_type?, actor_id?}]}, in order. Each new charge takes its amount from the hold's set-aside
-- credits (in the hold's order; at most from_hold of it when given: the rest of the hold is promised to other
-- requests); what the hold does not cover comes from the member's available credits plus overdraft, as a
-- commit's would, or the charge is refused on its own (commit_exceeds_available). A charge whose id already has a usage record was
-- captured before and is answered as a duplicate. Answers one result per charge and what the lease still holds.
CREATE FUNCTION ledger_op_capture(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r "reservations";
  v_pieces jsonb;
  v_charged jsonb;
  v_rest jsonb;
  v_left bigint;
  v_take bigint;
  v_amount bigint;
  v_from_hold bigint := 0;
  v_total bigint := 0;
  v_available bigint;
  v_txn uuid;
  v_records jsonb[] := ARRAY[]::jsonb[];
  v_results jsonb[] := ARRAY[]::jsonb[];
  v_checked boolean := false;
  v_dup record;
  v_item jsonb;
  piece jsonb;
BEGIN
  SELECT * INTO r FROM "reservations" WHERE id = (p_op->>'reservation_id')::uuid FOR UPDATE;
  IF NOT FOUND OR r.org_id <> p_org THEN RETURN ledger_result_error(404, 'not_found', 'Reservation not found'); END IF;
  IF NOT coalesce((r.metadata->>'$lease')::boolean, false) THEN
    RETURN ledger_result_error(409, 'reservation_not_capturable', 'Only a lease is captured in parts');
  END IF;
  IF jsonb_typeof(p_op->'charges') <> 'array' OR EXISTS (
       SELECT 1 FROM jsonb_array_elements(p_op->'charges') c
        WHERE (c->>'id') IS NULL OR coalesce((c->>'amount')::bigint, -1) < 0) THEN
    RETURN ledger_result_error(422, 'validation_failed', 'every charge needs an id and an amount of 0 or more');
  END IF;
  v_pieces := r.hold_lots;
  FOR v_item IN SELECT * FROM jsonb_array_elements(p_op->'charges') LOOP
    -- A charge captured before (its usage record exists, looked up by primary key) is answered as a duplicate.
    SELECT u.cost, u.transaction_id INTO v_dup FROM "usage_records" u WHERE u.id = (v_item->>'id')::uuid;
    IF FOUND THEN
      v_results := v_results || jsonb_build_object('id', v_item->>'id', 'ok', true, 'status', 'duplicate',
                                                   'charged', v_dup.cost::text, 'transaction_id', v_dup.transaction_id);
      CONTINUE;
    END IF;
    -- Before the first new charge: the lease must still be capturable.
    IF NOT v_checked THEN
      IF r.status = 'active' AND r.expires_at <= p_now THEN
        PERFORM ledger_sweep(r.account_id, p_now);
        RETURN ledger_result_error(409, 'reservation_expired', 'The reservation expired before it was resolved');
      END IF;
      IF r.status <> 'active' THEN RETURN ledger_resolved_answer(r, NULL); END IF;
      v_checked := true;
    END IF;
    v_amount := (v_item->>'amount')::bigint;
    v_txn := NULL;
    IF v_amount > 0 THEN
      -- The front of the set-aside credits pays; the rest stays held.
      v_left := least(v_amount, coalesce((v_item->>'from_hold')::bigint, v_amount));
      v_charged := '[]'::jsonb;
      v_rest := '[]'::jsonb;
      FOR piece IN SELECT * FROM jsonb_array_elements(v_pieces) LOOP
        v_take := least(v_left, (piece->>'amount')::bigint);
        IF v_take > 0 THEN
          v_charged := v_charged || jsonb_build_object('lot_id', piece->>'lot_id', 'amount', v_take);
        END IF;
        IF (piece->>'amount')::bigint > v_take THEN
          v_rest := v_rest || jsonb_build_object('lot_id', piece->>'lot_id', 'amount', (piece->>'amount')::bigint - v_take);
        END IF;
        v_left := v_left - v_take;
      END LOOP;
      v_left := v_amount - ledger_sum(v_charged);
      IF v_left > 0 THEN
        -- (The stored held still counts what this capture took from the hold so far.)
        v_available := ledger_available(r.account_id, p_now) + v_from_hold;
        IF v_available - v_left < -ledger_overdraft_limit(p_org) THEN
          v_results := v_results || jsonb_build_object(
            'id', v_item->>'id', 'ok', false, 'code', 'commit_exceeds_available',
            'message', 'The amount exceeds the reservation and the available credits plus overdraft');
          CONTINUE;
        END IF;
      END IF;
      v_txn := ledger_post_charge(p_org, r.account_id, v_amount, v_charged,
                                  jsonb_build_object('actor_type', coalesce(v_item->>'actor_type', p_op->>'actor_type'),
                                                     'actor_id', coalesce(v_item->>'actor_id', p_op->>'actor_id'),
                                                     'metadata', coalesce(v_item->'metadata', '{}'::jsonb)),
                                  coalesce((v_item->>'occurred_at')::timestamptz, p_now), r.id, NULL, p_now);
      v_from_hold := v_from_hold + ledger_sum(v_charged);
      v_total := v_total + v_amount;
      v_pieces := v_rest;
    END IF;
    v_records := v_records || (v_item || jsonb_build_object('transaction_id', v_txn));
    v_results := v_results || jsonb_build_object('id', v_item->>'id', 'ok', true, 'status', 'captured',
                                                 'charged', v_amount::text, 'transaction_id', v_txn);
  END LOOP;

  IF cardinality(v_records) > 0 THEN
    -- One usage record per captured request, in one statement (the hourly rollups are summed per statement).
    INSERT INTO "usage_records" (id, org_id, membership_id, api_key_id, model, provider, input_tokens, output_tokens,
                                 cached_input_tokens, cache_write_tokens, reasoning_tokens, cost, price_version_id,
                                 org_price_version_id, latency_ms, status, request_id, metadata, occurred_at,
                                 transaction_id, reservation_id, created_at)
    SELECT (c->>'id')::uuid, p_org, r.membership_id, usage_uuid_or_null(x.u->>'api_key_id'), x.u->>'model',
           x.u->>'provider', usage_bigint(x.u, 'input_tokens'), usage_bigint(x.u, 'output_tokens'),
           usage_bigint(x.u, 'cached_input_tokens'), usage_bigint(x.u, 'cache_write_tokens'),
           usage_bigint(x.u, 'reasoning_tokens'), (c->>'amount')::bigint, usage_uuid_or_null(x.u->>'price_version_id'),
           usage_uuid_or_null(x.u->>'org_price_version_id'),
           CASE WHEN x.u ? 'latency_ms' THEN least(usage_bigint(x.u, 'latency_ms'), 2147483647)::int END,
           usage_status(x.u), x.u->>'request_id', coalesce(c->'metadata', '{}'::jsonb),
           coalesce((c->>'occurred_at')::timestamptz, p_now), (c->>'transaction_id')::uuid, NULL, p_now
      FROM unnest(v_records) c, LATERAL (SELECT coalesce(c->'usage', '{}'::jsonb) AS u) x;
  END IF;
  IF v_from_hold > 0 THEN
    UPDATE "ledger_accounts" SET held = held - v_from_hold, updated_at = now() WHERE id = r.account_id;
  END IF;
  IF v_total > 0 THEN
    UPDATE "reservations" SET amount = amount - v_from_hold, hold_lots = v_pieces, charged = coalesce(charged, 0) + v_total
     WHERE id = r.id;
    IF r.membership_id IS NOT NULL AND (SELECT kind FROM "ledger_accounts" WHERE id = r.account_id) = 'pool' THEN
      PERFORM ledger_record_pool_draw(r.membership_id, v_total, p_now);
    END IF;
  END IF;
  RETURN jsonb_build_object('ok', true, 'http_status', 200, 'id', r.id, 'status', 'active',
                            'amount', (r.amount - v_from_hold)::text, 'charges', to_jsonb(v_results),
                            'balance', ledger_account_state(ledger_answer_account(p_op, r)));
END $$;

CREATE OR REPLACE FUNCTION ledger_exec(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RETURN CASE p_op->>'type'
    WHEN 'grant' THEN ledger_op_grant(p_org, p_op, p_now)
    WHEN 'move' THEN ledger_op_move(p_org, p_op, p_now)
    WHEN 'reserve' THEN ledger_op_reserve(p_org, p_op, p_now)
    WHEN 'lease' THEN ledger_op_reserve(p_org, p_op, p_now)
    WHEN 'capture' THEN ledger_op_capture(p_org, p_op, p_now)
    WHEN 'commit' THEN ledger_op_commit(p_org, p_op, p_now)
    WHEN 'release' THEN ledger_op_release(p_org, p_op, p_now)
    WHEN 'usage' THEN ledger_op_usage(p_org, p_op, p_now)
    WHEN 'sweep' THEN (SELECT jsonb_build_object('ok', true, 'http_status', 200)
                         FROM (SELECT ledger_sweep((p_op->>'account_id')::uuid, p_now)) s)
    ELSE ledger_result_error(422, 'validation_failed', 'unknown ledger operation')
  END;
END $$;

-- A lease that expires is no request: it gets no usage record (its captured requests have theirs). A lease
-- committed like a hold (not what the proxy does) is charged as one request, with its record.
CREATE OR REPLACE FUNCTION usage_records_from_resolved_holds() RETURNS trigger LANGUAGE plpgsql AS $$
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
           WHERE o.status = 'active' AND (n.status = 'committed' OR (n.status = 'expired' AND NOT (n.metadata ? '$lease')))) c;
  RETURN NULL;
END $$;

-- Leases are charged once per captured request.
CREATE OR REPLACE FUNCTION ledger_check(p_org uuid) RETURNS TABLE(problem text) LANGUAGE sql STABLE AS $$
  -- Each transaction sums to zero.
  SELECT format('transaction %s sums to %s', transaction_id, sum(amount))
    FROM "ledger_entries" WHERE org_id = p_org GROUP BY transaction_id HAVING sum(amount) <> 0
  UNION ALL
  -- Stored balances equal the sum of their entries.
  SELECT format('account %s stores balance %s, its entries sum to %s', a.id, a.balance, coalesce(e.total, 0))
    FROM "ledger_accounts" a
    LEFT JOIN (SELECT account_id, sum(amount) AS total FROM "ledger_entries" WHERE org_id = p_org GROUP BY 1) e
      ON e.account_id = a.id
   WHERE a.org_id = p_org AND a.kind IN ('pool', 'user') AND a.balance <> coalesce(e.total, 0)
  UNION ALL
  -- Held equals the active holds, and each hold's set-aside pieces add up to it.
  SELECT format('account %s stores held %s, its active holds sum to %s', a.id, a.held, coalesce(r.total, 0))
    FROM "ledger_accounts" a
    LEFT JOIN (SELECT account_id, sum(amount) AS total FROM "reservations"
                WHERE org_id = p_org AND status = 'active' GROUP BY 1) r ON r.account_id = a.id
   WHERE a.org_id = p_org AND a.held <> coalesce(r.total, 0)
  UNION ALL
  SELECT format('reservation %s holds %s but set aside %s', r.id, r.amount, ledger_sum(r.hold_lots))
    FROM "reservations" r WHERE r.org_id = p_org AND r.status = 'active' AND ledger_sum(r.hold_lots) <> r.amount
  UNION ALL
  -- A lot's remainder is what its entries left, less what active holds set aside from it.
  SELECT format('lot %s has remaining %s, expected %s', l.id, l.remaining,
                coalesce(e.total, 0) - coalesce(h.total, 0))
    FROM "credit_lots" l
    LEFT JOIN (SELECT lot_id, sum(amount) AS total FROM "ledger_entries"
                WHERE org_id = p_org AND lot_id IS NOT NULL GROUP BY 1) e ON e.lot_id = l.id
    LEFT JOIN (SELECT (p->>'lot_id')::uuid AS lot_id, sum((p->>'amount')::bigint) AS total
                 FROM "reservations" r, jsonb_array_elements(r.hold_lots) p
                WHERE r.org_id = p_org AND r.status = 'active' GROUP BY 1) h ON h.lot_id = l.id
   WHERE l.org_id = p_org AND l.remaining <> coalesce(e.total, 0) - coalesce(h.total, 0)
  UNION ALL
  -- Debt is exactly what overdraft took (entries with no lot), and a balance is lots + holds - debt.
  SELECT format('account %s stores debt %s, its overdraft entries say %s', a.id, a.debt, -coalesce(e.total, 0))
    FROM "ledger_accounts" a
    LEFT JOIN (SELECT account_id, sum(amount) AS total FROM "ledger_entries"
                WHERE org_id = p_org AND lot_id IS NULL GROUP BY 1) e ON e.account_id = a.id
   WHERE a.org_id = p_org AND a.kind IN ('pool', 'user') AND a.debt <> -coalesce(e.total, 0)
  UNION ALL
  SELECT format('account %s balance %s <> lots %s + held %s - debt %s', a.id, a.balance, coalesce(l.total, 0), a.held, a.debt)
    FROM "ledger_accounts" a
    LEFT JOIN (SELECT account_id, sum(remaining) AS total FROM "credit_lots" WHERE org_id = p_org GROUP BY 1) l
      ON l.account_id = a.id
   WHERE a.org_id = p_org AND a.kind IN ('pool', 'user') AND a.balance <> coalesce(l.total, 0) + a.held - a.debt
  UNION ALL
  -- Available never falls below the overdraft limit.
  SELECT format('account %s is %s below zero, beyond the overdraft limit %s', a.id, -(a.balance - a.held),
                ledger_overdraft_limit(p_org))
    FROM "ledger_accounts" a
   WHERE a.org_id = p_org AND a.kind IN ('pool', 'user') AND a.balance - a.held < -ledger_overdraft_limit(p_org)
  UNION ALL
  -- A reservation is charged at most once; a lease once per captured request, each charge with its record.
  SELECT format('reservation %s was charged %s times', t.reservation_id, count(*))
    FROM "ledger_transactions" t JOIN "reservations" r ON r.id = t.reservation_id
   WHERE t.org_id = p_org AND t.kind = 'charge' AND NOT (r.metadata ? '$lease')
   GROUP BY t.reservation_id HAVING count(*) > 1
  UNION ALL
  SELECT format('lease %s charged in transaction %s without a usage record', r.id, t.id)
    FROM "ledger_transactions" t JOIN "reservations" r ON r.id = t.reservation_id
   WHERE t.org_id = p_org AND t.kind = 'charge' AND r.metadata ? '$lease'
     AND NOT EXISTS (SELECT 1 FROM "usage_records" u WHERE u.transaction_id = t.id)
  UNION ALL
  -- An expired lot never pays: every draw happened before the lot's expiry (for a reserved call, when the
  -- credits were set aside).
  SELECT format('lot %s (expired %s) paid in transaction %s', l.id, l.expires_at, t.id)
    FROM "ledger_entries" e
    JOIN "credit_lots" l ON l.id = e.lot_id
    JOIN "ledger_transactions" t ON t.id = e.transaction_id
    LEFT JOIN "reservations" r ON r.id = t.reservation_id
   WHERE e.org_id = p_org AND e.amount < 0 AND t.kind <> 'expiry' AND l.expires_at IS NOT NULL
     AND l.expires_at <= coalesce(r.created_at, t.created_at)
  UNION ALL
  -- Every entry belongs to a transaction, an account and (when it names one) a lot of the same org. The
  -- ledger's functions are the only writers and take these ids from rows they hold locked; this proves it.
  SELECT format('entry %s names an unknown %s', e.id,
                concat_ws(' and ', CASE WHEN t.id IS NULL THEN 'transaction' END, CASE WHEN a.id IS NULL THEN 'account' END,
                          CASE WHEN e.lot_id IS NOT NULL AND l.id IS NULL THEN 'lot' END))
    FROM "ledger_entries" e
    LEFT JOIN "ledger_transactions" t ON t.id = e.transaction_id AND t.org_id = e.org_id
    LEFT JOIN "ledger_accounts" a ON a.id = e.account_id AND a.org_id = e.org_id
    LEFT JOIN "credit_lots" l ON l.id = e.lot_id AND l.org_id = e.org_id
   WHERE e.org_id = p_org AND (t.id IS NULL OR a.id IS NULL OR (e.lot_id IS NOT NULL AND l.id IS NULL));
$$;


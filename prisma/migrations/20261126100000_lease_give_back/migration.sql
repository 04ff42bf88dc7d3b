-- A capture may also give part of a lease back.
--
-- A lease sized for many requests can be left with credits no request of its member uses (its member's next
-- request needs more than it has free, while requests it answered are still running, so it cannot be released
-- yet). Those credits stay held, and a request that would fit in what the member has really left is refused.
-- With "give_back": <amount> a capture returns that much of what is still set aside (the end of it, the credits
-- spent last) to its lots, after its charges; the lease stays active with the rest.
CREATE OR REPLACE FUNCTION ledger_op_capture(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
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
  v_give bigint := coalesce((p_op->>'give_back')::bigint, 0);
  v_back jsonb := '[]'::jsonb;
  v_given bigint := 0;
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
  IF v_give < 0 THEN RETURN ledger_result_error(422, 'validation_failed', 'give_back must be 0 or more'); END IF;
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
  IF v_give > 0 AND NOT v_checked THEN
    IF r.status = 'active' AND r.expires_at <= p_now THEN
      PERFORM ledger_sweep(r.account_id, p_now);
      RETURN ledger_result_error(409, 'reservation_expired', 'The reservation expired before it was resolved');
    END IF;
    IF r.status <> 'active' THEN RETURN ledger_result_error(409, 'reservation_already_released', 'The lease has ended'); END IF;
  END IF;
  IF v_give > 0 THEN
    -- The end of what is still set aside goes back to its lots; the front stays held, in order.
    v_left := v_give;
    v_rest := '[]'::jsonb;
    FOR piece IN SELECT h.p FROM jsonb_array_elements(v_pieces) WITH ORDINALITY AS h(p, i) ORDER BY h.i DESC LOOP
      v_take := least(v_left, (piece->>'amount')::bigint);
      IF v_take > 0 THEN
        v_back := v_back || jsonb_build_object('lot_id', piece->>'lot_id', 'amount', v_take);
      END IF;
      IF (piece->>'amount')::bigint > v_take THEN
        v_rest := jsonb_build_array(jsonb_build_object('lot_id', piece->>'lot_id', 'amount', (piece->>'amount')::bigint - v_take)) || v_rest;
      END IF;
      v_left := v_left - v_take;
    END LOOP;
    v_given := ledger_sum(v_back);
    v_pieces := v_rest;
    PERFORM ledger_return_lots(r.account_id, v_back);
  END IF;
  IF v_from_hold + v_given > 0 THEN
    UPDATE "ledger_accounts" SET held = held - v_from_hold - v_given, updated_at = now() WHERE id = r.account_id;
  END IF;
  IF v_given > 0 THEN
    UPDATE "reservations" SET amount = amount - v_from_hold - v_given, hold_lots = v_pieces,
                              charged = CASE WHEN v_total > 0 THEN coalesce(charged, 0) + v_total ELSE charged END
     WHERE id = r.id;
    PERFORM ledger_settle_debt(p_org, r.account_id, p_now);
  ELSIF v_total > 0 THEN
    UPDATE "reservations" SET amount = amount - v_from_hold, hold_lots = v_pieces, charged = coalesce(charged, 0) + v_total
     WHERE id = r.id;
  END IF;
  IF v_total > 0 THEN
    IF r.membership_id IS NOT NULL AND (SELECT kind FROM "ledger_accounts" WHERE id = r.account_id) = 'pool' THEN
      PERFORM ledger_record_pool_draw(r.membership_id, v_total, p_now);
    END IF;
  END IF;
  RETURN jsonb_build_object('ok', true, 'http_status', 200, 'id', r.id, 'status', 'active',
                            'amount', (r.amount - v_from_hold - v_given)::text, 'given_back', v_given::text,
                            'charges', to_jsonb(v_results),
                            'balance', ledger_account_state(ledger_answer_account(p_op, r)));
END $$;

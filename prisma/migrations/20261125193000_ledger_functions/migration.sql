-- The ledger's invariants and hot paths, in the database where they cannot be bypassed.
--
-- Concurrency model: every function that changes an account first locks its ledger_accounts row
-- (SELECT ... FOR UPDATE, several accounts always in id order), and only then reads or changes its lots,
-- holds and reservations. Inside a PL/pgSQL function each statement takes a fresh snapshot, so after the lock
-- is granted every read sees the latest committed state of that account: two callers can never both spend the
-- same credits. Locks are taken in one order (accounts by id, then reservations), so callers cannot deadlock.
-- Each call is one statement from the application's side: no transaction stays open across a network call.
--
-- Amounts are micro-credits (bigint). Results are jsonb with amounts as strings, so no consumer ever reads them
-- as floating point.

-- Invariants Prisma's schema language cannot express -------------------------------------------------------

ALTER TABLE "credit_lots"
  ADD CONSTRAINT "credit_lots_amount_positive" CHECK ("amount" > 0),
  ADD CONSTRAINT "credit_lots_remaining_in_range" CHECK ("remaining" >= 0 AND "remaining" <= "amount");
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_held_nonnegative" CHECK ("held" >= 0);
ALTER TABLE "reservations"
  ADD CONSTRAINT "reservations_amount_positive" CHECK ("amount" > 0),
  ADD CONSTRAINT "reservations_charged_nonnegative" CHECK ("charged" IS NULL OR "charged" >= 0);
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_amount_nonnegative" CHECK ("amount" >= 0);
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_amount_nonzero" CHECK ("amount" <> 0);

-- Journal rows are immutable: corrections are new, reversing transactions.
CREATE FUNCTION ledger_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger journal rows are immutable (% on %)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON "ledger_transactions"
  FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change();

-- Every statement that writes entries leaves each transaction it touches summing to zero.
CREATE FUNCTION ledger_check_zero_sum() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad uuid;
BEGIN
  SELECT e.transaction_id INTO bad
    FROM "ledger_entries" e
   WHERE e.transaction_id IN (SELECT DISTINCT transaction_id FROM new_entries)
   GROUP BY e.transaction_id
  HAVING sum(e.amount) <> 0
   LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'ledger transaction % does not sum to zero', bad USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER ledger_entries_zero_sum AFTER INSERT ON "ledger_entries"
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_zero_sum();

ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_debt_nonnegative" CHECK ("debt" >= 0);

-- Accounts -----------------------------------------------------------------------------------------------

-- The pool and system accounts and the policy row of an org (idempotent); returns the pool's id.
CREATE FUNCTION ledger_ensure_org_accounts(p_org uuid) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_pool uuid;
BEGIN
  SELECT id INTO v_pool FROM "ledger_accounts" WHERE org_id = p_org AND key = 'pool';
  IF v_pool IS NOT NULL THEN RETURN v_pool; END IF;
  INSERT INTO "ledger_accounts" (id, org_id, kind, key)
  SELECT gen_random_uuid(), p_org, k::"AccountKind", CASE WHEN k = 'pool' THEN 'pool' ELSE 'system:' || k END
    FROM unnest(ARRAY['pool', 'purchases', 'promotions', 'consumption', 'breakage', 'adjustments']) AS k
  ON CONFLICT (org_id, key) DO NOTHING;
  INSERT INTO "org_policies" (org_id) VALUES (p_org) ON CONFLICT DO NOTHING;
  SELECT id INTO v_pool FROM "ledger_accounts" WHERE org_id = p_org AND key = 'pool';
  RETURN v_pool;
END $$;

CREATE FUNCTION ledger_system_account(p_org uuid, p_kind text) RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT id FROM "ledger_accounts"
   WHERE org_id = p_org AND key = CASE WHEN p_kind = 'pool' THEN 'pool' ELSE 'system:' || p_kind END;
$$;

-- A member's allocation account, created on first use.
CREATE FUNCTION ledger_user_account(p_org uuid, p_membership uuid) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
BEGIN
  SELECT id INTO v_id FROM "ledger_accounts" WHERE membership_id = p_membership;
  IF v_id IS NOT NULL THEN RETURN v_id; END IF;
  PERFORM ledger_ensure_org_accounts(p_org);
  INSERT INTO "ledger_accounts" (id, org_id, kind, key, membership_id)
  VALUES (gen_random_uuid(), p_org, 'user', 'user:' || p_membership, p_membership)
  ON CONFLICT (org_id, key) DO NOTHING;
  SELECT id INTO v_id FROM "ledger_accounts" WHERE membership_id = p_membership;
  RETURN v_id;
END $$;

-- Locks accounts in id order: the one lock order of the ledger.
CREATE FUNCTION ledger_lock_accounts(p_ids uuid[]) RETURNS void LANGUAGE sql AS $$
  SELECT 1 FROM "ledger_accounts" WHERE id = ANY(p_ids) ORDER BY id FOR UPDATE;
$$;

-- An account as the API shows it: available (spendable now), reserved (held), balance, debt.
CREATE FUNCTION ledger_account_state(p_account uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('account_id', id, 'available', (balance - held)::text, 'reserved', held::text,
                            'balance', balance::text, 'debt', debt::text)
    FROM "ledger_accounts" WHERE id = p_account;
$$;

CREATE FUNCTION ledger_result_error(p_status int, p_code text, p_message text, p_details jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_strip_nulls(jsonb_build_object('ok', false, 'http_status', p_status, 'code', p_code, 'message', p_message,
                                              'details', p_details));
$$;

-- Journal ------------------------------------------------------------------------------------------------

-- created_at is the ledger's time of the posting (the database clock, or the time a test sets);
-- occurred_at is when it happened for the customer (a backfilled usage event's timestamp).
CREATE FUNCTION ledger_begin_txn(
  p_org uuid, p_kind text, p_op jsonb, p_memo text, p_occurred_at timestamptz, p_reservation uuid,
  p_usage_event uuid, p_now timestamptz
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_txn uuid := gen_random_uuid();
BEGIN
  INSERT INTO "ledger_transactions" (id, org_id, kind, occurred_at, reservation_id, usage_event_id, actor_type,
                                     actor_id, memo, metadata, created_at)
  VALUES (v_txn, p_org, p_kind::"TransactionKind", p_occurred_at, p_reservation, p_usage_event,
          coalesce(p_op->>'actor_type', 'system')::"ActorType", p_op->>'actor_id', p_memo,
          coalesce(p_op->'metadata', '{}'::jsonb), p_now);
  RETURN v_txn;
END $$;

-- Writes the entries of a transaction ([{account_id, amount, lot_id?}], summing to zero) in one insert and
-- moves the stored balances of the customer accounts (pool, user) they touch: the only writer of entries and
-- balances. System accounts keep no stored balance (theirs is the sum of their entries, read when needed):
-- stored, the consumption account would be one row every charge of an org waits on.
CREATE FUNCTION ledger_post_entries(p_org uuid, p_txn uuid, p_entries jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "ledger_entries" (transaction_id, org_id, account_id, amount, lot_id)
  SELECT p_txn, p_org, e.account_id, e.amount, e.lot_id
    FROM jsonb_to_recordset(p_entries) AS e(account_id uuid, amount bigint, lot_id uuid)
   WHERE e.amount <> 0;
  UPDATE "ledger_accounts" a SET balance = a.balance + d.total, updated_at = now()
    FROM (SELECT e.account_id, sum(e.amount) AS total
            FROM jsonb_to_recordset(p_entries) AS e(account_id uuid, amount bigint)
           GROUP BY e.account_id) d
   WHERE a.id = d.account_id AND d.total <> 0 AND a.kind IN ('pool', 'user');
END $$;

CREATE FUNCTION ledger_sum(p_entries jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(sum((e->>'amount')::bigint), 0) FROM jsonb_array_elements(p_entries) e;
$$;

-- Lots -----------------------------------------------------------------------------------------------------

-- Takes up to p_amount from the unexpired lots of a locked account in spend order (priority high first, then
-- earliest expiry, then oldest). Returns [{lot_id, amount, expires_at, priority}]; the sum may fall short.
CREATE FUNCTION ledger_take_lots(p_account uuid, p_amount bigint, p_now timestamptz) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_left bigint := p_amount;
  v_take bigint;
  v_out jsonb := '[]'::jsonb;
  lot record;
BEGIN
  IF p_amount <= 0 THEN RETURN v_out; END IF;
  FOR lot IN
    SELECT id, remaining, expires_at, priority FROM "credit_lots"
     WHERE account_id = p_account AND remaining > 0 AND (expires_at IS NULL OR expires_at > p_now)
     ORDER BY priority DESC, expires_at ASC NULLS LAST, created_at, id
  LOOP
    v_take := least(v_left, lot.remaining);
    UPDATE "credit_lots" SET remaining = remaining - v_take WHERE id = lot.id;
    v_out := v_out || jsonb_build_object('lot_id', lot.id, 'amount', v_take, 'expires_at', lot.expires_at,
                                         'priority', lot.priority);
    v_left := v_left - v_take;
    EXIT WHEN v_left = 0;
  END LOOP;
  RETURN v_out;
END $$;

-- Puts set-aside credits back into their lots. A lot that expired meanwhile gets them back too, and the
-- account's sweep_at makes the next read expire them.
CREATE FUNCTION ledger_return_lots(p_account uuid, p_pieces jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_first_expiry timestamptz;
BEGIN
  IF jsonb_array_length(p_pieces) = 0 THEN RETURN; END IF;
  WITH back AS (
    -- Summed per lot first: an UPDATE ... FROM applies only one of several rows joining the same lot, and the
    -- pieces of holds expiring together often come from one lot.
    UPDATE "credit_lots" l SET remaining = l.remaining + p.amount
      FROM (SELECT r.lot_id, sum(r.amount) AS amount
              FROM jsonb_to_recordset(p_pieces) AS r(lot_id uuid, amount bigint) GROUP BY r.lot_id) p
     WHERE l.id = p.lot_id AND p.amount > 0
    RETURNING l.expires_at)
  SELECT min(expires_at) INTO v_first_expiry FROM back;
  IF v_first_expiry IS NOT NULL THEN
    UPDATE "ledger_accounts" SET sweep_at = least(coalesce(sweep_at, v_first_expiry), v_first_expiry)
     WHERE id = p_account;
  END IF;
END $$;

-- Entries drawing pieces [{lot_id, amount}] from an account (negative amounts).
CREATE FUNCTION ledger_draw_entries(p_account uuid, p_pieces jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object('account_id', p_account, 'amount', -(p->>'amount')::bigint,
                                               'lot_id', p->>'lot_id')), '[]'::jsonb)
    FROM jsonb_array_elements(p_pieces) p WHERE (p->>'amount')::bigint > 0;
$$;

-- Creates a lot on a locked account for credits entering it in transaction p_txn.
CREATE FUNCTION ledger_create_lot(
  p_org uuid, p_account uuid, p_source text, p_amount bigint, p_priority int, p_expires_at timestamptz,
  p_parent uuid, p_txn uuid, p_now timestamptz
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_lot uuid := gen_random_uuid();
BEGIN
  INSERT INTO "credit_lots" (id, org_id, account_id, source, amount, remaining, priority, expires_at,
                             parent_lot_id, transaction_id, created_at, effective_at)
  VALUES (v_lot, p_org, p_account, p_source::"LotSource", p_amount, p_amount, p_priority, p_expires_at,
          p_parent, p_txn, p_now, p_now);
  IF p_expires_at IS NOT NULL THEN
    UPDATE "ledger_accounts" SET sweep_at = least(coalesce(sweep_at, p_expires_at), p_expires_at)
     WHERE id = p_account;
  END IF;
  RETURN v_lot;
END $$;

-- Repays a locked account's debt from its lots, in a zero-sum debt_settlement transaction that records which
-- lots paid for the earlier overdraft.
CREATE FUNCTION ledger_settle_debt(p_org uuid, p_account uuid, p_now timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_debt bigint;
  v_pieces jsonb;
  v_paid bigint;
  v_txn uuid;
BEGIN
  SELECT debt INTO v_debt FROM "ledger_accounts" WHERE id = p_account;
  IF v_debt <= 0 THEN RETURN; END IF;
  v_pieces := ledger_take_lots(p_account, v_debt, p_now);
  v_paid := ledger_sum(v_pieces);
  IF v_paid = 0 THEN RETURN; END IF;
  v_txn := ledger_begin_txn(p_org, 'debt_settlement', '{}'::jsonb, 'Overdraft repaid from new credits', p_now,
                            NULL, NULL, p_now);
  PERFORM ledger_post_entries(p_org, v_txn, ledger_draw_entries(p_account, v_pieces)
    || jsonb_build_array(jsonb_build_object('account_id', p_account, 'amount', v_paid)));
  UPDATE "ledger_accounts" SET debt = debt - v_paid WHERE id = p_account;
END $$;

-- Expiry ---------------------------------------------------------------------------------------------------

-- Resolves what has expired on a locked account at p_now: active holds past their time stop counting and
-- give their credits back to their lots (status expired); then the remainder of expired lots moves to
-- breakage in one expiry transaction; then sweep_at becomes the next moment anything here can expire.
CREATE FUNCTION ledger_sweep(p_account uuid, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_org uuid;
  v_released bigint;
  v_pieces jsonb;
  v_total bigint;
  v_txn uuid;
BEGIN
  SELECT org_id INTO v_org FROM "ledger_accounts" WHERE id = p_account;

  WITH expired AS (
    UPDATE "reservations" SET status = 'expired', resolved_at = p_now
     WHERE account_id = p_account AND status = 'active' AND expires_at <= p_now
    RETURNING amount, hold_lots)
  -- Amounts summed per hold, pieces gathered per piece: summed over the pieces, a hold set aside from several
  -- lots would count once per lot.
  SELECT (SELECT coalesce(sum(amount), 0) FROM expired),
         (SELECT coalesce(jsonb_agg(p), '[]'::jsonb) FROM expired, jsonb_array_elements(expired.hold_lots) p)
    INTO v_released, v_pieces;
  IF v_released > 0 THEN
    PERFORM ledger_return_lots(p_account, v_pieces);
    UPDATE "ledger_accounts" SET held = held - v_released, updated_at = now() WHERE id = p_account;
  END IF;

  WITH old AS (
    SELECT id, remaining FROM "credit_lots"
     WHERE account_id = p_account AND remaining > 0 AND expires_at <= p_now),
  upd AS (
    UPDATE "credit_lots" l SET remaining = 0 FROM old WHERE l.id = old.id RETURNING old.id, old.remaining)
  SELECT coalesce(jsonb_agg(jsonb_build_object('lot_id', id, 'amount', remaining)), '[]'::jsonb),
         coalesce(sum(remaining), 0)
    INTO v_pieces, v_total FROM upd;
  IF v_total > 0 THEN
    v_txn := ledger_begin_txn(v_org, 'expiry', '{}'::jsonb, 'Expired credits', p_now, NULL, NULL, p_now);
    PERFORM ledger_post_entries(v_org, v_txn, ledger_draw_entries(p_account, v_pieces)
      || jsonb_build_array(jsonb_build_object('account_id', ledger_system_account(v_org, 'breakage'),
                                              'amount', v_total)));
  END IF;

  IF v_released > 0 THEN
    PERFORM ledger_settle_debt(v_org, p_account, p_now);
  END IF;

  UPDATE "ledger_accounts" SET sweep_at = (
    SELECT min(t) FROM (
      SELECT min(expires_at) AS t FROM "reservations" WHERE account_id = p_account AND status = 'active'
      UNION ALL
      SELECT min(expires_at) FROM "credit_lots" WHERE account_id = p_account AND remaining > 0) x)
   WHERE id = p_account;
END $$;

-- Spendable credits of a locked account at p_now: unexpired lot remainders minus debt. Holds are already
-- set aside from the lots, so until sweep_at this is balance - held, one row read; after it, sweep first.
CREATE FUNCTION ledger_available(p_account uuid, p_now timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_sweep timestamptz;
  v_available bigint;
BEGIN
  SELECT sweep_at, balance - held INTO v_sweep, v_available FROM "ledger_accounts" WHERE id = p_account;
  IF v_sweep IS NOT NULL AND v_sweep <= p_now THEN
    PERFORM ledger_sweep(p_account, p_now);
    SELECT balance - held INTO v_available FROM "ledger_accounts" WHERE id = p_account;
  END IF;
  RETURN v_available;
END $$;

CREATE FUNCTION ledger_overdraft_limit(p_org uuid) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT overdraft_limit FROM "org_policies" WHERE org_id = p_org), 0);
$$;

-- Pool fallback ----------------------------------------------------------------------------------------------

-- What a member has drawn from the pool in the current day and month (charges plus active pool holds).
CREATE FUNCTION ledger_pool_used(p_membership uuid, p_pool uuid, p_period text, p_now timestamptz) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT amount FROM "pool_draws" WHERE membership_id = p_membership AND period = p_period), 0)
       + coalesce((SELECT sum(amount) FROM "reservations"
                    WHERE account_id = p_pool AND membership_id = p_membership AND status = 'active'
                      AND expires_at > p_now
                      AND created_at >= CASE WHEN p_period LIKE 'd:%' THEN date_trunc('day', p_now, 'UTC')
                                             ELSE date_trunc('month', p_now, 'UTC') END), 0);
$$;

CREATE FUNCTION ledger_pool_periods(p_now timestamptz) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['d:' || to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'm:' || to_char(p_now AT TIME ZONE 'UTC', 'YYYY-MM')];
$$;

-- Whether a member may draw p_amount from the pool now: the op carries the pool account (only when the
-- member's policy allows pool fallback) and the member's daily and monthly limits (null: none).
CREATE FUNCTION ledger_pool_allows(p_op jsonb, p_amount bigint, p_now timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  v_pool uuid := (p_op->>'pool_account_id')::uuid;
  v_member uuid := (p_op->>'membership_id')::uuid;
  v_periods text[] := ledger_pool_periods(p_now);
BEGIN
  IF v_pool IS NULL OR v_member IS NULL THEN RETURN false; END IF;
  IF p_op->>'pool_daily_limit' IS NOT NULL
     AND ledger_pool_used(v_member, v_pool, v_periods[1], p_now) + p_amount > (p_op->>'pool_daily_limit')::bigint THEN
    RETURN false;
  END IF;
  IF p_op->>'pool_monthly_limit' IS NOT NULL
     AND ledger_pool_used(v_member, v_pool, v_periods[2], p_now) + p_amount > (p_op->>'pool_monthly_limit')::bigint THEN
    RETURN false;
  END IF;
  RETURN ledger_available(v_pool, p_now) >= p_amount;
END $$;

CREATE FUNCTION ledger_record_pool_draw(p_membership uuid, p_amount bigint, p_now timestamptz) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO "pool_draws" (membership_id, period, amount)
  SELECT p_membership, unnest(ledger_pool_periods(p_now)), p_amount
  ON CONFLICT (membership_id, period) DO UPDATE SET amount = "pool_draws".amount + EXCLUDED.amount;
$$;

-- Charging ---------------------------------------------------------------------------------------------------

-- Posts a charge of p_amount against a locked account: the given pieces (already taken from lots) first, then
-- more from its lots, then overdraft (debt) for what no lot covers. Returns the transaction id.
CREATE FUNCTION ledger_post_charge(
  p_org uuid, p_account uuid, p_amount bigint, p_pieces jsonb, p_op jsonb, p_occurred_at timestamptz,
  p_reservation uuid, p_usage_event uuid, p_now timestamptz
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_pieces jsonb := p_pieces;
  v_short bigint;
  v_txn uuid;
  v_entries jsonb;
BEGIN
  IF p_amount <= 0 THEN RETURN NULL; END IF;
  v_short := p_amount - ledger_sum(v_pieces);
  IF v_short > 0 THEN
    v_pieces := v_pieces || ledger_take_lots(p_account, v_short, p_now);
    v_short := p_amount - ledger_sum(v_pieces);
  END IF;
  v_entries := ledger_draw_entries(p_account, v_pieces)
    || jsonb_build_array(jsonb_build_object('account_id', ledger_system_account(p_org, 'consumption'),
                                            'amount', p_amount));
  IF v_short > 0 THEN
    v_entries := v_entries || jsonb_build_array(jsonb_build_object('account_id', p_account, 'amount', -v_short));
    UPDATE "ledger_accounts" SET debt = debt + v_short WHERE id = p_account;
  END IF;
  v_txn := ledger_begin_txn(p_org, 'charge', p_op, p_op->>'memo', p_occurred_at, p_reservation, p_usage_event,
                            p_now);
  PERFORM ledger_post_entries(p_org, v_txn, v_entries);
  RETURN v_txn;
END $$;

-- Operations -------------------------------------------------------------------------------------------------
-- Each takes the org, the operation (jsonb) and the time, expects its customer accounts locked by
-- ledger_apply, and returns a result: {ok: true, http_status, ...} or {ok: false, http_status, code, message}.

-- Credits entering an account from outside the org: promotion, purchase, adjustment or refund.
CREATE FUNCTION ledger_op_grant(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_account uuid := (p_op->>'account_id')::uuid;
  v_amount bigint := (p_op->>'amount')::bigint;
  v_source text := p_op->>'source';
  v_expires timestamptz := (p_op->>'expires_at')::timestamptz;
  v_counter text;
  v_kind text;
  v_txn uuid;
  v_lot uuid;
BEGIN
  IF v_amount IS NULL OR v_amount <= 0 THEN
    RETURN ledger_result_error(422, 'validation_failed', 'amount must be greater than 0');
  END IF;
  IF v_expires IS NOT NULL AND v_expires <= p_now THEN
    RETURN ledger_result_error(422, 'validation_failed', 'expires_at must be in the future');
  END IF;
  v_counter := CASE v_source WHEN 'promotion' THEN 'promotions' WHEN 'purchase' THEN 'purchases'
                             WHEN 'adjustment' THEN 'adjustments' WHEN 'refund' THEN 'consumption' END;
  v_kind := CASE v_source WHEN 'promotion' THEN 'grant' WHEN 'purchase' THEN 'purchase'
                          WHEN 'adjustment' THEN 'adjustment' WHEN 'refund' THEN 'refund' END;
  IF v_counter IS NULL THEN
    RETURN ledger_result_error(422, 'validation_failed', 'unknown credit source');
  END IF;
  v_txn := ledger_begin_txn(p_org, v_kind, p_op, p_op->>'memo', p_now, NULL, NULL, p_now);
  v_lot := ledger_create_lot(p_org, v_account, v_source, v_amount, coalesce((p_op->>'priority')::int, 0),
                             v_expires, NULL, v_txn, p_now);
  PERFORM ledger_post_entries(p_org, v_txn, jsonb_build_array(
    jsonb_build_object('account_id', v_account, 'amount', v_amount, 'lot_id', v_lot),
    jsonb_build_object('account_id', ledger_system_account(p_org, v_counter), 'amount', -v_amount)));
  PERFORM ledger_settle_debt(p_org, v_account, p_now);
  RETURN jsonb_build_object('ok', true, 'http_status', 201, 'transaction_id', v_txn, 'lot_id', v_lot,
                            'amount', v_amount::text, 'expires_at', v_expires,
                            'balance', ledger_account_state(v_account));
END $$;

-- Credits moving between customer accounts of an org (allocation, reclaim, transfer). The credits keep their
-- expiry and priority: each lot drawn becomes a lot of the same terms on the receiving side.
CREATE FUNCTION ledger_op_move(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_from uuid := (p_op->>'from_account_id')::uuid;
  v_to uuid := (p_op->>'to_account_id')::uuid;
  v_amount bigint := (p_op->>'amount')::bigint;
  v_kind text := p_op->>'kind';
  v_available bigint;
  v_pieces jsonb;
  v_txn uuid;
  v_entries jsonb := '[]'::jsonb;
  v_lot uuid;
  piece jsonb;
BEGIN
  IF v_amount IS NULL OR v_amount <= 0 THEN
    RETURN ledger_result_error(422, 'validation_failed', 'amount must be greater than 0');
  END IF;
  IF v_from = v_to THEN
    RETURN ledger_result_error(422, 'validation_failed', 'source and destination are the same account');
  END IF;
  v_available := ledger_available(v_from, p_now);
  IF v_available < v_amount THEN
    RETURN ledger_result_error(402, 'insufficient_credits', 'The source does not have enough available credits',
                               jsonb_build_object('available', v_available::text, 'requested', v_amount::text));
  END IF;
  v_pieces := ledger_take_lots(v_from, v_amount, p_now);
  v_txn := ledger_begin_txn(p_org, v_kind, p_op, p_op->>'memo', p_now, NULL, NULL, p_now);
  FOR piece IN SELECT * FROM jsonb_array_elements(v_pieces) LOOP
    v_lot := ledger_create_lot(p_org, v_to, CASE WHEN v_kind = 'allocation' THEN 'allocation' ELSE 'transfer' END,
                               (piece->>'amount')::bigint, (piece->>'priority')::int,
                               (piece->>'expires_at')::timestamptz, (piece->>'lot_id')::uuid, v_txn, p_now);
    v_entries := v_entries
      || jsonb_build_object('account_id', v_from, 'amount', -(piece->>'amount')::bigint, 'lot_id', piece->>'lot_id')
      || jsonb_build_object('account_id', v_to, 'amount', (piece->>'amount')::bigint, 'lot_id', v_lot);
  END LOOP;
  PERFORM ledger_post_entries(p_org, v_txn, v_entries);
  PERFORM ledger_settle_debt(p_org, v_to, p_now);
  RETURN jsonb_build_object('ok', true, 'http_status', 201, 'transaction_id', v_txn, 'amount', v_amount::text,
                            'from', ledger_account_state(v_from), 'to', ledger_account_state(v_to));
END $$;

-- A hold: sets aside p_amount from the member's lots (or, when allowed, the pool's) until commit, release or
-- expiry.
CREATE FUNCTION ledger_op_reserve(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_account uuid := (p_op->>'account_id')::uuid;
  v_amount bigint := (p_op->>'amount')::bigint;
  v_ttl int := (p_op->>'ttl_seconds')::int;
  v_funded uuid := v_account;
  v_available bigint;
  v_pieces jsonb;
  v_id uuid := coalesce((p_op->>'id')::uuid, gen_random_uuid());
  v_expires timestamptz;
BEGIN
  IF v_amount IS NULL OR v_amount <= 0 THEN
    RETURN ledger_result_error(422, 'validation_failed', 'amount must be greater than 0');
  END IF;
  v_available := ledger_available(v_account, p_now);
  IF v_available < v_amount THEN
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
  VALUES (v_id, p_org, v_funded, (p_op->>'membership_id')::uuid, v_amount, v_expires, v_pieces,
          coalesce(p_op->'metadata', '{}'::jsonb), p_now);
  UPDATE "ledger_accounts" SET held = held + v_amount, sweep_at = least(coalesce(sweep_at, v_expires), v_expires),
                               updated_at = now()
   WHERE id = v_funded;
  RETURN jsonb_build_object('ok', true, 'http_status', 201, 'id', v_id, 'status', 'active',
                            'amount', v_amount::text, 'expires_at', v_expires,
                            'funded_by', CASE WHEN v_funded = v_account THEN 'user' ELSE 'pool' END,
                            'balance', ledger_account_state(v_account));
END $$;

-- The first resolution of a reservation wins; what comes after it gets the stored result (same request) or a
-- conflict naming the reservation's state.
CREATE FUNCTION ledger_resolved_answer(r "reservations", p_hash text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN r.status = 'expired' THEN
      ledger_result_error(409, 'reservation_expired', 'The reservation expired before it was resolved')
    WHEN r.resolution_hash = p_hash THEN r.result
    WHEN r.status = 'committed' THEN
      ledger_result_error(409, 'reservation_already_committed', 'The reservation was already committed',
                          jsonb_build_object('charged', r.charged::text))
    ELSE ledger_result_error(409, 'reservation_already_released', 'The reservation was already released')
  END;
$$;

-- The account whose balance a commit or release answers with: the member's own, as the reservation's answer
-- did, also when the pool funded the hold (the pool's balance is not the member's to see).
CREATE FUNCTION ledger_answer_account(p_op jsonb, r "reservations") RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT coalesce((p_op->>'account_id')::uuid,
                  (SELECT id FROM "ledger_accounts" WHERE membership_id = r.membership_id),
                  r.account_id);
$$;

-- Charges the actual cost of a reserved call: at most the hold from the set-aside credits, more only within
-- available + overdraft; what the hold does not need goes back to its lots.
CREATE FUNCTION ledger_op_commit(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r "reservations";
  v_amount bigint := (p_op->>'amount')::bigint;
  v_hash text := p_op->>'request_hash';
  v_left bigint;
  v_take bigint;
  v_charged jsonb := '[]'::jsonb;
  v_back jsonb := '[]'::jsonb;
  v_available bigint;
  v_txn uuid;
  v_result jsonb;
  v_user_account uuid;
  piece jsonb;
BEGIN
  SELECT * INTO r FROM "reservations" WHERE id = (p_op->>'reservation_id')::uuid AND org_id = p_org FOR UPDATE;
  IF NOT FOUND THEN RETURN ledger_result_error(404, 'not_found', 'Reservation not found'); END IF;
  IF r.status = 'active' AND r.expires_at <= p_now THEN
    PERFORM ledger_sweep(r.account_id, p_now);
    RETURN ledger_result_error(409, 'reservation_expired', 'The reservation expired before it was resolved');
  END IF;
  IF r.status <> 'active' THEN RETURN ledger_resolved_answer(r, v_hash); END IF;
  IF v_amount IS NULL OR v_amount < 0 THEN
    RETURN ledger_result_error(422, 'validation_failed', 'amount must be 0 or more');
  END IF;

  -- Split the set-aside credits into what pays and what goes back.
  v_left := v_amount;
  FOR piece IN SELECT * FROM jsonb_array_elements(r.hold_lots) LOOP
    v_take := least(v_left, (piece->>'amount')::bigint);
    IF v_take > 0 THEN
      v_charged := v_charged || jsonb_build_object('lot_id', piece->>'lot_id', 'amount', v_take);
    END IF;
    IF (piece->>'amount')::bigint > v_take THEN
      v_back := v_back || jsonb_build_object('lot_id', piece->>'lot_id', 'amount', (piece->>'amount')::bigint - v_take);
    END IF;
    v_left := v_left - v_take;
  END LOOP;

  IF v_left > 0 THEN
    v_available := ledger_available(r.account_id, p_now);
    IF v_available - v_left < -ledger_overdraft_limit(p_org) THEN
      RETURN ledger_result_error(409, 'commit_exceeds_available',
        'The amount exceeds the reservation and the available credits plus overdraft',
        jsonb_build_object('reserved', r.amount::text, 'available', v_available::text,
                           'overdraft_limit', ledger_overdraft_limit(p_org)::text));
    END IF;
  END IF;

  v_txn := ledger_post_charge(p_org, r.account_id, v_amount, v_charged, p_op, p_now, r.id, NULL, p_now);
  PERFORM ledger_return_lots(r.account_id, v_back);
  UPDATE "ledger_accounts" SET held = held - r.amount, updated_at = now() WHERE id = r.account_id;
  IF r.membership_id IS NOT NULL AND v_amount > 0
     AND (SELECT kind FROM "ledger_accounts" WHERE id = r.account_id) = 'pool' THEN
    PERFORM ledger_record_pool_draw(r.membership_id, v_amount, p_now);
  END IF;
  IF jsonb_array_length(v_back) > 0 THEN PERFORM ledger_settle_debt(p_org, r.account_id, p_now); END IF;

  v_user_account := ledger_answer_account(p_op, r);
  v_result := jsonb_build_object('ok', true, 'http_status', 200, 'id', r.id, 'status', 'committed',
                                 'charged', v_amount::text, 'released', greatest(r.amount - v_amount, 0)::text,
                                 'transaction_id', v_txn, 'balance', ledger_account_state(v_user_account));
  UPDATE "reservations"
     SET status = 'committed', charged = v_amount, resolution_hash = v_hash, result = v_result,
         transaction_id = v_txn, resolved_at = p_now, metadata = metadata || coalesce(p_op->'metadata', '{}'::jsonb)
   WHERE id = r.id;
  RETURN v_result;
END $$;

-- Gives a hold's credits back to its lots.
CREATE FUNCTION ledger_op_release(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r "reservations";
  v_hash text := coalesce(p_op->>'request_hash', 'release');
  v_result jsonb;
BEGIN
  SELECT * INTO r FROM "reservations" WHERE id = (p_op->>'reservation_id')::uuid AND org_id = p_org FOR UPDATE;
  IF NOT FOUND THEN RETURN ledger_result_error(404, 'not_found', 'Reservation not found'); END IF;
  IF r.status = 'active' AND r.expires_at <= p_now THEN
    PERFORM ledger_sweep(r.account_id, p_now);
    RETURN ledger_result_error(409, 'reservation_expired', 'The reservation expired before it was resolved');
  END IF;
  IF r.status <> 'active' THEN RETURN ledger_resolved_answer(r, v_hash); END IF;

  PERFORM ledger_return_lots(r.account_id, r.hold_lots);
  UPDATE "ledger_accounts" SET held = held - r.amount, updated_at = now() WHERE id = r.account_id;
  PERFORM ledger_settle_debt(p_org, r.account_id, p_now);
  v_result := jsonb_build_object('ok', true, 'http_status', 200, 'id', r.id, 'status', 'released',
                                 'released', r.amount::text,
                                 'balance', ledger_account_state(ledger_answer_account(p_op, r)));
  UPDATE "reservations" SET status = 'released', resolution_hash = v_hash, result = v_result, resolved_at = p_now
   WHERE id = r.id;
  RETURN v_result;
END $$;

-- A metered usage event, charged at once and exactly once per (org, event id).
CREATE FUNCTION ledger_op_usage(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_account uuid := (p_op->>'account_id')::uuid;
  v_amount bigint := (p_op->>'amount')::bigint;
  v_event text := p_op->>'event_id';
  v_hash text := p_op->>'request_hash';
  v_funded uuid := v_account;
  v_available bigint;
  v_row uuid;
  v_txn uuid;
  e "usage_events";
BEGIN
  SELECT * INTO e FROM "usage_events" WHERE org_id = p_org AND event_id = v_event;
  IF FOUND THEN
    IF e.request_hash <> v_hash THEN
      RETURN ledger_result_error(409, 'event_conflict', 'An event with this id was already recorded with other content');
    END IF;
    RETURN jsonb_build_object('ok', true, 'http_status', 200, 'id', v_event, 'status', 'duplicate',
                              'charged', e.amount::text, 'transaction_id', e.transaction_id,
                              'balance', ledger_account_state(v_account));
  END IF;
  IF v_amount IS NULL OR v_amount < 0 THEN
    RETURN ledger_result_error(422, 'validation_failed', 'amount must be 0 or more');
  END IF;
  IF v_amount > 0 THEN
    v_available := ledger_available(v_account, p_now);
    IF v_available - v_amount < -ledger_overdraft_limit(p_org) THEN
      IF ledger_pool_allows(p_op, v_amount, p_now) THEN
        v_funded := (p_op->>'pool_account_id')::uuid;
      ELSE
        RETURN ledger_result_error(402, 'insufficient_credits', 'Not enough available credits for this event',
                                   jsonb_build_object('available', v_available::text, 'requested', v_amount::text));
      END IF;
    END IF;
  END IF;
  INSERT INTO "usage_events" (id, org_id, event_id, membership_id, amount, occurred_at, request_hash, metadata)
  VALUES (gen_random_uuid(), p_org, v_event, (p_op->>'membership_id')::uuid, v_amount,
          coalesce((p_op->>'occurred_at')::timestamptz, p_now), v_hash, coalesce(p_op->'metadata', '{}'::jsonb))
  ON CONFLICT (org_id, event_id) DO NOTHING
  RETURNING id INTO v_row;
  IF v_row IS NULL THEN
    -- Recorded meanwhile by a request for another member (so under another lock): same answer as above.
    RETURN ledger_op_usage(p_org, p_op, p_now);
  END IF;
  v_txn := ledger_post_charge(p_org, v_funded, v_amount, '[]'::jsonb, p_op,
                              coalesce((p_op->>'occurred_at')::timestamptz, p_now), NULL, v_row, p_now);
  IF v_funded <> v_account THEN
    PERFORM ledger_record_pool_draw((p_op->>'membership_id')::uuid, v_amount, p_now);
  END IF;
  UPDATE "usage_events" SET transaction_id = v_txn WHERE id = v_row;
  RETURN jsonb_build_object('ok', true, 'http_status', 201, 'id', v_event, 'status', 'charged',
                            'charged', v_amount::text, 'transaction_id', v_txn,
                            'funded_by', CASE WHEN v_funded = v_account THEN 'user' ELSE 'pool' END,
                            'balance', ledger_account_state(v_account));
END $$;

CREATE FUNCTION ledger_exec(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RETURN CASE p_op->>'type'
    WHEN 'grant' THEN ledger_op_grant(p_org, p_op, p_now)
    WHEN 'move' THEN ledger_op_move(p_org, p_op, p_now)
    WHEN 'reserve' THEN ledger_op_reserve(p_org, p_op, p_now)
    WHEN 'commit' THEN ledger_op_commit(p_org, p_op, p_now)
    WHEN 'release' THEN ledger_op_release(p_org, p_op, p_now)
    WHEN 'usage' THEN ledger_op_usage(p_org, p_op, p_now)
    WHEN 'sweep' THEN (SELECT jsonb_build_object('ok', true, 'http_status', 200)
                         FROM (SELECT ledger_sweep((p_op->>'account_id')::uuid, p_now)) s)
    ELSE ledger_result_error(422, 'validation_failed', 'unknown ledger operation')
  END;
END $$;

-- The answer to a repeated Idempotency-Key: the stored result for the same request, a mismatch for another.
CREATE FUNCTION ledger_idempotent_answer(k "idempotency_keys", p_hash text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN k.request_hash = p_hash THEN k.body
              ELSE ledger_result_error(422, 'idempotency_mismatch',
                                       'This Idempotency-Key was used with a different request') END;
$$;

-- The entry point: applies a batch of operations of one org in one transaction, in order, and returns one
-- result per operation. First it locks every customer account the batch touches, in id order, so batches
-- running at once on other connections or app instances serialize per account and never deadlock. An
-- operation with an idempotency key is recorded with its result in the same transaction: a repeat returns the
-- stored result, the same key with another request hash answers idempotency_mismatch.
CREATE FUNCTION ledger_apply(p_org uuid, p_ops jsonb, p_now timestamptz DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  -- Milliseconds, the precision the timestamps are stored with, so results show exactly what was stored.
  v_now timestamptz := date_trunc('milliseconds', coalesce(p_now, now()));
  -- An array variable grows in place; appending to a jsonb value would copy it every time.
  v_results jsonb[] := ARRAY[]::jsonb[];
  v_accounts uuid[];
  v_reservations uuid[];
  v_result jsonb;
  v_stored "idempotency_keys";
  v_constraint text;
  op jsonb;
BEGIN
  -- The accounts named by the operations, and those of the reservations they resolve (looked up by primary
  -- key: this runs on every call, so it must stay cheap however many reservations there are).
  SELECT coalesce(array_agg(v.a), ARRAY[]::uuid[]) INTO v_accounts
    FROM jsonb_array_elements(p_ops) o,
         LATERAL (VALUES ((o->>'account_id')::uuid), ((o->>'pool_account_id')::uuid),
                         ((o->>'from_account_id')::uuid), ((o->>'to_account_id')::uuid)) v(a)
   WHERE v.a IS NOT NULL;
  v_reservations := ARRAY(SELECT (o->>'reservation_id')::uuid FROM jsonb_array_elements(p_ops) o
                           WHERE o ? 'reservation_id');
  IF cardinality(v_reservations) > 0 THEN
    v_accounts := v_accounts || ARRAY(SELECT account_id FROM "reservations"
                                       WHERE id = ANY(v_reservations) AND org_id = p_org);
  END IF;
  PERFORM ledger_lock_accounts(v_accounts);

  FOR op IN SELECT * FROM jsonb_array_elements(p_ops) LOOP
    IF op->>'idempotency_key' IS NULL THEN
      v_result := ledger_exec(p_org, op, v_now);
    ELSE
      SELECT * INTO v_stored FROM "idempotency_keys" WHERE org_id = p_org AND key = op->>'idempotency_key';
      IF FOUND THEN
        v_result := ledger_idempotent_answer(v_stored, op->>'idempotency_hash');
      ELSE
        BEGIN
          v_result := ledger_exec(p_org, op, v_now);
          INSERT INTO "idempotency_keys" (org_id, key, request_hash, status, body, expires_at)
          VALUES (p_org, op->>'idempotency_key', op->>'idempotency_hash', (v_result->>'http_status')::int,
                  v_result, v_now + interval '24 hours');
        EXCEPTION WHEN unique_violation THEN
          GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
          IF v_constraint <> 'idempotency_keys_pkey' THEN RAISE; END IF;
          -- Another transaction stored this key first (and is committed): its result stands, ours is undone.
          SELECT * INTO v_stored FROM "idempotency_keys" WHERE org_id = p_org AND key = op->>'idempotency_key';
          v_result := ledger_idempotent_answer(v_stored, op->>'idempotency_hash');
        END;
      END IF;
    END IF;
    v_results := array_append(v_results, v_result);
  END LOOP;
  RETURN to_jsonb(v_results);
END $$;

-- Proof --------------------------------------------------------------------------------------------------------

-- Every way an org's ledger could be wrong, as rows; none when it is right. Tests run it after every step.
CREATE FUNCTION ledger_check(p_org uuid) RETURNS TABLE(problem text) LANGUAGE sql STABLE AS $$
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
  -- A reservation is charged at most once.
  SELECT format('reservation %s was charged %s times', reservation_id, count(*))
    FROM "ledger_transactions" WHERE org_id = p_org AND kind = 'charge' AND reservation_id IS NOT NULL
   GROUP BY reservation_id HAVING count(*) > 1
  UNION ALL
  -- An expired lot never pays: every draw happened before the lot's expiry (for a reserved call, when the
  -- credits were set aside).
  SELECT format('lot %s (expired %s) paid in transaction %s', l.id, l.expires_at, t.id)
    FROM "ledger_entries" e
    JOIN "credit_lots" l ON l.id = e.lot_id
    JOIN "ledger_transactions" t ON t.id = e.transaction_id
    LEFT JOIN "reservations" r ON r.id = t.reservation_id
   WHERE e.org_id = p_org AND e.amount < 0 AND t.kind <> 'expiry' AND l.expires_at IS NOT NULL
     AND l.expires_at <= coalesce(r.created_at, t.created_at);
$$;

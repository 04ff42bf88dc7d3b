-- Set-based reserves and commits for the metering hot path.
--
-- ledger_apply runs a batch of operations one after another, a dozen statements each. Under load the batches
-- of a hot account are mostly plain reserves and commits that all succeed; ledger_fast_batch applies such a
-- batch with a handful of statements in all, whatever its size: one insert of all reservations, one of all
-- journal transactions, one of all entries, one update of all resolved reservations and one update per
-- touched lot and account. Anything else returns NULL before writing, and ledger_apply runs the batch one
-- operation at a time as before, so every rule keeps one implementation there:
--   * an operation other than reserve or commit, a pool-funded hold, an Idempotency-Key already stored or
--     repeated in the batch, a reservation committed twice in the batch;
--   * an account that is not a member's, is in debt, or has something due to expire (sweep_at passed);
--   * a commit of a hold that is not active, has expired, or is charged more than its amount;
--   * reserves that do not all fit in what was available before the batch.
-- Within a batch the operations are concurrent requests (none has been answered), so applying its commits
-- before its reserves is a valid order; each answer shows the account as the batch leaves it.
--
-- Concurrency: ledger_apply has locked the accounts of every operation and of every reservation committed,
-- in id order, before calling this; the reservations themselves are locked here too.

-- Generic plans: the statements' costs depend on the sizes of arrays known only at run time, and with custom
-- plans PostgreSQL would plan every statement again on every call (planning these costs more than running them).
CREATE FUNCTION ledger_fast_batch(p_org uuid, p_ops jsonb, p_now timestamptz) RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_shape_ok boolean;
  v_keys text[];
  v_commits jsonb;                  -- {reservation id: {n, op}}
  v_commit_count int;
  v_commit_ids uuid[];
  v_reserve_accounts uuid[];
  v_accounts uuid[];
  v_cs jsonb;                       -- the commits: [{id, account_id, hold, amount, txn_id, n, op, pieces}]
  v_bad int;
  v_lot_ids uuid[];
  v_results jsonb := '{}'::jsonb;   -- {n: result}
  v_more jsonb;
BEGIN
  -- The batch's shape, its keys, its commits and the accounts it reserves on, in one pass.
  SELECT bool_and(o->>'type' IN ('reserve', 'commit') AND o->>'pool_account_id' IS NULL
                  AND CASE o->>'type'
                        WHEN 'reserve' THEN o->>'id' IS NOT NULL AND o->>'account_id' IS NOT NULL
                                            AND o->>'ttl_seconds' IS NOT NULL
                                            AND coalesce((o->>'amount')::bigint, 0) > 0
                        ELSE o->>'reservation_id' IS NOT NULL AND coalesce((o->>'amount')::bigint, -1) >= 0 END),
         coalesce(array_agg(o->>'idempotency_key') FILTER (WHERE o->>'idempotency_key' IS NOT NULL), ARRAY[]::text[]),
         coalesce(jsonb_object_agg(o->>'reservation_id', jsonb_build_object('n', n, 'op', o))
                    FILTER (WHERE o->>'type' = 'commit'), '{}'::jsonb),
         count(*) FILTER (WHERE o->>'type' = 'commit'),
         coalesce(array_agg(DISTINCT (o->>'account_id')::uuid) FILTER (WHERE o->>'type' = 'reserve'), ARRAY[]::uuid[])
    INTO v_shape_ok, v_keys, v_commits, v_commit_count, v_reserve_accounts
    FROM jsonb_array_elements(p_ops) WITH ORDINALITY AS t(o, n);
  IF NOT coalesce(v_shape_ok, false) THEN RETURN NULL; END IF;

  IF cardinality(v_keys) > 0 AND (
       (SELECT count(DISTINCT k) FROM unnest(v_keys) k) <> cardinality(v_keys)
       OR EXISTS (SELECT 1 FROM "idempotency_keys" WHERE org_id = p_org AND key = ANY(v_keys))) THEN
    RETURN NULL;
  END IF;

  -- The holds, locked, each with its pieces split into what pays (in the hold's order) and what goes back.
  -- A hold qualifies when it is active, unexpired, of this org, fully set aside from lots and charged at most
  -- its amount. Looked up by primary key only (OFFSET 0 keeps other conditions out of the index choice).
  IF v_commit_count > 0 THEN
    v_commit_ids := ARRAY(SELECT k::uuid FROM jsonb_object_keys(v_commits) k);
    -- (An object keeps one entry per key: fewer entries than commits means one reservation twice.)
    IF cardinality(v_commit_ids) <> v_commit_count THEN RETURN NULL; END IF;
    SELECT jsonb_agg(jsonb_build_object(
             'id', r.id, 'account_id', r.account_id, 'hold', r.amount, 'amount', c.amount,
             'txn_id', CASE WHEN c.amount > 0 THEN gen_random_uuid() END, 'n', c.n, 'op', c.op,
             'pieces', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                 'lot_id', x.lot_id, 'piece', x.piece,
                                 'take', greatest(0::bigint, least(x.piece, c.amount - (x.cum - x.piece))))), '[]'::jsonb)
                          FROM (SELECT h.p->>'lot_id' AS lot_id, (h.p->>'amount')::bigint AS piece,
                                       sum((h.p->>'amount')::bigint) OVER (ORDER BY h.i) AS cum
                                  FROM jsonb_array_elements(r.hold_lots) WITH ORDINALITY AS h(p, i)) x))),
           count(*) FILTER (WHERE NOT (r.org_id = p_org AND r.status = 'active' AND r.expires_at > p_now
                                       AND c.amount <= r.amount
                                       AND (SELECT coalesce(sum((h->>'amount')::bigint), 0)
                                              FROM jsonb_array_elements(r.hold_lots) h) = r.amount))
             + v_commit_count - count(*)
      INTO v_cs, v_bad
      FROM (SELECT * FROM "reservations" WHERE id = ANY(v_commit_ids) ORDER BY id FOR UPDATE) r
      CROSS JOIN LATERAL (SELECT (v_commits->(r.id::text)->>'n')::int AS n, v_commits->(r.id::text)->'op' AS op,
                                 (v_commits->(r.id::text)->'op'->>'amount')::bigint AS amount) c;
    IF v_bad <> 0 THEN RETURN NULL; END IF;
  ELSE
    v_cs := '[]'::jsonb;
    v_commit_ids := ARRAY[]::uuid[];
  END IF;

  -- The accounts: members' own, of this org, without debt, with nothing due to expire (so every lot with a
  -- remainder is unexpired and available = balance - held); and every reserve fits in what its account had
  -- available, and in its lots, before the batch (commits only give back).
  v_accounts := v_reserve_accounts || ARRAY(SELECT DISTINCT (c->>'account_id')::uuid FROM jsonb_array_elements(v_cs) c);
  SELECT count(*) FILTER (WHERE NOT (a.org_id = p_org AND a.kind = 'user' AND a.debt = 0
                                     AND (a.sweep_at IS NULL OR a.sweep_at > p_now)))
         + (SELECT count(DISTINCT x) FROM unnest(v_accounts) x) - count(*)
         + count(*) FILTER (WHERE a.id = ANY(v_reserve_accounts) AND (
             (SELECT sum((o->>'amount')::bigint) FROM jsonb_array_elements(p_ops) o
               WHERE o->>'type' = 'reserve' AND (o->>'account_id')::uuid = a.id) > a.balance - a.held
             OR (SELECT sum((o->>'amount')::bigint) FROM jsonb_array_elements(p_ops) o
                  WHERE o->>'type' = 'reserve' AND (o->>'account_id')::uuid = a.id)
                > (SELECT coalesce(sum(l.remaining), 0) FROM "credit_lots" l
                    WHERE l.account_id = a.id AND l.remaining > 0 AND (l.expires_at IS NULL OR l.expires_at > p_now))))
    INTO v_bad
    FROM (SELECT * FROM "ledger_accounts" WHERE id = ANY(v_accounts) OFFSET 0) a;
  IF v_bad <> 0 THEN RETURN NULL; END IF;

  -- Commits: one statement. Each account and lot row is written once.
  IF v_commit_count > 0 THEN
    v_lot_ids := ARRAY(SELECT DISTINCT (p->>'lot_id')::uuid
                         FROM jsonb_array_elements(v_cs) c, jsonb_array_elements(c->'pieces') p);
    WITH cs AS (
      SELECT c, (c->>'account_id')::uuid AS account_id, (c->>'txn_id')::uuid AS txn_id,
             (c->>'amount')::bigint AS amount
        FROM jsonb_array_elements(v_cs) c),
    pieces AS (
      SELECT cs.account_id, cs.txn_id, (p->>'lot_id')::uuid AS lot_id, (p->>'piece')::bigint AS piece,
             (p->>'take')::bigint AS take
        FROM cs, jsonb_array_elements(cs.c->'pieces') p),
    txns AS (
      INSERT INTO "ledger_transactions" (id, org_id, kind, occurred_at, reservation_id, actor_type, actor_id, memo,
                                         metadata, created_at)
      SELECT cs.txn_id, p_org, 'charge', p_now, (cs.c->>'id')::uuid,
             coalesce(cs.c->'op'->>'actor_type', 'system')::"ActorType", cs.c->'op'->>'actor_id',
             cs.c->'op'->>'memo', coalesce(cs.c->'op'->'metadata', '{}'::jsonb), p_now
        FROM cs WHERE cs.txn_id IS NOT NULL
      RETURNING id),
    entries AS (
      INSERT INTO "ledger_entries" (transaction_id, org_id, account_id, amount, lot_id)
      SELECT pieces.txn_id, p_org, pieces.account_id, -pieces.take, pieces.lot_id FROM pieces WHERE pieces.take > 0
      UNION ALL
      SELECT cs.txn_id, p_org, ledger_system_account(p_org, 'consumption'), cs.amount, NULL
        FROM cs WHERE cs.txn_id IS NOT NULL
      RETURNING id),
    -- What the holds do not need goes back to its lots.
    back AS (
      UPDATE "credit_lots" l SET remaining = l.remaining + b.back
        FROM (SELECT lot_id, sum(piece - take) AS back FROM pieces GROUP BY lot_id HAVING sum(piece - take) > 0) b
       WHERE l.id = ANY(v_lot_ids) AND l.id = b.lot_id
      RETURNING l.account_id, l.expires_at),
    accounts AS (
      UPDATE "ledger_accounts" a
         SET balance = a.balance - t.charged, held = a.held - t.hold, updated_at = now(),
             sweep_at = CASE WHEN e.first_expiry IS NULL THEN a.sweep_at
                             ELSE least(coalesce(a.sweep_at, e.first_expiry), e.first_expiry) END
        FROM (SELECT account_id, sum(amount) AS charged, sum((c->>'hold')::bigint) AS hold FROM cs GROUP BY 1) t
        LEFT JOIN (SELECT account_id, min(expires_at) AS first_expiry FROM back GROUP BY 1) e
               ON e.account_id = t.account_id
       WHERE a.id = ANY(v_accounts) AND a.id = t.account_id
      RETURNING a.id, jsonb_build_object('account_id', a.id, 'available', (a.balance - a.held)::text,
                                         'reserved', a.held::text, 'balance', a.balance::text,
                                         'debt', a.debt::text) AS state),
    answers AS (
      SELECT cs.c, jsonb_build_object(
               'ok', true, 'http_status', 200, 'id', cs.c->'id', 'status', 'committed', 'charged', cs.c->>'amount',
               'released', greatest((cs.c->>'hold')::bigint - cs.amount, 0)::text,
               'transaction_id', cs.c->'txn_id', 'balance', accounts.state) AS result
        FROM cs JOIN accounts ON accounts.id = cs.account_id),
    resolved AS (
      UPDATE "reservations" r
         SET status = 'committed', charged = (a.c->>'amount')::bigint, resolution_hash = a.c->'op'->>'request_hash',
             result = a.result, transaction_id = (a.c->>'txn_id')::uuid, resolved_at = p_now,
             metadata = r.metadata || coalesce(a.c->'op'->'metadata', '{}'::jsonb)
        FROM answers a
       WHERE r.id = ANY(v_commit_ids) AND r.id = (a.c->>'id')::uuid
      RETURNING r.id)
    SELECT jsonb_object_agg(a.c->>'n', a.result) || jsonb_build_object('written', (SELECT count(*) FROM resolved))
      INTO v_results FROM answers a;
    IF (v_results->>'written')::int <> v_commit_count THEN
      RAISE EXCEPTION 'fast commit resolved % of % holds', v_results->>'written', v_commit_count
        USING ERRCODE = 'internal_error';
    END IF;
    v_results := v_results - 'written';
  END IF;

  -- Reserves: one statement. Each reserve's range [hi - amount, hi) of its account's total is drawn from the
  -- lots' ranges in spend order (priority high first, then earliest expiry, then oldest).
  IF cardinality(v_reserve_accounts) > 0 THEN
    WITH rs AS (
      SELECT t.n, t.o, (t.o->>'id')::uuid AS id, (t.o->>'account_id')::uuid AS account_id,
             (t.o->>'amount')::bigint AS amount,
             sum((t.o->>'amount')::bigint) OVER (PARTITION BY t.o->>'account_id' ORDER BY t.n) AS hi,
             p_now + make_interval(secs => (t.o->>'ttl_seconds')::int) AS expires_at
        FROM jsonb_array_elements(p_ops) WITH ORDINALITY AS t(o, n) WHERE t.o->>'type' = 'reserve'),
    lots AS MATERIALIZED (
      SELECT l.id, l.account_id, l.remaining, l.expires_at, l.priority,
             sum(l.remaining) OVER (PARTITION BY l.account_id
                                    ORDER BY l.priority DESC, l.expires_at ASC NULLS LAST, l.created_at, l.id) AS cum
        FROM "credit_lots" l
       WHERE l.account_id = ANY(v_reserve_accounts) AND l.remaining > 0
         AND (l.expires_at IS NULL OR l.expires_at > p_now)),
    taken AS MATERIALIZED (
      SELECT rs.n, lots.id AS lot_id, lots.expires_at, lots.priority, lots.cum,
             least(rs.hi, lots.cum) - greatest(rs.hi - rs.amount, lots.cum - lots.remaining) AS take
        FROM rs JOIN lots ON lots.account_id = rs.account_id
       WHERE lots.cum > rs.hi - rs.amount AND lots.cum - lots.remaining < rs.hi),
    holds AS MATERIALIZED (
      SELECT rs.*,
             (SELECT coalesce(jsonb_agg(jsonb_build_object('lot_id', t.lot_id, 'amount', t.take,
                                                           'expires_at', t.expires_at, 'priority', t.priority)
                                        ORDER BY t.cum), '[]'::jsonb)
                FROM taken t WHERE t.n = rs.n) AS hold_lots,
             (SELECT coalesce(sum(t.take), 0) FROM taken t WHERE t.n = rs.n) AS covered
        FROM rs),
    inserted AS (
      INSERT INTO "reservations" (id, org_id, account_id, membership_id, amount, expires_at, hold_lots, metadata,
                                  created_at)
      SELECT h.id, p_org, h.account_id, (h.o->>'membership_id')::uuid, h.amount, h.expires_at, h.hold_lots,
             coalesce(h.o->'metadata', '{}'::jsonb), p_now
        FROM holds h
      RETURNING id),
    lot_update AS (
      UPDATE "credit_lots" l SET remaining = l.remaining - t.taken
        FROM (SELECT lot_id, sum(take) AS taken FROM taken GROUP BY lot_id) t
       WHERE l.account_id = ANY(v_reserve_accounts) AND l.id = t.lot_id
      RETURNING l.id),
    accounts AS (
      UPDATE "ledger_accounts" a
         SET held = a.held + t.total, updated_at = now(),
             sweep_at = least(coalesce(a.sweep_at, t.first_expiry), t.first_expiry)
        FROM (SELECT account_id, sum(amount) AS total, min(expires_at) AS first_expiry FROM rs GROUP BY 1) t
       WHERE a.id = ANY(v_reserve_accounts) AND a.id = t.account_id
      RETURNING a.id, jsonb_build_object('account_id', a.id, 'available', (a.balance - a.held)::text,
                                         'reserved', a.held::text, 'balance', a.balance::text,
                                         'debt', a.debt::text) AS state)
    SELECT jsonb_object_agg(h.n, jsonb_build_object(
             'ok', true, 'http_status', 201, 'id', h.id, 'status', 'active', 'amount', h.amount::text,
             'expires_at', h.expires_at, 'funded_by', 'user', 'balance', a.state))
           || jsonb_build_object('uncovered', count(*) FILTER (WHERE h.covered <> h.amount),
                                 'written', (SELECT count(*) FROM inserted))
      INTO v_more
      FROM holds h JOIN accounts a ON a.id = h.account_id;
    IF (v_more->>'uncovered')::int <> 0 OR (v_more->>'written')::int <> jsonb_array_length(p_ops) - v_commit_count THEN
      RAISE EXCEPTION 'fast reserve could not set every hold aside' USING ERRCODE = 'internal_error';
    END IF;
    v_results := v_results || (v_more - 'uncovered' - 'written');
  END IF;

  -- Idempotency keys, stored with their results in this transaction; then the results in the batch's order.
  IF cardinality(v_keys) > 0 THEN
    INSERT INTO "idempotency_keys" (org_id, key, request_hash, status, body, expires_at)
    SELECT p_org, t.o->>'idempotency_key', t.o->>'idempotency_hash',
           (v_results->(t.n::text)->>'http_status')::int, v_results->(t.n::text), p_now + interval '24 hours'
      FROM jsonb_array_elements(p_ops) WITH ORDINALITY AS t(o, n) WHERE t.o->>'idempotency_key' IS NOT NULL;
  END IF;
  RETURN (SELECT jsonb_agg(v_results->(n::text) ORDER BY n) FROM generate_series(1, jsonb_array_length(p_ops)) n);
END $$;

CREATE OR REPLACE FUNCTION ledger_apply(p_org uuid, p_ops jsonb, p_now timestamptz DEFAULT NULL) RETURNS jsonb
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
    -- (OFFSET 0 keeps the org test out of the index choice: the lookup stays on the primary key.)
    v_accounts := v_accounts || ARRAY(SELECT r.account_id
                                        FROM (SELECT account_id, org_id FROM "reservations"
                                               WHERE id = ANY(v_reservations) OFFSET 0) r
                                       WHERE r.org_id = p_org);
  END IF;
  PERFORM ledger_lock_accounts(v_accounts);

  -- Plain reserves and commits that all succeed: applied set-based (see ledger_fast_batch), else one by one.
  -- For a lone operation the per-operation functions are quicker; the setting credits.fast_batch_min (default
  -- 2) is the smallest batch that tries the set-based path.
  IF jsonb_array_length(p_ops) >= coalesce(nullif(current_setting('credits.fast_batch_min', true), '')::int, 2) THEN
    v_result := ledger_fast_batch(p_org, p_ops, v_now);
    IF v_result IS NOT NULL THEN RETURN v_result; END IF;
  END IF;

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

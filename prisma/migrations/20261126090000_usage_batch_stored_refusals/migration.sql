-- A usage batch sent with an Idempotency-Key is answered the same every time, refusals included.
--
-- The server refuses some events before the ledger sees them (a user not in the org, a model without a price).
-- Those answers were not stored with the batch's: a repeat of the batch after the member was added answered
-- the ledger's stored results in the wrong places (or failed). ledger_usage_batch now takes such an event as
-- {"rejected": <result>}, charges nothing for it, and answers (and stores) that result in its place.
CREATE OR REPLACE FUNCTION ledger_usage_batch(
  p_org uuid, p_events jsonb, p_now timestamptz DEFAULT NULL, p_idempotency_key text DEFAULT NULL,
  p_idempotency_hash text DEFAULT NULL
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := date_trunc('milliseconds', coalesce(p_now, now()));
  v_overdraft bigint := ledger_overdraft_limit(p_org);
  v_consumption uuid := ledger_system_account(p_org, 'consumption');
  v_stored "idempotency_keys";
  v_constraint text;
  v_set jsonb;
  v_slow jsonb[] := ARRAY[]::jsonb[];
  v_results jsonb;
  v_account uuid;
  v_attempt int;
  ev record;
BEGIN
  PERFORM ledger_lock_accounts(ARRAY(
    SELECT DISTINCT a FROM (
      SELECT (e->>'account_id')::uuid AS a FROM jsonb_array_elements(p_events) e
      UNION ALL SELECT (e->>'pool_account_id')::uuid FROM jsonb_array_elements(p_events) e) x
     WHERE a IS NOT NULL));

  IF p_idempotency_key IS NOT NULL THEN
    SELECT * INTO v_stored FROM "idempotency_keys" WHERE org_id = p_org AND key = p_idempotency_key;
    IF FOUND THEN
      RETURN ledger_idempotent_answer(v_stored, p_idempotency_hash);
    END IF;
  END IF;

  FOR v_attempt IN 1..3 LOOP
  BEGIN
    v_slow := ARRAY[]::jsonb[];
    FOR v_account IN
      SELECT id FROM "ledger_accounts"
       WHERE id IN (SELECT DISTINCT (e->>'account_id')::uuid FROM jsonb_array_elements(p_events) e)
         AND sweep_at <= v_now
    LOOP
      PERFORM ledger_sweep(v_account, v_now);
    END LOOP;

    -- Pool-fallback events, one by one, in order.
    FOR ev IN
      SELECT n, e FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, n) WHERE e ? 'pool_account_id'
    LOOP
      v_slow := array_append(v_slow, jsonb_build_object('n', ev.n) || ledger_op_usage(p_org, ev.e, v_now));
    END LOOP;

    WITH ev AS (
      SELECT t.n, x.event_id, x.account_id, x.membership_id, x.amount,
             coalesce(x.occurred_at, v_now) AS occurred_at, x.request_hash, coalesce(x.metadata, '{}'::jsonb) AS metadata,
             coalesce(x.actor_type, 'system') AS actor_type, x.actor_id
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, n),
             jsonb_to_record(t.e) AS x(event_id text, account_id uuid, membership_id uuid, amount bigint,
                                       occurred_at timestamptz, request_hash text, metadata jsonb, actor_type text,
                                       actor_id text, pool_account_id uuid)
       WHERE x.pool_account_id IS NULL AND NOT (t.e ? 'rejected')
    ),
    first AS (SELECT DISTINCT ON (event_id) * FROM ev ORDER BY event_id, n),
    -- Looked up by the (org_id, event_id) index, one probe per event id: a join or IN over a CTE would let
    -- the planner read every event the org ever recorded.
    known AS (
      SELECT u.event_id, u.request_hash, u.amount, u.transaction_id
        FROM "usage_events" u
       WHERE u.org_id = p_org
         AND u.event_id = ANY(ARRAY(SELECT e->>'event_id' FROM jsonb_array_elements(p_events) e))),
    fresh AS (
      SELECT f.* FROM first f
       WHERE f.amount >= 0 AND NOT EXISTS (SELECT 1 FROM known k WHERE k.event_id = f.event_id)),
    budget AS (
      SELECT f.*, sum(f.amount) OVER (PARTITION BY f.account_id ORDER BY f.n) AS running,
             la.balance - la.held + v_overdraft AS room
        FROM fresh f JOIN "ledger_accounts" la ON la.id = f.account_id),
    -- Every accepted event is charged: its range [lo, hi) of the account's total is where its receipt lies.
    charged AS MATERIALIZED (
      SELECT b.n, b.event_id, b.account_id, b.membership_id, b.amount, b.occurred_at, b.request_hash, b.metadata,
             b.actor_type, b.actor_id, gen_random_uuid() AS usage_id,
             CASE WHEN b.amount > 0 THEN gen_random_uuid() END AS txn_id,
             b.running - b.amount AS lo, b.running AS hi
        FROM budget b WHERE b.amount = 0 OR b.running <= b.room),
    -- A plain insert: an event id recorded meanwhile by another transaction (for another member, so under
    -- another lock) raises unique_violation, and the batch runs again and sees it as known.
    inserted AS (
      INSERT INTO "usage_events" (id, org_id, event_id, membership_id, amount, occurred_at, request_hash,
                                  transaction_id, metadata, created_at)
      SELECT c.usage_id, p_org, c.event_id, c.membership_id, c.amount, c.occurred_at, c.request_hash, c.txn_id,
             c.metadata, v_now
        FROM charged c
      RETURNING id),
    totals AS MATERIALIZED (
      SELECT account_id, sum(amount) AS total FROM charged GROUP BY account_id HAVING sum(amount) > 0),
    -- (The CTEs below avoid joining CTEs with each other: the planner cannot estimate their sizes and would
    -- compare every row with every row.)
    lots AS MATERIALIZED (
      SELECT l.id, l.account_id, l.remaining, t.total,
             sum(l.remaining) OVER (PARTITION BY l.account_id
                                    ORDER BY l.priority DESC, l.expires_at ASC NULLS LAST, l.created_at, l.id) AS cum
        FROM totals t JOIN "credit_lots" l ON l.account_id = t.account_id
       WHERE l.remaining > 0 AND (l.expires_at IS NULL OR l.expires_at > v_now)),
    covered AS MATERIALIZED (
      SELECT x.account_id, max(x.total) AS total, least(max(x.total), max(x.cum)) AS covered
        FROM (SELECT account_id, total, 0::numeric AS cum FROM totals
              UNION ALL SELECT account_id, total, cum FROM lots) x
       GROUP BY x.account_id),
    -- Which part of an account's total each lot pays, as a range [lo, hi); what no lot covers is overdraft.
    pieces AS MATERIALIZED (
      SELECT lo.id AS lot_id, lo.account_id, lo.cum - lo.remaining AS lo, least(lo.cum, lo.total) AS hi
        FROM lots lo WHERE lo.cum - lo.remaining < lo.total
      UNION ALL
      SELECT NULL, c.account_id, c.covered, c.total FROM covered c WHERE c.covered < c.total),
    lot_update AS (
      UPDATE "credit_lots" l SET remaining = l.remaining - (p.hi - p.lo)
        FROM pieces p WHERE p.lot_id = l.id
      RETURNING l.id),
    txns AS (
      INSERT INTO "ledger_transactions" (id, org_id, kind, occurred_at, usage_event_id, actor_type, actor_id,
                                         metadata, created_at)
      SELECT c.txn_id, p_org, 'charge', c.occurred_at, c.usage_id, c.actor_type::"ActorType", c.actor_id,
             c.metadata, v_now
        FROM charged c WHERE c.amount > 0
      RETURNING id),
    -- Receipts without a range join: the boundaries of the charges and of the lot pieces of each account,
    -- sorted, cut the account's total into segments; each segment belongs to the charge and the piece that
    -- started last before it. (Overdraft pieces carry a placeholder lot id until the end.)
    bounds AS (
      SELECT account_id, lo AS pos, 1 AS ord, txn_id, NULL::uuid AS lot_id FROM charged WHERE amount > 0
      UNION ALL
      SELECT account_id, lo, 0, NULL, coalesce(lot_id, '00000000-0000-0000-0000-000000000000'::uuid) FROM pieces
      UNION ALL
      SELECT account_id, total, 2, NULL, NULL FROM totals),
    marked AS (
      SELECT b.*, count(b.txn_id) OVER w AS cg, count(b.lot_id) OVER w AS lg,
             lead(b.pos) OVER (PARTITION BY b.account_id ORDER BY b.pos, b.ord) AS next_pos
        FROM bounds b
      WINDOW w AS (PARTITION BY b.account_id ORDER BY b.pos, b.ord ROWS UNBOUNDED PRECEDING)),
    filled AS (
      SELECT m.account_id, m.next_pos - m.pos AS len,
             first_value(m.txn_id) OVER (PARTITION BY m.account_id, m.cg ORDER BY m.pos, m.ord) AS txn_id,
             first_value(m.lot_id) OVER (PARTITION BY m.account_id, m.lg ORDER BY m.pos, m.ord) AS lot_id
        FROM marked m),
    entries AS (
      INSERT INTO "ledger_entries" (transaction_id, org_id, account_id, amount, lot_id, created_at)
      SELECT f.txn_id, p_org, f.account_id, -sum(f.len),
             nullif(f.lot_id, '00000000-0000-0000-0000-000000000000'::uuid), v_now
        FROM filled f WHERE f.len > 0 AND f.txn_id IS NOT NULL
       GROUP BY f.txn_id, f.account_id, f.lot_id
      UNION ALL
      SELECT c.txn_id, p_org, v_consumption, c.amount, NULL, v_now FROM charged c WHERE c.amount > 0
      RETURNING id),
    accounts AS (
      UPDATE "ledger_accounts" la
         SET balance = la.balance - c.total, debt = la.debt + (c.total - c.covered), updated_at = now()
        FROM covered c WHERE la.id = c.account_id
      RETURNING la.id),
    outcome AS (
      SELECT e.n,
        CASE
          WHEN k.event_id IS NOT NULL AND k.request_hash = e.request_hash THEN
            jsonb_build_object('ok', true, 'http_status', 200, 'id', e.event_id, 'status', 'duplicate',
                               'charged', k.amount::text, 'transaction_id', k.transaction_id)
          WHEN k.event_id IS NOT NULL THEN
            jsonb_build_object('ok', false, 'http_status', 409, 'code', 'event_conflict',
                               'message', 'An event with this id was already recorded with other content')
          WHEN f.request_hash <> e.request_hash THEN
            jsonb_build_object('ok', false, 'http_status', 409, 'code', 'event_conflict',
                               'message', 'An event with this id was already recorded with other content')
          WHEN c.event_id IS NOT NULL AND f.n = e.n THEN
            jsonb_build_object('ok', true, 'http_status', 201, 'id', e.event_id, 'status', 'charged',
                               'charged', c.amount::text, 'transaction_id', c.txn_id, 'funded_by', 'user')
          WHEN c.event_id IS NOT NULL THEN
            jsonb_build_object('ok', true, 'http_status', 200, 'id', e.event_id, 'status', 'duplicate',
                               'charged', c.amount::text, 'transaction_id', c.txn_id)
          WHEN e.amount < 0 THEN
            jsonb_build_object('ok', false, 'http_status', 422, 'code', 'validation_failed',
                               'message', 'amount must be 0 or more')
          ELSE
            jsonb_build_object('ok', false, 'http_status', 402, 'code', 'insufficient_credits',
                               'message', 'Not enough available credits for this event',
                               'details', jsonb_build_object('requested', e.amount::text))
        END AS result
        FROM ev e
        JOIN first f ON f.event_id = e.event_id
        LEFT JOIN known k ON k.event_id = e.event_id
        LEFT JOIN charged c ON c.event_id = e.event_id)
    -- (The writing CTEs run whether or not the final query reads them.)
    SELECT coalesce(jsonb_agg(o.result ORDER BY o.n), '[]'::jsonb) INTO v_set FROM outcome o;

    -- Merge the result lists back into the events' order.
    SELECT coalesce(jsonb_agg(r ORDER BY n), '[]'::jsonb) INTO v_results FROM (
      SELECT (s->>'n')::bigint AS n, s - 'n' AS r FROM unnest(v_slow) s
      UNION ALL
      SELECT x.n, x.e->'rejected' FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n) WHERE x.e ? 'rejected'
      UNION ALL
      SELECT t.n, v.r
        FROM jsonb_array_elements(v_set) WITH ORDINALITY AS v(r, i)
        JOIN (SELECT row_number() OVER (ORDER BY x.n) AS i, x.n
                FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n)
               WHERE NOT (x.e ? 'pool_account_id') AND NOT (x.e ? 'rejected')) t ON t.i = v.i
    ) merged(n, r);

    IF p_idempotency_key IS NOT NULL THEN
      INSERT INTO "idempotency_keys" (org_id, key, request_hash, status, body, expires_at)
      VALUES (p_org, p_idempotency_key, p_idempotency_hash, 200, v_results, v_now + interval '24 hours');
    END IF;
    RETURN v_results;
  EXCEPTION WHEN unique_violation THEN
    GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
    -- An event id recorded meanwhile under another lock: run again, it is now known.
    IF v_constraint = 'usage_events_org_id_event_id_key' AND v_attempt < 3 THEN CONTINUE; END IF;
    IF v_constraint <> 'idempotency_keys_pkey' THEN RAISE; END IF;
    SELECT * INTO v_stored FROM "idempotency_keys" WHERE org_id = p_org AND key = p_idempotency_key;
    RETURN ledger_idempotent_answer(v_stored, p_idempotency_hash);
  END;
  END LOOP;
  RAISE EXCEPTION 'usage batch kept conflicting with concurrent writers';
END $$;

-- A transfer's audit entry is written by the transaction that moves the credits.
--
-- It was written after the ledger had committed the move, so a process stopping in between left a transfer
-- without its audit entry. A move given "audit": {"action", "data"} now inserts the entry (naming its journal
-- transaction) in the same transaction; a repeat with the same Idempotency-Key is answered from the stored
-- result and audits nothing twice.
CREATE OR REPLACE FUNCTION ledger_op_move(p_org uuid, p_op jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
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
  IF p_op ? 'audit' THEN
    INSERT INTO "audit_logs" (id, org_id, actor_type, actor_id, action, target_type, target_id, data, created_at)
    VALUES (gen_random_uuid(), p_org, coalesce(p_op->>'actor_type', 'system')::"ActorType", p_op->>'actor_id',
            p_op->'audit'->>'action', 'ledger_transaction', v_txn::text, coalesce(p_op->'audit'->'data', '{}'::jsonb),
            now());
  END IF;
  RETURN jsonb_build_object('ok', true, 'http_status', 201, 'transaction_id', v_txn, 'amount', v_amount::text,
                            'from', ledger_account_state(v_from), 'to', ledger_account_state(v_to));
END $$;

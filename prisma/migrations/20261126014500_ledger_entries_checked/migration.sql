-- Ledger entries without foreign keys. An entry is written only by the ledger's functions, in the transaction
-- that creates its journal transaction, from account and lot rows the function holds locked; the three
-- foreign-key checks per entry (a lookup and a row lock each) cost about a fifth of ingesting a usage event.
-- ledger_check, which the tests run after every step, now also proves that every entry's transaction,
-- account and lot exist in its org.
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_transaction_id_fkey";
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_account_id_fkey";
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_lot_id_fkey";

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

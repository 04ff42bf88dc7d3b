-- Hand-written: rate-limit admissions and ends of several requests in one statement ----------------------
--
-- Under load an app instance sends the admissions (and the ends) that arrived while its previous statement
-- was in the database together, in one statement and one transaction, instead of one each: the work per
-- request is that of proxy_admit and proxy_finish, unchanged (each element is one call of them, in order,
-- and sees the counts of the elements before it), while the statement, the transaction and the round trip
-- are shared.
--
-- Lock order: a lone proxy_admit locks this minute's window rows of its buckets in bucket order, then takes
-- the advisory locks of its slot buckets in bucket order. A batch takes every lock any of its elements will
-- take first, in the same order over the whole batch (all window rows, then all advisory locks), so batches
-- and lone calls, from any number of instances, lock in one global order. (Two rarities step out of it: an
-- element whose minute starts after the batch's locks were taken, and the clean-up of minutes older than the
-- last one while a batch ends a request admitted in such a minute. PostgreSQL then reports a deadlock, and
-- the caller runs the statement again: it was rolled back whole.)

-- p_admissions: [{buckets, amounts, limits, slot, slot_buckets, slot_limits, lease}], the arguments of
-- proxy_admit. Returns the array of their results, in order.
CREATE FUNCTION proxy_admit_batch(p_admissions jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_window timestamptz := date_trunc('minute', clock_timestamp());
  v_results jsonb := '[]'::jsonb;
  v_a jsonb;
  v_bucket text;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  -- A no-op upsert locks each window row (creating it at zero when absent), in bucket order.
  INSERT INTO proxy_rate_windows AS w (bucket, window_start, count)
  SELECT b.bucket, v_window, 0
    FROM (SELECT DISTINCT x.bucket FROM jsonb_array_elements(p_admissions) a, jsonb_array_elements_text(a->'buckets') AS x(bucket)) b
   ORDER BY b.bucket
  ON CONFLICT (bucket, window_start) DO UPDATE SET count = w.count;
  FOR v_bucket IN
    SELECT DISTINCT x.bucket FROM jsonb_array_elements(p_admissions) a, jsonb_array_elements_text(a->'slot_buckets') AS x(bucket) ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended('proxy_slot:' || v_bucket, 0));
  END LOOP;
  FOR v_a IN SELECT e FROM jsonb_array_elements(p_admissions) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
    v_results := v_results || jsonb_build_array(proxy_admit(
      ARRAY(SELECT x FROM jsonb_array_elements_text(v_a->'buckets') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_a->'amounts') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_a->'limits') WITH ORDINALITY AS t(x, i) ORDER BY i),
      (v_a->>'slot')::uuid,
      ARRAY(SELECT x FROM jsonb_array_elements_text(v_a->'slot_buckets') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_a->'slot_limits') WITH ORDINALITY AS t(x, i) ORDER BY i),
      (v_a->>'lease')::integer));
  END LOOP;
  RETURN v_results;
END $$;

-- p_finishes: [{slot, window, buckets, adjust}], the arguments of proxy_finish, applied in order. The window
-- rows of the whole batch are locked first in (bucket, minute) order.
CREATE FUNCTION proxy_finish_batch(p_finishes jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_f jsonb;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM 1 FROM proxy_rate_windows w
   WHERE (w.bucket, w.window_start) IN (
     SELECT x.bucket, (f->>'window')::timestamptz FROM jsonb_array_elements(p_finishes) f, jsonb_array_elements_text(f->'buckets') AS x(bucket))
   ORDER BY w.bucket, w.window_start
     FOR UPDATE;
  FOR v_f IN SELECT e FROM jsonb_array_elements(p_finishes) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
    PERFORM proxy_finish(
      (v_f->>'slot')::uuid,
      (v_f->>'window')::timestamptz,
      ARRAY(SELECT x FROM jsonb_array_elements_text(v_f->'buckets') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_f->'adjust') WITH ORDINALITY AS t(x, i) ORDER BY i));
  END LOOP;
END $$;

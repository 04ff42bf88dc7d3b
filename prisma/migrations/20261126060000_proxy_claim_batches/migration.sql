-- Hand-written: rate-limit claims of several requests in one statement ----------------------------------

-- Claims of several requests that waited for the previous statement, in one statement and one transaction:
-- p_claims is [{buckets, needed, wanted, limits, slot_buckets, slot_wanted, slot_limits, lease}], the arguments
-- of proxy_claim, applied in order (each sees the claims before it). Every lock any of them takes is taken
-- first, in the global order (all window rows in bucket order, then the slot buckets' advisory locks in bucket
-- order), as proxy_admit_batch does. Returns their results, in order.
CREATE FUNCTION proxy_claim_batch(p_claims jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_window timestamptz := date_trunc('minute', clock_timestamp());
  v_results jsonb := '[]'::jsonb;
  v_c jsonb;
  v_bucket text;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  INSERT INTO proxy_rate_windows AS w (bucket, window_start, count)
  SELECT b.bucket, v_window, 0
    FROM (SELECT DISTINCT x.bucket FROM jsonb_array_elements(p_claims) c, jsonb_array_elements_text(c->'buckets') AS x(bucket)) b
   ORDER BY b.bucket
  ON CONFLICT (bucket, window_start) DO UPDATE SET count = w.count;
  FOR v_bucket IN
    SELECT DISTINCT x.bucket FROM jsonb_array_elements(p_claims) c, jsonb_array_elements_text(c->'slot_buckets') AS x(bucket) ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended('proxy_slot:' || v_bucket, 0));
  END LOOP;
  FOR v_c IN SELECT e FROM jsonb_array_elements(p_claims) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
    v_results := v_results || jsonb_build_array(proxy_claim(
      ARRAY(SELECT x FROM jsonb_array_elements_text(v_c->'buckets') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_c->'needed') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_c->'wanted') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_c->'limits') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x FROM jsonb_array_elements_text(v_c->'slot_buckets') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_c->'slot_wanted') WITH ORDINALITY AS t(x, i) ORDER BY i),
      ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(v_c->'slot_limits') WITH ORDINALITY AS t(x, i) ORDER BY i),
      (v_c->>'lease')::integer));
  END LOOP;
  RETURN v_results;
END $$;

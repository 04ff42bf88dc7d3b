-- Hand-written: claims of rate-limit capacity, so an app instance admits most requests in memory ------------
--
-- Instead of counting every request in PostgreSQL, an instance claims a share of a bucket's limit at once and
-- admits requests from it until it is used up: for a per-minute bucket, a number of requests or tokens of the
-- current minute (counted in the window at once, so no other instance can claim them); for a concurrency
-- bucket, a number of slots (rows with a lease, renewed while held, given back when unused). The database
-- still decides every claim with the rules of proxy_admit (sliding window, slots with leases) and grants no
-- more than a limit leaves, so the instances together never admit more than the limit; what an instance
-- claimed and did not use only makes the limit stricter for the others until the minute ends.
--
-- Lock order as in proxy_admit: this minute's window rows in bucket order, then the advisory locks of the
-- slot buckets in bucket order.

-- Claims, for each window bucket, between p_needed and p_wanted of what the bucket has left this minute and,
-- for each slot bucket, between one and p_slot_wanted slots; all or nothing. Returns {admitted: true, window,
-- valid_ms (what is left of the minute), grants: {bucket: amount}, slots: {bucket: [slot ids]}} or
-- {admitted: false, bucket, retry_after_ms}.
CREATE FUNCTION proxy_claim(
  p_buckets text[], p_needed bigint[], p_wanted bigint[], p_limits bigint[],
  p_slot_buckets text[], p_slot_wanted bigint[], p_slot_limits bigint[], p_lease_seconds integer
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := clock_timestamp();
  v_window timestamptz := date_trunc('minute', v_now);
  v_elapsed double precision := extract(epoch FROM v_now - date_trunc('minute', v_now));
  v_grants jsonb := '{}'::jsonb;
  v_slots jsonb := '{}'::jsonb;
  v_ids jsonb;
  v_left bigint;
  v_take bigint;
  c record;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF cardinality(p_buckets) > 0 THEN
    -- A no-op upsert locks each window row (creating it at zero when absent), in bucket order.
    INSERT INTO proxy_rate_windows AS w (bucket, window_start, count)
    SELECT b, v_window, 0 FROM unnest(p_buckets) AS b ORDER BY b
    ON CONFLICT (bucket, window_start) DO UPDATE SET count = w.count;
    FOR c IN
      SELECT t.b, t.need, t.want, t.lim, cur.count + coalesce(floor(prev.count * (60 - v_elapsed) / 60), 0)::bigint AS used
        FROM unnest(p_buckets, p_needed, p_wanted, p_limits) AS t(b, need, want, lim)
        JOIN proxy_rate_windows cur ON cur.bucket = t.b AND cur.window_start = v_window
        LEFT JOIN proxy_rate_windows prev ON prev.bucket = t.b AND prev.window_start = v_window - interval '1 minute'
       ORDER BY t.b
    LOOP
      v_left := c.lim - c.used;
      v_take := least(c.want, v_left);
      IF v_take < c.need OR (v_take <= 0 AND c.need > 0) THEN
        RETURN jsonb_build_object('admitted', false, 'bucket', c.b,
          'retry_after_ms', greatest(1000, ceil((60 - v_elapsed) * 1000))::bigint);
      END IF;
      v_grants := v_grants || jsonb_build_object(c.b, greatest(v_take, 0));
    END LOOP;
  END IF;

  IF cardinality(p_slot_buckets) > 0 THEN
    FOR c IN SELECT b FROM unnest(p_slot_buckets) AS b ORDER BY b LOOP
      PERFORM pg_advisory_xact_lock(hashtextextended('proxy_slot:' || c.b, 0));
    END LOOP;
    DELETE FROM proxy_concurrency_slots WHERE bucket = ANY(p_slot_buckets) AND expires_at <= v_now;
    FOR c IN
      SELECT t.b, t.want, t.lim, (SELECT count(*) FROM proxy_concurrency_slots s WHERE s.bucket = t.b) AS used
        FROM unnest(p_slot_buckets, p_slot_wanted, p_slot_limits) AS t(b, want, lim)
       ORDER BY t.b
    LOOP
      v_take := least(c.want, c.lim - c.used);
      IF v_take < 1 THEN
        RETURN jsonb_build_object('admitted', false, 'bucket', c.b, 'retry_after_ms', 1000);
      END IF;
      WITH ins AS (
        INSERT INTO proxy_concurrency_slots (id, bucket, expires_at)
        SELECT gen_random_uuid(), c.b, v_now + make_interval(secs => p_lease_seconds) FROM generate_series(1, v_take)
        RETURNING id)
      SELECT jsonb_agg(id) INTO v_ids FROM ins;
      v_slots := v_slots || jsonb_build_object(c.b, v_ids);
    END LOOP;
  END IF;

  IF cardinality(p_buckets) > 0 THEN
    UPDATE proxy_rate_windows w SET count = w.count + (v_grants->>w.bucket)::bigint
     WHERE w.bucket = ANY(p_buckets) AND w.window_start = v_window AND (v_grants->>w.bucket)::bigint > 0;
    -- Old minutes are locked in bucket order like everything else before they go.
    DELETE FROM proxy_rate_windows
     WHERE (bucket, window_start) IN (
       SELECT bucket, window_start FROM proxy_rate_windows
        WHERE bucket = ANY(p_buckets) AND window_start < v_window - interval '1 minute'
        ORDER BY bucket, window_start
          FOR UPDATE);
  END IF;
  RETURN jsonb_build_object('admitted', true, 'window', v_window, 'valid_ms', floor((60 - v_elapsed) * 1000)::bigint,
                            'grants', v_grants, 'slots', v_slots);
END $$;

-- CreateEnum
CREATE TYPE "ProxyDegradation" AS ENUM ('fail_closed', 'fail_open');

-- CreateTable
CREATE TABLE "proxy_upstreams" (
    "id" UUID NOT NULL,
    "org_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "base_url" TEXT NOT NULL,
    "api_key_sealed" TEXT NOT NULL,
    "api_key_key_id" TEXT NOT NULL,
    "api_key_last4" TEXT NOT NULL,
    "model_patterns" TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "proxy_upstreams_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "proxy_settings" (
    "org_id" UUID NOT NULL,
    "key_requests_per_minute" INTEGER,
    "key_tokens_per_minute" INTEGER,
    "key_concurrent_requests" INTEGER,
    "user_requests_per_minute" INTEGER,
    "user_tokens_per_minute" INTEGER,
    "user_concurrent_requests" INTEGER,
    "degradation" "ProxyDegradation" NOT NULL DEFAULT 'fail_closed',
    "fail_open_user_cap" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "proxy_settings_pkey" PRIMARY KEY ("org_id")
);

-- CreateTable
CREATE TABLE "proxy_key_limits" (
    "api_key_id" UUID NOT NULL,
    "requests_per_minute" INTEGER,
    "tokens_per_minute" INTEGER,
    "concurrent_requests" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "proxy_key_limits_pkey" PRIMARY KEY ("api_key_id")
);

-- CreateTable
CREATE TABLE "proxy_rate_windows" (
    "bucket" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "count" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "proxy_rate_windows_pkey" PRIMARY KEY ("bucket","window_start")
);

-- CreateTable
CREATE TABLE "proxy_concurrency_slots" (
    "id" UUID NOT NULL,
    "bucket" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "proxy_concurrency_slots_pkey" PRIMARY KEY ("id","bucket")
);

-- CreateIndex
CREATE UNIQUE INDEX "proxy_upstreams_org_id_name_key" ON "proxy_upstreams"("org_id", "name");

-- CreateIndex
CREATE INDEX "proxy_concurrency_slots_bucket_expires_at_idx" ON "proxy_concurrency_slots"("bucket", "expires_at");

-- AddForeignKey
ALTER TABLE "proxy_upstreams" ADD CONSTRAINT "proxy_upstreams_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "proxy_settings" ADD CONSTRAINT "proxy_settings_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "proxy_key_limits" ADD CONSTRAINT "proxy_key_limits_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: the proxy's rate limits, shared by every app instance on this database ---------------------
--
-- Each function is one statement from the application's side. Requests per minute and tokens per minute are
-- sliding-window counters: this minute's count plus the previous minute's, weighted by how much of it still
-- lies within the last 60 seconds. Concurrency is a slot per request in flight, with a lease: a slot whose
-- lease ran out (its instance crashed) no longer counts and is deleted by the next admission of its bucket.
--
-- Every request of an API key writes that key's counter rows, so they are hot: their transactions commit
-- without waiting for the WAL flush (synchronous_commit off, for that transaction only), which keeps the row
-- locks short. These are counters, not money: a database crash can forget the last fraction of a second of
-- counts, which at worst admits a few requests more; the ledger's own transactions stay fully durable.

ALTER TABLE "proxy_rate_windows" ADD CONSTRAINT "proxy_rate_windows_count_nonnegative" CHECK ("count" >= 0);

-- Counters live a minute and slots a lease: they need no write-ahead log. Unlogged tables skip it (most of
-- the cost of these small hot writes); after a database crash they come back empty, which at worst admits a
-- minute's worth of requests again and frees every slot, as the leases would have.
ALTER TABLE "proxy_rate_windows" SET UNLOGGED;
ALTER TABLE "proxy_concurrency_slots" SET UNLOGGED;

-- Admits one request against all its buckets, or none. Window buckets are counted first: the upsert adds the
-- request's amount and locks this minute's row of each bucket, in bucket order, so concurrent admissions of
-- one bucket are serialised and cannot deadlock. When any bucket would exceed its limit the amounts are taken
-- back before the transaction commits, so no other caller ever sees them. Concurrency buckets are then
-- serialised with transaction-scoped advisory locks (again in bucket order, always after the row locks);
-- inside PL/pgSQL each statement takes a fresh snapshot, so the count after the lock sees every committed
-- slot. Returns {admitted: true, window} or {admitted: false, bucket, retry_after_ms}.
CREATE FUNCTION proxy_admit(
  p_buckets text[], p_amounts bigint[], p_limits bigint[],
  p_slot uuid, p_slot_buckets text[], p_slot_limits bigint[], p_lease_seconds integer
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := clock_timestamp();
  v_window timestamptz := date_trunc('minute', v_now);
  v_elapsed double precision := extract(epoch FROM v_now - date_trunc('minute', v_now));
  v_over text;
  v_bucket text;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  IF cardinality(p_buckets) > 0 THEN
    WITH cur AS (
      INSERT INTO proxy_rate_windows AS w (bucket, window_start, count)
      SELECT t.b, v_window, t.a FROM unnest(p_buckets, p_amounts) AS t(b, a) ORDER BY t.b
      ON CONFLICT (bucket, window_start) DO UPDATE SET count = w.count + EXCLUDED.count
      RETURNING w.bucket, w.count
    )
    SELECT cur.bucket INTO v_over
    FROM cur
    JOIN unnest(p_buckets, p_limits) AS l(b, lim) ON l.b = cur.bucket
    LEFT JOIN proxy_rate_windows prev ON prev.bucket = cur.bucket AND prev.window_start = v_window - interval '1 minute'
    WHERE cur.count + coalesce(floor(prev.count * (60 - v_elapsed) / 60), 0) > l.lim
    ORDER BY cur.bucket
    LIMIT 1;
    IF v_over IS NOT NULL THEN
      UPDATE proxy_rate_windows w SET count = w.count - t.a
      FROM unnest(p_buckets, p_amounts) AS t(b, a)
      WHERE w.bucket = t.b AND w.window_start = v_window;
      RETURN jsonb_build_object('admitted', false, 'bucket', v_over,
        'retry_after_ms', greatest(1000, ceil((60 - v_elapsed) * 1000))::bigint);
    END IF;
    -- Old minutes are locked in bucket order like everything else before they go.
    DELETE FROM proxy_rate_windows
     WHERE (bucket, window_start) IN (
       SELECT bucket, window_start FROM proxy_rate_windows
        WHERE bucket = ANY(p_buckets) AND window_start < v_window - interval '1 minute'
        ORDER BY bucket, window_start
          FOR UPDATE);
  END IF;

  IF cardinality(p_slot_buckets) > 0 THEN
    FOR v_bucket IN SELECT b FROM unnest(p_slot_buckets) AS b ORDER BY b LOOP
      PERFORM pg_advisory_xact_lock(hashtextextended('proxy_slot:' || v_bucket, 0));
    END LOOP;
    DELETE FROM proxy_concurrency_slots WHERE bucket = ANY(p_slot_buckets) AND expires_at <= v_now;
    SELECT l.b INTO v_over
    FROM unnest(p_slot_buckets, p_slot_limits) AS l(b, lim)
    WHERE (SELECT count(*) FROM proxy_concurrency_slots s WHERE s.bucket = l.b) >= l.lim
    ORDER BY l.b
    LIMIT 1;
    IF v_over IS NOT NULL THEN
      UPDATE proxy_rate_windows w SET count = w.count - t.a
      FROM unnest(p_buckets, p_amounts) AS t(b, a)
      WHERE w.bucket = t.b AND w.window_start = v_window;
      RETURN jsonb_build_object('admitted', false, 'bucket', v_over, 'retry_after_ms', 1000);
    END IF;
    INSERT INTO proxy_concurrency_slots (id, bucket, expires_at)
    SELECT p_slot, b, v_now + make_interval(secs => p_lease_seconds) FROM unnest(p_slot_buckets) AS b;
  END IF;

  RETURN jsonb_build_object('admitted', true, 'window', v_window);
END $$;

-- Ends an admitted request: frees its slots and corrects its token buckets by what it really used (the
-- difference to the estimate admitted), in the minute it was admitted in. Counts never drop below zero. The
-- rows are locked in bucket order first, the order proxy_admit locks them in, so the two cannot deadlock.
CREATE FUNCTION proxy_finish(p_slot uuid, p_window timestamptz, p_buckets text[], p_adjust bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  DELETE FROM proxy_concurrency_slots WHERE id = p_slot;
  IF cardinality(p_buckets) = 0 THEN
    RETURN;
  END IF;
  PERFORM 1 FROM proxy_rate_windows
   WHERE bucket = ANY(p_buckets) AND window_start = p_window
   ORDER BY bucket
     FOR UPDATE;
  UPDATE proxy_rate_windows w SET count = greatest(0, w.count + t.a)
    FROM unnest(p_buckets, p_adjust) AS t(b, a)
   WHERE w.bucket = t.b AND w.window_start = p_window AND t.a <> 0;
END $$;

-- Extends the lease of a long request's slots (a stream), so they outlive the lease only while it runs.
CREATE FUNCTION proxy_extend_slots(p_slot uuid, p_lease_seconds integer) RETURNS void LANGUAGE sql AS $$
  UPDATE proxy_concurrency_slots SET expires_at = clock_timestamp() + make_interval(secs => p_lease_seconds)
  WHERE id = p_slot;
$$;

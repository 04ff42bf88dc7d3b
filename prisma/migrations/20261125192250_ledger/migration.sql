-- CreateEnum
CREATE TYPE "AccountKind" AS ENUM ('pool', 'user', 'purchases', 'promotions', 'consumption', 'breakage', 'adjustments');

-- CreateEnum
CREATE TYPE "LotSource" AS ENUM ('purchase', 'promotion', 'allocation', 'transfer', 'refund', 'adjustment');

-- CreateEnum
CREATE TYPE "TransactionKind" AS ENUM ('grant', 'purchase', 'allocation', 'reclaim', 'transfer', 'charge', 'expiry', 'adjustment', 'refund', 'debt_settlement');

-- CreateEnum
CREATE TYPE "ReservationStatus" AS ENUM ('active', 'committed', 'released', 'expired');

-- CreateTable
CREATE TABLE "ledger_accounts" (
    "id" UUID NOT NULL,
    "org_id" UUID NOT NULL,
    "kind" "AccountKind" NOT NULL,
    "key" TEXT NOT NULL,
    "membership_id" UUID,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "held" BIGINT NOT NULL DEFAULT 0,
    "debt" BIGINT NOT NULL DEFAULT 0,
    "sweep_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "credit_lots" (
    "id" UUID NOT NULL,
    "org_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "source" "LotSource" NOT NULL,
    "amount" BIGINT NOT NULL,
    "remaining" BIGINT NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "effective_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),
    "parent_lot_id" UUID,
    "transaction_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "credit_lots_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_transactions" (
    "id" UUID NOT NULL,
    "org_id" UUID NOT NULL,
    "kind" "TransactionKind" NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reservation_id" UUID,
    "usage_event_id" UUID,
    "actor_type" "ActorType" NOT NULL,
    "actor_id" TEXT,
    "memo" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_transactions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" BIGSERIAL NOT NULL,
    "transaction_id" UUID NOT NULL,
    "org_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "amount" BIGINT NOT NULL,
    "lot_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reservations" (
    "id" UUID NOT NULL,
    "org_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "membership_id" UUID,
    "amount" BIGINT NOT NULL,
    "status" "ReservationStatus" NOT NULL DEFAULT 'active',
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "charged" BIGINT,
    "hold_lots" JSONB NOT NULL DEFAULT '[]',
    "resolution_hash" TEXT,
    "result" JSONB,
    "transaction_id" UUID,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "reservations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_events" (
    "id" UUID NOT NULL,
    "org_id" UUID NOT NULL,
    "event_id" TEXT NOT NULL,
    "membership_id" UUID NOT NULL,
    "amount" BIGINT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "request_hash" TEXT NOT NULL,
    "transaction_id" UUID,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "usage_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "org_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "body" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("org_id","key")
);

-- CreateTable
CREATE TABLE "org_policies" (
    "org_id" UUID NOT NULL,
    "auto_allocation" BIGINT NOT NULL DEFAULT 0,
    "monthly_refill_to" BIGINT,
    "pool_fallback" BOOLEAN NOT NULL DEFAULT false,
    "pool_daily_limit" BIGINT,
    "pool_monthly_limit" BIGINT,
    "overdraft_limit" BIGINT NOT NULL DEFAULT 0,
    "default_reservation_ttl_sec" INTEGER NOT NULL DEFAULT 300,
    "max_reservation_ttl_sec" INTEGER NOT NULL DEFAULT 3600,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "org_policies_pkey" PRIMARY KEY ("org_id")
);

-- CreateTable
CREATE TABLE "member_policies" (
    "membership_id" UUID NOT NULL,
    "auto_allocation" BIGINT,
    "monthly_refill_to" BIGINT,
    "pool_fallback" BOOLEAN,
    "pool_daily_limit" BIGINT,
    "pool_monthly_limit" BIGINT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "member_policies_pkey" PRIMARY KEY ("membership_id")
);

-- CreateTable
CREATE TABLE "pool_draws" (
    "membership_id" UUID NOT NULL,
    "period" TEXT NOT NULL,
    "amount" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "pool_draws_pkey" PRIMARY KEY ("membership_id","period")
);

-- CreateIndex
CREATE UNIQUE INDEX "ledger_accounts_membership_id_key" ON "ledger_accounts"("membership_id");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_accounts_org_id_key_key" ON "ledger_accounts"("org_id", "key");

-- CreateIndex
CREATE INDEX "credit_lots_account_id_priority_expires_at_created_at_idx" ON "credit_lots"("account_id", "priority" DESC, "expires_at", "created_at");

-- CreateIndex
CREATE INDEX "credit_lots_org_id_expires_at_idx" ON "credit_lots"("org_id", "expires_at");

-- CreateIndex
CREATE INDEX "ledger_transactions_org_id_created_at_idx" ON "ledger_transactions"("org_id", "created_at");

-- CreateIndex
CREATE INDEX "ledger_transactions_reservation_id_idx" ON "ledger_transactions"("reservation_id");

-- CreateIndex
CREATE INDEX "ledger_entries_account_id_id_idx" ON "ledger_entries"("account_id", "id");

-- CreateIndex
CREATE INDEX "ledger_entries_transaction_id_idx" ON "ledger_entries"("transaction_id");

-- CreateIndex
CREATE INDEX "ledger_entries_org_id_id_idx" ON "ledger_entries"("org_id", "id");

-- CreateIndex
CREATE INDEX "reservations_account_id_status_expires_at_idx" ON "reservations"("account_id", "status", "expires_at");

-- CreateIndex
CREATE INDEX "reservations_status_expires_at_idx" ON "reservations"("status", "expires_at");

-- CreateIndex
CREATE INDEX "reservations_org_id_created_at_idx" ON "reservations"("org_id", "created_at");

-- CreateIndex
CREATE INDEX "usage_events_org_id_occurred_at_idx" ON "usage_events"("org_id", "occurred_at");

-- CreateIndex
CREATE INDEX "usage_events_membership_id_occurred_at_idx" ON "usage_events"("membership_id", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "usage_events_org_id_event_id_key" ON "usage_events"("org_id", "event_id");

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- AddForeignKey
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_membership_id_fkey" FOREIGN KEY ("membership_id") REFERENCES "memberships"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "credit_lots" ADD CONSTRAINT "credit_lots_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "ledger_accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "credit_lots" ADD CONSTRAINT "credit_lots_transaction_id_fkey" FOREIGN KEY ("transaction_id") REFERENCES "ledger_transactions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "credit_lots" ADD CONSTRAINT "credit_lots_parent_lot_id_fkey" FOREIGN KEY ("parent_lot_id") REFERENCES "credit_lots"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_transaction_id_fkey" FOREIGN KEY ("transaction_id") REFERENCES "ledger_transactions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "ledger_accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_lot_id_fkey" FOREIGN KEY ("lot_id") REFERENCES "credit_lots"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "ledger_accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "org_policies" ADD CONSTRAINT "org_policies_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "member_policies" ADD CONSTRAINT "member_policies_membership_id_fkey" FOREIGN KEY ("membership_id") REFERENCES "memberships"("id") ON DELETE CASCADE ON UPDATE CASCADE;

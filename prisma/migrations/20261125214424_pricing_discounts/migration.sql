-- AlterTable
ALTER TABLE "price_versions" ADD COLUMN     "discount_tiers" JSONB NOT NULL DEFAULT '[]';

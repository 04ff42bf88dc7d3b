-- Models priced by input tokens alone (embeddings, rerankers) come from the catalog with an output price of
-- zero. Every other price stays positive; an org's own prices are still refused at zero by the API.
ALTER TABLE "model_prices" DROP CONSTRAINT "model_prices_prices_positive";
ALTER TABLE "model_prices"
  ADD CONSTRAINT "model_prices_prices_positive" CHECK (
    "input_nano" > 0 AND "output_nano" >= 0
    AND ("cache_read_nano" IS NULL OR "cache_read_nano" > 0)
    AND ("cache_write_nano" IS NULL OR "cache_write_nano" > 0)
    AND ("reasoning_nano" IS NULL OR "reasoning_nano" > 0)
    AND "request_fee_nano" >= 0);

-- Usage events are looked up only by (org_id, event_id), for deduplication, and by primary key; listings and
-- analytics read usage_records. The two time indexes cost two writes per ingested event and served no query.
DROP INDEX "usage_events_org_id_occurred_at_idx";
DROP INDEX "usage_events_membership_id_occurred_at_idx";

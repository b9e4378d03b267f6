DROP TABLE webhook_attempts;
DROP INDEX outbox_rule_order_idx;
DROP INDEX outbox_event_idx;
ALTER TABLE outbox DROP COLUMN rule_id;
ALTER TABLE outbox DROP COLUMN event_id;
DROP TABLE events;
DROP TABLE notification_rules;

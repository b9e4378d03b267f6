ALTER TABLE users DROP COLUMN orders_columns;
DROP TABLE idempotency_keys;
DROP TABLE sms_accounts;
DROP TABLE email_templates;
DROP TABLE outbox;
DROP TABLE payment_orders;

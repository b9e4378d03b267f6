ALTER TABLE shops DROP COLUMN validation_days;
ALTER TABLE payment_orders DROP COLUMN pay_lock_until;
ALTER TABLE payment_orders DROP COLUMN pay_lock;
DROP TABLE transaction_events;
DROP TABLE transactions;

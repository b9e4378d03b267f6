DROP TABLE instalments;
DROP TABLE instalment_plans;
DROP INDEX transactions_one_accepted_idx;
CREATE UNIQUE INDEX transactions_one_accepted_idx ON transactions (order_id)
    WHERE status IN ('AUTHORISED', 'AUTHORISED_TO_VALIDATE', 'CAPTURED');
ALTER TABLE transactions DROP COLUMN instalment_count;
ALTER TABLE transactions DROP COLUMN instalment_index;
ALTER TABLE payment_orders DROP COLUMN instalments_until;

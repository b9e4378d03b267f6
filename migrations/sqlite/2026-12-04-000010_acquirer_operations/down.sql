ALTER TABLE transactions DROP COLUMN refund_pending;
ALTER TABLE transactions DROP COLUMN settling_op;
DROP TABLE acquirer_operations;

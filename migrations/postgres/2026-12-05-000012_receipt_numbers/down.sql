DROP INDEX transactions_receipt_no;
ALTER TABLE transactions DROP COLUMN receipt_no;

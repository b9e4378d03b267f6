-- What the buyer's receipt and e-mail show instead of the sequential id (which told anyone
-- holding two receipts how much the platform sells): a random number, unique.
ALTER TABLE transactions ADD COLUMN receipt_no TEXT NOT NULL DEFAULT '';
UPDATE transactions SET receipt_no = 'R-' || upper(substr(md5(random()::text || id::text), 1, 16));
CREATE UNIQUE INDEX transactions_receipt_no ON transactions (receipt_no);

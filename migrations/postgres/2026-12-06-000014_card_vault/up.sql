-- The card vault (PCI DSS 3.5.1): a card number sealed with AES-256-GCM, found by its token.
-- `key_id` names the key that sealed it, so a key rotation re-encrypts the records of the
-- older keys batch by batch (the index) while those not yet done still open.
CREATE TABLE vault_records (
    token TEXT PRIMARY KEY NOT NULL,
    key_id TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX vault_records_key_id ON vault_records (key_id);

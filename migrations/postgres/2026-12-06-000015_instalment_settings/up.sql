-- A shop's offer of payment in instalments (seed 002). No row: not offered, the defaults.
-- interval_days NULL means monthly (the first date's day each month); retry_days lists the
-- days after a refused later instalment's due date it is tried again ("1,3", "" for none).
CREATE TABLE shop_instalments (
    shop_id BIGINT PRIMARY KEY NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL,
    max_count INTEGER NOT NULL,
    first_share_percent INTEGER NULL,
    min_amount BIGINT NOT NULL,
    interval_days INTEGER NULL,
    retry_days TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BIGINT NOT NULL REFERENCES shops(id),
    mode TEXT NOT NULL,
    order_id BIGINT NOT NULL REFERENCES payment_orders(id),
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    refunded_amount BIGINT NOT NULL,
    card_brand TEXT NOT NULL,
    card_masked TEXT NOT NULL,
    card_expiry TEXT NOT NULL,
    holder TEXT,
    three_ds TEXT NOT NULL,
    return_code TEXT NOT NULL,
    acquirer_ref TEXT NOT NULL,
    source TEXT NOT NULL,
    buyer_email TEXT,
    validation_mode TEXT NOT NULL,
    capture_date DATE,
    validate_by TIMESTAMP,
    captured_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX transactions_list_idx ON transactions (shop_id, mode, id);
CREATE INDEX transactions_order_idx ON transactions (order_id, id);
CREATE INDEX transactions_due_idx ON transactions (status, capture_date);
-- A link is paid at most once: one accepted transaction per order, whatever happens.
CREATE UNIQUE INDEX transactions_one_accepted_idx ON transactions (order_id)
    WHERE status IN ('AUTHORISED', 'AUTHORISED_TO_VALIDATE', 'CAPTURED');

CREATE TABLE transaction_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id BIGINT NOT NULL REFERENCES transactions(id),
    kind TEXT NOT NULL,
    amount BIGINT,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX transaction_events_tx_idx ON transaction_events (transaction_id, id);

ALTER TABLE payment_orders ADD COLUMN pay_lock TEXT;
ALTER TABLE payment_orders ADD COLUMN pay_lock_until TIMESTAMP;
ALTER TABLE shops ADD COLUMN validation_days INTEGER NOT NULL DEFAULT 7;

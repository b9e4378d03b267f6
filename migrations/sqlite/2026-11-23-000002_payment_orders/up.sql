CREATE TABLE payment_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BIGINT NOT NULL REFERENCES shops(id),
    mode TEXT NOT NULL,
    channel TEXT NOT NULL,
    token TEXT NOT NULL,
    reference TEXT,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    language TEXT NOT NULL,
    validation_mode TEXT NOT NULL,
    capture_delay_days INTEGER NOT NULL,
    expires_on DATE NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    alias_mode TEXT NOT NULL,
    three_ds TEXT NOT NULL,
    buyer_email TEXT,
    use_collection_form BOOLEAN NOT NULL,
    description TEXT,
    recipient TEXT,
    bcc TEXT,
    subject TEXT,
    message TEXT,
    status TEXT NOT NULL,
    delivery_status TEXT NOT NULL,
    send_count INTEGER NOT NULL,
    transaction_id BIGINT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX payment_orders_token_idx ON payment_orders (token);
CREATE INDEX payment_orders_list_idx ON payment_orders (shop_id, mode, id);
CREATE INDEX payment_orders_status_idx ON payment_orders (shop_id, mode, status, id);
CREATE INDEX payment_orders_reference_idx ON payment_orders (shop_id, mode, reference);
CREATE INDEX payment_orders_expires_list_idx ON payment_orders (shop_id, mode, expires_at, id);
CREATE INDEX payment_orders_amount_idx ON payment_orders (shop_id, mode, amount, id);
CREATE INDEX payment_orders_due_idx ON payment_orders (status, expires_at);
-- One open invoice per reference in a shop, so the collection form finds exactly one.
CREATE UNIQUE INDEX payment_orders_invoice_ref_idx ON payment_orders (shop_id, mode, reference)
    WHERE channel = 'INVOICE' AND status <> 'PAID';

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BIGINT NOT NULL REFERENCES shops(id),
    order_id BIGINT REFERENCES payment_orders(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_order_idx ON outbox (order_id, id);
CREATE INDEX outbox_shop_idx ON outbox (shop_id, kind, id);

CREATE TABLE email_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BIGINT NOT NULL REFERENCES shops(id),
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX email_templates_shop_idx ON email_templates (shop_id, language);

CREATE TABLE sms_accounts (
    shop_id BIGINT PRIMARY KEY NOT NULL REFERENCES shops(id),
    login TEXT NOT NULL,
    password_enc TEXT NOT NULL,
    default_phone TEXT NOT NULL,
    credits INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE idempotency_keys (
    shop_id BIGINT NOT NULL REFERENCES shops(id),
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (shop_id, idem_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

ALTER TABLE users ADD COLUMN orders_columns TEXT;

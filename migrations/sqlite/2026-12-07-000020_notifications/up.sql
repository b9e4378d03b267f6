-- Notification rules (DESIGN §3, seed 001 chapter 13): what to tell whom on which event.
-- `kind` BUYER_EMAIL | MERCHANT_EMAIL | CREATOR_EMAIL | URL; `events` and `channels` are
-- comma-separated lists (empty channels: any), `modes` TEST, PRODUCTION or both. A URL rule
-- is a webhook endpoint: its secret sealed under the vault key, the previous one kept for the
-- overlap of a rotation; a 410 from the endpoint disables it (`disabled_reason`).
CREATE TABLE notification_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    events TEXT NOT NULL,
    channels TEXT NOT NULL,
    modes TEXT NOT NULL,
    from_order_only BOOLEAN NOT NULL,
    failure_email TEXT,
    auto_retry BOOLEAN NOT NULL,
    url_test TEXT,
    url_production TEXT,
    secret_enc TEXT,
    previous_secret_enc TEXT,
    previous_until TIMESTAMP,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    deleted BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX notification_rules_shop_idx ON notification_rules (shop_id, id);

-- What happened, once: the body every rule's call carries (stable across retries).
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    mode TEXT NOT NULL,
    event_type TEXT NOT NULL,
    order_id BIGINT,
    transaction_id BIGINT,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX events_public_id_idx ON events (public_id);
CREATE INDEX events_shop_idx ON events (shop_id, mode, id);

-- The outbox carries the rules' messages too: which event and rule a job delivers.
ALTER TABLE outbox ADD COLUMN event_id BIGINT;
ALTER TABLE outbox ADD COLUMN rule_id BIGINT;
CREATE INDEX outbox_event_idx ON outbox (event_id);
CREATE INDEX outbox_rule_order_idx ON outbox (rule_id, order_id, id);

-- Each call of a webhook: when, the answer's status (none: no answer), how long, the first
-- kilobyte of the answer or the reason it was not made.
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    duration_ms INTEGER NOT NULL,
    response TEXT NOT NULL,
    error TEXT
);
CREATE INDEX webhook_attempts_event_idx ON webhook_attempts (event_id, id);

-- Every shop starts with the buyer's confirmation and the merchant's e-mail on acceptance.
INSERT INTO notification_rules (shop_id, kind, label, events, channels, modes, from_order_only,
    auto_retry, enabled, deleted, created_at, updated_at)
SELECT id, 'BUYER_EMAIL', 'Confirmation au client', 'payment.accepted', '', 'TEST,PRODUCTION', FALSE,
    TRUE, TRUE, FALSE, created_at, created_at FROM shops;
INSERT INTO notification_rules (shop_id, kind, label, events, channels, modes, from_order_only,
    auto_retry, enabled, deleted, created_at, updated_at)
SELECT id, 'MERCHANT_EMAIL', 'E-mail au marchand', 'payment.accepted', '', 'TEST,PRODUCTION', FALSE,
    TRUE, TRUE, FALSE, created_at, created_at FROM shops;

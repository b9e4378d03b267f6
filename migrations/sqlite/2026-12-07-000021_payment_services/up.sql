-- Payment services per shop (DESIGN §3, seeds 000 and 004): a PSP connector (payzen, mollie,
-- payplug) or the app wallet, per mode. Credentials are sealed under the vault key (a key, or
-- user:password; none for the TEST wallet, which is paylink's simulator) and kept masked
-- beside them for the screens. `base_url` is the service's API root.
CREATE TABLE payment_services (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    service TEXT NOT NULL,
    mode TEXT NOT NULL,
    credentials_enc TEXT,
    credentials_mask TEXT NOT NULL,
    base_url TEXT NOT NULL,
    display_name TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    checked_at TIMESTAMP,
    check_result TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX payment_services_shop_idx ON payment_services (shop_id, service, mode);

-- Each payment asked of a service for an order (the seed's "demandes de paiement"): recorded
-- before the call (CREATED), then its id and hosted page (OPEN), then its outcome, written
-- once (PAID, FAILED, CANCELLED, EXPIRED) with the transaction it made.
CREATE TABLE service_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    order_id BIGINT NOT NULL REFERENCES payment_orders (id),
    mode TEXT NOT NULL,
    service TEXT NOT NULL,
    status TEXT NOT NULL,
    raw_status TEXT,
    service_payment_id TEXT,
    checkout_url TEXT,
    refund_ref TEXT,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    transaction_id BIGINT,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX service_requests_public_idx ON service_requests (public_id);
CREATE INDEX service_requests_shop_idx ON service_requests (shop_id, mode, id);
CREATE INDEX service_requests_order_idx ON service_requests (order_id, id);
CREATE INDEX service_requests_payment_idx ON service_requests (service, service_payment_id);

-- Every call to a service, as the merchant may read it (secrets masked, bodies cut at 4 KB).
CREATE TABLE service_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    request_id BIGINT,
    service TEXT NOT NULL,
    mode TEXT NOT NULL,
    operation TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    request TEXT NOT NULL,
    status INTEGER,
    response TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX service_calls_request_idx ON service_calls (request_id, id);
CREATE INDEX service_calls_shop_idx ON service_calls (shop_id, id);

-- The service an order is to be paid through, when its shop has several (payment_orders is
-- at diesel's 32 columns).
CREATE TABLE order_services (
    order_id BIGINT PRIMARY KEY REFERENCES payment_orders (id),
    service TEXT NOT NULL
);

-- A transaction made through a service names it and the service's payment id.
ALTER TABLE transactions ADD COLUMN service TEXT;
ALTER TABLE transactions ADD COLUMN service_payment_id TEXT;

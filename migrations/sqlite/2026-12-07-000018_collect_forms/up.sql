-- A shop's data collection form (seed 001 §1.4, §10.2). No row: the default form (on, in
-- TEST, last name, first name and e-mail mandatory). `fields` is `name:optional|required,…`.
CREATE TABLE collect_forms (
    shop_id BIGINT PRIMARY KEY NOT NULL REFERENCES shops (id),
    enabled BOOLEAN NOT NULL,
    production BOOLEAN NOT NULL,
    title TEXT,
    intro TEXT,
    fields TEXT NOT NULL,
    info1_label TEXT,
    info1_hint TEXT,
    info1_required BOOLEAN NOT NULL,
    info1_min INTEGER NOT NULL,
    info1_max INTEGER NOT NULL,
    info2_label TEXT,
    info2_hint TEXT,
    info2_required BOOLEAN NOT NULL,
    info2_min INTEGER NOT NULL,
    info2_max INTEGER NOT NULL,
    info3_label TEXT,
    info3_hint TEXT,
    info3_required BOOLEAN NOT NULL,
    info3_min INTEGER NOT NULL,
    info3_max INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- What the buyer typed on the form before paying an order: shown with its transactions, never
-- logged. Replaced when the buyer goes through the form again.
CREATE TABLE buyer_data (
    order_id BIGINT PRIMARY KEY NOT NULL REFERENCES payment_orders (id),
    last_name TEXT,
    first_name TEXT,
    email TEXT,
    phone TEXT,
    address TEXT,
    postal_code TEXT,
    city TEXT,
    country TEXT,
    info1 TEXT,
    info2 TEXT,
    info3 TEXT,
    created_at TIMESTAMP NOT NULL
);

-- An invoice's reference is unique among the shop's invoice orders that are not cancelled
-- (paid ones included: a buyer typing it finds that it is paid), so the form finds one.
DROP INDEX payment_orders_invoice_ref_idx;
CREATE UNIQUE INDEX payment_orders_invoice_ref_idx ON payment_orders (shop_id, mode, reference)
    WHERE channel = 'INVOICE' AND status <> 'CANCELLED';

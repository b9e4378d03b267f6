-- A buyer is known per shop by e-mail (lower-cased): saved cards and wallet links hang on it.
CREATE TABLE buyers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BIGINT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX buyers_shop_email ON buyers (shop_id, email);

-- A buyer's saved card (alias): what may be shown of it. The number is in vault_records under
-- the same token, and only serves orders of its mode (a TEST card never pays for real). PENDING while its first payment is under way (the attempt holding the
-- order); ACTIVE once that payment was accepted; a refused or abandoned one is deleted.
CREATE TABLE saved_cards (
    token TEXT PRIMARY KEY NOT NULL,
    shop_id BIGINT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    mode TEXT NOT NULL,
    buyer_id BIGINT NOT NULL REFERENCES buyers (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    attempt TEXT,
    brand TEXT NOT NULL,
    masked TEXT NOT NULL,
    expiry_month INTEGER NOT NULL,
    expiry_year INTEGER NOT NULL,
    holder TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX saved_cards_buyer ON saved_cards (buyer_id, status);
CREATE INDEX saved_cards_attempt ON saved_cards (attempt);

-- Magic links to the buyer's wallet: only a hash of the token is kept. Single use: opening it
-- sets used_at and a wallet session (its hash) that lasts until session_until.
CREATE TABLE wallet_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    buyer_id BIGINT NOT NULL REFERENCES buyers (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    session_hash TEXT,
    session_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX wallet_links_buyer ON wallet_links (buyer_id, created_at);

-- The alias a payment used or saved (shown to the merchant, buyer part).
ALTER TABLE transactions ADD COLUMN saved_card TEXT;

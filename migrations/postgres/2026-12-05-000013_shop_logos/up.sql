-- A shop's logo, shown on its pay page: PNG, JPEG or sanitised SVG, at most 200 KB. It is
-- served at /logos/{digest}.{ext}, a name that changes with the content (cached a year).
CREATE TABLE shop_logos (
    shop_id BIGINT PRIMARY KEY NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    digest TEXT NOT NULL,
    body BYTEA NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX shop_logos_digest ON shop_logos (digest);

-- A CSV file of invoice orders (DESIGN §4): checked whole, then created in one transaction,
-- at once for a small file or by the worker for a large one (status RUNNING until then, the
-- file kept in `source` and dropped once done). `errors` is a JSON list of
-- {line, field, code}; `sha256` is the file's, as audited.
CREATE TABLE imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    total INTEGER NOT NULL,
    created INTEGER NOT NULL,
    errors TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX imports_shop_idx ON imports (shop_id, mode, id);
CREATE INDEX imports_running_idx ON imports (status) WHERE status = 'RUNNING';

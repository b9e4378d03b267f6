CREATE TABLE companies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE shops (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL REFERENCES companies(id),
    label TEXT NOT NULL,
    slug TEXT NOT NULL,
    url TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    test_key_hash TEXT NOT NULL,
    test_key_hint TEXT NOT NULL,
    production_key_hash TEXT NOT NULL,
    production_key_hint TEXT NOT NULL,
    validity_days INTEGER NOT NULL,
    reference_mandatory BOOLEAN NOT NULL,
    validation_mode TEXT NOT NULL,
    capture_delay_days INTEGER NOT NULL,
    three_ds TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX shops_slug_idx ON shops (slug);
CREATE INDEX shops_company_idx ON shops (company_id, id);
CREATE UNIQUE INDEX shops_test_key_idx ON shops (test_key_hash);
CREATE UNIQUE INDEX shops_production_key_idx ON shops (production_key_hash);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT NOT NULL REFERENCES companies(id),
    login TEXT NOT NULL,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    role TEXT NOT NULL,
    can_test BOOLEAN NOT NULL,
    password_hash TEXT NOT NULL,
    password_is_temporary BOOLEAN NOT NULL,
    first_login_code_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_at TIMESTAMP,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_login_idx ON users (login);
CREATE INDEX users_company_idx ON users (company_id, id);

CREATE TABLE user_shops (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    shop_id BIGINT NOT NULL REFERENCES shops(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, shop_id)
);
CREATE INDEX user_shops_shop_idx ON user_shops (shop_id);

CREATE TABLE web_sessions (
    key_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT,
    state TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id BIGINT,
    shop_id BIGINT,
    user_id BIGINT,
    actor TEXT NOT NULL,
    ip TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_company_idx ON audit_log (company_id, id);

-- The audit log is append-only: the database itself refuses to change or erase it.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE worker_heartbeats (
    name TEXT PRIMARY KEY NOT NULL,
    beat_at TIMESTAMP NOT NULL
);

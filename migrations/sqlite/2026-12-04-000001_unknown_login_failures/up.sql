-- Failed attempts on logins that do not exist are counted like those on real accounts, so
-- that the fifth answers "locked" for both (no account enumeration).
CREATE INDEX audit_log_unknown_login_idx ON audit_log (actor) WHERE target = 'user:?';

DROP TABLE worker_heartbeats;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE audit_log;
DROP TABLE web_sessions;
DROP TABLE user_shops;
DROP TABLE users;
DROP TABLE shops;
DROP TABLE companies;

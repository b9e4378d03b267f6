-- The instance (server process) that claimed a key: its claim lives as long as that
-- instance beats (worker_heartbeats 'instance:<id>'), so a restarted server takes over a key
-- whose claimant died within seconds instead of answering 409 for minutes.
ALTER TABLE idempotency_keys ADD COLUMN holder TEXT NOT NULL DEFAULT '';

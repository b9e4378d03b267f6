-- Every money operation sent to the acquirer is recorded before it is sent (intent), then
-- confirmed or released; one left pending by a crash or a timeout is reconciled by the worker.
CREATE TABLE acquirer_operations (
    id BIGSERIAL PRIMARY KEY,
    shop_id BIGINT NOT NULL REFERENCES shops(id),
    order_id BIGINT NOT NULL REFERENCES payment_orders(id),
    transaction_id BIGINT REFERENCES transactions(id),
    mode TEXT NOT NULL,
    kind TEXT NOT NULL,
    op_key TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    retry_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX acquirer_operations_key_idx ON acquirer_operations (op_key);
CREATE INDEX acquirer_operations_pending_idx ON acquirer_operations (status, retry_at);
CREATE INDEX acquirer_operations_tx_idx ON acquirer_operations (transaction_id, id);

-- The capture, cancellation or expiry under way (its operation), and the refunds asked for
-- but not yet confirmed: a transaction is settled once, and refunds never exceed the capture.
ALTER TABLE transactions ADD COLUMN settling_op BIGINT;
ALTER TABLE transactions ADD COLUMN refund_pending BIGINT NOT NULL DEFAULT 0;

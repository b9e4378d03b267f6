-- Payment in instalments (seed 002, PayZen MULTI). The order may end its schedule by a date.
ALTER TABLE payment_orders ADD COLUMN instalments_until DATE;

-- Which instalment a transaction pays (1 for the first), out of how many; NULL: paid at once.
ALTER TABLE transactions ADD COLUMN instalment_index INTEGER;
ALTER TABLE transactions ADD COLUMN instalment_count INTEGER;

-- A link is paid at most once: one accepted transaction per order and instalment.
DROP INDEX transactions_one_accepted_idx;
CREATE UNIQUE INDEX transactions_one_accepted_idx ON transactions (order_id, COALESCE(instalment_index, 0))
    WHERE status IN ('AUTHORISED', 'AUTHORISED_TO_VALIDATE', 'CAPTURED');

-- An order's schedule. PENDING while the first instalment's attempt is under way (written
-- with the payment lock, keyed by the attempt); RUNNING once it was accepted; COMPLETED,
-- FAILED (retries spent: the balance order is offered to the buyer) or CANCELLED by the
-- merchant. The card is a vault record of its own, deleted when the schedule ends.
CREATE TABLE instalment_plans (
    order_id BIGINT PRIMARY KEY NOT NULL REFERENCES payment_orders (id),
    shop_id BIGINT NOT NULL REFERENCES shops (id),
    attempt TEXT NOT NULL,
    card_token TEXT NOT NULL,
    card_brand TEXT NOT NULL,
    card_masked TEXT NOT NULL,
    card_expiry TEXT NOT NULL,
    holder TEXT,
    instalment_count INTEGER NOT NULL,
    status TEXT NOT NULL,
    balance_order_id BIGINT REFERENCES payment_orders (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX instalment_plans_status_idx ON instalment_plans (status, created_at);

-- One instalment: PENDING (due at next_at, the start of due_on in the shop's zone, or a
-- retry's), CHARGING (claimed by one worker, its authorisation recorded), PAID, FAILED or
-- CANCELLED.
CREATE TABLE instalments (
    order_id BIGINT NOT NULL REFERENCES instalment_plans (order_id),
    idx INTEGER NOT NULL,
    due_on DATE NOT NULL,
    amount BIGINT NOT NULL,
    status TEXT NOT NULL,
    tries INTEGER NOT NULL,
    next_at TIMESTAMP NOT NULL,
    transaction_id BIGINT REFERENCES transactions (id),
    last_code TEXT,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (order_id, idx)
);
CREATE INDEX instalments_due_idx ON instalments (status, next_at);

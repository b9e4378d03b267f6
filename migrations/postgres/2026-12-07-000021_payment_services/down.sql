ALTER TABLE transactions DROP COLUMN service_payment_id;
ALTER TABLE transactions DROP COLUMN service;
DROP TABLE order_services;
DROP TABLE service_calls;
DROP TABLE service_requests;
DROP TABLE payment_services;

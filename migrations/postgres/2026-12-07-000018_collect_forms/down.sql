DROP INDEX payment_orders_invoice_ref_idx;
CREATE UNIQUE INDEX payment_orders_invoice_ref_idx ON payment_orders (shop_id, mode, reference)
    WHERE channel = 'INVOICE' AND status <> 'PAID';
DROP TABLE buyer_data;
DROP TABLE collect_forms;

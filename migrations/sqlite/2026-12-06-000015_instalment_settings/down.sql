DROP TABLE shop_instalments;

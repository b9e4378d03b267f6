DROP TABLE shop_logos;

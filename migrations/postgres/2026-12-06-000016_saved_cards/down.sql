ALTER TABLE transactions DROP COLUMN saved_card;
DROP TABLE wallet_links;
DROP TABLE saved_cards;
DROP TABLE buyers;

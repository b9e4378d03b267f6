DROP TABLE vault_records;

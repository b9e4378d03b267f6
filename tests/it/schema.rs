//! The two migration sets must describe the same schema: same tables, columns, nullability
//! and indexes. Both backends are migrated here whatever the test pass, so drift fails early.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use paylink::db::{Db, DbConn, DbError};

use crate::helpers::PgDatabase;

const SQLITE: diesel_migrations::EmbeddedMigrations = diesel_migrations::embed_migrations!("migrations/sqlite");
const POSTGRES: diesel_migrations::EmbeddedMigrations = diesel_migrations::embed_migrations!("migrations/postgres");

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
}

/// (table, column, not null) and (table, index, unique).
type Shape = (BTreeSet<(String, String, bool)>, BTreeSet<(String, String, bool)>);

fn sqlite_shape(conn: &mut DbConn) -> Shape {
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    let mut columns = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    for t in tables {
        let cols: Vec<SqliteColumn> =
            diesel::sql_query(format!("SELECT name, \"notnull\", pk FROM pragma_table_info('{}')", t.name))
                .load(conn)
                .unwrap();
        for c in cols {
            columns.insert((t.name.clone(), c.name, c.notnull == 1 || c.pk > 0));
        }
        let idx: Vec<IndexRow> = diesel::sql_query(format!(
            "SELECT '{0}' AS table_name, name AS index_name, \"unique\" AS is_unique FROM pragma_index_list('{0}') \
             WHERE origin = 'c'",
            t.name
        ))
        .load(conn)
        .unwrap();
        for i in idx {
            indexes.insert((i.table_name, i.index_name, i.is_unique == 1));
        }
    }
    (columns, indexes)
}

fn postgres_shape(conn: &mut DbConn) -> Shape {
    let cols: Vec<PgColumn> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, is_nullable::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    let idx: Vec<IndexRow> = diesel::sql_query(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name, ix.indisunique::int AS is_unique \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND NOT ix.indisprimary AND t.relname <> '__diesel_schema_migrations'",
    )
    .load(conn)
    .unwrap();
    (
        cols.into_iter().map(|c| (c.table_name, c.column_name, c.is_nullable == "NO")).collect(),
        idx.into_iter().map(|i| (i.table_name, i.index_name, i.is_unique == 1)).collect(),
    )
}

#[test]
fn sqlite_and_postgres_migrations_describe_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::connect(dir.path().join("drift.db").to_str().unwrap(), 2).unwrap();
    sqlite.migrate().unwrap();
    let pg_db = PgDatabase::create();
    let pg = Db::connect(&pg_db.url, 2).unwrap();
    pg.migrate().unwrap();

    let (lite_cols, lite_idx) = sqlite.read_blocking(|c| Ok::<_, DbError>(sqlite_shape(c))).unwrap();
    let (pg_cols, pg_idx) = pg.read_blocking(|c| Ok::<_, DbError>(postgres_shape(c))).unwrap();
    assert!(lite_cols.len() > 40, "the scan sees the tables");
    let only_lite: Vec<_> = lite_cols.difference(&pg_cols).collect();
    let only_pg: Vec<_> = pg_cols.difference(&lite_cols).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "columns drift: only SQLite {only_lite:?}, only PostgreSQL {only_pg:?}"
    );
    let only_lite: Vec<_> = lite_idx.difference(&pg_idx).collect();
    let only_pg: Vec<_> = pg_idx.difference(&lite_idx).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "indexes drift: only SQLite {only_lite:?}, only PostgreSQL {only_pg:?}"
    );
    drop(pg);
}

#[test]
fn both_migration_sets_have_the_same_names_and_every_down_reverses_its_up() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));

    use diesel_migrations::MigrationHarness;
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::connect(dir.path().join("down.db").to_str().unwrap(), 2).unwrap();
    sqlite.migrate().unwrap();
    let pg_db = PgDatabase::create();
    let pg = Db::connect(&pg_db.url, 2).unwrap();
    pg.migrate().unwrap();
    for db in [&sqlite, &pg] {
        db.write_blocking(|conn| {
            let reverted = match conn {
                DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE),
                DbConn::Postgres(c) => c.revert_all_migrations(POSTGRES),
            };
            assert!(reverted.is_ok(), "down migrations run: {:?}", reverted.err());
            let left: Vec<Name> = match conn {
                DbConn::Sqlite(_) => diesel::sql_query(
                    "SELECT name FROM sqlite_master WHERE type IN ('table','index','trigger') AND name NOT LIKE 'sqlite_%' \
                     AND name <> '__diesel_schema_migrations'",
                ),
                DbConn::Postgres(_) => diesel::sql_query(
                    "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' \
                     AND tablename <> '__diesel_schema_migrations' \
                     UNION ALL SELECT proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                     WHERE n.nspname = 'public'",
                ),
            }
            .load(conn)?;
            let left: Vec<String> = left.into_iter().map(|n| n.name).collect();
            assert!(left.is_empty(), "left behind after down: {left:?}");
            Ok::<_, DbError>(())
        })
        .unwrap();
        assert!(!db.migrate().unwrap().is_empty(), "up again after down");
    }
    drop(pg);
}

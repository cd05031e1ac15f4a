//! PgBouncer in transaction pooling mode: the failure of named prepared statements behind it,
//! and [`StatementMode::Unnamed`], under which no named statement outlives a transaction.
//!
//! `PGBOUNCER_URL` names a PgBouncer in `pool_mode = transaction` in front of the server of
//! `DATABASE_URL` (`cargo xtask test --pgbouncer` sets both); without it these tests skip with
//! a message. Each test database gets a server pool of its own in PgBouncer, empty at first, so
//! which server connection serves what is decided by the test alone.

use ignis_tests::TestDb;
use ignis_tx::{
    DataSource, DataSourceConfig, Executor, PoolOptions, StatementMode, TransactionOptions,
};

/// The PgBouncer URL for `db`'s database, or `None` (with a message) when `PGBOUNCER_URL` is
/// unset.
fn bouncer(db: &TestDb, mode: StatementMode) -> Option<DataSourceConfig> {
    let Some(url) = std::env::var("PGBOUNCER_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "skipped: PGBOUNCER_URL is not set (run `cargo xtask test --pgbouncer`, which \
             starts PgBouncer in transaction pooling mode)"
        );
        return None;
    };
    let mut config = DataSourceConfig::from_url(&url)
        .unwrap_or_else(|e| panic!("PGBOUNCER_URL: {e}"))
        .with_database(&db.name);
    config.statement_mode = mode;
    Some(config)
}

fn datasource(config: &DataSourceConfig, max_size: u32) -> DataSource {
    DataSource::new(config.clone().with_pool(PoolOptions {
        max_size,
        ..PoolOptions::default()
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A plain client through PgBouncer that holds a server connection: it opens a transaction
/// (simple protocol, so it prepares nothing) and keeps it open until dropped.
fn hold_server(config: &DataSourceConfig) -> postgres::Client {
    let mut c = postgres::Client::connect(&config.connection_string(), postgres::NoTls)
        .unwrap_or_else(|e| panic!("connect to PgBouncer: {e}"));
    c.batch_execute("BEGIN; SELECT 1")
        .unwrap_or_else(|e| panic!("BEGIN through PgBouncer: {e}"));
    c
}

/// The named prepared statements on every server connection PgBouncer has for the database:
/// `n` clients each hold one server connection in a transaction at once (more than the pool
/// opened), and each lists its session's `pg_prepared_statements`.
fn named_statements_on_servers(config: &DataSourceConfig, n: usize) -> Vec<String> {
    let mut clients: Vec<postgres::Client> = (0..n).map(|_| hold_server(config)).collect();
    let mut names = Vec::new();
    for c in &mut clients {
        for msg in c
            .simple_query("SELECT name || ': ' || statement FROM pg_prepared_statements")
            .unwrap_or_else(|e| panic!("pg_prepared_statements: {e}"))
        {
            if let postgres::SimpleQueryMessage::Row(row) = msg {
                names.push(row.get(0).unwrap_or_default().to_string());
            }
        }
    }
    names
}

#[test]
fn named_statements_fail_when_the_pooler_switches_server_connections() {
    let db = TestDb::new();
    let Some(config) = bouncer(&db, StatementMode::Prepared) else {
        return;
    };
    let ds = datasource(&config, 1);
    let mut conn = ds.connection().unwrap();
    // Prepared (and cached) on the pool's only server connection, which PgBouncer takes back
    // after the statement.
    let sum: i32 = conn
        .query_one("SELECT $1::int + 1", &[&1i32])
        .unwrap()
        .get(0);
    assert_eq!(sum, 2);
    // Another client's transaction now holds that server connection, so the next statement
    // gets a new one, where the cached statement does not exist.
    let held = hold_server(&config);
    let err = conn
        .query_one("SELECT $1::int + 1", &[&2i32])
        .expect_err("a named statement must not be found on another server connection");
    assert_eq!(err.sqlstate(), Some("26000"), "{err}");
    drop(held);
}

#[test]
fn unnamed_statements_run_whichever_server_connection_serves_them() {
    let db = TestDb::new();
    let Some(config) = bouncer(&db, StatementMode::Unnamed) else {
        return;
    };
    let ds = datasource(&config, 1);
    let mut conn = ds.connection().unwrap();
    let sum: i32 = conn
        .query_one("SELECT $1::int + 1", &[&1i32])
        .unwrap()
        .get(0);
    assert_eq!(sum, 2);
    let held = hold_server(&config);
    let sum: i32 = conn
        .query_one("SELECT $1::int + 1", &[&2i32])
        .unwrap()
        .get(0);
    assert_eq!(sum, 3);
    assert_eq!(conn.execute("SELECT $1::text", &[&"x"]).unwrap(), 1);
    drop(held);
    drop(conn);
    assert_eq!(
        named_statements_on_servers(&config, 4),
        Vec::<String>::new()
    );
}

#[test]
fn the_pgbouncer_url_parameter_selects_unnamed_statements() {
    let db = TestDb::new();
    let Some(config) = bouncer(&db, StatementMode::Prepared) else {
        return;
    };
    let url = format!("{}?pgbouncer=true", config.connection_string());
    let parsed = DataSourceConfig::from_url(&url).unwrap();
    assert_eq!(parsed.statement_mode, StatementMode::Unnamed);
    let ds = datasource(&parsed, 1);
    let mut conn = ds.connection().unwrap();
    conn.query_one("SELECT $1::int", &[&1i32]).unwrap();
    let held = hold_server(&config);
    conn.query_one("SELECT $1::int", &[&1i32]).unwrap();
    drop(held);
}

/// Enums are types the `postgres` crate looks up with named statements of its own: they are
/// deallocated before the transaction that learned them ends, in and outside transactions.
#[test]
fn no_named_statement_outlives_a_transaction_with_enums_in_and_out_of_transactions() {
    let db = TestDb::new();
    let Some(config) = bouncer(&db, StatementMode::Unnamed) else {
        return;
    };
    db.client()
        .batch_execute(
            "CREATE TYPE mood AS ENUM ('happy', 'sad');
             CREATE TYPE size AS ENUM ('s', 'l');
             CREATE TABLE person (id int PRIMARY KEY, name text NOT NULL, mood mood, size size)",
        )
        .unwrap();
    let ds = datasource(&config, 2);
    // Outside a transaction, one statement after another on one pooled connection, each
    // with a type the client has not seen yet.
    {
        let mut conn = ds.connection().unwrap();
        conn.execute(
            "INSERT INTO person (id, name, mood) VALUES ($1, $2, 'happy')",
            &[&1i32, &"ann"],
        )
        .unwrap();
        let held = hold_server(&config);
        let rows = conn
            .query("SELECT mood::text FROM person WHERE mood = 'happy'", &[])
            .unwrap();
        assert_eq!(rows.len(), 1);
        conn.execute(
            "UPDATE person SET size = 'l' WHERE id = $1 AND size IS NULL",
            &[&1i32],
        )
        .unwrap();
        let types = conn.column_types("SELECT mood, size FROM person").unwrap();
        assert_eq!(
            types.iter().map(|t| t.name()).collect::<Vec<_>>(),
            ["mood", "size"]
        );
        drop(held);
    }
    // Inside transactions, with enum parameters and results.
    for round in 0..3 {
        ds.transaction(TransactionOptions::default(), |tx| {
            let types = tx.column_types("SELECT mood, size FROM person")?;
            assert_eq!(types.len(), 2);
            tx.execute(
                "INSERT INTO person (id, name, mood) VALUES ($1, $2, 'sad')",
                &[&(10 + round), &"bob"],
            )?;
            let n: i64 = tx
                .query_one("SELECT count(*) FROM person WHERE mood IS NOT NULL", &[])?
                .get(0);
            assert_eq!(n, 2 + i64::from(round));
            Ok::<_, ignis_tx::Error>(())
        })
        .unwrap();
    }
    // A transaction that fails after learning an enum type.
    let err = ds
        .transaction(TransactionOptions::default(), |tx| {
            tx.column_types("SELECT size FROM person")?;
            tx.execute("INSERT INTO person (id, name) VALUES (1, 'dup')", &[])
        })
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("23505"));
    assert_eq!(
        named_statements_on_servers(&config, 6),
        Vec::<String>::new()
    );
}

#[test]
fn prepare_is_refused_and_statement_timeout_is_refused_under_unnamed_statements() {
    let db = TestDb::new();
    let Some(config) = bouncer(&db, StatementMode::Unnamed) else {
        return;
    };
    let ds = datasource(&config, 1);
    let err = ds.connection().unwrap().prepare("SELECT 1").unwrap_err();
    assert!(
        err.to_string().contains("column_types"),
        "the error says what to use instead: {err}"
    );
    let err = DataSource::new(config.with_pool(PoolOptions {
        statement_timeout: Some(std::time::Duration::from_secs(1)),
        ..PoolOptions::default()
    }))
    .unwrap_err();
    assert!(err.to_string().contains("statement_timeout"), "{err}");
}

//! ignis-tx against a real Postgres: commit / rollback visibility, panics, savepoints, isolation
//! levels, read-only, retries of serialization failures, worker threads, connections killed by the
//! server, pool exhaustion, the statement cache, and password redaction.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ignis_tests::TestDb;
use ignis_tx::{
    DataSource, DataSourceConfig, Error, Executor, IsolationLevel, PoolOptions, TransactionOptions,
};
use rayon::prelude::*;

fn setup(db: &TestDb) -> DataSource {
    db.client()
        .batch_execute(
            "CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);
             CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL);
             INSERT INTO counter VALUES (1, 0);",
        )
        .unwrap();
    db.datasource()
}

/// Rows of `item` as another connection sees them.
fn items(db: &TestDb) -> Vec<(i32, String)> {
    db.client()
        .query("SELECT id, name FROM item ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn counter(db: &TestDb) -> i32 {
    db.client()
        .query_one("SELECT n FROM counter WHERE id = 1", &[])
        .unwrap()
        .get(0)
}

fn insert(exec: &mut impl Executor, id: i32, name: &str) -> Result<u64, Error> {
    exec.execute("INSERT INTO item (id, name) VALUES ($1, $2)", &[&id, &name])
}

#[test]
fn commit_is_visible_to_other_connections_rollback_and_err_are_not() {
    let db = TestDb::new();
    let ds = setup(&db);

    let mut tx = ds.begin(TransactionOptions::default()).unwrap();
    insert(&mut tx, 1, "committed").unwrap();
    assert!(items(&db).is_empty(), "uncommitted write visible outside");
    assert!(tx.is_active());
    tx.commit().unwrap();
    assert_eq!(items(&db), vec![(1, "committed".into())]);

    let mut tx = ds.begin(TransactionOptions::default()).unwrap();
    insert(&mut tx, 2, "rolled back").unwrap();
    tx.rollback().unwrap();

    {
        let mut tx = ds.begin(TransactionOptions::default()).unwrap();
        insert(&mut tx, 3, "dropped").unwrap();
        // dropped without commit
    }

    let r: Result<(), Error> = ds.transaction(TransactionOptions::default(), |tx| {
        insert(tx, 4, "closure err")?;
        insert(tx, 1, "duplicate key")?; // 23505
        Ok(())
    });
    let err = r.unwrap_err();
    assert_eq!(err.sqlstate(), Some("23505"));
    let db_err = err.as_database_error().unwrap();
    assert_eq!(db_err.table.as_deref(), Some("item"));
    assert_eq!(db_err.constraint.as_deref(), Some("item_pkey"));

    let v: i32 = ds
        .transaction(TransactionOptions::default(), |tx| {
            insert(tx, 5, "closure ok")?;
            Ok::<_, Error>(7)
        })
        .unwrap();
    assert_eq!(v, 7);
    assert_eq!(
        items(&db),
        vec![(1, "committed".into()), (5, "closure ok".into())]
    );
}

#[test]
fn a_panic_rolls_back_and_the_pool_stays_healthy() {
    let db = TestDb::new();
    db.client()
        .batch_execute("CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL)")
        .unwrap();
    let ds = db.datasource_with(PoolOptions {
        max_size: 1,
        ..PoolOptions::default()
    });
    let ds2 = ds.clone();
    let panicked = std::thread::spawn(move || {
        let _: Result<(), Error> = ds2.transaction(TransactionOptions::default(), |tx| {
            insert(tx, 1, "before panic")?;
            panic!("boom");
        });
    })
    .join();
    assert!(panicked.is_err(), "the panic must continue after rollback");
    assert!(items(&db).is_empty(), "the write before the panic was kept");

    // The only pooled connection is back, outside any transaction.
    let mut conn = ds.connection().unwrap();
    // Outside a transaction block, SAVEPOINT fails with 25P01; inside one it would succeed.
    let probe = conn.batch_execute("SAVEPOINT probe").unwrap_err();
    assert_eq!(
        probe.sqlstate(),
        Some("25P01"),
        "connection returned to the pool mid-transaction"
    );
    insert(&mut conn, 2, "after").unwrap();
    assert_eq!(
        items(&db),
        vec![(2, "after".into())],
        "write did not autocommit"
    );
    drop(conn);
}

/// A pool of one connection over a fresh `item` table.
fn single_connection(db: &TestDb) -> DataSource {
    db.client()
        .batch_execute("CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL)")
        .unwrap();
    db.datasource_with(PoolOptions {
        max_size: 1,
        ..PoolOptions::default()
    })
}

/// The next user of the only pooled connection: one autocommitted insert, then a committed
/// transaction. Both must be visible to another connection, and nothing else.
fn next_caller_commits_only_its_own_rows(db: &TestDb, ds: &DataSource) {
    let mut conn = ds.connection().unwrap();
    insert(&mut conn, 2, "autocommit").unwrap();
    drop(conn);
    assert_eq!(
        items(db),
        vec![(2, "autocommit".into())],
        "the next caller's autocommit statement ran inside the abandoned transaction"
    );
    ds.transaction(TransactionOptions::default(), |tx| insert(tx, 3, "tx"))
        .unwrap();
    assert_eq!(
        items(db),
        vec![(2, "autocommit".into()), (3, "tx".into())],
        "the abandoned write was committed by the next caller"
    );
}

#[test]
fn a_raw_begin_abandoned_by_a_panic_is_not_committed_by_the_next_caller() {
    let db = TestDb::new();
    let ds = single_connection(&db);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut conn = ds.connection().unwrap();
        conn.execute("BEGIN", &[]).unwrap();
        insert(&mut conn, 1, "abandoned").unwrap();
        panic!("boom");
    }));
    assert!(panicked.is_err());
    next_caller_commits_only_its_own_rows(&db, &ds);
}

#[test]
fn a_raw_begin_dropped_without_commit_is_rolled_back_on_return() {
    let db = TestDb::new();
    let ds = single_connection(&db);
    // Each way SQL can reach the pooled connection: a statement, a script, the raw client.
    type Begin = fn(&mut ignis_tx::PooledConnection);
    let ways: [(&str, Begin); 4] = [
        ("statement", |c| {
            c.execute("start transaction", &[]).unwrap();
        }),
        ("script", |c| {
            c.batch_execute("SELECT 1; BEGIN").unwrap();
        }),
        ("commented statement", |c| {
            c.execute("/* app */ -- raw\n  Begin", &[]).unwrap();
        }),
        ("raw client", |c| {
            c.client().unwrap().batch_execute("BEGIN").unwrap();
        }),
    ];
    for (way, begin) in ways {
        let mut conn = ds.connection().unwrap();
        begin(&mut conn);
        insert(&mut conn, 1, "abandoned").unwrap();
        drop(conn);
        let mut conn = ds.connection().unwrap();
        // Outside a transaction block, SAVEPOINT fails with 25P01; inside one it succeeds.
        let probe = conn.batch_execute("SAVEPOINT probe").unwrap_err();
        assert_eq!(
            probe.sqlstate(),
            Some("25P01"),
            "{way}: returned in a transaction"
        );
        drop(conn);
        assert!(items(&db).is_empty(), "{way}: abandoned write visible");
    }
    next_caller_commits_only_its_own_rows(&db, &ds);
}

#[test]
fn a_connection_returned_in_a_failed_transaction_comes_back_usable() {
    let db = TestDb::new();
    let ds = single_connection(&db);
    let mut conn = ds.connection().unwrap();
    let err = conn.batch_execute("BEGIN; SELECT 1/0;").unwrap_err();
    assert_eq!(err.sqlstate(), Some("22012"));
    drop(conn);
    let mut conn = ds.connection().unwrap();
    let one: i32 = conn.query_one("SELECT 1", &[]).unwrap().get(0);
    assert_eq!(one, 1);
    drop(conn);
    next_caller_commits_only_its_own_rows(&db, &ds);
}

#[test]
fn a_failed_statement_makes_commit_fail_instead_of_silently_rolling_back() {
    let db = TestDb::new();
    let ds = setup(&db);
    let mut tx = ds.begin(TransactionOptions::default()).unwrap();
    insert(&mut tx, 1, "a").unwrap();
    assert!(insert(&mut tx, 1, "dup").is_err()); // error swallowed by the caller
    let err = tx.commit().unwrap_err();
    assert_eq!(err.sqlstate(), Some("25P02"));
    assert!(items(&db).is_empty());
}

#[test]
fn savepoint_failure_is_undone_and_outer_writes_are_kept() {
    let db = TestDb::new();
    let ds = setup(&db);
    ds.transaction(TransactionOptions::default(), |tx| {
        insert(tx, 1, "outer")?;
        let inner: Result<(), Error> = tx.transaction(|sp| {
            insert(sp, 2, "inner, undone")?;
            insert(sp, 1, "duplicate")?; // fails: the savepoint rolls back
            Ok(())
        });
        assert_eq!(inner.unwrap_err().sqlstate(), Some("23505"));
        // explicit savepoint, nested twice
        let mut sp = tx.savepoint()?;
        insert(&mut sp, 3, "kept")?;
        let mut nested = sp.savepoint()?;
        insert(&mut nested, 4, "nested, rolled back")?;
        nested.rollback()?;
        sp.release()?;
        {
            let mut dropped = tx.savepoint()?;
            insert(&mut dropped, 5, "dropped savepoint")?;
        }
        insert(tx, 6, "outer again")?;
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(
        items(&db),
        vec![
            (1, "outer".into()),
            (3, "kept".into()),
            (6, "outer again".into())
        ]
    );
}

#[test]
fn isolation_levels_read_only_and_timeouts_really_apply() {
    let db = TestDb::new();
    let ds = setup(&db);
    for level in [
        IsolationLevel::ReadCommitted,
        IsolationLevel::RepeatableRead,
        IsolationLevel::Serializable,
    ] {
        let mut tx = ds
            .begin(TransactionOptions::new().isolation_level(level))
            .unwrap();
        let shown: String = tx
            .query_one("SHOW transaction_isolation", &[])
            .unwrap()
            .get(0);
        assert_eq!(shown, level.to_string());
        assert_eq!(tx.isolation_level(), level);
    }

    let options = TransactionOptions::new()
        .read_only(true)
        .statement_timeout(Duration::from_millis(1500))
        .lock_timeout(Duration::from_millis(250));
    let err = ds
        .transaction(options, |tx| {
            let ro: String = tx.query_one("SHOW transaction_read_only", &[])?.get(0);
            assert_eq!(ro, "on");
            let st: String = tx.query_one("SHOW statement_timeout", &[])?.get(0);
            assert_eq!(st, "1500ms");
            let lt: String = tx.query_one("SHOW lock_timeout", &[])?.get(0);
            assert_eq!(lt, "250ms");
            insert(tx, 1, "write in read-only")
        })
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("25006"));
    assert!(
        err.to_string().contains("read-only transaction"),
        "error does not say why: {err}"
    );
    // SET LOCAL ended with the transaction.
    let mut conn = ds.connection().unwrap();
    let st: String = conn
        .query_one("SHOW statement_timeout", &[])
        .unwrap()
        .get(0);
    assert_eq!(st, "0");

    // lock_timeout makes a blocked statement fail fast with 55P03.
    let mut holder = db.client();
    let mut hold = holder.transaction().unwrap();
    hold.execute("UPDATE counter SET n = n WHERE id = 1", &[])
        .unwrap();
    let err = ds
        .transaction(
            TransactionOptions::new().lock_timeout(Duration::from_millis(100)),
            |tx| tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1", &[]),
        )
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("55P03"));
    hold.rollback().unwrap();
}

/// Two threads read the counter, wait for each other, then both write: a serializable conflict.
fn conflicting_increments(ds: &DataSource, retries: u32) -> Vec<Result<(), Error>> {
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let ds = ds.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut first = true;
                let options = TransactionOptions::new()
                    .isolation_level(IsolationLevel::Serializable)
                    .retries(retries);
                ds.transaction(options, |tx| {
                    let n: i32 = tx
                        .query_one("SELECT n FROM counter WHERE id = 1", &[])?
                        .get(0);
                    if std::mem::take(&mut first) {
                        barrier.wait();
                    }
                    tx.execute("UPDATE counter SET n = $1 WHERE id = 1", &[&(n + 1)])?;
                    Ok(())
                })
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn serialization_failures_are_retried_only_when_asked() {
    let db = TestDb::new();
    let ds = setup(&db);

    let results = conflicting_increments(&ds, 0);
    let failed: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failed.len(), 1, "{results:?}");
    assert_eq!(failed[0].sqlstate(), Some("40001"));
    assert_eq!(counter(&db), 1);

    let results = conflicting_increments(&ds, 3);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(counter(&db), 3);
}

#[test]
fn retries_stop_at_the_bound_and_say_so_and_other_errors_are_not_retried() {
    let db = TestDb::new();
    let ds = setup(&db);
    let calls = AtomicU32::new(0);
    let err = ds
        .transaction(TransactionOptions::new().retries(2), |tx| {
            calls.fetch_add(1, Ordering::SeqCst);
            // raise a serialization failure every time
            tx.batch_execute(
                "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$",
            )
        })
        .unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(err.sqlstate(), Some("40001"));
    assert!(err.to_string().contains("3 attempts"), "{err}");

    let calls = AtomicU32::new(0);
    let err = ds
        .transaction(TransactionOptions::new().retries(5), |tx| {
            calls.fetch_add(1, Ordering::SeqCst);
            tx.execute("SELECT 1/0", &[])
        })
        .unwrap_err();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a non-retryable error was retried"
    );
    assert_eq!(err.sqlstate(), Some("22012"));
}

#[test]
fn rayon_workers_share_one_datasource_and_every_increment_counts() {
    let db = TestDb::new();
    db.client()
        .batch_execute("CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0);")
        .unwrap();
    let ds = db.datasource_with(PoolOptions {
        max_size: 8,
        ..PoolOptions::default()
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(8)
        .build()
        .unwrap();
    let options = TransactionOptions::new()
        .isolation_level(IsolationLevel::Serializable)
        .retries(200);
    let results: Vec<Result<(), Error>> = pool.install(|| {
        (0..1000)
            .into_par_iter()
            .map(|_| {
                ds.transaction(options, |tx| {
                    let n: i32 = tx
                        .query_one("SELECT n FROM counter WHERE id = 1", &[])?
                        .get(0);
                    tx.execute("UPDATE counter SET n = $1 WHERE id = 1", &[&(n + 1)])?;
                    Ok(())
                })
            })
            .collect()
    });
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        errors.is_empty(),
        "{} failed, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert_eq!(counter(&db), 1000);
}

#[test]
fn a_connection_killed_by_the_server_fails_once_and_the_next_call_succeeds() {
    let db = TestDb::new();
    let ds = db.datasource_with(PoolOptions {
        max_size: 1,
        ..PoolOptions::default()
    });
    let mut conn = ds.connection().unwrap();
    let pid: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let killed: bool = db
        .client()
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed);
    assert!(conn.query("SELECT 1", &[]).is_err());
    drop(conn);

    let mut conn = ds.connection().unwrap();
    let new_pid: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    assert_ne!(new_pid, pid);
    drop(conn);

    // Same inside a transaction: the failing scope errors, the next one works.
    let pid = new_pid;
    let err = ds
        .transaction(TransactionOptions::default(), |tx| {
            db.client()
                .execute("SELECT pg_terminate_backend($1)", &[&pid])
                .unwrap();
            tx.execute("SELECT 1", &[])
        })
        .unwrap_err();
    // The server ended the session (57P01): a retry on a new connection may succeed.
    assert!(err.is_retryable(), "{err}");
    let one: i32 = ds
        .transaction(TransactionOptions::default(), |tx| {
            Ok::<_, Error>(tx.query_one("SELECT 1", &[])?.get(0))
        })
        .unwrap();
    assert_eq!(one, 1);
    ds.ping().unwrap();
}

#[test]
fn an_exhausted_pool_waits_for_the_timeout_then_says_so() {
    let db = TestDb::new();
    let ds = db.datasource_with(PoolOptions {
        max_size: 1,
        connection_timeout: Duration::from_millis(300),
        ..PoolOptions::default()
    });
    let held = ds.connection().unwrap();
    let started = Instant::now();
    let err = ds.connection().unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(
        matches!(err, Error::PoolTimeout { max_size: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("300 ms"), "{err}");
    drop(held);
    ds.ping().unwrap();
}

#[test]
fn statements_are_prepared_once_per_connection_and_the_cache_is_bounded() {
    let db = TestDb::new();
    let ds = db.datasource_with(PoolOptions {
        max_size: 1,
        statement_cache_capacity: 4,
        ..PoolOptions::default()
    });
    let mut conn = ds.connection().unwrap();
    let prepared = |conn: &mut ignis_tx::PooledConnection| -> i64 {
        conn.client()
            .unwrap()
            .query_one("SELECT count(*) FROM pg_prepared_statements", &[])
            .unwrap()
            .get::<_, i64>(0)
            - 1 // the counting statement itself
    };
    for i in 0..10i32 {
        let v: i32 = conn.query_one("SELECT $1::int + 1", &[&i]).unwrap().get(0);
        assert_eq!(v, i + 1);
    }
    assert_eq!(prepared(&mut conn), 1);
    for i in 0..20 {
        conn.query(&format!("SELECT {i}"), &[]).unwrap();
    }
    assert!(
        prepared(&mut conn) <= 4,
        "cache not bounded: {}",
        prepared(&mut conn)
    );
    // Lists bound as one array parameter keep one statement whatever their length.
    let before = prepared(&mut conn);
    for n in [1usize, 5, 50] {
        let ids: Vec<i32> = (0..n as i32).collect();
        let rows = conn
            .query(
                "SELECT x FROM generate_series(0, 100) x WHERE x = ANY($1)",
                &[&ids],
            )
            .unwrap();
        assert_eq!(rows.len(), n);
    }
    assert_eq!(
        prepared(&mut conn),
        before.min(3) + 1,
        "one statement for every list length"
    );
}

#[test]
fn the_password_never_appears_in_output_or_errors() {
    let secret = "Sup3r-s3cret-pw";
    let config =
        DataSourceConfig::from_url(&format!("postgres://nobody:{secret}@127.0.0.1:1/nowhere"))
            .unwrap()
            .with_pool(PoolOptions {
                connection_timeout: Duration::from_millis(200),
                ..PoolOptions::default()
            });
    assert!(config.connection_string().contains(secret));
    let ds = DataSource::new(config.clone()).unwrap();
    let err = ds.ping().unwrap_err();
    assert!(matches!(err, Error::PoolTimeout { .. }), "{err:?}");
    assert!(err.to_string().contains("refused"), "cause missing: {err}");
    for shown in [
        config.to_string(),
        format!("{config:?}"),
        format!("{ds:?}"),
        err.to_string(),
        format!("{err:?}"),
    ] {
        assert!(!shown.contains(secret), "password shown: {shown}");
    }
    let bad = DataSourceConfig::from_url(&format!("postgres://u:{secret}@h:99999/d")).unwrap_err();
    assert!(!bad.to_string().contains(secret), "{bad}");
}

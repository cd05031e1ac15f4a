//! Streaming reads and exports against a real Postgres: `find_iter` yields the rows `find`
//! returns (typed and JSON, across batch boundaries, with includes, the default filter and
//! hidden properties), ends its transaction when exhausted, failed or dropped, runs inside a
//! caller's transaction when the handle is bound to one, and `copy_to` writes the table as
//! `COPY` formats it. Reading 1,000,000 rows keeps the reading process under 50 MiB of peak
//! memory (measured in a child process, `src/bin/stream_memory.rs`).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use ignis_repo::{CopyFormat, DefaultCrudRepository, FromRow, ReadableRepository, RepoError};
use ignis_schema::{Model, ModelDef, Schema};
use ignis_tests::TestDb;
use ignis_tx::{DataSource, Executor, TransactionOptions};
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Model, FromRow, Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[ignis(id = "number", default_filter = r#"{"where": {"deletedAt": null}}"#)]
struct Item {
    id: i32,
    name: String,
    qty: i32,
    price: Option<f64>,
    deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    #[ignis(hidden)]
    secret: Option<String>,
    #[ignis(relation(references = "itemId"))]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parts: Vec<Part>,
}

#[derive(Model, FromRow, Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[ignis(id = "number")]
struct Part {
    id: i32,
    #[ignis(foreign_key(model = "Item"))]
    item_id: i32,
    label: String,
}

/// A model whose default filter binds a value: `COPY` cannot apply it.
#[derive(Model, FromRow, Debug, Clone, PartialEq)]
#[ignis(id = "number", default_filter = r#"{"where": {"active": true}}"#)]
struct Flag {
    id: i32,
    active: bool,
}

/// A model over a view whose `val` fails to cast on the row with id 1500 (SQLSTATE 22P02):
/// the server fails in the middle of reading.
#[derive(Model, FromRow, Debug, Clone, PartialEq)]
#[ignis(id = "number", table = "bad_cast_view", skip_migrate)]
struct BadCast {
    id: i32,
    val: i32,
}

const ITEMS: i32 = 2_345;

struct App {
    db: TestDb,
    ds: DataSource,
    items: DefaultCrudRepository<Item>,
    json_items: DefaultCrudRepository,
    flags: DefaultCrudRepository<Flag>,
    bad: ReadableRepository<BadCast>,
}

/// A fresh database with `ITEMS` items (every 10th soft deleted, every 7th with a secret),
/// two parts for every 3rd item, and the failing view.
fn app() -> App {
    let db = TestDb::new();
    let schema = Arc::new(
        Schema::new(vec![
            Item::model(),
            Part::model(),
            Flag::model(),
            BadCast::model(),
        ])
        .unwrap(),
    );
    let ds = db.migrated(&schema);
    let mut client = db.client();
    client
        .batch_execute(&format!(
            "INSERT INTO \"Item\" (name, qty, price, deleted_at, secret)
             SELECT 'item ' || lpad(g::text, 5, '0'), g % 17,
                    CASE WHEN g % 5 = 0 THEN NULL ELSE g * 0.25 END,
                    CASE WHEN g % 10 = 0 THEN now() END,
                    CASE WHEN g % 7 = 0 THEN 'secret ' || g END
             FROM generate_series(1, {ITEMS}) g;
             INSERT INTO \"Part\" (item_id, label)
             SELECT i, 'part ' || i || p FROM generate_series(1, {ITEMS}, 3) i,
                    (VALUES ('a'), ('b')) v(p);
             INSERT INTO \"Flag\" (active) VALUES (true), (false), (true);
             CREATE VIEW bad_cast_view AS
             SELECT g AS id,
                    (CASE WHEN g = 1500 THEN 'not a number' ELSE g::text END)::int AS val
             FROM generate_series(1, 3000) g;"
        ))
        .unwrap();
    App {
        items: DefaultCrudRepository::for_model(ds.clone(), schema.clone()).unwrap(),
        json_items: DefaultCrudRepository::new(ds.clone(), schema.clone(), "Item").unwrap(),
        flags: DefaultCrudRepository::for_model(ds.clone(), schema.clone()).unwrap(),
        bad: ReadableRepository::for_model(ds.clone(), schema).unwrap(),
        ds,
        db,
    }
}

/// The filters both `find` and `find_iter` run.
fn filters() -> Vec<Value> {
    vec![
        json!({"order": "id"}),
        json!({"where": {"qty": {"gt": 10}}, "order": ["price DESC NULLS LAST", "id"]}),
        json!({"where": {"name": {"like": "item 01%"}}, "fields": ["id", "name"], "order": "id"}),
        json!({"order": "id DESC", "limit": 1_234, "skip": 17}),
        json!({"order": "id", "skip": 2_000}),
        json!({"where": {"id": {"inq": [3, 6, 9, 10, 11]}}, "order": "id"}),
        json!({
            "where": {"id": {"lte": 1_500}},
            "order": "id",
            "include": [{"relation": "parts", "scope": {"order": "label DESC", "limit": 1}}]
        }),
        json!({"fields": {"price": false}, "include": ["parts"], "order": "name DESC"}),
        json!({"where": {"price": null}, "include": ["parts"], "order": "name DESC"}),
    ]
}

/// Transactions of this test's database still open on the server, other than the caller's.
fn open_transactions(db: &TestDb) -> i64 {
    db.client()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND xact_start IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn find_iter_yields_the_rows_of_find() {
    let app = app();
    for filter in filters() {
        let json = app.json_items.find(&filter).unwrap();
        assert!(!json.is_empty(), "{filter}: the filter finds rows");
        // `Item` reads every property: typed rows only where `fields` keeps them all.
        let typed = filter
            .get("fields")
            .is_none()
            .then(|| app.items.find(&filter).unwrap());
        for batch in [1, 7, 1_000, 5_000] {
            if let Some(typed) = &typed {
                let streamed: Vec<Item> = app
                    .items
                    .find_iter(&filter)
                    .unwrap()
                    .batch_size(batch)
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert_eq!(&streamed, typed, "typed, {filter}, batch {batch}");
            }
            let streamed: Vec<Value> = app
                .json_items
                .find_iter(&filter)
                .unwrap()
                .batch_size(batch)
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(streamed, json, "JSON, {filter}, batch {batch}");
        }
    }
    // The default filter and hidden properties as in find.
    let all: Vec<Value> = app
        .json_items
        .find_iter(&json!({}))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        all.len(),
        (ITEMS - ITEMS / 10) as usize,
        "soft-deleted rows left out"
    );
    assert!(all.iter().all(|r| r.get("secret").is_none()), "hidden");
    let with_deleted = app
        .items
        .skip_default_filter()
        .find_iter(&json!({}))
        .unwrap()
        .count();
    assert_eq!(with_deleted, ITEMS as usize);
    // Includes per batch: every third item has its two parts, the scope's order honoured.
    let first: Vec<Item> = app
        .items
        .find_iter(&json!({"order": "id", "limit": 4, "include": [{"relation": "parts", "scope": {"order": "label DESC"}}]}))
        .unwrap()
        .batch_size(2)
        .collect::<Result<_, _>>()
        .unwrap();
    let labels: Vec<Vec<&str>> = first
        .iter()
        .map(|i| i.parts.iter().map(|p| p.label.as_str()).collect())
        .collect();
    assert_eq!(
        labels,
        [
            vec!["part 1b", "part 1a"],
            vec![],
            vec![],
            vec!["part 4b", "part 4a"]
        ]
    );
    // An invalid filter fails before anything is sent.
    assert!(matches!(
        app.items.find_iter(&json!({"where": {"nope": 1}})),
        Err(RepoError::Filter(_))
    ));
}

#[test]
fn a_cursor_over_no_rows_ends_at_once() {
    let app = app();
    let mut stream = app
        .items
        .find_iter(&json!({"where": {"qty": {"gt": 100}}}))
        .unwrap();
    assert!(stream.next().is_none());
    assert!(stream.next().is_none(), "stays ended");
    assert_eq!(open_transactions(&app.db), 0);
    let (open, idle) = app.ds.pool_state();
    assert_eq!(open, idle, "the connection is back in the pool");
}

#[test]
fn a_server_error_mid_stream_is_one_err_item_then_the_end() {
    let app = app();
    // No order: the view's rows are computed as the cursor reads them (a sort would compute
    // every row, and fail, before the first one is returned).
    let mut stream = app.bad.find_iter(&json!({})).unwrap().batch_size(1_000);
    let mut ok = Vec::new();
    let error = loop {
        match stream.next() {
            Some(Ok(row)) => ok.push(row.val),
            Some(Err(e)) => break e,
            None => panic!("the stream ended without the error"),
        }
    };
    assert_eq!(
        ok,
        (1..=1_000).collect::<Vec<_>>(),
        "the first batch arrives whole"
    );
    assert_eq!(error.sqlstate(), Some("22P02"), "{error}");
    assert!(stream.next().is_none(), "an error ends the stream");
    assert_eq!(open_transactions(&app.db), 0, "its transaction ended");
    drop(stream);
    let (open, idle) = app.ds.pool_state();
    assert_eq!(open, idle);
}

#[test]
fn a_decode_error_yields_the_rows_before_it_then_the_error() {
    /// `price` read as a non-optional `f64`: the first item with no price fails to decode.
    #[derive(Debug)]
    struct Priced {
        id: i32,
    }
    impl FromRow for Priced {
        fn from_row(row: &ignis_repo::RowRef<'_>) -> Result<Self, RepoError> {
            let _: f64 = row.get("price")?;
            Ok(Priced { id: row.get("id")? })
        }
    }
    let app = app();
    let priced = app.json_items.typed::<Priced>();
    let items: Vec<Result<Priced, RepoError>> = priced
        .find_iter(&json!({"order": "id"}))
        .unwrap()
        .batch_size(3)
        .collect();
    let ids: Vec<i32> = items
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, [1, 2, 3, 4], "item 5 has no price");
    assert!(matches!(items.last(), Some(Err(RepoError::Decode { .. }))));
    assert_eq!(items.len(), 5);
    assert_eq!(open_transactions(&app.db), 0);
}

#[test]
fn dropping_the_stream_early_ends_its_transaction() {
    let app = app();
    let mut stream = app
        .items
        .find_iter(&json!({"order": "id"}))
        .unwrap()
        .batch_size(100);
    let first: Vec<Item> = stream.by_ref().take(5).collect::<Result<_, _>>().unwrap();
    assert_eq!(first.len(), 5);
    let state: String = app
        .db
        .client()
        .query_one(
            "SELECT state FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND query LIKE 'FETCH%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        state, "idle in transaction",
        "the cursor's transaction is open"
    );
    assert_eq!(open_transactions(&app.db), 1);
    drop(stream);
    assert_eq!(open_transactions(&app.db), 0, "rolled back when dropped");
    let (open, idle) = app.ds.pool_state();
    assert_eq!(open, idle, "the connection is back in the pool");
    // The pool's connection serves the next call.
    assert_eq!(
        app.items.count(&json!({})).unwrap(),
        (ITEMS - ITEMS / 10) as u64
    );
}

#[test]
fn the_cursor_runs_in_the_callers_transaction() {
    let app = app();
    let mut tx = app.ds.begin(TransactionOptions::default()).unwrap();
    let scope = app.items.on(&mut tx);
    let created = scope
        .create(&json!({"name": "uncommitted", "qty": 99}))
        .unwrap()
        .data
        .unwrap();
    let mut high = scope.find_iter(&json!({"where": {"qty": 99}})).unwrap();
    // A second cursor in the same transaction, read while the first is open, and another
    // call of the same handle between items.
    let names: Vec<String> = scope
        .find_iter(&json!({"where": {"id": {"lte": 3}}, "order": "id"}))
        .unwrap()
        .map(|r| r.unwrap().name)
        .collect();
    assert_eq!(names, ["item 00001", "item 00002", "item 00003"]);
    assert_eq!(scope.count(&json!({"qty": 99})).unwrap(), 1);
    let seen = high.next().unwrap().unwrap();
    assert_eq!(seen, created, "the caller's uncommitted row");
    assert!(high.next().is_none());
    drop(high);
    // Exhausted and dropped streams closed their cursors; the transaction goes on.
    let open: i64 = tx
        .query_one("SELECT count(*) FROM pg_cursors WHERE name <> ''", &[])
        .unwrap()
        .get(0);
    assert_eq!(open, 0);
    let early = app.items.on(&mut tx).find_iter(&json!({})).unwrap().next();
    assert!(early.unwrap().is_ok());
    let open: i64 = tx
        .query_one("SELECT count(*) FROM pg_cursors WHERE name <> ''", &[])
        .unwrap()
        .get(0);
    assert_eq!(open, 0, "a stream dropped early closes its cursor");
    tx.rollback().unwrap();
    assert_eq!(app.items.count(&json!({"qty": 99})).unwrap(), 0);

    // A server error mid-stream fails the caller's transaction, and its commit says so.
    let mut tx = app.ds.begin(TransactionOptions::default()).unwrap();
    let results: Vec<_> = app.bad.on(&mut tx).find_iter(&json!({})).unwrap().collect();
    assert_eq!(results.len(), 1_001);
    assert!(results[1_000].is_err());
    let commit = tx.commit();
    assert!(
        commit.is_err(),
        "a failed transaction does not commit silently"
    );

    // A savepoint is a transaction block too.
    let mut tx = app.ds.begin(TransactionOptions::default()).unwrap();
    let n = tx
        .transaction(|sp| Ok::<_, RepoError>(app.items.on(sp).find_iter(&json!({}))?.count()))
        .unwrap();
    assert_eq!(n, (ITEMS - ITEMS / 10) as usize);
    tx.commit().unwrap();

    // A bare connection has none: the server refuses the cursor.
    let mut conn = app.ds.connection().unwrap();
    let refused = app.items.on(&mut conn).find_iter(&json!({})).unwrap_err();
    assert_eq!(refused.sqlstate(), Some("25P01"), "{refused}");
}

/// `copy_to` into a buffer, as text.
fn export(repo: &DefaultCrudRepository<Item>, format: CopyFormat) -> (String, u64) {
    let mut out = Vec::new();
    let report = repo.copy_to(&mut out, format).unwrap();
    assert_eq!(report.bytes, out.len() as u64);
    (String::from_utf8(out).unwrap(), report.rows)
}

#[test]
fn copy_to_writes_the_table() {
    let app = app();
    let visible = (ITEMS - ITEMS / 10) as u64;
    // CSV: a header of property names, hidden properties and soft-deleted rows left out.
    let (csv, rows) = export(&app.items, CopyFormat::Csv { header: true });
    assert_eq!(rows, visible);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("id,name,qty,price,deletedAt"));
    let mut expected: Vec<String> = app
        .items
        .find(&json!({}))
        .unwrap()
        .iter()
        .map(|i| {
            let price = i.price.map(|p| p.to_string()).unwrap_or_default();
            format!("{},{},{},{},", i.id, i.name, i.qty, price)
        })
        .collect();
    let mut got: Vec<String> = lines.map(str::to_string).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(!csv.contains("secret"));

    // The same rows in the text format; every row with skip_default_filter.
    let (text, rows) = export(&app.items, CopyFormat::Text);
    assert_eq!(rows, visible);
    assert_eq!(text.lines().count() as u64, visible);
    assert!(text
        .lines()
        .all(|l| l.split('\t').count() == 5 && l.ends_with("\\N")));
    let (all, rows) = export(
        &app.items.skip_default_filter(),
        CopyFormat::Csv { header: false },
    );
    assert_eq!(rows, ITEMS as u64);
    assert_eq!(all.lines().count(), ITEMS as usize);

    // Binary: Postgres's signature, rows counted, readable with the postgres crate.
    let mut bin = Vec::new();
    let report = app.items.copy_to(&mut bin, CopyFormat::Binary).unwrap();
    assert_eq!(report.rows, visible);
    assert!(bin.starts_with(b"PGCOPY\n\xff\r\n\0"));
    // On a bound handle the export runs in the caller's transaction: it sees its rows.
    let mut tx = app.ds.begin(TransactionOptions::default()).unwrap();
    tx.execute("DELETE FROM \"Part\" WHERE item_id < 10", &[])
        .unwrap();
    tx.execute("DELETE FROM \"Item\" WHERE id < 10", &[])
        .unwrap();
    let mut out = Vec::new();
    let report = app
        .items
        .on(&mut tx)
        .copy_to(&mut out, CopyFormat::Binary)
        .unwrap();
    assert_eq!(report.rows, visible - 9);
    tx.rollback().unwrap();

    // An empty table: no rows, in every format.
    app.db
        .client()
        .batch_execute("DELETE FROM \"Part\"; DELETE FROM \"Item\"")
        .unwrap();
    for format in [
        CopyFormat::Csv { header: false },
        CopyFormat::Text,
        CopyFormat::Binary,
    ] {
        let mut out = Vec::new();
        assert_eq!(
            app.items.copy_to(&mut out, format).unwrap().rows,
            0,
            "{format:?}"
        );
    }
    let (csv, rows) = export(&app.items, CopyFormat::Csv { header: true });
    assert_eq!((csv.as_str(), rows), ("id,name,qty,price,deletedAt\n", 0));

    // A default filter that binds values cannot run under COPY: refused, unless skipped.
    let mut out = Vec::new();
    assert!(matches!(
        app.flags.copy_to(&mut out, CopyFormat::Text),
        Err(RepoError::Unsupported { .. })
    ));
    assert!(out.is_empty());
    let report = app
        .flags
        .skip_default_filter()
        .copy_to(&mut out, CopyFormat::Text)
        .unwrap();
    assert_eq!(report.rows, 3);
    assert_eq!(String::from_utf8(out).unwrap(), "1\tt\n2\tf\n3\tt\n");

    // A writer that fails stops the export with its error; the pool stays usable.
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let failed = app
        .flags
        .skip_default_filter()
        .copy_to(Broken, CopyFormat::Text)
        .unwrap_err();
    assert!(matches!(failed, RepoError::Output { .. }), "{failed}");
    assert_eq!(
        app.flags.skip_default_filter().count(&json!({})).unwrap(),
        3
    );
}

/// Runs the memory child (`src/bin/stream_memory.rs`) with `args` on `db`; returns its
/// `rows` and `peak_kib` lines.
fn child(db: &TestDb, args: &[&str]) -> (u64, u64) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stream_memory"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stream_memory {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = |key: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{key}` in {stdout}"))
    };
    (value("rows="), value("peak_kib="))
}

#[test]
fn reading_a_million_rows_stays_under_50_mib() {
    const ROWS: u64 = 1_000_000;
    const LIMIT_KIB: u64 = 50 * 1024;
    let db = TestDb::new();
    let (loaded, _) = child(&db, &["load", &ROWS.to_string()]);
    assert_eq!(loaded, ROWS);
    for mode in ["find_iter", "find_iter_json", "copy_to"] {
        let (rows, peak_kib) = child(&db, &[mode]);
        eprintln!("{mode}: {rows} rows, peak RSS {peak_kib} KiB");
        assert_eq!(rows, ROWS, "{mode}: every row read");
        assert!(
            peak_kib < LIMIT_KIB,
            "{mode}: peak RSS {peak_kib} KiB, over {LIMIT_KIB} KiB"
        );
    }
}

#[test]
fn fetch_is_never_cached_so_each_select_decodes_its_own_columns() {
    // Many streams on one pooled connection: the DECLARE statement cache holds one entry per
    // select shape, and FETCH is never cached, so a second shape under the same cursor name
    // decodes its own columns.
    let app = app();
    let ds = app.db.datasource_with(ignis_tx::PoolOptions {
        max_size: 1,
        ..ignis_tx::PoolOptions::default()
    });
    let schema = app.items.schema().clone();
    let items: DefaultCrudRepository =
        DefaultCrudRepository::new(ds.clone(), schema, "Item").unwrap();
    for _ in 0..3 {
        let names: Vec<Value> = items
            .find_iter(&json!({"fields": ["name"], "order": "id", "limit": 2}))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            names,
            [json!({"name": "item 00001"}), json!({"name": "item 00002"})]
        );
        let qty: Vec<Value> = items
            .find_iter(&json!({"fields": ["id", "qty"], "order": "id", "limit": 2}))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            qty,
            [json!({"id": 1, "qty": 1}), json!({"id": 2, "qty": 2})]
        );
    }
    let mut conn = ds.connection().unwrap();
    let prepared: i64 = conn
        .query_one(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'FETCH%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(prepared, 0, "FETCH is never a named statement");
}

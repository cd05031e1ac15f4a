//! Typed writes against a real Postgres: `#[derive(Writable)]`'s `New...` and `...Patch` types
//! through `DefaultCrudRepository<T>` (`create`, `create_all`, `update_by_id`, `update_all`),
//! bound as Rust values, leave the same rows as the same writes in Ignis JSON; generated
//! columns are left to the database; patches write only what they set; failed writes write
//! nothing.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use ignis_repo::filter::typed::Properties;
use ignis_repo::{DefaultCrudRepository, FromRow, RepoError, Writable, WriteValues};
use ignis_schema::{Model, PgEnum, SchemaBuilder};
use ignis_tests::TestDb;
use ignis_tx::TransactionOptions;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

#[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
#[ignis(serde)]
enum Stage {
    Draft,
    Live,
}

/// Every mapped kind of column, an array column (written with VALUES lists), enricher columns.
#[derive(Model, FromRow, Writable, Properties, Debug, Clone, PartialEq)]
#[ignis(table = "items", id = "number", tz, user_audit = "string")]
struct Item {
    id: i32,
    #[ignis(unique)]
    sku: String,
    title: String,
    price: Option<f64>,
    qty: i64,
    stage: Stage,
    tags: Vec<String>,
    meta: Option<Value>,
    ref_id: Option<uuid::Uuid>,
    due: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    modified_at: DateTime<Utc>,
    created_by: Option<String>,
    modified_by: Option<String>,
}

/// No array column: `create_all` binds one array per column (`unnest`).
#[derive(Model, FromRow, Writable, Debug, Clone, PartialEq)]
#[ignis(table = "notes", id = "number", user_audit = "string")]
struct Note {
    id: i32,
    title: String,
    score: Option<f64>,
    stage: Stage,
    #[ignis(default = "'{}'::jsonb")]
    meta: Value,
    created_by: Option<String>,
}

/// A note's title, score, stage, meta and creator, to compare written rows.
type NoteSummary<'a> = (&'a str, Option<f64>, Stage, &'a Value, Option<&'a str>);

struct App {
    _db: TestDb,
    items: DefaultCrudRepository<Item>,
    notes: DefaultCrudRepository<Note>,
}

fn app() -> App {
    let db = TestDb::new();
    let schema = Arc::new(
        SchemaBuilder::new()
            .model::<Item>()
            .model::<Note>()
            .build()
            .unwrap(),
    );
    let ds = db.migrated(&schema);
    App {
        items: DefaultCrudRepository::for_model(ds.clone(), schema.clone())
            .unwrap()
            .with_actor("ada"),
        notes: DefaultCrudRepository::for_model(ds, schema)
            .unwrap()
            .with_actor("ada"),
        _db: db,
    }
}

fn new_item(sku: &str) -> NewItem {
    NewItem {
        id: None,
        sku: sku.into(),
        title: format!("title {sku}"),
        price: Some(9.5),
        qty: 3,
        stage: Stage::Live,
        tags: vec!["a".into(), "b".into()],
        meta: Some(json!({"k": [1, 2]})),
        ref_id: Some(uuid::Uuid::from_u128(7)),
        due: NaiveDate::from_ymd_opt(2026, 2, 28),
        created_at: None,
        modified_at: None,
        created_by: None,
        modified_by: None,
    }
}

/// The Ignis JSON object of the properties `values` sets (what a client would send for the
/// same write), through the values' own `WriteValues` and the row JSON of each Rust value.
fn as_json(values: &dyn WriteValues, json_of: impl Fn(&str) -> Value) -> Value {
    let mut obj = Map::new();
    values.write_values(&mut |property, _| {
        obj.insert(property.to_string(), json_of(property));
    });
    Value::Object(obj)
}

/// The JSON value of `property` of `item` (a NewItem's fields, by property).
fn item_json(item: &NewItem, property: &str) -> Value {
    match property {
        "sku" => json!(item.sku),
        "title" => json!(item.title),
        "price" => json!(item.price),
        "qty" => json!(item.qty),
        "stage" => serde_json::to_value(item.stage).unwrap(),
        "tags" => json!(item.tags),
        "meta" => item.meta.clone().unwrap_or(Value::Null),
        "refId" => json!(item.ref_id),
        "due" => json!(item.due),
        other => panic!("no JSON for {other}"),
    }
}

/// A row without the columns the database fills (id, timestamps), to compare two writes.
fn content(item: &Item) -> Item {
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    Item {
        id: 0,
        created_at: epoch,
        modified_at: epoch,
        ..item.clone()
    }
}

#[test]
fn create_leaves_generated_columns_to_the_database_and_returns_the_row() {
    let app = app();
    let item = app
        .items
        .create(&new_item("A-1"))
        .unwrap()
        .data
        .expect("RETURNING row");
    assert!(item.id > 0, "identity id filled by the database");
    assert_eq!(
        item.created_by.as_deref(),
        Some("ada"),
        "audit from the actor"
    );
    assert_eq!(item.modified_by.as_deref(), Some("ada"));
    assert!(Utc::now() - item.created_at < chrono::Duration::minutes(5));
    assert_eq!(item.stage, Stage::Live);
    assert_eq!(item.tags, ["a", "b"]);
    assert_eq!(item.meta, Some(json!({"k": [1, 2]})));
    assert_eq!(item.due, NaiveDate::from_ymd_opt(2026, 2, 28));

    // A nullable field left `None` takes its default (NULL here); a given audit column wins.
    let bare = NewItem {
        price: None,
        meta: None,
        ref_id: None,
        due: None,
        created_by: Some("grace".into()),
        ..new_item("A-2")
    };
    let row = app.items.create(&bare).unwrap().data.unwrap();
    assert_eq!(
        (row.price, row.meta, row.ref_id, row.due),
        (None, None, None, None)
    );
    assert_eq!(row.created_by.as_deref(), Some("grace"));
    assert_eq!(row.modified_by.as_deref(), Some("ada"));

    // A column default declared on the model (`meta` of Note) applies when left out.
    let note = app
        .notes
        .create(&NewNote {
            id: None,
            title: "n".into(),
            score: None,
            stage: Stage::Draft,
            meta: None,
            created_by: None,
        })
        .unwrap()
        .data
        .unwrap();
    assert_eq!(note.meta, json!({}));
    assert_eq!(note.stage, Stage::Draft);
}

#[test]
fn typed_and_json_create_all_leave_the_same_rows() {
    let app = app();
    // Two property sets (price given or not), so two INSERTs in one statement.
    let rows: Vec<NewItem> = (0..5)
        .map(|i| NewItem {
            price: (i % 2 == 0).then_some(f64::from(i)),
            ..new_item(&format!("T-{i}"))
        })
        .collect();
    let typed = app.items.create_all(&rows).unwrap();
    assert_eq!(typed.count, 5);
    let json_rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = as_json(r, |p| item_json(r, p));
            v["sku"] = json!(format!("J{}", r.sku));
            v
        })
        .collect();
    let from_json = app.items.create_all(&json_rows).unwrap();
    let mut typed: Vec<Item> = typed.data.iter().map(content).collect();
    let mut json: Vec<Item> = from_json
        .data
        .iter()
        .map(|i| Item {
            sku: i.sku.trim_start_matches('J').to_string(),
            ..content(i)
        })
        .collect();
    typed.sort_by(|a, b| a.sku.cmp(&b.sku));
    json.sort_by(|a, b| a.sku.cmp(&b.sku));
    assert_eq!(typed, json);

    // Without an array column: one array parameter per column.
    let notes: Vec<NewNote> = (0..4)
        .map(|i| NewNote {
            id: None,
            title: format!("n{i}"),
            score: Some(f64::from(i) / 2.0),
            stage: if i % 2 == 0 {
                Stage::Draft
            } else {
                Stage::Live
            },
            meta: (i == 3).then(|| json!({"x": i})),
            created_by: None,
        })
        .collect();
    let created = app.notes.create_all(&notes).unwrap().data;
    let titles: Vec<NoteSummary<'_>> = created
        .iter()
        .map(|n| {
            (
                n.title.as_str(),
                n.score,
                n.stage,
                &n.meta,
                n.created_by.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        titles,
        [
            ("n0", Some(0.0), Stage::Draft, &json!({}), Some("ada")),
            ("n1", Some(0.5), Stage::Live, &json!({}), Some("ada")),
            ("n2", Some(1.0), Stage::Draft, &json!({}), Some("ada")),
            ("n3", Some(1.5), Stage::Live, &json!({"x": 3}), Some("ada")),
        ]
    );
}

#[test]
fn a_patch_writes_only_the_fields_it_sets() {
    let app = app();
    let item = app.items.create(&new_item("P-1")).unwrap().data.unwrap();
    let other = app.items.create(&new_item("P-2")).unwrap().data.unwrap();
    let patch = ItemPatch {
        title: Some("renamed".into()),
        price: Some(None),
        tags: Some(vec![]),
        ..Default::default()
    };
    let updated = app
        .items
        .with_actor("grace")
        .update_by_id(item.id, &patch)
        .unwrap()
        .data
        .unwrap();
    assert_eq!(updated.title, "renamed");
    assert_eq!(updated.price, None, "Some(None) sets NULL");
    assert!(updated.tags.is_empty());
    assert_eq!(updated.qty, item.qty, "None leaves it as it is");
    assert_eq!(updated.meta, item.meta);
    assert_eq!(updated.created_by.as_deref(), Some("ada"));
    assert_eq!(
        updated.modified_by.as_deref(),
        Some("grace"),
        "audit as JSON updates"
    );
    assert!(updated.modified_at >= item.modified_at);
    let untouched = app.items.find_by_id(other.id).unwrap().unwrap();
    assert_eq!(untouched, other);

    // update_all with a typed where.
    let n = app
        .items
        .update_all(
            &ItemPatch {
                stage: Some(Stage::Draft),
                ..Default::default()
            },
            Item::SKU.in_(["P-1".to_string(), "P-2".to_string()]),
        )
        .unwrap();
    assert_eq!(n.count, 2);
    assert!(n.data.iter().all(|i| i.stage == Stage::Draft));

    // An empty patch still sets modifiedAt / modifiedBy, as an empty JSON object does.
    let empty = app
        .items
        .update_by_id(item.id, &ItemPatch::default())
        .unwrap();
    assert_eq!(empty.count, 1);
}

#[test]
fn failed_typed_writes_write_nothing() {
    let app = app();
    app.items.create(&new_item("D-1")).unwrap();
    // A duplicate in the middle of a batch: the whole create_all is refused.
    let batch = vec![new_item("D-2"), new_item("D-1"), new_item("D-3")];
    let err = app.items.create_all(&batch).unwrap_err();
    assert!(matches!(&err, RepoError::Database(_)), "{err:?}");
    assert_eq!(app.items.count(&Value::Null).unwrap(), 1);

    // A typed create inside a transaction that rolls back.
    let ds = app.items.datasource().clone();
    let result: Result<(), RepoError> = ds.transaction(TransactionOptions::default(), |tx| {
        app.items.on(tx).create(&new_item("D-9"))?;
        Err(RepoError::EmptyWhere {
            model: "Item".into(),
            operation: "update_all",
        })
    });
    assert!(result.is_err());
    assert_eq!(app.items.count(&Value::Null).unwrap(), 1);
}

#[test]
fn a_large_typed_batch_with_an_array_column_is_one_atomic_call() {
    let app = app();
    // 10,000 rows x 13 columns of VALUES parameters: more than one statement's 65,535.
    let rows: Vec<NewItem> = (0..10_000).map(|i| new_item(&format!("L-{i}"))).collect();
    let r = app.items.should_return(false).create_all(&rows).unwrap();
    assert_eq!(r.count, 10_000);
    assert_eq!(app.items.count(&Value::Null).unwrap(), 10_000);
    // The same batch again collides on the first row: nothing of it is written.
    let again: Vec<NewItem> = (9_999..20_000)
        .map(|i| new_item(&format!("L-{i}")))
        .collect();
    assert!(app.items.should_return(false).create_all(&again).is_err());
    assert_eq!(app.items.count(&Value::Null).unwrap(), 10_000);
}

fn stage() -> impl Strategy<Value = Stage> {
    prop_oneof![Just(Stage::Draft), Just(Stage::Live)]
}

fn new_items() -> impl Strategy<Value = Vec<NewItem>> {
    let one = (
        "[a-z ]{0,12}",
        proptest::option::of(-1.0e6f64..1.0e6),
        any::<i64>(),
        stage(),
        proptest::collection::vec("[a-z\u{e9}\u{4e2d}]{0,4}", 0..3),
        proptest::option::of(prop_oneof![
            Just(json!({})),
            Just(json!({"a": [1, "x", null]})),
            any::<i32>().prop_map(|n| json!(n)),
        ]),
        proptest::option::of(any::<u128>().prop_map(uuid::Uuid::from_u128)),
        proptest::option::of((2000i32..2100, 1u32..13, 1u32..29)),
    );
    proptest::collection::vec(one, 1..6).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(
                |(i, (title, price, qty, stage, tags, meta, ref_id, due))| NewItem {
                    id: None,
                    sku: format!("S{i}"),
                    title,
                    price,
                    qty,
                    stage,
                    tags,
                    meta,
                    ref_id,
                    due: due.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
                    created_at: None,
                    modified_at: None,
                    created_by: None,
                    modified_by: None,
                },
            )
            .collect()
    })
}

/// For generated rows: `create_all` and `create` of the typed rows leave the same rows as the
/// same calls with the rows as Ignis JSON, and a typed patch of each row leaves the same rows
/// as the JSON patch setting the same properties.
#[test]
fn typed_writes_and_json_writes_leave_the_same_rows() {
    let app = app();
    let items = app.items.force();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&(new_items(), any::<bool>()), |(rows, one_by_one)| {
            let write = |json: bool| -> Result<Vec<Item>, RepoError> {
                items.delete_all(&json!({"id": {"gt": 0}}))?;
                if json {
                    let data: Vec<Value> = rows
                        .iter()
                        .map(|r| as_json(r, |p| item_json(r, p)))
                        .collect();
                    if one_by_one {
                        for d in &data {
                            items.create(d)?;
                        }
                    } else {
                        items.create_all(&data)?;
                    }
                } else if one_by_one {
                    for r in &rows {
                        items.create(r)?;
                    }
                } else {
                    items.create_all(&rows)?;
                }
                // Patch every row: a new title and the price cleared.
                let patch = ItemPatch {
                    title: Some("patched".into()),
                    price: Some(None),
                    ..Default::default()
                };
                let patch_json = json!({"title": "patched", "price": null});
                for r in &rows {
                    let found = items
                        .find_one(&json!({"where": {"sku": r.sku}}))?
                        .expect("written row");
                    if json {
                        items.update_by_id(found.id, &patch_json)?;
                    } else {
                        items.update_by_id(found.id, &patch)?;
                    }
                }
                let mut out: Vec<Item> = items
                    .find(&json!({"order": "sku"}))?
                    .iter()
                    .map(content)
                    .collect();
                out.sort_by(|a, b| a.sku.cmp(&b.sku));
                Ok(out)
            };
            let typed = write(false).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let json = write(true).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(typed.len(), rows.len());
            prop_assert_eq!(typed, json);
            Ok(())
        })
        .unwrap();
}

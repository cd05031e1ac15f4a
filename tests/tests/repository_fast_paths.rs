//! The repositories' fast paths (found by `cargo xtask bench`) answer exactly as the general
//! paths do: `find_by_id` without a filter (a statement built once per repository), `create`
//! (an INSERT written without sea-query), `create_all` of large batches without returned rows
//! (binary `COPY`, falling back to `INSERT .. unnest` where COPY cannot go), and includes whose
//! child rows are moved, not cloned, to their parents.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use ignis_repo::{DefaultCrudRepository, RepoError};
use ignis_schema::enrich::{IdOptions, TzOptions, UserAuditOptions};
use ignis_schema::{Column, Enricher, Model, PgType, Relation, Schema};
use ignis_tests::{Recording, TestDb};
use ignis_tx::{DataSource, Executor, TransactionOptions};
use serde_json::{json, Value};

/// `Item`: every column type the COPY path takes, plus jsonb (which it does not), soft delete,
/// user audit and a hidden property; `Tag`: a `one` relation target shared by many items.
fn schema() -> Arc<Schema> {
    let item = Model::new("Item")
        .table("fast_items")
        .enrich(Enricher::Id(IdOptions::number()))
        .enrich(Enricher::Tz(TzOptions::with_deleted()))
        .enrich(Enricher::UserAudit(UserAuditOptions::default()))
        .column(Column::new("name", PgType::Text).not_null())
        .column(Column::new("code", PgType::Varchar(Some(10))))
        .column(Column::new("letters", PgType::Char(3)))
        .column(Column::new("qty", PgType::Integer))
        .column(Column::new("small", PgType::SmallInt))
        .column(Column::new("big", PgType::BigInt))
        .column(Column::new("ratio", PgType::Real))
        .column(Column::new("price", PgType::DoublePrecision))
        .column(Column::new("active", PgType::Boolean))
        .column(Column::new("tagId", PgType::Integer))
        .column(Column::new("meta", PgType::Jsonb))
        .column(Column::new("secret", PgType::Text))
        .hide(["secret"])
        .relation(Relation::one("tag", "Tag", ["tagId"], ["id"]))
        .default_filter(json!({"where": {"deletedAt": null}}));
    let tag = Model::new("Tag")
        .table("fast_tags")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("label", PgType::Text).not_null())
        .relation(Relation::many("items", "Item", ["id"], ["tagId"]));
    Arc::new(Schema::new(vec![item, tag]).unwrap())
}

struct App {
    _db: TestDb,
    ds: DataSource,
    items: DefaultCrudRepository,
    tags: DefaultCrudRepository,
}

fn app() -> App {
    let db = TestDb::new();
    let schema = schema();
    let ds = db.migrated(&schema);
    App {
        items: DefaultCrudRepository::new(ds.clone(), schema.clone(), "Item").unwrap(),
        tags: DefaultCrudRepository::new(ds.clone(), schema, "Tag").unwrap(),
        ds,
        _db: db,
    }
}

/// Row `i` of a batch: every COPY-able type, with nulls every seventh row.
fn item(i: usize, batch: &str) -> Value {
    let null = i % 7 == 3;
    let or_null = |v: Value| if null { Value::Null } else { v };
    json!({
        "name": format!("{batch} {i}"),
        "code": or_null(json!(format!("c{}", i % 1000))),
        "letters": or_null(json!("ab")),
        "qty": or_null(json!(i)),
        "small": or_null(json!(i % 300)),
        "big": or_null(json!(5_000_000_000i64 + i as i64)),
        "ratio": or_null(json!(0.5)),
        "price": or_null(json!(i as f64 / 4.0)),
        "active": or_null(json!(i.is_multiple_of(2))),
        "secret": "s",
    })
}

/// The rows of a batch as stored, without the columns the database fills.
fn stored(app: &App, batch: &str) -> Vec<Value> {
    app.items
        .find(&json!({
            "where": {"name": {"like": format!("{batch} %")}},
            "order": "qty",
            "fields": {"id": false, "createdAt": false, "modifiedAt": false}
        }))
        .unwrap()
        .into_iter()
        .map(|mut r| {
            // Names sort as text; give both batches the same names to compare them.
            r["name"] = json!(r["name"].as_str().unwrap().split_once(' ').unwrap().1);
            r
        })
        .collect()
}

#[test]
fn large_create_all_batches_are_copied_and_store_what_insert_stores() {
    let app = app();
    let count_only = app.items.should_return(false);

    // 1,500 rows: COPY (the raw client, no INSERT).
    let big: Vec<Value> = (0..1500).map(|i| item(i, "copy")).collect();
    let mut conn = app.ds.connection().unwrap();
    let mut rec = Recording::new(&mut conn);
    let r = count_only.on(&mut rec).create_all(&big).unwrap();
    assert_eq!(r.count, 1500);
    assert!(r.data.is_empty());
    assert_eq!(rec.client_calls, 1, "{:#?}", rec.statements);
    assert_eq!(rec.inserts(), 0, "{:#?}", rec.statements);

    // The same rows through INSERT .. unnest (rows returned), for comparison.
    let same: Vec<Value> = (0..1500).map(|i| item(i, "insert")).collect();
    let mut rec = Recording::new(&mut conn);
    let r = app.items.on(&mut rec).create_all(&same).unwrap();
    assert_eq!((r.count, r.data.len()), (1500, 1500));
    assert_eq!(rec.client_calls, 0);
    assert_eq!(rec.inserts(), 1);
    assert!(r.data.iter().all(|d| d.get("secret").is_none()));

    let copied = stored(&app, "copy");
    assert_eq!(copied.len(), 1500);
    assert_eq!(copied, stored(&app, "insert"));
    let by_name = |n: &str| copied.iter().find(|r| r["name"] == json!(n)).unwrap();
    assert_eq!(by_name("3")["qty"], Value::Null);
    assert_eq!(by_name("3")["code"], Value::Null);
    assert_eq!(by_name("5")["letters"], json!("ab "));
    assert_eq!(by_name("5")["big"], json!(5_000_000_005i64));
    assert_eq!(by_name("5")["ratio"], json!(0.5));
    assert_eq!(by_name("5")["createdBy"], Value::Null);
    let secret: String = conn
        .query_one("SELECT secret FROM fast_items LIMIT 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(secret, "s");

    // Below the threshold, or with a column COPY does not take (jsonb), or with an actor
    // whose type is fine: INSERT, COPY and INSERT respectively, all correct.
    let mut rec = Recording::new(&mut conn);
    let small: Vec<Value> = (0..999).map(|i| item(i, "small")).collect();
    assert_eq!(
        count_only.on(&mut rec).create_all(&small).unwrap().count,
        999
    );
    assert_eq!((rec.client_calls, rec.inserts()), (0, 1));
    let mut rec = Recording::new(&mut conn);
    let with_json: Vec<Value> = (0..1200)
        .map(|i| {
            let mut v = item(i, "json");
            v["meta"] = json!({"i": i});
            v
        })
        .collect();
    assert_eq!(
        count_only
            .on(&mut rec)
            .create_all(&with_json)
            .unwrap()
            .count,
        1200
    );
    assert_eq!((rec.client_calls, rec.inserts()), (0, 1));
    let mut rec = Recording::new(&mut conn);
    let audited: Vec<Value> = (0..1200).map(|i| item(i, "audited")).collect();
    let r = count_only
        .with_actor(42)
        .on(&mut rec)
        .create_all(&audited)
        .unwrap();
    assert_eq!(r.count, 1200);
    assert_eq!(rec.client_calls, 1);
    let row = app
        .items
        .find_one(&json!({"where": {"name": "audited 7"}}))
        .unwrap()
        .unwrap();
    assert_eq!(
        (row["createdBy"].clone(), row["modifiedBy"].clone()),
        (json!(42), json!(42))
    );
}

#[test]
fn a_failed_copy_fails_the_transaction_like_a_failed_insert() {
    let app = app();
    let count_only = app.items.should_return(false);
    let mut rows: Vec<Value> = (0..1500).map(|i| item(i, "bad")).collect();
    rows[1200]["name"] = Value::Null; // NOT NULL violation on the server

    // Outside a transaction: the error, and nothing written.
    let err = count_only.create_all(&rows).unwrap_err();
    match &err {
        RepoError::Database(e) => assert_eq!(e.sqlstate(), Some("23502"), "{err}"),
        other => panic!("not a database error: {other}"),
    }
    assert_eq!(app.items.count(&json!({})).unwrap(), 0);

    // Inside one: the error, and COMMIT refuses (25P02) instead of silently rolling back.
    let mut tx = app.ds.begin(TransactionOptions::default()).unwrap();
    app.items
        .on(&mut tx)
        .create(&json!({"name": "before"}))
        .unwrap();
    let err = count_only.on(&mut tx).create_all(&rows).unwrap_err();
    assert!(matches!(err, RepoError::Database(_)), "{err}");
    let commit = tx.commit().unwrap_err();
    assert_eq!(commit.sqlstate(), Some("25P02"), "{commit}");
    assert_eq!(app.items.count(&json!({})).unwrap(), 0);

    // The pool's connection is fine afterwards.
    assert_eq!(count_only.create_all(&rows[..1100]).unwrap().count, 1100);
}

#[test]
fn tables_with_row_level_security_are_never_copied() {
    let app = app();
    let mut conn = app.ds.connection().unwrap();
    conn.batch_execute("ALTER TABLE fast_items ENABLE ROW LEVEL SECURITY")
        .unwrap();
    // A new repository asks the catalog afresh.
    let items = DefaultCrudRepository::new(app.ds.clone(), app.items.schema().clone(), "Item")
        .unwrap()
        .should_return(false);
    let rows: Vec<Value> = (0..1500).map(|i| item(i, "rls")).collect();
    let mut rec = Recording::new(&mut conn);
    assert_eq!(items.on(&mut rec).create_all(&rows).unwrap().count, 1500);
    assert_eq!((rec.client_calls, rec.inserts()), (0, 1));
}

/// A filter that takes `find_by_id`'s general path (a where) and restricts nothing.
fn general_filter() -> Value {
    json!({"where": {"id": {"neq": null}}})
}

#[test]
fn find_by_id_without_a_filter_answers_as_the_general_path() {
    let app = app();
    let created = app
        .items
        .create(&json!({"name": "a", "qty": 3, "meta": {"k": [1, 2]}, "secret": "x"}))
        .unwrap()
        .data
        .unwrap();
    let id = created["id"].clone();
    assert!(created.get("secret").is_none());
    assert_eq!(created["meta"], json!({"k": [1, 2]}));

    // `{}` and null take the fast path; a where the general one: same row.
    let fast = app.items.find_by_id(&id, &Value::Null).unwrap().unwrap();
    let fast_obj = app.items.find_by_id(&id, &json!({})).unwrap().unwrap();
    let general = app
        .items
        .find_by_id(&id, &general_filter())
        .unwrap()
        .unwrap();
    assert_eq!(fast, general);
    assert_eq!(fast_obj, general);
    assert_eq!(fast, created);

    // Ids as the general path takes them: a numeric string coerces or fails the same way,
    // null and unknown ids find nothing.
    for bad in [json!("abc"), json!(1.5), json!([1]), json!({"a": 1})] {
        let a = app
            .items
            .find_by_id(&bad, &Value::Null)
            .map_err(|e| e.to_string());
        let b = app
            .items
            .find_by_id(&bad, &general_filter())
            .map_err(|e| e.to_string());
        assert_eq!(a, b, "{bad}");
    }
    assert_eq!(
        app.items.find_by_id(&Value::Null, &Value::Null).unwrap(),
        None
    );
    assert_eq!(
        app.items.find_by_id(&json!(999_999), &json!({})).unwrap(),
        None
    );

    // Only `fields` (and order / limit): written directly too, same answer.
    for fields in [
        json!({"fields": ["name", "qty"]}),
        json!({"fields": {"secret": true, "name": true}}),
        json!({"fields": {"meta": false}, "order": "name DESC", "limit": 5, "skip": 3}),
        json!({"fields": []}),
    ] {
        let fast = app.items.find_by_id(&id, &fields).unwrap();
        let mut with_where = fields.clone();
        with_where["where"] = general_filter()["where"].clone();
        let slow = app.items.find_by_id(&id, &with_where).unwrap();
        assert_eq!(fast, slow, "{fields}");
    }
    assert_eq!(
        app.items
            .find_by_id(&id, &json!({"fields": ["name"]}))
            .unwrap()
            .unwrap(),
        json!({"name": "a"})
    );
    let unknown = app
        .items
        .find_by_id(&id, &json!({"fields": ["nope"]}))
        .unwrap_err();
    assert!(matches!(unknown, RepoError::Filter(_)), "{unknown}");

    // The default filter (soft delete) still applies, and skipping it still works.
    app.items.soft_delete_by_id(&id).unwrap();
    assert_eq!(app.items.find_by_id(&id, &Value::Null).unwrap(), None);
    let hidden_row = app
        .items
        .skip_default_filter()
        .find_by_id(&id, &Value::Null)
        .unwrap()
        .unwrap();
    assert!(hidden_row["deletedAt"].is_string());
    assert!(hidden_row.get("secret").is_none());

    // Inside a transaction too.
    let tag = app
        .tags
        .create(&json!({"label": "t"}))
        .unwrap()
        .data
        .unwrap();
    let tx_row = app
        .ds
        .transaction(TransactionOptions::default(), |tx| {
            app.tags.on(tx).find_by_id(&tag["id"], &Value::Null)
        })
        .unwrap();
    assert_eq!(tx_row, Some(tag));
}

#[test]
fn create_writes_and_refuses_bad_data() {
    let app = app();
    let row = app
        .items
        .with_actor(7)
        .create(&json!({"name": "n", "code": "x", "meta": [1, {"a": null}], "price": 2}))
        .unwrap()
        .data
        .unwrap();
    assert_eq!(row["createdBy"], json!(7));
    assert_eq!(row["meta"], json!([1, {"a": null}]));
    assert_eq!(row["price"], json!(2.0));
    assert_eq!(
        app.items
            .find_by_id(&row["id"], &Value::Null)
            .unwrap()
            .unwrap(),
        row
    );

    let unknown = app
        .items
        .create(&json!({"name": "n", "nope": 1}))
        .unwrap_err();
    assert_eq!(unknown.to_string(), "model `Item`: unknown property `nope`");
    let identity = app
        .items
        .create(&json!({"name": "n", "id": 5}))
        .unwrap_err();
    assert!(
        identity.to_string().contains("generated always"),
        "{identity}"
    );
    let wrong = app
        .items
        .create(&json!({"name": "n", "qty": "many"}))
        .unwrap_err();
    assert!(matches!(wrong, RepoError::Filter(_)), "{wrong}");
    let not_object = app.items.create(&json!([1])).unwrap_err();
    assert!(
        not_object.to_string().contains("JSON object"),
        "{not_object}"
    );
    // Only defaults.
    let tags_default = app.tags.create(&json!({}));
    assert!(tags_default.is_err(), "label is NOT NULL without a default");
}

#[test]
fn update_by_id_writes_and_refuses_bad_data() {
    let app = app();
    let row = app
        .items
        .create(&json!({"name": "u", "qty": 1, "meta": {"a": {"b": 1}}}))
        .unwrap()
        .data
        .unwrap();
    let id = row["id"].clone();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let updated = app
        .items
        .with_actor(9)
        .update_by_id(&id, &json!({"qty": 2, "code": null, "meta": {"x": true}}))
        .unwrap();
    assert_eq!(updated.count, 1);
    let updated = updated.data.unwrap();
    assert_eq!(
        (
            updated["qty"].clone(),
            updated["code"].clone(),
            updated["meta"].clone()
        ),
        (json!(2), Value::Null, json!({"x": true}))
    );
    assert_eq!(updated["modifiedBy"], json!(9));
    assert_eq!(updated["createdBy"], Value::Null);
    assert_ne!(updated["modifiedAt"], row["modifiedAt"]);
    assert!(updated.get("secret").is_none());
    assert_eq!(
        app.items.find_by_id(&id, &Value::Null).unwrap().unwrap(),
        updated
    );

    // modifiedAt / modifiedBy given explicitly win; count-only handles return no row.
    let r = app
        .items
        .should_return(false)
        .update_by_id(
            &id,
            &json!({"modifiedBy": 3, "modifiedAt": "2020-01-02T03:04:05Z"}),
        )
        .unwrap();
    assert_eq!((r.count, r.data), (1, None));
    let now = app.items.find_by_id(&id, &Value::Null).unwrap().unwrap();
    assert_eq!(now["modifiedBy"], json!(3));
    assert_eq!(now["modifiedAt"], json!("2020-01-02T03:04:05Z"));

    // JSON paths (general path) still work on the same repository.
    let r = app
        .items
        .update_by_id(&id, &json!({"meta.y.z": 1, "qty": 4}))
        .unwrap()
        .data
        .unwrap();
    assert_eq!(r["meta"], json!({"x": true, "y": {"z": 1}}));

    // Refusals and misses.
    let identity = app.items.update_by_id(&id, &json!({"id": 1})).unwrap_err();
    assert!(
        identity.to_string().contains("generated always"),
        "{identity}"
    );
    let wrong = app
        .items
        .update_by_id(&id, &json!({"qty": "x"}))
        .unwrap_err();
    assert!(matches!(wrong, RepoError::Filter(_)), "{wrong}");
    let bad_id = app
        .items
        .update_by_id(&json!("abc"), &json!({"qty": 1}))
        .unwrap_err();
    assert!(matches!(bad_id, RepoError::Filter(_)), "{bad_id}");
    let unknown = app
        .items
        .update_by_id(&id, &json!({"nope": 1}))
        .unwrap_err();
    assert!(unknown.to_string().contains("nope"), "{unknown}");
    let missing = app
        .items
        .update_by_id(&json!(999_999), &json!({"qty": 1}))
        .unwrap();
    assert_eq!((missing.count, missing.data), (0, None));
    let null_id = app
        .items
        .update_by_id(&Value::Null, &json!({"qty": 1}))
        .unwrap_err();
    assert!(
        matches!(null_id, RepoError::InvalidData { .. }),
        "{null_id}"
    );
    // A soft-deleted row is not updated (default filter), unless it is skipped.
    app.items.soft_delete_by_id(&id).unwrap();
    assert_eq!(
        app.items
            .update_by_id(&id, &json!({"qty": 5}))
            .unwrap()
            .count,
        0
    );
    assert_eq!(
        app.items
            .skip_default_filter()
            .update_by_id(&id, &json!({"qty": 5}))
            .unwrap()
            .count,
        1
    );
    // Inside a transaction that rolls back, nothing stays.
    let tag = app
        .tags
        .create(&json!({"label": "t"}))
        .unwrap()
        .data
        .unwrap();
    let mut tx = app.ds.begin(TransactionOptions::default()).unwrap();
    app.tags
        .on(&mut tx)
        .update_by_id(&tag["id"], &json!({"label": "changed"}))
        .unwrap();
    tx.rollback().unwrap();
    assert_eq!(
        app.tags
            .find_by_id(&tag["id"], &Value::Null)
            .unwrap()
            .unwrap()["label"],
        json!("t")
    );
}

#[test]
fn includes_give_every_parent_its_own_children() {
    let app = app();
    let a = app
        .tags
        .create(&json!({"label": "a"}))
        .unwrap()
        .data
        .unwrap();
    let b = app
        .tags
        .create(&json!({"label": "b"}))
        .unwrap()
        .data
        .unwrap();
    for (n, tag) in [(3, &a), (2, &b)] {
        for i in 0..n {
            app.items
                .create(&json!({"name": format!("{}{i}", tag["label"].as_str().unwrap()), "tagId": tag["id"]}))
                .unwrap();
        }
    }
    app.items.create(&json!({"name": "untagged"})).unwrap();
    // many: each tag its items.
    let tags = app
        .tags
        .find(&json!({"order": "label", "include": [{"relation": "items", "scope": {"order": "name", "fields": ["name"]}}]}))
        .unwrap();
    assert_eq!(
        tags.iter().map(|t| t["items"].clone()).collect::<Vec<_>>(),
        vec![
            json!([{"name": "a0"}, {"name": "a1"}, {"name": "a2"}]),
            json!([{"name": "b0"}, {"name": "b1"}])
        ]
    );
    // one, with parents sharing a key: every item gets the whole tag.
    let items = app
        .items
        .find(&json!({"order": "name", "fields": ["name", "tagId"], "include": ["tag"]}))
        .unwrap();
    let labels: Vec<Value> = items.iter().map(|i| i["tag"]["label"].clone()).collect();
    assert_eq!(
        labels,
        vec![
            json!("a"),
            json!("a"),
            json!("a"),
            json!("b"),
            json!("b"),
            Value::Null
        ]
    );
    assert_eq!(items[1]["tag"], a);
}

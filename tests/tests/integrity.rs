//! Nothing lost, nothing crashes: a write either returns `Ok` or leaves the database as it was;
//! every value Postgres stores reads back (json / jsonb of any depth, dates and timestamps to
//! the ends of Postgres's ranges); hostile data (deep documents, long JSON paths, many path
//! keys, huge names) gets a typed error, never a crash; mass writes whose where adds no
//! condition are refused unless forced.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use ignis_repo::{dismantle, DefaultCrudRepository, RepoError};
use ignis_schema::enrich::{IdOptions, TzOptions};
use ignis_schema::{Column, Enricher, Model, PgType, Schema};
use ignis_tests::TestDb;
use serde_json::{json, Map, Value};

/// `Doc`: integer identity id, unique `code`, `tags text[]`, `body jsonb`, `raw json`, `at
/// timestamptz`, `day date`, soft delete (`deletedAt`, default filter `deletedAt: null`).
fn schema() -> Arc<Schema> {
    let doc = Model::new("Doc")
        .table("doc")
        .enrich(Enricher::Id(IdOptions::number()))
        .enrich(Enricher::Tz(TzOptions::with_deleted()))
        .column(Column::new("code", PgType::Text))
        .column(Column::new("tags", "text[]".parse().unwrap()))
        .column(Column::new("body", PgType::Jsonb))
        .column(Column::new("raw", PgType::Json))
        .column(Column::new("at", "timestamptz".parse().unwrap()))
        .column(Column::new("day", PgType::Date))
        .unique("UQ_Doc_code", ["code"])
        .default_filter(json!({"where": {"deletedAt": null}}));
    Arc::new(Schema::new(vec![doc]).unwrap())
}

fn setup() -> (TestDb, DefaultCrudRepository) {
    let db = TestDb::new();
    let ds = db.migrated(&schema());
    let repo = DefaultCrudRepository::new(ds, schema(), "Doc").unwrap();
    (db, repo)
}

/// `[[[..1..]]]` nested `depth` levels, built without recursion.
fn nested_array(depth: usize) -> Value {
    let mut v = Value::from(1);
    for _ in 0..depth {
        v = Value::Array(vec![v]);
    }
    v
}

/// `{"a": {"a": .. 1 ..}}` nested `depth` levels.
fn nested_object(depth: usize) -> Value {
    let mut v = Value::from(1);
    for _ in 0..depth {
        let mut m = Map::new();
        m.insert("a".into(), v);
        v = Value::Object(m);
    }
    v
}

/// `{key: value}`, moving `value` in (`json!` would serialise it, recursively).
fn obj(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), value);
    Value::Object(m)
}

/// How deep `v` nests (arrays and objects of one member), without recursion.
fn depth(mut v: &Value) -> usize {
    let mut n = 0;
    loop {
        v = match v {
            Value::Array(items) if items.len() == 1 => &items[0],
            Value::Object(m) if m.len() == 1 => m.values().next().unwrap(),
            _ => return n,
        };
        n += 1;
    }
}

fn count(db: &TestDb) -> i64 {
    db.client()
        .query_one("SELECT count(*) FROM doc", &[])
        .unwrap()
        .get(0)
}

#[test]
fn a_refused_json_path_update_changes_nothing() {
    let (_db, repo) = setup();
    let row = repo
        .create(&json!({"code": "a", "body": {"keep": true}}))
        .unwrap()
        .data
        .unwrap();
    let id = row["id"].clone();
    // 129 segments: more than a path may have, so refused before anything is sent.
    let key = format!("body{}", ".a".repeat(129));
    let err = repo.update_by_id(&id, &json!({ key: 1 })).unwrap_err();
    assert!(matches!(err, RepoError::InvalidData { .. }), "{err}");
    assert!(err.to_string().contains("segments"), "{err}");
    // 1,000 and 13,700 segments: the same typed error, no stack overflow, no memory blow-up.
    for n in [1_000, 13_700] {
        let key = format!("body{}", ".a".repeat(n));
        let err = repo.update_by_id(&id, &json!({ key: 1 })).unwrap_err();
        assert!(matches!(err, RepoError::InvalidData { .. }), "{n}: {err}");
        assert!(
            err.to_string().len() < 400,
            "{n}: message quotes the whole key"
        );
    }
    let after = repo.find_by_id(&id).unwrap().unwrap();
    assert_eq!(after["body"], json!({"keep": true}));
    assert_eq!(
        after["modifiedAt"], row["modifiedAt"],
        "the row was written"
    );
}

#[test]
fn sibling_json_path_keys_of_any_number_are_one_update() {
    let (_db, repo) = setup();
    let id = repo
        .create(&json!({"code": "a", "body": {"old": 1}}))
        .unwrap()
        .data
        .unwrap()["id"]
        .clone();
    // 51 keys made Postgres refuse jsonb_build_object (more than 100 arguments); 300 here.
    let mut data = Map::new();
    for i in 0..300 {
        data.insert(format!("body.k{i}"), json!(i));
    }
    data.insert("body.nested.deep".into(), json!("x"));
    let updated = repo.update_by_id(&id, &Value::Object(data)).unwrap();
    let body = &updated.data.unwrap()["body"];
    assert_eq!(body["old"], 1);
    assert_eq!(body["k0"], 0);
    assert_eq!(body["k50"], 50);
    assert_eq!(body["k299"], 299);
    assert_eq!(body["nested"], json!({"deep": "x"}));
    assert_eq!(body.as_object().unwrap().len(), 302);
}

#[test]
fn deep_documents_written_here_or_elsewhere_read_back() {
    let (db, repo) = setup();
    // 129 levels: over serde_json's recursion limit, well under the value depth limit.
    let doc = nested_object(129);
    let created = repo
        .create(&json!({"code": "deep", "body": doc.clone(), "raw": nested_array(200)}))
        .unwrap()
        .data
        .unwrap();
    assert_eq!(created["body"], doc);
    let id = created["id"].clone();
    let found = repo.find_by_id(&id).unwrap().unwrap();
    assert_eq!(found["body"], doc);
    assert_eq!(depth(&found["raw"]), 200);

    // Written by another client, as deep as Postgres parses (12,000 levels), in both types.
    let n = 12_000;
    let mut c = db.client();
    c.execute(
        "INSERT INTO doc (code, body, raw) VALUES ('other', \
         (repeat('{\"a\":', $1) || '1' || repeat('}', $1))::jsonb, \
         (repeat('[', $1) || '1' || repeat(']', $1))::json)",
        &[&(n as i32)],
    )
    .unwrap();
    let rows = repo.find(&json!({"where": {"code": "other"}})).unwrap();
    assert_eq!(depth(&rows[0]["body"]), n);
    assert_eq!(depth(&rows[0]["raw"]), n);
    // Typed rows take the same documents.
    #[derive(serde::Deserialize)]
    struct Typed {
        body: Value,
        raw: Value,
    }
    let typed: Vec<Typed> = repo.find_as(&json!({"where": {"code": "other"}})).unwrap();
    assert_eq!(depth(&typed[0].body), n);
    assert_eq!(depth(&typed[0].raw), n);
    for t in typed {
        dismantle(t.body);
        dismantle(t.raw);
    }
    // Updating another column returns the deep row too, and the write is kept.
    let other_id = rows[0]["id"].clone();
    let updated = repo
        .update_by_id(&other_id, &json!({"tags": ["t"]}))
        .unwrap()
        .data
        .unwrap();
    assert_eq!(depth(&updated["body"]), n);
    for row in rows {
        dismantle(row);
    }
    dismantle(updated);
}

#[test]
fn values_at_the_ends_of_postgres_ranges_read_back() {
    let (db, repo) = setup();
    let mut c = db.client();
    c.batch_execute(
        "INSERT INTO doc (code, body, raw, at, day) VALUES \
         ('far', '[1e400, 123456789012345678901234567890]', '{\"n\": 1e400, \"s\": \"\\ud800\"}', \
          '294276-12-31 23:59:59.999999+00', '5874897-12-31'), \
         ('inf', '{}', '{}', 'infinity', '-infinity'), \
         ('bc', '{}', '{}', '4713-01-01 00:00:00+00 BC', '4713-01-01 BC')",
    )
    .unwrap();
    let far = repo
        .find_one(&json!({"where": {"code": "far"}}))
        .unwrap()
        .unwrap();
    assert_eq!(far["at"], "+294276-12-31T23:59:59.999999Z");
    assert_eq!(far["day"], "+5874897-12-31");
    assert_eq!(
        far["body"][0],
        Value::String(format!("1{}", "0".repeat(400)))
    );
    assert!(far["body"][1].is_number());
    assert_eq!(far["raw"]["n"], "1e400");
    assert_eq!(far["raw"]["s"], "\u{FFFD}");
    let inf = repo
        .find_one(&json!({"where": {"code": "inf"}}))
        .unwrap()
        .unwrap();
    assert_eq!(inf["at"], "infinity");
    assert_eq!(inf["day"], "-infinity");
    let bc = repo
        .find_one(&json!({"where": {"code": "bc"}}))
        .unwrap()
        .unwrap();
    assert_eq!(bc["day"], "-4712-01-01");
    assert_eq!(bc["at"], "-4712-01-01T00:00:00Z");
    // And a write returning those rows succeeds, keeping its change.
    let n = repo
        .update_all(
            &json!({"tags": ["x"]}),
            &json!({"code": {"inq": ["far", "inf", "bc"]}}),
        )
        .unwrap();
    assert_eq!(n.count, 3);
}

#[test]
fn create_all_is_all_or_nothing_on_every_path() {
    let (db, repo) = setup();
    // Array column (the row-by-row path once), two property sets, a duplicate last.
    let err = repo
        .create_all(&[
            json!({"code": "a", "tags": ["x"]}),
            json!({"code": "b"}),
            json!({"code": "a"}),
        ])
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("23505"), "{err}");
    assert_eq!(count(&db), 0);
    // One property set with an array column.
    let err = repo
        .create_all(&[
            json!({"code": "c", "tags": ["x"]}),
            json!({"code": "c", "tags": ["y"]}),
        ])
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("23505"), "{err}");
    assert_eq!(count(&db), 0);
    // The same on a caller's transaction, which the caller then rolls back or commits.
    let ok = repo
        .create_all(&[
            json!({"code": "d", "tags": ["x", null]}),
            json!({"code": "e", "tags": []}),
            json!({"code": "f", "tags": null}),
            json!({}),
            json!({}),
        ])
        .unwrap();
    assert_eq!(ok.count, 5);
    let tags: Vec<Value> = ok.data.iter().map(|r| r["tags"].clone()).collect();
    assert!(tags.contains(&json!(["x", null])), "{tags:?}");
    assert!(tags.contains(&json!([])), "{tags:?}");
    assert_eq!(count(&db), 5);
    // Many rows with an array column: several VALUES statements, still atomic.
    let mut rows: Vec<Value> = (0..30_000)
        .map(|i| json!({"code": format!("m{i}"), "tags": [i.to_string()]}))
        .collect();
    rows.push(json!({"code": "m0", "tags": []}));
    let err = repo.should_return(false).create_all(&rows).unwrap_err();
    assert_eq!(err.sqlstate(), Some("23505"), "{err}");
    assert_eq!(count(&db), 5);
    rows.pop();
    assert_eq!(
        repo.should_return(false).create_all(&rows).unwrap().count,
        30_000
    );
    assert_eq!(count(&db), 30_005);
}

#[test]
fn mass_writes_whose_where_adds_nothing_are_refused_unless_forced() {
    let (db, repo) = setup();
    repo.create_all(&[json!({"code": "a"}), json!({"code": "b"})])
        .unwrap();
    let mut nested = json!({});
    for _ in 0..70 {
        nested = json!({"and": [nested]});
    }
    let mut nested_or = json!({});
    for _ in 0..10 {
        nested_or = json!({"or": [nested_or, {"code": "a"}]});
    }
    let empties = [
        json!(null),
        json!({}),
        json!({"or": []}),
        json!({"and": []}),
        json!({"and": [{}]}),
        json!({"and": [{}, {"or": []}]}),
        json!({"or": [{}, {"code": "a"}]}),
        nested,
        nested_or,
        // Only the model's default filter.
        json!({"deletedAt": null}),
        json!({"and": [{"deletedAt": null}, {}]}),
    ];
    for w in &empties {
        for op in ["update_all", "delete_all", "soft_delete_all"] {
            let r = match op {
                "update_all" => repo.update_all(&json!({"code": "z"}), w),
                "delete_all" => repo.delete_all(w),
                _ => repo.soft_delete_all(w),
            };
            match r {
                Err(RepoError::EmptyWhere { .. }) => {}
                other => panic!("{op} {w}: {other:?}"),
            }
        }
    }
    assert_eq!(count(&db), 2);
    let codes: Vec<Value> = repo
        .find(&json!({"order": "code"}))
        .unwrap()
        .into_iter()
        .map(|r| r["code"].clone())
        .collect();
    assert_eq!(codes, [json!("a"), json!("b")]);
    // A real condition, or force, goes through.
    assert_eq!(repo.delete_all(&json!({"code": "a"})).unwrap().count, 1);
    assert_eq!(
        repo.force()
            .update_all(&json!({"tags": []}), &json!({"or": []}))
            .unwrap()
            .count,
        1
    );
    // On a handle that skips the default filter, `deletedAt: null` is the caller's own condition.
    assert_eq!(
        repo.skip_default_filter()
            .soft_delete_all(&json!({"deletedAt": null}))
            .unwrap()
            .count,
        1
    );
}

#[test]
fn writes_by_id_need_an_id() {
    let (db, repo) = setup();
    repo.create(&json!({"code": "a"})).unwrap();
    let null = Value::Null;
    let errors = [
        repo.update_by_id(&null, &json!({"code": "z"})).unwrap_err(),
        repo.delete_by_id(&null).unwrap_err(),
        repo.soft_delete_by_id(&null).unwrap_err(),
        repo.restore_by_id(&null).unwrap_err(),
    ];
    for e in errors {
        assert!(matches!(e, RepoError::InvalidData { .. }), "{e}");
        assert!(e.to_string().contains("needs an id"), "{e}");
    }
    assert_eq!(count(&db), 1);
    assert_eq!(repo.find(&Value::Null).unwrap()[0]["code"], "a");
}

#[test]
fn hostile_data_gets_a_typed_error_not_a_crash() {
    let (db, repo) = setup();
    // 10,000 levels, as a where value and as written data, in a thread with the default 2 MiB
    // stack that the document would overflow if anything recursed over it.
    let repo2 = repo.clone();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            // Every document is built here and taken apart without recursion afterwards (a
            // plain drop, or a clone, of it would itself overflow this stack).
            let deep = || nested_array(10_000);
            // (`json!` serialises a non-literal value recursively, so the documents are put in
            // place by hand.)
            let body = |v: Value| obj("body", v);
            let cases: Vec<(&str, Value, Value)> = vec![
                ("find", obj("where", body(obj("eq", deep()))), Value::Null),
                ("create", body(deep()), Value::Null),
                ("create_all", body(deep()), Value::Null),
                ("update_all", body(deep()), json!({"code": "x"})),
                ("update_by_id", obj("body.a", deep()), json!(1)),
            ];
            for (op, a, b) in cases {
                let r = match op {
                    "find" => repo2.find(&a).map(|_| ()),
                    "create" => repo2.create(&a).map(|_| ()),
                    "create_all" => repo2.create_all(std::slice::from_ref(&a)).map(|_| ()),
                    "update_all" => repo2.update_all(&a, &b).map(|_| ()),
                    _ => repo2.update_by_id(&b, &a).map(|_| ()),
                };
                let e = r.unwrap_err();
                assert!(matches!(e, RepoError::Filter(_)), "{op}: {e}");
                assert!(e.to_string().contains("deep"), "{op}: {e}");
                dismantle(a);
            }
        })
        .unwrap()
        .join()
        .unwrap();
    // A 1 MiB property name is quoted as a short prefix.
    let mut data = Map::new();
    data.insert("x".repeat(1 << 20), json!(1));
    let data = Value::Object(data);
    let e = repo.create(&data).unwrap_err();
    assert!(e.to_string().len() < 400, "{} bytes", e.to_string().len());
    let e = repo.update_all(&data, &json!({"code": "a"})).unwrap_err();
    assert!(e.to_string().len() < 400, "{} bytes", e.to_string().len());
    assert_eq!(count(&db), 0);
}

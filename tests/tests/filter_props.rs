//! Property tests of the filter language on a real Postgres.
//!
//! 1. Random *valid* Ignis filters (where trees nested three deep over every operator, JSON
//!    paths, array operators, `not`, random order / limit / skip, `fields` in its array and
//!    object forms, and `include` of `many` and `one` relations with scopes that filter, order,
//!    page, select fields and include further) over a fixed 60-row table return exactly the
//!    rows, in exactly the order, with exactly the properties and included rows, that an
//!    in-memory evaluation in Rust with SQL semantics (three-valued logic, LIKE with `%` / `_` /
//!    `\` escapes, jsonb ordering) returns; `count` agrees too. The same filter read three ways
//!    (`find`'s JSON rows, `find_as` into a serde type, `find_into` through a hand-written
//!    [`FromRow`]) gives the same rows: the typed rows, serialized back to JSON, equal the JSON
//!    rows property by property, a property `fields` leaves out absent in all three, included
//!    rows nested alike. `find_by_id` and its typed forms agree the same way for generated ids
//!    (existing, missing, null, numeric strings, values no id can be) with and without a filter.
//! 2. Random JSON (valid or not, deeply nested) as a filter never panics and never reaches the
//!    database as an error: it is `Ok` or a typed `RepoError::Filter`.
//!
//! One database per property (the runner is driven by hand so every case shares it).
//!
//! Collation: text order (`gt` / `lt` / `between` on text, order by text or by a jsonb path
//! holding strings) is modelled as byte order, which is what a `C` / `POSIX` (or glibc
//! `C.UTF-8`) database does. On any other collation those operators and orders are not
//! generated. Case folding for `ilike`: a `C` ctype folds ASCII only (Postgres's `asc_tolower`),
//! a `C.UTF-8` ctype folds each character with the simple Unicode lowercase mapping; the fixture
//! only holds characters whose simple mapping is the same in glibc and in Rust.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use ignis_repo::filter::FilterLimits;
use ignis_repo::{DefaultCrudRepository, FromRow, RepoError, RowRef};
use ignis_schema::enrich::{IdOptions, TzOptions};
use ignis_schema::{Column, Enricher, Model, PgType, Relation, Schema};
use ignis_tests::TestDb;
use postgres::types::FromSql;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};

// ------------------------------------------------------------------------------------------------
// The fixture

/// `Item`: the table the where trees run on, with a hidden property and three relations to
/// `Note`: `notes` (many, by integer id), `labelled` (many, by text: `name` = `label`, so parents
/// share keys and NULL keys join nothing) and `ranked` (one, `n` = `rank`: many parents share a
/// key, and a key matches several notes).
fn item_model() -> Model {
    Model::new("Item")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("n", PgType::Integer))
        .column(Column::new("name", PgType::Text))
        .column(Column::new("flag", PgType::Boolean))
        .column(Column::new("x", PgType::DoublePrecision).not_null())
        .column(Column::new("at", PgType::TIMESTAMPTZ).not_null())
        .column(Column::new("meta", PgType::Jsonb))
        .column(Column::new("tags", "text[]".parse().unwrap()))
        .column(Column::new("secret", PgType::Text))
        .hide(["secret"])
        .relation(Relation::many("notes", "Note", ["id"], ["itemId"]))
        .relation(Relation::many("labelled", "Note", ["name"], ["label"]))
        .relation(Relation::one("ranked", "Note", ["n"], ["rank"]))
}

/// `Note`: the related rows, soft deleted (a default filter) now and then, with a hidden
/// property and a `one` relation back to `Item`.
fn note_model() -> Model {
    Model::new("Note")
        .enrich(Enricher::Id(IdOptions::number()))
        .enrich(Enricher::Tz(TzOptions::with_deleted()))
        .column(Column::new("itemId", PgType::Integer))
        .column(Column::new("label", PgType::Text))
        .column(Column::new("rank", PgType::Integer))
        .column(Column::new("done", PgType::Boolean))
        .column(Column::new("secret", PgType::Text))
        .hide(["secret"])
        .relation(Relation::one("item", "Item", ["itemId"], ["id"]))
        .default_filter(json!({"where": {"deletedAt": null}}))
}

/// 60 rows, every property given in every row. `at` is written in many RFC 3339 spellings
/// (offsets, fractions, date only); `meta.k` mixes numbers, numeric and non-numeric strings,
/// booleans, JSON null and absence; tags hold quotes, braces, commas, backslashes, `NULL`, empty
/// strings and a NULL element.
const FIXTURE: &str = r#"[
 {"n": 0, "name": "alpha", "flag": true, "x": 0.0, "at": "2024-01-01T00:00:00Z", "meta": {"k": 1, "s": "a", "d": {"v": 1}}, "tags": ["a", "b"]},
 {"n": 1, "name": "Alpha", "flag": false, "x": -0.0, "at": "2024-01-01T01:00:00+01:00", "meta": {"k": 2.5, "s": "B"}, "tags": ["a"]},
 {"n": -1, "name": "ALPHA", "flag": null, "x": 1.5, "at": "2023-12-31T23:59:59.999999Z", "meta": {"k": "7"}, "tags": ["b"]},
 {"n": 2, "name": "beta", "flag": true, "x": -1.5, "at": "2024-01-01T00:00:00.000001Z", "meta": {"k": "x"}, "tags": []},
 {"n": null, "name": "", "flag": false, "x": 2.5, "at": "2024-02-29T12:00:00.5-05:00", "meta": {"k": null}, "tags": null},
 {"n": 3, "name": "%", "flag": true, "x": 3.25, "at": "2024-06-15", "meta": {"k": true}, "tags": ["c", "a"]},
 {"n": 5, "name": "_", "flag": null, "x": 1e10, "at": "2024-06-15T00:00:00Z", "meta": {"k": false}, "tags": ["it's", "x}y", "q\"uote"]},
 {"n": 7, "name": "a%b", "flag": false, "x": -0.001, "at": "1999-12-31T23:59:59Z", "meta": {"k": -3, "d": {"v": -1.5}}, "tags": ["{a,b}"]},
 {"n": 10, "name": "a_b", "flag": true, "x": 100.0, "at": "2000-01-01T00:00:00+14:00", "meta": {"k": 10, "s": "%"}, "tags": ["a", null]},
 {"n": 42, "name": "axb", "flag": null, "x": 0.1, "at": "2038-01-19T03:14:07Z", "meta": {"k": "10"}, "tags": ["A"]},
 {"n": 100, "name": "back\\slash", "flag": false, "x": 42.0, "at": "1970-01-01T00:00:00Z", "meta": {"k": "abc", "s": "a_b"}, "tags": ["é"]},
 {"n": -100, "name": "\\", "flag": true, "x": -42.0, "at": "2024-03-10T02:30:00-08:00", "meta": {}, "tags": ["😀", "a"]},
 {"n": 2147483647, "name": "it's", "flag": null, "x": 7.0, "at": "2024-03-10T10:30:00Z", "meta": null, "tags": ["back\\slash"]},
 {"n": -2147483648, "name": "say \"hi\"", "flag": false, "x": 8.5, "at": "2024-03-10T10:30:00.000001Z", "meta": {"k": 0}, "tags": ["NULL"]},
 {"n": 5, "name": "Émile", "flag": true, "x": 2.5, "at": "2024-01-01T00:00:00Z", "meta": {"k": 100.25}, "tags": [""]},
 {"n": 5, "name": "émile", "flag": null, "x": 2.5, "at": "2024-01-01T00:00:00Z", "meta": {"k": "-2.5"}, "tags": [" "]},
 {"n": null, "name": "ÉMILE", "flag": false, "x": 0.0, "at": "2025-12-31T23:59:59.123Z", "meta": {"k": "1e3"}, "tags": ["b", "c"]},
 {"n": 3, "name": "e\u0301", "flag": true, "x": -1.5, "at": "2025-01-01T00:00:00-00:30", "meta": {"k": " 5"}, "tags": ["a", "b", "c"]},
 {"n": 8, "name": "é", "flag": null, "x": 9.75, "at": "2024-07-04T12:00:00+05:45", "meta": {"s": "é"}, "tags": null},
 {"n": 9, "name": "😀", "flag": false, "x": 1.0, "at": "2024-07-04T06:15:00Z", "meta": {"s": "É"}, "tags": ["zz"]},
 {"n": 11, "name": "👍🏽", "flag": true, "x": 11.0, "at": "2020-02-02T02:02:02.020202Z", "meta": {"s": ""}, "tags": ["😀"]},
 {"n": 12, "name": "日本語", "flag": null, "x": 12.5, "at": "2021-05-05", "meta": {"d": {"v": 3}}, "tags": ["c"]},
 {"n": 13, "name": "naïve", "flag": false, "x": -13.0, "at": "2022-08-08T08:08:08+08:00", "meta": {"d": {"v": "3"}}, "tags": ["a", "a"]},
 {"n": 14, "name": "ß", "flag": true, "x": 14.0, "at": "2023-03-03T03:03:03Z", "meta": {"d": 5}, "tags": []},
 {"n": 15, "name": "ab", "flag": null, "x": 15.0, "at": "2023-03-03T03:03:03.5Z", "meta": {"k": 1, "s": "b"}, "tags": ["b", "a"]},
 {"n": 16, "name": "abc", "flag": false, "x": 16.0, "at": "2019-01-01T00:00:00Z", "meta": {"k": 2, "s": "c", "d": {"v": 2}}, "tags": ["x}y"]},
 {"n": 17, "name": "abd", "flag": true, "x": 17.5, "at": "2019-01-01T00:00:00.000001+00:00", "meta": {"k": 2.0}, "tags": ["q\"uote", "it's"]},
 {"n": 18, "name": "b", "flag": null, "x": -18.0, "at": "2018-06-30T23:59:59Z", "meta": {"k": "2"}, "tags": null},
 {"n": 19, "name": "zeta", "flag": false, "x": 19.0, "at": "2017-01-01T00:00:00Z", "meta": {"k": "Z"}, "tags": ["{a,b}", "a"]},
 {"n": 20, "name": "Zeta", "flag": true, "x": 20.0, "at": "2016-02-29T00:00:00Z", "meta": {"k": "z"}, "tags": ["NULL", "b"]},
 {"n": null, "name": "100%", "flag": null, "x": 21.0, "at": "2015-01-01T00:00:00Z", "meta": {"k": ""}, "tags": ["A", "a"]},
 {"n": 22, "name": "50_50", "flag": false, "x": 22.0, "at": "2014-01-01T00:00:00Z", "meta": {"k": 50, "s": "50_50"}, "tags": ["é", "😀"]},
 {"n": 23, "name": " lead", "flag": true, "x": 23.0, "at": "2013-01-01T00:00:00Z", "meta": {"k": -0.5}, "tags": ["back\\slash", "a"]},
 {"n": 24, "name": "trail ", "flag": null, "x": 24.0, "at": "2012-01-01T00:00:00Z", "meta": {"k": 1000000}, "tags": ["b"]},
 {"n": 25, "name": "tab\there", "flag": false, "x": 25.0, "at": "2011-01-01T00:00:00Z", "meta": {"k": -1000000}, "tags": ["c"]},
 {"n": 26, "name": "new\nline", "flag": true, "x": 26.0, "at": "2010-01-01T00:00:00Z", "meta": {"k": 3, "s": "new\nline"}, "tags": ["a"]},
 {"n": 27, "name": "a\\%b", "flag": null, "x": 27.0, "at": "2009-01-01T00:00:00Z", "meta": {"k": "a%b"}, "tags": ["b"]},
 {"n": 28, "name": "{x,y}", "flag": false, "x": 28.0, "at": "2008-01-01T00:00:00Z", "meta": {"k": "{x,y}"}, "tags": ["{x,y}"]},
 {"n": 29, "name": "ünïcödé", "flag": true, "x": 29.0, "at": "2007-01-01T00:00:00Z", "meta": {"k": "é"}, "tags": ["é", "a"]},
 {"n": 30, "name": "Ωmega", "flag": null, "x": 30.0, "at": "2006-01-01T00:00:00Z", "meta": {"k": "É"}, "tags": ["A"]},
 {"n": 31, "name": "ωmega", "flag": false, "x": 31.0, "at": "2005-01-01T00:00:00Z", "meta": {"k": "ωmega"}, "tags": ["b", "NULL"]},
 {"n": null, "name": null, "flag": true, "x": 1.5, "at": "2024-01-01T00:00:00Z", "meta": {"k": 1}, "tags": ["a"]},
 {"n": 0, "name": null, "flag": null, "x": 1.5, "at": "2024-01-01T00:00:00Z", "meta": null, "tags": null},
 {"n": 5, "name": null, "flag": false, "x": 2.5, "at": "2024-06-15T00:00:00Z", "meta": {"k": 5}, "tags": ["b"]},
 {"n": 7, "name": "alpha", "flag": true, "x": 3.25, "at": "2024-06-15T12:00:00+12:00", "meta": {"k": "5"}, "tags": ["a", "b"]},
 {"n": 7, "name": "beta", "flag": null, "x": 3.25, "at": "2024-06-14T12:00:00Z", "meta": {"k": 5.5}, "tags": ["c"]},
 {"n": 10, "name": "a", "flag": false, "x": -0.001, "at": "2024-06-14T23:59:59.999999Z", "meta": {"k": "a"}, "tags": ["a"]},
 {"n": 10, "name": "A", "flag": true, "x": 100.0, "at": "2024-06-15T00:00:00.000001Z", "meta": {"k": "A"}, "tags": ["A"]},
 {"n": 42, "name": "_a", "flag": null, "x": 0.1, "at": "2024-12-31T23:59:59Z", "meta": {"k": 42}, "tags": ["it's"]},
 {"n": -42, "name": "%a", "flag": false, "x": -0.1, "at": "2025-01-01T00:00:00Z", "meta": {"k": -42}, "tags": ["x}y", "{a,b}"]},
 {"n": 1, "name": "a\\_b", "flag": true, "x": 1.0, "at": "2024-01-01T00:00:00.5Z", "meta": {"k": 1.5, "s": "a"}, "tags": ["a", "c"]},
 {"n": 2, "name": "ab%", "flag": null, "x": 2.0, "at": "2024-01-02T00:00:00+00:00", "meta": {"k": "1.5"}, "tags": ["b", "c"]},
 {"n": 3, "name": "ABC", "flag": false, "x": 3.0, "at": "2024-01-03T00:00:00Z", "meta": {"k": "-3"}, "tags": ["c", "b", "a"]},
 {"n": 4, "name": "aBc", "flag": true, "x": 4.0, "at": "2024-01-04", "meta": {"k": "3.0"}, "tags": ["q\"uote"]},
 {"n": 6, "name": "a b", "flag": null, "x": 6.0, "at": "2024-01-05T00:00:00-12:00", "meta": {"k": true, "s": "B"}, "tags": ["", "a"]},
 {"n": 8, "name": "x", "flag": false, "x": 8.0, "at": "1969-12-31T23:59:59.999Z", "meta": {"k": false, "s": "b"}, "tags": ["NULL"]},
 {"n": 9, "name": "y", "flag": true, "x": 9.0, "at": "1900-01-01T00:00:00Z", "meta": {"k": null, "s": "c"}, "tags": []},
 {"n": 11, "name": "z", "flag": null, "x": 11.0, "at": "2100-01-01T00:00:00Z", "meta": {"s": "z"}, "tags": ["zz", "a"]},
 {"n": 12, "name": "é", "flag": false, "x": 12.0, "at": "2024-07-04T12:00:00+05:45", "meta": {"k": 12, "d": {"v": 12}}, "tags": ["é"]},
 {"n": null, "name": "Alpha", "flag": null, "x": -1.5, "at": "2024-01-01T00:00:00Z", "meta": {"k": 2.5, "d": {"v": 2.5}}, "tags": ["a", "b"]}
]"#;

/// One stored row, typed for the in-memory evaluation.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: i64,
    n: Option<i64>,
    name: Option<String>,
    flag: Option<bool>,
    x: f64,
    at: DateTime<Utc>,
    meta: Option<Value>,
    tags: Option<Vec<Option<String>>>,
}

/// An instant as the repository reads one: RFC 3339 (offset or `Z`), a date-time without offset
/// (UTC), a date (midnight UTC), or epoch milliseconds.
fn instant(v: &Value) -> DateTime<Utc> {
    match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").map(|d| d.and_utc()))
            .or_else(|_| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc())
            })
            .unwrap_or_else(|e| panic!("not an instant: {s}: {e}")),
        Value::Number(n) => DateTime::from_timestamp_millis(n.as_i64().unwrap()).unwrap(),
        other => panic!("not an instant: {other}"),
    }
}

impl Row {
    fn from_json(id: i64, v: &Value) -> Row {
        Row {
            id,
            n: v["n"].as_i64(),
            name: v["name"].as_str().map(String::from),
            flag: v["flag"].as_bool(),
            x: v["x"].as_f64().unwrap(),
            at: instant(&v["at"]),
            meta: Some(v["meta"].clone()).filter(|m| !m.is_null()),
            tags: v["tags"].as_array().map(|a| {
                a.iter()
                    .map(|t| t.as_str().map(String::from))
                    .collect::<Vec<_>>()
            }),
        }
    }
}

/// What the database does with text, read from `pg_database`.
#[derive(Debug, Clone, Copy)]
struct Env {
    /// Text sorts by bytes (`C`, `POSIX`, glibc `C.UTF-8`): text ranges and text orders are
    /// generated.
    byte_order: bool,
    /// The ctype folds ASCII only (`C`, `POSIX`); otherwise simple Unicode lowercase.
    ascii_fold: bool,
}

/// One visible (not soft-deleted) note, typed for the in-memory evaluation of include scopes.
#[derive(Debug, Clone)]
struct Note {
    id: i64,
    item_id: Option<i64>,
    label: Option<String>,
    rank: Option<i64>,
    done: Option<bool>,
}

/// Labels of the notes: names some items have (so `labelled` joins), one no item has, an empty
/// string, text that is a LIKE pattern, and NULL.
const LABELS: &[Option<&str>] = &[
    Some("alpha"),
    Some("beta"),
    None,
    Some(""),
    Some("é"),
    Some("Alpha"),
    Some("a%b"),
    Some("zeta"),
    Some("ab"),
    Some("no item"),
];

struct Fixture {
    items: DefaultCrudRepository,
    /// The rows as stored (from `create_all`'s RETURNING), typed.
    rows: Vec<Row>,
    /// The same rows as the repository returned them, by id.
    stored: HashMap<i64, Value>,
    /// The notes the default filter leaves visible, in id order.
    notes: Vec<Note>,
    /// The same notes as the repository returns them, by id.
    stored_notes: HashMap<i64, Value>,
    /// How many notes are soft deleted (and must never be included).
    deleted_notes: usize,
    env: Env,
    /// Declared last so it is dropped after the repository's pool.
    _db: TestDb,
}

fn fixture() -> Fixture {
    let db = TestDb::new();
    let schema = Arc::new(Schema::new(vec![item_model(), note_model()]).unwrap());
    let ds = db.migrated(&schema);
    let items = DefaultCrudRepository::new(ds.clone(), schema.clone(), "Item").unwrap();
    let note_repo = DefaultCrudRepository::new(ds, schema, "Note").unwrap();
    let mut data: Vec<Value> = serde_json::from_str(FIXTURE).unwrap();
    assert_eq!(data.len(), 60);
    for (i, row) in data.iter_mut().enumerate() {
        row["secret"] = json!(format!("item secret {i}"));
    }
    let created = items.create_all(&data).unwrap();
    assert_eq!(created.count, 60);
    assert_eq!(created.data.len(), 60);
    let mut rows = Vec::new();
    let mut stored = HashMap::new();
    for (given, back) in data.iter().zip(&created.data) {
        let id = back["id"].as_i64().unwrap();
        // The write round-trips: what comes back means what was given (timestamps normalised
        // to UTC, jsonb re-spelled), and it is what the evaluation runs on.
        let row = Row::from_json(id, back);
        assert_eq!(row, Row::from_json(id, given), "row {id} round trip");
        assert!(back.get("secret").is_none(), "hidden: {back}");
        rows.push(row);
        stored.insert(id, back.clone());
    }
    // 48 notes: items 0..23 hold about two each, every ninth note belongs to no item; every
    // tenth from the eighth on is soft deleted.
    let note_data: Vec<Value> = (0..48usize)
        .map(|i| {
            let done = [Some(true), Some(false), None][i % 3];
            json!({
                "itemId": (i % 9 != 4).then(|| rows[(i * 5) % 23].id),
                "label": LABELS[i % LABELS.len()],
                "rank": (i % 8 != 5).then_some((i as i64 * 3) % 13 - 2),
                "done": done,
                "secret": format!("note secret {i}"),
            })
        })
        .collect();
    let created = note_repo.create_all(&note_data).unwrap();
    let mut deleted_notes = 0;
    for (i, note) in created.data.iter().enumerate() {
        if i % 10 == 7 {
            assert_eq!(note_repo.soft_delete_by_id(&note["id"]).unwrap().count, 1);
            deleted_notes += 1;
        }
    }
    let visible = note_repo.find(&json!({"order": "id"})).unwrap();
    assert_eq!(visible.len(), 48 - deleted_notes);
    let notes = visible
        .iter()
        .map(|n| Note {
            id: n["id"].as_i64().unwrap(),
            item_id: n["itemId"].as_i64(),
            label: n["label"].as_str().map(String::from),
            rank: n["rank"].as_i64(),
            done: n["done"].as_bool(),
        })
        .collect();
    let stored_notes = visible
        .iter()
        .map(|n| (n["id"].as_i64().unwrap(), n.clone()))
        .collect();
    let (collate, ctype): (String, String) = {
        let r = db
            .client()
            .query_one(
                "SELECT datcollate::text, datctype::text FROM pg_database \
                 WHERE datname = current_database()",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    let c_like = |s: &str| matches!(s, "C" | "POSIX");
    let c_utf8 = |s: &str| s.eq_ignore_ascii_case("C.UTF-8") || s.eq_ignore_ascii_case("C.utf8");
    let env = Env {
        byte_order: c_like(&collate) || c_utf8(&collate),
        ascii_fold: c_like(&ctype),
    };
    eprintln!("database collate {collate:?}, ctype {ctype:?}: {env:?}");
    Fixture {
        items,
        rows,
        stored,
        notes,
        stored_notes,
        deleted_notes,
        env,
        _db: db,
    }
}

// ------------------------------------------------------------------------------------------------
// The filter AST the strategies generate

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    N,
    Name,
    Flag,
    X,
    At,
    Meta,
    MetaK,
    MetaS,
    MetaDV,
    Tags,
}

impl Key {
    fn json_key(self) -> &'static str {
        match self {
            Key::Id => "id",
            Key::N => "n",
            Key::Name => "name",
            Key::Flag => "flag",
            Key::X => "x",
            Key::At => "at",
            Key::Meta => "meta",
            Key::MetaK => "meta.k",
            Key::MetaS => "meta.s",
            Key::MetaDV => "meta.d.v",
            Key::Tags => "tags",
        }
    }

    fn path(self) -> Option<&'static [&'static str]> {
        match self {
            Key::MetaK => Some(&["k"]),
            Key::MetaS => Some(&["s"]),
            Key::MetaDV => Some(&["d", "v"]),
            _ => None,
        }
    }
}

/// The value of one where key: implicit (`{f: v}`) or an operator object.
#[derive(Debug, Clone)]
enum FieldCond {
    Implicit(Value),
    Ops(Vec<OpCond>),
}

#[derive(Debug, Clone)]
enum OpCond {
    Op(&'static str, Value),
    Not(Box<FieldCond>),
}

impl OpCond {
    fn name(&self) -> &'static str {
        match self {
            OpCond::Op(name, _) => name,
            OpCond::Not(_) => "not",
        }
    }
}

#[derive(Debug, Clone)]
struct WhereObj {
    fields: Vec<(Key, FieldCond)>,
    and: Option<Vec<WhereObj>>,
    or: Option<Vec<WhereObj>>,
    not: Option<Box<WhereObj>>,
}

#[derive(Debug, Clone)]
struct OrderTerm {
    key: Key,
    direction: &'static str,
    nulls: &'static str,
}

#[derive(Debug, Clone)]
struct Case {
    r#where: WhereObj,
    order: Vec<OrderTerm>,
    order_as_string: bool,
    limit: Option<usize>,
    skip: Option<usize>,
    skip_key: &'static str,
    fields: Option<FieldsSpec>,
    include: Vec<Include>,
    by_id: ById,
}

/// A `fields` value: the array form (empty: every property) or the object form (any `true`:
/// those only; otherwise every property but the `false` ones).
#[derive(Debug, Clone)]
enum FieldsSpec {
    List(Vec<&'static str>),
    Object(Vec<(&'static str, bool)>),
}

impl FieldsSpec {
    fn json(&self) -> Value {
        match self {
            FieldsSpec::List(props) => json!(props),
            FieldsSpec::Object(flags) => Value::Object(
                flags
                    .iter()
                    .map(|(p, keep)| (p.to_string(), Value::Bool(*keep)))
                    .collect(),
            ),
        }
    }

    /// Whether `property` is selected (hidden properties aside).
    fn keeps(&self, property: &str) -> bool {
        match self {
            FieldsSpec::List(props) => props.is_empty() || props.contains(&property),
            FieldsSpec::Object(flags) if flags.iter().any(|(_, keep)| *keep) => {
                flags.contains(&(property, true))
            }
            FieldsSpec::Object(flags) => !flags.contains(&(property, false)),
        }
    }
}

/// The properties `fields` may name: every column of the model, the hidden one included.
const ITEM_PROPS: &[&str] = &[
    "id", "n", "name", "flag", "x", "at", "meta", "tags", "secret",
];
const NOTE_PROPS: &[&str] = &[
    "id",
    "itemId",
    "label",
    "rank",
    "done",
    "createdAt",
    "modifiedAt",
    "deletedAt",
    "secret",
];

/// The relations of `Item`, all to `Note`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rel {
    Notes,
    Labelled,
    Ranked,
}

impl Rel {
    fn name(self) -> &'static str {
        match self {
            Rel::Notes => "notes",
            Rel::Labelled => "labelled",
            Rel::Ranked => "ranked",
        }
    }
}

/// One condition of an include scope's where, on `Note`.
#[derive(Debug, Clone)]
enum NoteCond {
    Rank(&'static str, i64),
    /// `{"rank": null}` (true) or `{"rank": {"neq": null}}` (false).
    RankNull(bool),
    Done(bool),
    LabelIn(Vec<&'static str>),
    LabelLike(&'static str),
}

impl NoteCond {
    fn json(&self) -> Value {
        match self {
            NoteCond::Rank(op, k) => json!({"rank": {*op: k}}),
            NoteCond::RankNull(true) => json!({"rank": null}),
            NoteCond::RankNull(false) => json!({"rank": {"neq": null}}),
            NoteCond::Done(b) => json!({"done": b}),
            NoteCond::LabelIn(labels) => json!({"label": {"inq": labels}}),
            NoteCond::LabelLike(p) => json!({"label": {"like": p}}),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NoteKey {
    Id,
    Rank,
    Done,
    Label,
}

impl NoteKey {
    fn name(self) -> &'static str {
        match self {
            NoteKey::Id => "id",
            NoteKey::Rank => "rank",
            NoteKey::Done => "done",
            NoteKey::Label => "label",
        }
    }
}

/// An include scope on `Note`: where (its conditions joined by `and`, or by `or` when `any`),
/// order (`id` appended when absent, so the order is total), fields, limit and skip (per
/// parent), and the nested include of `item` (with its own fields, if any).
#[derive(Debug, Clone)]
struct NoteScope {
    conds: Vec<NoteCond>,
    any: bool,
    order: Vec<(NoteKey, bool)>,
    fields: Option<FieldsSpec>,
    limit: Option<usize>,
    skip: Option<usize>,
    item: Option<Option<FieldsSpec>>,
}

impl NoteScope {
    fn order_with_id(&self) -> Vec<(NoteKey, bool)> {
        let mut order = self.order.clone();
        if !order.iter().any(|(k, _)| *k == NoteKey::Id) {
            order.push((NoteKey::Id, false));
        }
        order
    }

    fn json(&self) -> Value {
        let order: Vec<String> = self
            .order_with_id()
            .iter()
            .map(|(k, desc)| format!("{}{}", k.name(), if *desc { " DESC" } else { "" }))
            .collect();
        let mut scope = json!({"order": order});
        if !self.conds.is_empty() {
            let group = if self.any { "or" } else { "and" };
            scope["where"] =
                json!({group: self.conds.iter().map(NoteCond::json).collect::<Vec<_>>()});
        }
        if let Some(f) = &self.fields {
            scope["fields"] = f.json();
        }
        if let Some(l) = self.limit {
            scope["limit"] = json!(l);
        }
        if let Some(s) = self.skip {
            scope["skip"] = json!(s);
        }
        match &self.item {
            Some(Some(f)) => {
                scope["include"] = json!([{"relation": "item", "scope": {"fields": f.json()}}]);
            }
            Some(None) => scope["include"] = json!(["item"]),
            None => {}
        }
        scope
    }
}

/// One `include` entry: the relation alone (`"notes"`, or `{"relation": "notes"}` when not
/// `plain`) or with a scope.
#[derive(Debug, Clone)]
struct Include {
    rel: Rel,
    plain: bool,
    scope: Option<NoteScope>,
}

impl Include {
    fn json(&self) -> Value {
        match (&self.scope, self.plain) {
            (None, true) => json!(self.rel.name()),
            (None, false) => json!({"relation": self.rel.name()}),
            (Some(scope), _) => json!({"relation": self.rel.name(), "scope": scope.json()}),
        }
    }
}

/// The id a case looks up with `find_by_id` and its typed forms.
#[derive(Debug, Clone)]
enum IdPick {
    /// The id of fixture row `index`, as a number or as its decimal text.
    Row {
        index: usize,
        as_text: bool,
    },
    /// An integer no row has.
    Missing(i64),
    Null,
    /// A value no integer id can be.
    Bad(Value),
}

/// The filter a case's `find_by_id` takes: none (`null`), `{}`, the case's fields and include
/// only, or those and the case's where.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ByIdFilter {
    Null,
    Empty,
    Shape,
    Full,
}

#[derive(Debug, Clone)]
struct ById {
    id: IdPick,
    filter: ByIdFilter,
}

fn field_json(fc: &FieldCond) -> Value {
    match fc {
        FieldCond::Implicit(v) => v.clone(),
        FieldCond::Ops(ops) => {
            let mut m = Map::new();
            for op in ops {
                let v = match op {
                    OpCond::Op(_, v) => v.clone(),
                    OpCond::Not(inner) => field_json(inner),
                };
                m.insert(op.name().to_string(), v);
            }
            Value::Object(m)
        }
    }
}

fn where_json(w: &WhereObj) -> Value {
    let mut m = Map::new();
    for (k, fc) in &w.fields {
        m.insert(k.json_key().to_string(), field_json(fc));
    }
    if let Some(items) = &w.and {
        m.insert("and".into(), items.iter().map(where_json).collect());
    }
    if let Some(items) = &w.or {
        m.insert("or".into(), items.iter().map(where_json).collect());
    }
    if let Some(inner) = &w.not {
        m.insert("not".into(), where_json(inner));
    }
    Value::Object(m)
}

impl Case {
    fn order_terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = self
            .order
            .iter()
            .map(|t| {
                [t.key.json_key(), t.direction, t.nulls]
                    .iter()
                    .filter(|w| !w.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if !self.order.iter().any(|t| t.key == Key::Id) {
            terms.push("id".into());
        }
        terms
    }

    fn filter_json(&self) -> Value {
        let terms = self.order_terms();
        let order = if self.order_as_string {
            Value::String(terms.join(", "))
        } else {
            json!(terms)
        };
        let mut f = json!({"where": where_json(&self.r#where), "order": order});
        if let Some(l) = self.limit {
            f["limit"] = json!(l);
        }
        if let Some(s) = self.skip {
            f[self.skip_key] = json!(s);
        }
        self.add_shape(&mut f);
        f
    }

    /// Adds the case's `fields` and `include` to `f`.
    fn add_shape(&self, f: &mut Value) {
        if let Some(fields) = &self.fields {
            f["fields"] = fields.json();
        }
        if !self.include.is_empty() {
            f["include"] = self.include.iter().map(Include::json).collect();
        }
    }

    /// The filter of the case's `find_by_id`.
    fn by_id_filter(&self) -> Value {
        match self.by_id.filter {
            ByIdFilter::Null => Value::Null,
            ByIdFilter::Empty => json!({}),
            ByIdFilter::Shape => {
                let mut f = json!({});
                self.add_shape(&mut f);
                f
            }
            ByIdFilter::Full => {
                let mut f = json!({"where": where_json(&self.r#where)});
                self.add_shape(&mut f);
                f
            }
        }
    }

    /// The id of the case's `find_by_id`, as JSON.
    fn by_id_json(&self, fx: &Fixture) -> Value {
        match &self.by_id.id {
            IdPick::Row { index, as_text } => {
                let id = fx.rows[*index].id;
                if *as_text {
                    json!(id.to_string())
                } else {
                    json!(id)
                }
            }
            IdPick::Missing(id) => json!(id),
            IdPick::Null => Value::Null,
            IdPick::Bad(v) => v.clone(),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// In-memory evaluation with SQL semantics

/// SQL three-valued truth: `None` is unknown.
type Tv = Option<bool>;

fn and3(a: Tv, b: Tv) -> Tv {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or3(a: Tv, b: Tv) -> Tv {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// A comparable scalar.
#[derive(Debug, Clone)]
enum S {
    I(i64),
    F(f64),
    T(String),
    B(bool),
    D(DateTime<Utc>),
}

fn scmp(a: &S, b: &S) -> Ordering {
    match (a, b) {
        (S::I(x), S::I(y)) => x.cmp(y),
        (S::F(x), S::F(y)) => x.partial_cmp(y).unwrap(),
        // C collation: bytes.
        (S::T(x), S::T(y)) => x.as_bytes().cmp(y.as_bytes()),
        (S::B(x), S::B(y)) => x.cmp(y),
        (S::D(x), S::D(y)) => x.cmp(y),
        _ => panic!("mixed comparison {a:?} / {b:?}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Native,
    /// `col #>> path` as text.
    PathText,
    /// `col #>> path` as numeric when it looks like `-?[0-9]+(\.[0-9]+)?`, else NULL.
    PathNum,
}

/// `col #> path`: the JSON value at the path (a JSON null included), or `None` (SQL NULL).
fn path_value<'r>(r: &'r Row, path: &[&str]) -> Option<&'r Value> {
    let mut cur = r.meta.as_ref()?;
    for seg in path {
        cur = cur.as_object()?.get(*seg)?;
    }
    Some(cur)
}

/// `col #>> path`: the text at the path; NULL for a JSON null.
fn path_text(r: &Row, path: &[&str]) -> Option<String> {
    match path_value(r, path)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => panic!("the fixture holds no containers at compared paths: {other}"),
    }
}

/// Ignis's guard `^-?[0-9]+(\.[0-9]+)?$`.
fn looks_numeric(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

fn lhs(k: Key, r: &Row, mode: Mode) -> Option<S> {
    match (k.path(), mode) {
        (Some(p), Mode::PathText) => path_text(r, p).map(S::T),
        (Some(p), Mode::PathNum) => path_text(r, p)
            .filter(|t| looks_numeric(t))
            .map(|t| S::F(t.parse().unwrap())),
        (Some(_), Mode::Native) => unreachable!(),
        (None, _) => match k {
            Key::Id => Some(S::I(r.id)),
            Key::N => r.n.map(S::I),
            Key::Name => r.name.clone().map(S::T),
            Key::Flag => r.flag.map(S::B),
            Key::X => Some(S::F(r.x)),
            Key::At => Some(S::D(r.at)),
            other => panic!("no scalar comparison generated on {other:?}"),
        },
    }
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn rhs(k: Key, v: &Value, mode: Mode) -> S {
    match mode {
        Mode::PathNum => S::F(v.as_f64().unwrap()),
        Mode::PathText => S::T(json_text(v)),
        Mode::Native => match k {
            Key::Id | Key::N => S::I(match v {
                Value::String(s) => s.trim().parse().unwrap(),
                n => n.as_i64().unwrap(),
            }),
            Key::X => S::F(match v {
                Value::String(s) => s.trim().parse().unwrap(),
                n => n.as_f64().unwrap(),
            }),
            Key::Name => S::T(json_text(v)),
            Key::Flag => S::B(match v {
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_i64() == Some(1),
                Value::String(s) => matches!(s.as_str(), "t" | "true" | "yes" | "on" | "1"),
                other => panic!("not a boolean: {other}"),
            }),
            Key::At => S::D(instant(v)),
            other => panic!("no scalar comparison generated on {other:?}"),
        },
    }
}

fn mode_for(k: Key, operands: &[&Value]) -> Mode {
    if k.path().is_none() {
        Mode::Native
    } else if operands.iter().all(|v| v.is_number()) {
        Mode::PathNum
    } else {
        Mode::PathText
    }
}

fn is_null(k: Key, r: &Row) -> bool {
    match k {
        Key::Id | Key::X | Key::At => false,
        Key::N => r.n.is_none(),
        Key::Name => r.name.is_none(),
        Key::Flag => r.flag.is_none(),
        Key::Meta => r.meta.is_none(),
        Key::Tags => r.tags.is_none(),
        path => path_text(r, path.path().unwrap()).is_none(),
    }
}

/// `exists`: a column is not NULL; a JSON path's key is present (even holding JSON null).
fn exists(k: Key, r: &Row) -> bool {
    match k.path() {
        Some(p) => path_value(r, p).is_some(),
        None => !is_null(k, r),
    }
}

fn compare(k: Key, v: &Value, r: &Row, accept: fn(Ordering) -> bool) -> Tv {
    if k == Key::Tags {
        // Array (in)equality; only `eq` / `neq` are generated.
        let want: Vec<Option<String>> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|t| Some(json_text(t)))
            .collect();
        return r.tags.as_ref().map(|t| {
            let ord = if *t == want {
                Ordering::Equal
            } else {
                Ordering::Less
            };
            accept(ord)
        });
    }
    if k == Key::Meta {
        return r.meta.as_ref().map(|m| {
            accept(if jsonb_eq(m, v) {
                Ordering::Equal
            } else {
                Ordering::Less
            })
        });
    }
    let mode = mode_for(k, &[v]);
    let left = lhs(k, r, mode)?;
    Some(accept(scmp(&left, &rhs(k, v, mode))))
}

/// `x IN (...)` / `x NOT IN (...)` in SQL's three-valued logic: a null element compares as
/// unknown, so a list holding one is never false for `IN` (true or unknown) and never true for
/// `NOT IN` (false or unknown). The other elements decide whether a path compares numerically.
fn list(k: Key, v: &Value, r: &Row, positive: bool) -> Tv {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        single => vec![single],
    };
    if items.is_empty() {
        return Some(!positive);
    }
    let present: Vec<&Value> = items.iter().copied().filter(|i| !i.is_null()).collect();
    let has_null = present.len() < items.len();
    let mode = mode_for(k, &present);
    let left = lhs(k, r, mode)?;
    let found = present
        .iter()
        .any(|i| scmp(&left, &rhs(k, i, mode)) == Ordering::Equal);
    if found {
        Some(positive)
    } else if has_null {
        None
    } else {
        Some(!positive)
    }
}

fn between(k: Key, v: &Value, r: &Row) -> Tv {
    let [low, high] = v.as_array().unwrap().as_slice() else {
        panic!("between takes two values")
    };
    let mode = mode_for(k, &[low, high]);
    let left = lhs(k, r, mode)?;
    Some(
        scmp(&left, &rhs(k, low, mode)) != Ordering::Less
            && scmp(&left, &rhs(k, high, mode)) != Ordering::Greater,
    )
}

fn fold(c: char, env: Env) -> char {
    if env.ascii_fold {
        c.to_ascii_lowercase()
    } else {
        let mut l = c.to_lowercase();
        match (l.next(), l.next()) {
            (Some(one), None) => one,
            _ => c,
        }
    }
}

enum Tok {
    Any,
    One,
    Lit(char),
}

/// SQL LIKE: `%` any run, `_` one character, `\` makes the next character literal.
fn like_match(text: &str, pattern: &str, insensitive: bool, env: Env) -> bool {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .map(|c| if insensitive { fold(c, env) } else { c })
            .collect()
    };
    let t = norm(text);
    let p = norm(pattern);
    let mut toks = Vec::new();
    let mut it = p.into_iter();
    while let Some(c) = it.next() {
        toks.push(match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => Tok::Lit(
                it.next()
                    .expect("generated patterns never end in an escape"),
            ),
            c => Tok::Lit(c),
        });
    }
    // m[i][j]: toks[..i] matches t[..j].
    let mut m = vec![vec![false; t.len() + 1]; toks.len() + 1];
    m[0][0] = true;
    for (i, tok) in toks.iter().enumerate() {
        for j in 0..=t.len() {
            m[i + 1][j] = match tok {
                Tok::Any => m[i][j] || (j > 0 && m[i + 1][j - 1]),
                Tok::One => j > 0 && m[i][j - 1],
                Tok::Lit(c) => j > 0 && m[i][j - 1] && t[j - 1] == *c,
            };
        }
    }
    m[toks.len()][t.len()]
}

fn like(k: Key, v: &Value, r: &Row, insensitive: bool, env: Env) -> Tv {
    let text = match k.path() {
        Some(p) => path_text(r, p),
        None => r.name.clone(),
    }?;
    Some(like_match(&text, v.as_str().unwrap(), insensitive, env))
}

/// jsonb equality: numbers numerically, objects by key set.
fn jsonb_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| jsonb_eq(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| jsonb_eq(v, w))
        }
        _ => a == b,
    }
}

/// jsonb `a @> b` for the objects and scalars the fixture and operands hold.
fn jsonb_contains(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => y
            .iter()
            .all(|(k, w)| x.get(k).is_some_and(|v| jsonb_contains(v, w))),
        (Value::Array(x), Value::Array(y)) => {
            y.iter().all(|w| x.iter().any(|v| jsonb_contains(v, w)))
        }
        _ => jsonb_eq(a, b),
    }
}

fn containment(k: Key, op: &str, v: &Value, r: &Row) -> Tv {
    if k == Key::Meta {
        let m = r.meta.as_ref()?;
        return Some(match op {
            "contains" => jsonb_contains(m, v),
            "containedBy" => jsonb_contains(v, m),
            other => panic!("{other} on meta"),
        });
    }
    let want: Vec<String> = match v {
        Value::Array(a) => a.iter().map(json_text).collect(),
        scalar => vec![json_text(scalar)],
    };
    // Ignis: `contains: []` is TRUE and `overlaps: []` FALSE, whatever the row holds.
    match (op, want.is_empty()) {
        ("contains", true) => return Some(true),
        ("overlaps", true) => return Some(false),
        _ => {}
    }
    let tags = r.tags.as_ref()?;
    let has = |w: &String| tags.iter().any(|t| t.as_ref() == Some(w));
    Some(match op {
        "contains" => want.iter().all(has),
        "overlaps" => want.iter().any(has),
        "containedBy" => tags
            .iter()
            .all(|t| t.as_ref().is_some_and(|t| want.contains(t))),
        other => panic!("{other} on tags"),
    })
}

fn op_eval(k: Key, op: &str, v: &Value, r: &Row, env: Env) -> Tv {
    match op {
        "eq" | "is" if v.is_null() => Some(is_null(k, r)),
        "neq" | "ne" | "isn" if v.is_null() => Some(!is_null(k, r)),
        "eq" | "is" => compare(k, v, r, |o| o == Ordering::Equal),
        "neq" | "ne" | "isn" => compare(k, v, r, |o| o != Ordering::Equal),
        "gt" => compare(k, v, r, |o| o == Ordering::Greater),
        "gte" => compare(k, v, r, |o| o != Ordering::Less),
        "lt" => compare(k, v, r, |o| o == Ordering::Less),
        "lte" => compare(k, v, r, |o| o != Ordering::Greater),
        "in" | "inq" => list(k, v, r, true),
        "nin" => list(k, v, r, false),
        "between" => between(k, v, r),
        "notBetween" => between(k, v, r).map(|b| !b),
        "like" => like(k, v, r, false, env),
        "nlike" => like(k, v, r, false, env).map(|b| !b),
        "ilike" => like(k, v, r, true, env),
        "nilike" => like(k, v, r, true, env).map(|b| !b),
        "exists" => Some(exists(k, r) == v.as_bool().unwrap()),
        "notExists" => Some(exists(k, r) != v.as_bool().unwrap()),
        "contains" | "overlaps" | "containedBy" => containment(k, op, v, r),
        other => panic!("operator {other} is not generated"),
    }
}

fn implicit(k: Key, v: &Value, r: &Row, env: Env) -> Tv {
    match v {
        Value::Null => Some(is_null(k, r)),
        Value::Array(_) if k == Key::Tags => op_eval(k, "eq", v, r, env),
        Value::Array(_) => list(k, v, r, true),
        _ => op_eval(k, "eq", v, r, env),
    }
}

fn eval_field(k: Key, fc: &FieldCond, r: &Row, env: Env) -> Tv {
    match fc {
        FieldCond::Implicit(v) => implicit(k, v, r, env),
        FieldCond::Ops(ops) => {
            // Not a short-circuiting fold: an unknown can still become false.
            let mut acc = Some(true);
            for op in ops {
                let one = match op {
                    OpCond::Op(name, v) => op_eval(k, name, v, r, env),
                    OpCond::Not(inner) => eval_field(k, inner, r, env).map(|b| !b),
                };
                acc = and3(acc, one);
            }
            acc
        }
    }
}

fn eval_where(w: &WhereObj, r: &Row, env: Env) -> Tv {
    let mut acc = Some(true);
    for (k, fc) in &w.fields {
        acc = and3(acc, eval_field(*k, fc, r, env));
    }
    for item in w.and.iter().flatten() {
        acc = and3(acc, eval_where(item, r, env));
    }
    if let Some(items) = w.or.as_ref().filter(|i| !i.is_empty()) {
        let mut any = Some(false);
        for item in items {
            any = or3(any, eval_where(item, r, env));
        }
        acc = and3(acc, any);
    }
    if let Some(inner) = &w.not {
        acc = and3(acc, eval_where(inner, r, env).map(|b| !b));
    }
    acc
}

/// jsonb's order of values: null < strings < numbers < booleans; strings by bytes (C).
fn jsonb_cmp(a: &Value, b: &Value) -> Ordering {
    let rank = |v: &Value| match v {
        Value::Null => 0,
        Value::String(_) => 1,
        Value::Number(_) => 2,
        Value::Bool(_) => 3,
        other => panic!("no containers at ordered paths: {other}"),
    };
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()).unwrap(),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// ORDER BY one term: NULLS LAST for ASC and FIRST for DESC unless told; the direction reverses
/// values, never where the NULLs go.
fn order_cmp(t: &OrderTerm, a: &Row, b: &Row) -> Ordering {
    let desc = t.direction.eq_ignore_ascii_case("desc");
    let nulls_first = match t.nulls.to_ascii_lowercase().as_str() {
        "nulls first" => true,
        "nulls last" => false,
        _ => desc,
    };
    let values = match t.key.path() {
        Some(p) => match (path_value(a, p), path_value(b, p)) {
            (Some(x), Some(y)) => Ok(jsonb_cmp(x, y)),
            (x, y) => Err((x.is_none(), y.is_none())),
        },
        None => match (lhs(t.key, a, Mode::Native), lhs(t.key, b, Mode::Native)) {
            (Some(x), Some(y)) => Ok(scmp(&x, &y)),
            (x, y) => Err((x.is_none(), y.is_none())),
        },
    };
    match values {
        Ok(o) if desc => o.reverse(),
        Ok(o) => o,
        Err((true, true)) => Ordering::Equal,
        Err((true, false)) if nulls_first => Ordering::Less,
        Err((true, false)) => Ordering::Greater,
        Err(_) if nulls_first => Ordering::Greater,
        Err(_) => Ordering::Less,
    }
}

fn expected_ids(fx: &Fixture, case: &Case) -> (Vec<i64>, usize) {
    let mut matching: Vec<&Row> = fx
        .rows
        .iter()
        .filter(|r| eval_where(&case.r#where, r, fx.env) == Some(true))
        .collect();
    let total = matching.len();
    matching.sort_by(|a, b| {
        case.order
            .iter()
            .map(|t| order_cmp(t, a, b))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or_else(|| a.id.cmp(&b.id))
    });
    let ids = matching
        .into_iter()
        .skip(case.skip.unwrap_or(0))
        .take(case.limit.unwrap_or(usize::MAX))
        .map(|r| r.id)
        .collect();
    (ids, total)
}

/// `stored` (a row as the repository returns it without `fields`) with only the properties
/// `fields` selects.
fn project(stored: &Value, fields: Option<&FieldsSpec>) -> Map<String, Value> {
    let mut row = stored.as_object().expect("rows are objects").clone();
    if let Some(fields) = fields {
        row.retain(|property, _| fields.keeps(property));
    }
    row
}

fn note_cond(c: &NoteCond, n: &Note, env: Env) -> Tv {
    match c {
        NoteCond::Rank(op, k) => n.rank.map(|r| match *op {
            "gt" => r > *k,
            "lte" => r <= *k,
            "eq" => r == *k,
            "neq" => r != *k,
            other => panic!("{other} is not generated on rank"),
        }),
        NoteCond::RankNull(null) => Some(n.rank.is_none() == *null),
        NoteCond::Done(b) => n.done.map(|d| d == *b),
        NoteCond::LabelIn(labels) => n.label.as_deref().map(|l| labels.contains(&l)),
        NoteCond::LabelLike(p) => n.label.as_deref().map(|l| like_match(l, p, false, env)),
    }
}

/// ORDER BY one key of `Note`: NULLS LAST ascending, FIRST descending; text by bytes.
fn note_cmp(key: NoteKey, desc: bool, a: &Note, b: &Note) -> Ordering {
    fn by<T: Ord>(x: Option<T>, y: Option<T>, desc: bool) -> Ordering {
        match (x, y) {
            (Some(x), Some(y)) if desc => y.cmp(&x),
            (Some(x), Some(y)) => x.cmp(&y),
            (None, None) => Ordering::Equal,
            (None, Some(_)) if desc => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) if desc => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
        }
    }
    match key {
        NoteKey::Id => by(Some(a.id), Some(b.id), desc),
        NoteKey::Rank => by(a.rank, b.rank, desc),
        NoteKey::Done => by(a.done, b.done, desc),
        NoteKey::Label => by(a.label.as_deref(), b.label.as_deref(), desc),
    }
}

/// What `include` puts under the relation's name in the row of `parent`: the visible notes
/// whose key equals the parent's (SQL equality: a NULL key joins nothing) and that the scope's
/// where accepts, in scope order, skipped and limited per parent, each with the scope's fields
/// and nested include; a list for `many`, the first row or null for `one`.
fn expected_included(fx: &Fixture, parent: &Row, inc: &Include) -> Value {
    let scope = inc.scope.clone().unwrap_or(NoteScope {
        conds: Vec::new(),
        any: false,
        order: Vec::new(),
        fields: None,
        limit: None,
        skip: None,
        item: None,
    });
    let joins = |n: &Note| match inc.rel {
        Rel::Notes => n.item_id == Some(parent.id),
        Rel::Labelled => parent.name.is_some() && n.label == parent.name,
        Rel::Ranked => parent.n.is_some() && n.rank == parent.n,
    };
    let accepts = |n: &Note| {
        if scope.conds.is_empty() {
            return true;
        }
        let start = Some(!scope.any);
        let joined = scope.conds.iter().fold(start, |acc, c| {
            let one = note_cond(c, n, fx.env);
            if scope.any {
                or3(acc, one)
            } else {
                and3(acc, one)
            }
        });
        joined == Some(true)
    };
    let mut notes: Vec<&Note> = fx.notes.iter().filter(|n| joins(n) && accepts(n)).collect();
    let order = scope.order_with_id();
    notes.sort_by(|a, b| {
        order
            .iter()
            .map(|(k, desc)| note_cmp(*k, *desc, a, b))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    let rows: Vec<Value> = notes
        .into_iter()
        .skip(scope.skip.unwrap_or(0))
        .take(scope.limit.unwrap_or(usize::MAX))
        .map(|n| {
            let mut row = project(&fx.stored_notes[&n.id], scope.fields.as_ref());
            if let Some(fields) = &scope.item {
                let item = n.item_id.map_or(Value::Null, |id| {
                    Value::Object(project(&fx.stored[&id], fields.as_ref()))
                });
                row.insert("item".into(), item);
            }
            Value::Object(row)
        })
        .collect();
    match inc.rel {
        Rel::Notes | Rel::Labelled => Value::Array(rows),
        Rel::Ranked => rows.into_iter().next().unwrap_or(Value::Null),
    }
}

/// The row of `parent` as a filter with `fields` and `include` returns it.
fn expected_row(
    fx: &Fixture,
    parent: &Row,
    fields: Option<&FieldsSpec>,
    include: &[Include],
) -> Value {
    let mut row = project(&fx.stored[&parent.id], fields);
    for inc in include {
        row.insert(inc.rel.name().into(), expected_included(fx, parent, inc));
    }
    Value::Object(row)
}

/// The rows `find` returns for `case`.
fn expected_rows(fx: &Fixture, case: &Case) -> (Vec<Value>, usize) {
    let (ids, total) = expected_ids(fx, case);
    let rows = ids
        .iter()
        .map(|id| {
            let parent = fx.rows.iter().find(|r| r.id == *id).unwrap();
            expected_row(fx, parent, case.fields.as_ref(), &case.include)
        })
        .collect();
    (rows, total)
}

/// The row `find_by_id` returns for `case`, or `None` for no row (`Err` for an id that cannot
/// be one, where the three routes must fail alike).
fn expected_by_id(fx: &Fixture, case: &Case) -> Result<Option<Value>, ()> {
    let parent = match &case.by_id.id {
        IdPick::Row { index, .. } => &fx.rows[*index],
        IdPick::Missing(_) | IdPick::Null => return Ok(None),
        IdPick::Bad(_) => return Err(()),
    };
    Ok(match case.by_id.filter {
        ByIdFilter::Null | ByIdFilter::Empty => Some(expected_row(fx, parent, None, &[])),
        ByIdFilter::Full if eval_where(&case.r#where, parent, fx.env) != Some(true) => None,
        ByIdFilter::Shape | ByIdFilter::Full => Some(expected_row(
            fx,
            parent,
            case.fields.as_ref(),
            &case.include,
        )),
    })
}

// ------------------------------------------------------------------------------------------------
// The same rows as serde and FromRow types

/// A property as the typed rows hold it: absent (left out by `fields`, or hidden), null, or a
/// value. Serialized back, absent is no key at all.
type Prop<T> = Option<Option<T>>;

/// Deserializes a property that is there (null or not): absent ones stay `None` by `default`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Prop<T>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An instant as the JSON rows spell it: RFC 3339 in UTC with `Z`, fraction digits as needed.
fn instant_text<S: Serializer>(v: &Prop<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(Some(t)) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        _ => s.serialize_none(),
    }
}

/// Reads `property` for a [`FromRow`] type: `None` when the row does not return it, the
/// reason kept in `unread` for the failure message (a property the row does return but that
/// fails to decode shows up as absent, which the comparison with the JSON row reports).
fn prop<'r, T: FromSql<'r>>(row: &RowRef<'r>, property: &str, unread: &mut Vec<String>) -> Prop<T> {
    match row.get::<Option<T>>(property) {
        Ok(v) => Some(v),
        Err(e) => {
            unread.push(format!("{property}: {e}"));
            None
        }
    }
}

/// An included relation for a [`FromRow`] type: `None` when the filter did not include it.
fn relation<T>(r: Result<T, RepoError>) -> Result<Option<T>, RepoError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(RepoError::Relation { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An `Item` row, typed: read by serde (`find_as`) and by hand (`find_into`), written back
/// as JSON with serde.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ItemOut {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    id: Prop<i32>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    n: Prop<i32>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    name: Prop<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    flag: Prop<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    x: Prop<f64>,
    #[serde(
        default,
        deserialize_with = "present",
        serialize_with = "instant_text",
        skip_serializing_if = "Option::is_none"
    )]
    at: Prop<DateTime<Utc>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    meta: Prop<Value>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    tags: Prop<Vec<Option<String>>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    secret: Prop<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<Vec<NoteOut>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labelled: Option<Vec<NoteOut>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    ranked: Prop<NoteOut>,
    /// Why `FromRow` left properties out.
    #[serde(skip)]
    unread: Vec<String>,
}

impl ItemOut {
    /// What `FromRow` could not read in this row and its included rows, and why.
    fn unread(&self) -> Vec<String> {
        let notes = self.notes.iter().chain(&self.labelled).flatten();
        let ranked = self.ranked.iter().flatten();
        let mut unread = self.unread.clone();
        for note in notes.chain(ranked) {
            unread.extend(note.unread.iter().map(|u| format!("note {u}")));
            if let Some(Some(item)) = &note.item {
                unread.extend(item.unread().into_iter().map(|u| format!("note item {u}")));
            }
        }
        unread
    }
}

impl FromRow for ItemOut {
    fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
        let mut unread = Vec::new();
        Ok(ItemOut {
            id: prop(row, "id", &mut unread),
            n: prop(row, "n", &mut unread),
            name: prop(row, "name", &mut unread),
            flag: prop(row, "flag", &mut unread),
            x: prop(row, "x", &mut unread),
            at: prop(row, "at", &mut unread),
            meta: prop(row, "meta", &mut unread),
            tags: prop(row, "tags", &mut unread),
            secret: prop(row, "secret", &mut unread),
            notes: relation(row.many("notes"))?,
            labelled: relation(row.many("labelled"))?,
            ranked: relation(row.one("ranked"))?,
            unread,
        })
    }
}

/// A `Note` row, typed, as [`ItemOut`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NoteOut {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    id: Prop<i32>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    item_id: Prop<i32>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    label: Prop<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    rank: Prop<i32>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    done: Prop<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        serialize_with = "instant_text",
        skip_serializing_if = "Option::is_none"
    )]
    created_at: Prop<DateTime<Utc>>,
    #[serde(
        default,
        deserialize_with = "present",
        serialize_with = "instant_text",
        skip_serializing_if = "Option::is_none"
    )]
    modified_at: Prop<DateTime<Utc>>,
    #[serde(
        default,
        deserialize_with = "present",
        serialize_with = "instant_text",
        skip_serializing_if = "Option::is_none"
    )]
    deleted_at: Prop<DateTime<Utc>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    secret: Prop<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    item: Prop<Box<ItemOut>>,
    #[serde(skip)]
    unread: Vec<String>,
}

impl FromRow for NoteOut {
    fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
        let mut unread = Vec::new();
        Ok(NoteOut {
            id: prop(row, "id", &mut unread),
            item_id: prop(row, "itemId", &mut unread),
            label: prop(row, "label", &mut unread),
            rank: prop(row, "rank", &mut unread),
            done: prop(row, "done", &mut unread),
            created_at: prop(row, "createdAt", &mut unread),
            modified_at: prop(row, "modifiedAt", &mut unread),
            deleted_at: prop(row, "deletedAt", &mut unread),
            secret: prop(row, "secret", &mut unread),
            item: relation(row.one::<ItemOut>("item"))?.map(|item| item.map(Box::new)),
            unread,
        })
    }
}

/// The first place where `got` and `want` differ (`None` when they are equal), as a path
/// into the rows: a property present in one and absent in the other counts.
fn difference(got: &Value, want: &Value, path: &str) -> Option<String> {
    match (got, want) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|k| {
                let here = format!("{path}.{k}");
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => difference(x, y, &here),
                    (None, Some(y)) => Some(format!("{here}: absent, expected {y}")),
                    (Some(x), None) => Some(format!("{here}: {x}, expected absent")),
                    (None, None) => None,
                }
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| difference(x, y, &format!("{path}[{i}]"))),
        (Value::Array(a), Value::Array(b)) => Some(format!(
            "{path}: {} rows, expected {}: {got} / {want}",
            a.len(),
            b.len()
        )),
        _ if got == want => None,
        _ => Some(format!("{path}: {got}, expected {want}")),
    }
}

/// Fails the case when `got` differs from `want`, naming where.
fn same(what: &str, filter: &Value, got: &Value, want: &Value) -> Result<(), TestCaseError> {
    match difference(got, want, "") {
        None => Ok(()),
        Some(d) => Err(TestCaseError::fail(format!(
            "{what} differs at {d}\nfilter {filter}\ngot  {got}\nwant {want}"
        ))),
    }
}

/// Typed rows written back as JSON.
fn as_json<T: Serialize>(rows: &T) -> Value {
    serde_json::to_value(rows).expect("typed rows serialize")
}

// ------------------------------------------------------------------------------------------------
// Strategies for valid filters

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &[T]) -> BoxedStrategy<T> {
    select(items.to_vec()).boxed()
}

fn values(items: &[Value]) -> BoxedStrategy<Value> {
    pick(items)
}

fn int_values(k: Key) -> BoxedStrategy<Value> {
    let pool: Vec<i64> = if k == Key::Id {
        (0..=62).collect()
    } else {
        vec![
            -2147483648,
            -100,
            -42,
            -1,
            0,
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            10,
            11,
            12,
            20,
            30,
            42,
            100,
            2147483647,
        ]
    };
    prop_oneof![
        6 => select(pool.clone()).prop_map(Value::from),
        1 => select(pool).prop_map(|i| Value::from(format!(" {i}"))),
    ]
    .boxed()
}

fn float_values() -> BoxedStrategy<Value> {
    values(&[
        json!(-42.0),
        json!(-1.5),
        json!(-0.001),
        json!(-0.0),
        json!(0),
        json!(0.1),
        json!(1),
        json!(1.5),
        json!(2.5),
        json!(3.25),
        json!(7),
        json!(20.5),
        json!(100),
        json!(1e10),
        json!("2.5"),
    ])
}

const NAMES: &[&str] = &[
    "alpha",
    "Alpha",
    "ALPHA",
    "beta",
    "",
    "%",
    "_",
    "a%b",
    "a_b",
    "axb",
    "back\\slash",
    "\\",
    "it's",
    "say \"hi\"",
    "Émile",
    "émile",
    "e\u{301}",
    "é",
    "😀",
    "👍🏽",
    "ab",
    "abc",
    "abd",
    "b",
    "zeta",
    "Zeta",
    "a\\%b",
    "{x,y}",
    "Ωmega",
    "ωmega",
    "a",
    "A",
    "ab%",
    "zz",
    "émilf",
];

fn name_values() -> BoxedStrategy<Value> {
    pick(NAMES).prop_map(Value::from).boxed()
}

/// LIKE patterns: well-formed (every `\` escapes a character).
fn patterns() -> BoxedStrategy<Value> {
    let token = select(vec![
        "%", "%", "_", "a", "A", "b", "l", "é", "É", "e", "\u{301}", "😀", "Ω", "ω", " ", "\\%",
        "\\_", "\\\\", "\\a", "'", "\"", "{", "1", "5", "0", "-",
    ]);
    prop_oneof![
        1 => vec(token, 0..5).prop_map(|t| Value::from(t.concat())),
        2 => pick(&[
            "%", "_", "a%", "%a", "A%", "%\\%%", "%\\_%", "_%", "__", "%é%", "É%", "%😀%", "\\\\%",
            "a\\_b", "a_b", "", "%%", "_____", "%mile", "é_", "e_", "e%", "émile", "ÉMILE", "%É%",
            "é", "É", "ω%", "Ω%", "%ΩMEGA", "ÜNÏCÖDÉ", "%ö%", "ALPHA", "%B%", "a%B",
        ])
        .prop_map(Value::from),
    ]
    .boxed()
}

fn bool_values() -> BoxedStrategy<Value> {
    values(&[
        json!(true),
        json!(false),
        json!("t"),
        json!("no"),
        json!(1),
        json!(0),
    ])
}

fn at_values() -> BoxedStrategy<Value> {
    values(&[
        json!("2024-01-01T00:00:00Z"),
        json!("2024-01-01T01:00:00+01:00"),
        json!("2023-12-31T19:00:00-05:00"),
        json!("2024-01-01"),
        json!("2024-01-01T00:00:00"),
        json!("2024-01-01T00:00:00.000001Z"),
        json!("2023-12-31T23:59:59.999999+00:00"),
        json!("2024-06-15"),
        json!("2024-06-15T00:00:00.5Z"),
        json!("2024-03-10T10:30:00Z"),
        json!("2000-01-01T00:00:00+14:00"),
        json!("1999-12-31T10:00:00Z"),
        json!("1970-01-01T00:00:00Z"),
        json!("2100-01-01T00:00:00Z"),
        json!("2019-01-01t00:00:00.000001z"),
        json!(1_704_067_200_000i64),
        json!(0),
        json!(-1),
    ])
}

fn path_numbers() -> BoxedStrategy<Value> {
    values(&[
        json!(-1000000),
        json!(-42),
        json!(-3),
        json!(-2.5),
        json!(-0.5),
        json!(0),
        json!(1),
        json!(1.5),
        json!(2),
        json!(2.5),
        json!(3),
        json!(5),
        json!(7),
        json!(10),
        json!(12),
        json!(42),
        json!(50),
        json!(100.25),
        json!(1000),
        json!(1000000),
    ])
}

fn path_strings() -> BoxedStrategy<Value> {
    pick(&[
        "7",
        "x",
        "10",
        "abc",
        "a",
        "B",
        "b",
        "%",
        "a_b",
        "é",
        "É",
        "",
        "-2.5",
        "1e3",
        " 5",
        "Z",
        "z",
        "a%b",
        "2",
        "3",
        "5",
        "true",
        "false",
        "ωmega",
        "{x,y}",
        "1.5",
        "-3",
        "3.0",
        "new\nline",
        "50_50",
        "A",
    ])
    .prop_map(Value::from)
    .boxed()
}

fn path_scalars() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => path_numbers(),
        3 => path_strings(),
        1 => any::<bool>().prop_map(Value::Bool),
    ]
    .boxed()
}

fn tag_values() -> BoxedStrategy<Value> {
    pick(&[
        "a",
        "b",
        "c",
        "A",
        "it's",
        "x}y",
        "q\"uote",
        "{a,b}",
        "NULL",
        "",
        " ",
        "é",
        "😀",
        "back\\slash",
        "zz",
        "{x,y}",
        "nope",
    ])
    .prop_map(Value::from)
    .boxed()
}

fn meta_objects() -> BoxedStrategy<Value> {
    values(&[
        json!({}),
        json!({"k": 1}),
        json!({"k": 2}),
        json!({"k": "7"}),
        json!({"k": null}),
        json!({"k": true}),
        json!({"s": "a"}),
        json!({"k": 1, "s": "a"}),
        json!({"d": {"v": 1}}),
        json!({"d": {}}),
        json!({"k": 1, "s": "a", "d": {"v": 1}}),
        json!({"k": 2.5, "s": "B"}),
        json!({"k": 5}),
        json!({"k": 2.0, "s": "c", "d": {"v": 2}}),
    ])
}

fn array_of(s: BoxedStrategy<Value>, max: usize) -> BoxedStrategy<Value> {
    vec(s, 0..=max).prop_map(Value::Array).boxed()
}

/// A list operand for `in` / `inq` / `nin` or implicit equality: elements of `s`, and now and
/// then a null (SQL semantics: it matches no row).
fn list_of(s: BoxedStrategy<Value>, max: usize) -> BoxedStrategy<Value> {
    array_of(prop_oneof![6 => s, 1 => Just(Value::Null)].boxed(), max)
}

fn pair(s: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    (s.clone(), s).prop_map(|(a, b)| json!([a, b])).boxed()
}

fn with_ops(ops: &'static [&'static str], operand: BoxedStrategy<Value>) -> BoxedStrategy<OpCond> {
    (select(ops.to_vec()), operand)
        .prop_map(|(op, v)| OpCond::Op(op, v))
        .boxed()
}

fn null_ops() -> BoxedStrategy<OpCond> {
    with_ops(&["eq", "neq", "ne", "is", "isn"], Just(Value::Null).boxed())
}

fn exist_ops() -> BoxedStrategy<OpCond> {
    with_ops(
        &["exists", "notExists"],
        any::<bool>().prop_map(Value::Bool).boxed(),
    )
}

const CMP: &[&str] = &["eq", "neq", "ne", "gt", "gte", "lt", "lte", "is", "isn"];
const EQ: &[&str] = &["eq", "neq", "ne", "is", "isn"];
const LISTS: &[&str] = &["in", "inq", "nin"];
const RANGES: &[&str] = &["between", "notBetween"];
const LIKES: &[&str] = &["like", "nlike", "ilike", "nilike"];

/// One operator with a valid operand for `k`.
fn op_for(k: Key, env: Env) -> BoxedStrategy<OpCond> {
    let scalar_ops = |v: BoxedStrategy<Value>| -> BoxedStrategy<OpCond> {
        prop_oneof![
            4 => with_ops(CMP, v.clone()),
            1 => null_ops(),
            2 => with_ops(LISTS, list_of(v.clone(), 4)),
            1 => with_ops(LISTS, v.clone()),
            2 => with_ops(RANGES, pair(v)),
            1 => exist_ops(),
        ]
        .boxed()
    };
    match k {
        Key::Id | Key::N => scalar_ops(int_values(k)),
        Key::X => scalar_ops(float_values()),
        Key::At => scalar_ops(at_values()),
        Key::Flag => prop_oneof![
            3 => with_ops(EQ, bool_values()),
            1 => null_ops(),
            2 => with_ops(LISTS, list_of(bool_values(), 2)),
            1 => exist_ops(),
        ]
        .boxed(),
        Key::Name => {
            let mut options = vec![
                (3, with_ops(EQ, name_values())),
                (1, null_ops()),
                (2, with_ops(LISTS, list_of(name_values(), 4))),
                (5, with_ops(LIKES, patterns())),
                (1, exist_ops()),
            ];
            if env.byte_order {
                options.push((3, with_ops(CMP, name_values())));
                options.push((2, with_ops(RANGES, pair(name_values()))));
            }
            proptest::strategy::Union::new_weighted(options).boxed()
        }
        Key::MetaK | Key::MetaS | Key::MetaDV => {
            let mixed = prop_oneof![path_numbers(), path_strings()].boxed();
            let mut options = vec![
                (3, with_ops(EQ, path_scalars())),
                (3, with_ops(CMP, path_numbers())),
                (1, null_ops()),
                (2, with_ops(LISTS, list_of(path_numbers(), 4))),
                (2, with_ops(LISTS, list_of(mixed, 4))),
                (1, with_ops(LISTS, path_scalars())),
                (2, with_ops(RANGES, pair(path_numbers()))),
                (3, with_ops(LIKES, patterns())),
                (2, exist_ops()),
            ];
            if env.byte_order {
                options.push((2, with_ops(CMP, path_strings())));
                options.push((1, with_ops(RANGES, pair(path_strings()))));
            }
            proptest::strategy::Union::new_weighted(options).boxed()
        }
        Key::Meta => prop_oneof![
            1 => null_ops(),
            1 => exist_ops(),
            2 => with_ops(&["contains", "containedBy"], meta_objects()),
            1 => with_ops(&["eq", "neq"], meta_objects()),
        ]
        .boxed(),
        Key::Tags => prop_oneof![
            4 => with_ops(&["contains", "overlaps", "containedBy"], array_of(tag_values(), 3)),
            1 => with_ops(&["contains", "overlaps"], tag_values()),
            1 => with_ops(&["eq", "neq"], array_of(tag_values(), 2)),
            1 => null_ops(),
            1 => exist_ops(),
        ]
        .boxed(),
    }
}

fn implicit_for(k: Key) -> BoxedStrategy<Value> {
    let scalar: BoxedStrategy<Value> = match k {
        Key::Id | Key::N => int_values(k),
        Key::X => float_values(),
        Key::At => at_values(),
        Key::Flag => bool_values(),
        Key::Name => name_values(),
        Key::MetaK | Key::MetaS | Key::MetaDV => path_scalars(),
        Key::Meta => return prop_oneof![Just(Value::Null), meta_objects()].boxed(),
        Key::Tags => return prop_oneof![Just(Value::Null), array_of(tag_values(), 2)].boxed(),
    };
    prop_oneof![
        4 => scalar.clone(),
        1 => Just(Value::Null),
        2 => list_of(scalar, 3),
    ]
    .boxed()
}

/// Operator objects: 1-2 operators (distinct names), sometimes with a `not` around more.
fn ops_for(k: Key, env: Env, allow_not: bool) -> BoxedStrategy<FieldCond> {
    let one = if allow_not {
        prop_oneof![
            5 => op_for(k, env),
            1 => field_cond(k, env, false).prop_map(|fc| OpCond::Not(Box::new(fc))),
        ]
        .boxed()
    } else {
        op_for(k, env)
    };
    vec(one, 1..=2)
        .prop_map(|mut ops| {
            let mut seen = Vec::new();
            ops.retain(|o| {
                let fresh = !seen.contains(&o.name());
                seen.push(o.name());
                fresh
            });
            FieldCond::Ops(ops)
        })
        .boxed()
}

fn field_cond(k: Key, env: Env, allow_not: bool) -> BoxedStrategy<FieldCond> {
    prop_oneof![
        1 => implicit_for(k).prop_map(FieldCond::Implicit),
        3 => ops_for(k, env, allow_not),
    ]
    .boxed()
}

const KEYS: &[Key] = &[
    Key::Id,
    Key::N,
    Key::Name,
    Key::Flag,
    Key::X,
    Key::At,
    Key::Meta,
    Key::MetaK,
    Key::MetaS,
    Key::MetaDV,
    Key::Tags,
];

fn field(env: Env) -> BoxedStrategy<(Key, FieldCond)> {
    pick(KEYS)
        .prop_flat_map(move |k| field_cond(k, env, true).prop_map(move |fc| (k, fc)))
        .boxed()
}

/// A where object with `and` / `or` / `not` groups nested up to `depth` levels below it.
/// Objects are kept small (most filters hold a handful of conditions) so that a wrong answer
/// on one condition is not hidden by the others.
fn where_obj(env: Env, depth: u32) -> BoxedStrategy<WhereObj> {
    let size = if depth == 0 { 1..=3 } else { 0..=2 };
    let fields = vec(field(env), size).prop_map(|mut fs| {
        let mut seen = Vec::new();
        fs.retain(|(k, _)| {
            let fresh = !seen.contains(k);
            seen.push(*k);
            fresh
        });
        fs
    });
    if depth == 0 {
        return fields
            .prop_map(|fields| WhereObj {
                fields,
                and: None,
                or: None,
                not: None,
            })
            .boxed();
    }
    let child = where_obj(env, depth - 1);
    (
        fields,
        option::weighted(0.25, vec(child.clone(), 0..=2)),
        option::weighted(0.3, vec(child.clone(), 0..=3)),
        option::weighted(0.2, child),
    )
        .prop_map(|(fields, and, or, not)| WhereObj {
            fields,
            and,
            or,
            not: not.map(Box::new),
        })
        .boxed()
}

fn order_terms(env: Env) -> BoxedStrategy<Vec<OrderTerm>> {
    let mut keys = vec![Key::Id, Key::N, Key::Flag, Key::X, Key::At, Key::MetaDV];
    if env.byte_order {
        keys.extend([Key::Name, Key::MetaK, Key::MetaS]);
    }
    let term = (
        select(keys),
        select(vec!["", "ASC", "asc", "DESC", "desc", "Desc"]),
        select(vec![
            "",
            "",
            "NULLS FIRST",
            "nulls first",
            "NULLS LAST",
            "Nulls Last",
        ]),
    )
        .prop_map(|(key, direction, nulls)| OrderTerm {
            key,
            direction,
            nulls,
        });
    vec(term, 0..=3)
        .prop_map(|mut ts| {
            let mut seen = Vec::new();
            ts.retain(|t| {
                let fresh = !seen.contains(&t.key);
                seen.push(t.key);
                fresh
            });
            ts
        })
        .boxed()
}

/// A `fields` value over `props`: a list of up to four (none: every property), or an object
/// of up to four flags.
fn fields_spec(props: &'static [&'static str]) -> BoxedStrategy<FieldsSpec> {
    prop_oneof![
        2 => vec(select(props), 0..=4).prop_map(|mut ps| {
            let mut seen = Vec::new();
            ps.retain(|p| {
                let fresh = !seen.contains(p);
                seen.push(*p);
                fresh
            });
            FieldsSpec::List(ps)
        }),
        2 => vec((select(props), any::<bool>()), 1..=4).prop_map(|mut flags| {
            let mut seen = Vec::new();
            flags.retain(|(p, _)| {
                let fresh = !seen.contains(p);
                seen.push(*p);
                fresh
            });
            FieldsSpec::Object(flags)
        }),
    ]
    .boxed()
}

fn note_conds() -> BoxedStrategy<NoteCond> {
    prop_oneof![
        3 => (select(vec!["gt", "lte", "eq", "neq"]), -3i64..=11).prop_map(|(op, k)| NoteCond::Rank(op, k)),
        1 => any::<bool>().prop_map(NoteCond::RankNull),
        2 => any::<bool>().prop_map(NoteCond::Done),
        2 => vec(
            select(vec!["alpha", "beta", "", "é", "Alpha", "a%b", "zeta", "ab", "none"]),
            1..=3
        )
        .prop_map(NoteCond::LabelIn),
        2 => select(vec!["a%", "%a", "_", "%", "", "a\\%b", "A%", "%é%", "__", "%b"])
            .prop_map(NoteCond::LabelLike),
    ]
    .boxed()
}

fn note_scope(env: Env) -> BoxedStrategy<NoteScope> {
    let mut keys = vec![NoteKey::Id, NoteKey::Rank, NoteKey::Done];
    if env.byte_order {
        keys.push(NoteKey::Label);
    }
    let order = vec((select(keys), any::<bool>()), 0..=2).prop_map(|mut terms| {
        let mut seen = Vec::new();
        terms.retain(|(k, _)| {
            let fresh = !seen.contains(k);
            seen.push(*k);
            fresh
        });
        terms
    });
    (
        vec(note_conds(), 0..=2),
        any::<bool>(),
        order,
        option::weighted(0.4, fields_spec(NOTE_PROPS)),
        option::weighted(0.3, 1usize..=3),
        option::weighted(0.2, 0usize..=2),
        option::weighted(0.3, option::weighted(0.5, fields_spec(ITEM_PROPS))),
    )
        .prop_map(|(conds, any, order, fields, limit, skip, item)| NoteScope {
            conds,
            any,
            order,
            fields,
            limit,
            skip,
            item,
        })
        .boxed()
}

/// Up to two include entries, each relation at most once.
fn includes(env: Env) -> BoxedStrategy<Vec<Include>> {
    let one = (
        select(vec![Rel::Notes, Rel::Labelled, Rel::Ranked]),
        any::<bool>(),
        option::weighted(0.7, note_scope(env)),
    )
        .prop_map(|(rel, plain, scope)| Include { rel, plain, scope });
    prop_oneof![
        2 => Just(Vec::new()),
        3 => vec(one, 1..=2).prop_map(|mut incs| {
            let mut seen = Vec::new();
            incs.retain(|i| {
                let fresh = !seen.contains(&i.rel);
                seen.push(i.rel);
                fresh
            });
            incs
        }),
    ]
    .boxed()
}

fn by_id() -> BoxedStrategy<ById> {
    let id = prop_oneof![
        6 => (0usize..60, proptest::bool::weighted(0.2))
            .prop_map(|(index, as_text)| IdPick::Row { index, as_text }),
        2 => select(vec![0i64, -1, 61, 999_999, 2_147_483_647]).prop_map(IdPick::Missing),
        1 => Just(IdPick::Null),
        1 => select(vec![json!("abc"), json!(1.5), json!(true), json!([1]), json!({"a": 1}), json!("")])
            .prop_map(IdPick::Bad),
    ];
    let filter = select(vec![
        ByIdFilter::Null,
        ByIdFilter::Empty,
        ByIdFilter::Shape,
        ByIdFilter::Full,
    ]);
    (id, filter)
        .prop_map(|(id, filter)| ById { id, filter })
        .boxed()
}

fn cases(env: Env) -> BoxedStrategy<Case> {
    (
        prop_oneof![
            3 => where_obj(env, 0),
            3 => where_obj(env, 1),
            2 => where_obj(env, 2),
            2 => where_obj(env, 3),
        ],
        order_terms(env),
        any::<bool>(),
        option::weighted(0.3, 1usize..=70),
        option::weighted(0.3, 0usize..=70),
        select(vec!["skip", "offset"]),
        option::weighted(0.4, fields_spec(ITEM_PROPS)),
        includes(env),
        by_id(),
    )
        .prop_map(
            |(r#where, order, order_as_string, limit, skip, skip_key, fields, include, by_id)| {
                Case {
                    r#where,
                    order,
                    order_as_string,
                    limit,
                    skip,
                    skip_key,
                    fields,
                    include,
                    by_id,
                }
            },
        )
        .boxed()
}

/// Cases of the valid-filter property (each: `find`, `find_as`, `find_into`, `count`, and
/// `find_by_id` with its two typed forms).
const VALID_CASES: u32 = 256;

/// Cases of the random-JSON property (each: find, count and exists_with).
const RANDOM_CASES: u32 = 1024;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// What the generated cases exercised, so the property can tell a generator that tests nothing.
#[derive(Debug, Default)]
struct Exercised {
    matched_rows: usize,
    empty_results: usize,
    /// Rows returned with `fields` in force.
    projected_rows: usize,
    /// Included rows, at every level.
    included_rows: usize,
    /// `find_by_id` calls that found a row, found none, and failed (alike in all three routes).
    by_id_found: usize,
    by_id_none: usize,
    by_id_errors: usize,
}

/// Included rows in `rows`, nested ones too.
fn count_included(rows: &[Value]) -> usize {
    let mut n = 0;
    for row in rows {
        for rel in ["notes", "labelled", "ranked", "item"] {
            match row.get(rel) {
                Some(Value::Array(children)) => n += children.len() + count_included(children),
                Some(child @ Value::Object(_)) => {
                    n += 1 + count_included(std::slice::from_ref(child));
                }
                _ => {}
            }
        }
    }
    n
}

/// `find`, `find_as` and `find_into` of `case`: the JSON rows as the oracle says, the typed
/// ones equal to them once written back as JSON.
fn check_find(fx: &Fixture, case: &Case, seen: &mut Exercised) -> Result<(), TestCaseError> {
    let filter = case.filter_json();
    let (expected, total) = expected_rows(fx, case);
    let fail = |route: &str, e: RepoError| TestCaseError::fail(format!("{route} {filter}: {e}"));
    let rows = fx.items.find(&filter).map_err(|e| fail("find", e))?;
    let rows = Value::Array(rows);
    same("find", &filter, &rows, &Value::Array(expected))?;
    let serde_rows: Vec<ItemOut> = fx.items.find_as(&filter).map_err(|e| fail("find_as", e))?;
    same("find_as", &filter, &as_json(&serde_rows), &rows)?;
    let typed_rows: Vec<ItemOut> = fx
        .items
        .find_into(&filter)
        .map_err(|e| fail("find_into", e))?;
    if let Err(e) = same("find_into", &filter, &as_json(&typed_rows), &rows) {
        let unread: Vec<Vec<String>> = typed_rows.iter().map(ItemOut::unread).collect();
        return Err(TestCaseError::fail(format!(
            "{e}\nunread by FromRow: {unread:?}"
        )));
    }
    let count = fx
        .items
        .count(&filter["where"])
        .map_err(|e| fail("count", e))?;
    prop_assert_eq!(count as usize, total, "count of {}", filter["where"]);
    let rows = rows.as_array().map_or(&[][..], Vec::as_slice);
    seen.matched_rows += total;
    seen.empty_results += usize::from(total == 0);
    if case.fields.is_some() {
        seen.projected_rows += rows.len();
    }
    seen.included_rows += count_included(rows);
    Ok(())
}

/// `find_by_id`, `find_by_id_as` and `find_by_id_into` of `case`: the JSON row as the oracle
/// says, the typed ones equal to it; an id no row can have fails alike in all three, as a
/// filter error.
fn check_find_by_id(fx: &Fixture, case: &Case, seen: &mut Exercised) -> Result<(), TestCaseError> {
    let id = case.by_id_json(fx);
    let filter = case.by_id_filter();
    let what = json!({"id": id, "filter": filter});
    let json_row = fx.items.find_by_id_with(&id, &filter);
    let serde_row = fx.items.find_by_id_as::<ItemOut>(&id, &filter);
    let typed_row = fx.items.find_by_id_into::<ItemOut>(&id, &filter);
    match (expected_by_id(fx, case), json_row, serde_row, typed_row) {
        (Ok(want), Ok(got), Ok(serde_row), Ok(typed_row)) => {
            let got = got.unwrap_or(Value::Null);
            same("find_by_id", &what, &got, &want.unwrap_or(Value::Null))?;
            same("find_by_id_as", &what, &as_json(&serde_row), &got)?;
            same("find_by_id_into", &what, &as_json(&typed_row), &got)?;
            if got.is_null() {
                seen.by_id_none += 1;
            } else {
                seen.by_id_found += 1;
                seen.included_rows += count_included(std::slice::from_ref(&got));
            }
        }
        (Err(()), Err(a), Err(b), Err(c)) => {
            prop_assert!(matches!(a, RepoError::Filter(_)), "{}: {}", what, a);
            let (a, b, c) = (a.to_string(), b.to_string(), c.to_string());
            prop_assert!(
                a == b && b == c,
                "{}: errors differ: {} / {} / {}",
                what,
                a,
                b,
                c
            );
            seen.by_id_errors += 1;
        }
        (want, a, b, c) => prop_assert!(
            false,
            "{}: expected {:?}, got {:?} / {:?} / {:?}",
            what,
            want,
            a,
            b.map(|r| as_json(&r)),
            c.map(|r| as_json(&r))
        ),
    }
    Ok(())
}

#[test]
fn random_valid_filters_return_exactly_the_rows_an_in_memory_evaluation_returns() {
    let fx = fixture();
    let started = Instant::now();
    let seen = std::cell::RefCell::new(Exercised::default());
    let mut runner = TestRunner::new(config(VALID_CASES));
    let result = runner.run(&cases(fx.env), |case| {
        let mut seen = seen.borrow_mut();
        check_find(&fx, &case, &mut seen)?;
        check_find_by_id(&fx, &case, &mut seen)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    let cases = VALID_CASES as usize;
    eprintln!(
        "{VALID_CASES} random valid filters in {:?} ({} of {} notes soft deleted): {seen:?}",
        started.elapsed(),
        fx.deleted_notes,
        fx.notes.len() + fx.deleted_notes,
    );
    // The generator is worth something only if filters both match and reject rows, select
    // fields, include rows, and look ids up with every outcome.
    assert!(seen.matched_rows > cases * 5, "{seen:?}");
    assert!(seen.empty_results < cases * 3 / 4, "{seen:?}");
    assert!(seen.projected_rows > cases, "{seen:?}");
    assert!(seen.included_rows > cases * 2, "{seen:?}");
    assert!(
        seen.by_id_found > cases / 4 && seen.by_id_none > cases / 10 && seen.by_id_errors > 5,
        "{seen:?}"
    );
}

// ------------------------------------------------------------------------------------------------
// A filter that differs from a kept one only in its values

/// Cases of the kept-statement property (each: one filter kept, then [`VARIANTS`] variants).
const KEPT_CASES: u32 = 512;
/// Variants of each kept filter.
const VARIANTS: usize = 4;

/// Strings a mutated `where` may hold: names, labels, patterns, timestamps, numbers as text.
const VARIANT_STRINGS: &[&str] = &[
    "alpha",
    "beta",
    "",
    "a%b",
    "é",
    "zeta",
    "2021-03-04T05:06:07Z",
    "2020-01-01",
    "12",
    "1.5",
    "true",
    "x\\",
];

/// Another value of `leaf`'s JSON kind, chosen by `spin`.
fn same_kind(leaf: &Value, spin: usize) -> Value {
    match leaf {
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(n) if n.is_f64() => {
            json!(n.as_f64().unwrap_or(0.0) + spin as f64 * 0.75 - 3.0)
        }
        Value::Number(n) => json!(n.as_i64().unwrap_or(0) + (spin % 9) as i64 - 4),
        // A timestamp stays one, most of the time.
        Value::String(t) if t.len() >= 10 && t.as_bytes()[4] == b'-' && !spin.is_multiple_of(4) => {
            json!(VARIANT_TIMES[spin % VARIANT_TIMES.len()])
        }
        Value::String(_) => json!(VARIANT_STRINGS[spin % VARIANT_STRINGS.len()]),
        other => other.clone(),
    }
}

/// Timestamps a mutated `where` may hold.
const VARIANT_TIMES: &[&str] = &[
    "2024-01-01T00:00:00Z",
    "2023-12-31T19:00:00-05:00",
    "2024-03-10T10:30:00.5Z",
    "1999-12-31",
    "2100-01-01T00:00:00Z",
];

/// `v` with each scalar under its `where` (numbered in document order) replaced by
/// `change(number, scalar)`, and, when `grow` says so for an array there, one more element.
fn mutate(
    v: &Value,
    in_where: bool,
    leaves: &mut usize,
    change: &mut dyn FnMut(usize, &Value) -> Value,
    grow: &mut dyn FnMut() -> Option<Value>,
) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, x)| {
                    let x = mutate(x, in_where || k == "where", leaves, change, grow);
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(items) => {
            let mut out: Vec<Value> = items
                .iter()
                .map(|x| mutate(x, in_where, leaves, change, grow))
                .collect();
            if in_where {
                out.extend(grow());
            }
            Value::Array(out)
        }
        leaf if in_where => {
            *leaves += 1;
            change(*leaves - 1, leaf)
        }
        leaf => leaf.clone(),
    }
}

/// Variant `n` of `base`, by `picks`: (0) one scalar of the `where` changed to another value of
/// its kind; (1) every scalar so; (2, 3) every scalar kept, changed so, or replaced by any JSON
/// scalar, null, a one-element array or an operator object, and arrays now and then one
/// element longer. Keys never change.
fn variant(base: &Value, n: usize, picks: &[(u8, Value)]) -> Value {
    let mut turn = n * 7;
    let mut next = move || {
        turn += 1;
        picks[turn % picks.len()].clone()
    };
    let mut leaves = 0;
    mutate(
        base,
        false,
        &mut leaves,
        &mut |_, _| Value::Null,
        &mut || None,
    );
    let total = leaves.max(1);
    let target = usize::from(picks[0].0) * 31 % total;
    let grows = std::cell::Cell::new(0u8);
    let mut grow = || {
        grows.set(grows.get().wrapping_add(1));
        (n >= 2 && grows.get().is_multiple_of(5))
            .then(|| picks[usize::from(grows.get()) % picks.len()].1.clone())
    };
    let mut change = |i: usize, leaf: &Value| -> Value {
        let (choice, alt) = next();
        let spin = usize::from(choice) + i;
        match n {
            0 if i == target => same_kind(leaf, spin + 1),
            0 => leaf.clone(),
            1 => same_kind(leaf, spin),
            _ => match choice {
                0..=3 => same_kind(leaf, spin),
                4 => leaf.clone(),
                5 => alt,
                _ => match spin % 3 {
                    0 => Value::Null,
                    1 => json!([alt]),
                    _ => json!({"gt": alt}),
                },
            },
        }
    };
    let mut leaves = 0;
    mutate(base, false, &mut leaves, &mut change, &mut grow)
}

/// The same answer from `warm` (which may hold kept statements) and from a repository that has
/// kept none: the same JSON rows (and `find_into` rows, written back as JSON), or the same error.
fn same_answer(
    warm: &DefaultCrudRepository,
    cold: &DefaultCrudRepository,
    filter: &Value,
) -> Result<bool, TestCaseError> {
    let fresh = cold.with_limits(FilterLimits::default());
    match (warm.find(filter), fresh.find(filter)) {
        (Ok(got), Ok(want)) => {
            same(
                "find (kept)",
                filter,
                &Value::Array(got.clone()),
                &Value::Array(want),
            )?;
            let typed: Vec<ItemOut> = warm
                .find_into(filter)
                .map_err(|e| TestCaseError::fail(format!("find_into (kept) {filter}: {e}")))?;
            same(
                "find_into (kept)",
                filter,
                &as_json(&typed),
                &Value::Array(got),
            )?;
            Ok(true)
        }
        (Err(got), Err(want)) => {
            prop_assert_eq!(got.to_string(), want.to_string(), "{}", filter);
            Ok(false)
        }
        (got, want) => Err(TestCaseError::fail(format!(
            "{filter}: a repository that kept its statement answered {:?}, a new one {:?}",
            got.map(Value::Array),
            want.map(Value::Array)
        ))),
    }
}

#[test]
fn a_filter_that_differs_from_a_kept_one_only_in_its_values_gets_the_answer_a_new_repository_gives()
{
    let fx = fixture();
    let started = Instant::now();
    // (kept filters, variants answered by a kept statement, of which with other values)
    let seen = Cell::new((0usize, 0usize, 0usize));
    let mut runner = TestRunner::new(config(KEPT_CASES));
    let strategy = (cases(fx.env), vec((0u8..8, arb_leaf()), 1..24));
    let result = runner.run(&strategy, |(case, picks)| {
        let mut base = case.filter_json();
        if let Some(map) = base.as_object_mut() {
            map.remove("fields");
            map.remove("include");
        }
        let warm = fx.items.with_limits(FilterLimits::default());
        same_answer(&warm, &fx.items, &base)?;
        let (mut kept, mut hits, mut other_values) = seen.get();
        kept += warm.kept_finds();
        for n in 0..VARIANTS {
            let variant = variant(&base, n, &picks);
            let before = warm.kept_finds();
            let answered = same_answer(&warm, &fx.items, &variant)?;
            // A variant that parses and finds no kept statement to run is kept itself.
            if answered && before == 1 && warm.kept_finds() == before {
                hits += 1;
                other_values += usize::from(variant != base);
            }
        }
        seen.set((kept, hits, other_values));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (kept, hits, other_values) = seen.get();
    eprintln!(
        "{KEPT_CASES} kept filters, {VARIANTS} variants each, in {:?}: {kept} kept, {hits} \
         variants answered by the kept statement, {other_values} of them with other values",
        started.elapsed()
    );
    // The property means something only if filters are kept and variants with other values
    // are answered by their statements.
    let cases = KEPT_CASES as usize;
    assert!(kept > cases * 3 / 4, "{kept} of {cases} kept");
    assert!(
        other_values > cases / 6,
        "{other_values} answered with other values"
    );
}

// ------------------------------------------------------------------------------------------------
// Random JSON never panics and never reaches the database as an error

const FILTER_KEYS: &[&str] = &[
    "where",
    "fields",
    "order",
    "limit",
    "skip",
    "offset",
    "include",
    "relation",
    "scope",
    "shouldSkipDefaultFilter",
];
const FIELD_KEYS: &[&str] = &[
    "id",
    "n",
    "name",
    "flag",
    "x",
    "at",
    "meta",
    "tags",
    "meta.k",
    "meta.d.v",
    "meta[0]",
    "meta[0].k",
    "meta.",
    "meta..k",
    "meta.k-1",
    "tags.x",
    "name.x",
    "nope",
    "",
    "Id",
];
/// Every operator the filter language knows, plus the group keys and a near miss.
fn operator_keys() -> Vec<&'static str> {
    let mut keys = ignis_repo::filter::OPERATORS.to_vec();
    keys.extend(["and", "or", "regex"]);
    keys
}
const STRINGS: &[&str] = &[
    "",
    "\\",
    "a\\",
    "%\\",
    "\\\\\\",
    "\u{0}",
    "a\u{0}b",
    "%",
    "_",
    "'",
    "\"",
    "{}",
    "[]",
    "null",
    "2024-01-01",
    "2024-13-45",
    "2024-01-01T00:00:00+25:00",
    "2024-01-01T24:00:00Z",
    "+275760-09-13T00:00:00Z",
    "-infinity",
    "infinity",
    "NaN",
    "Infinity",
    "1e999",
    "99999999999999999999",
    "  42 ",
    "-0",
    "t",
    "yes",
    "id DESC",
    "name desc nulls first",
    "x ASC, n DESC NULLS LAST",
    "meta.k desc",
    "n NULLS",
    "id DESC extra",
    "😀",
    "e\u{301}",
    "\u{feff}",
    "\u{10ffff}",
];

fn arb_key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => pick(FIELD_KEYS).prop_map(String::from),
        3 => pick(&operator_keys()).prop_map(String::from),
        2 => pick(FILTER_KEYS).prop_map(String::from),
        1 => any::<String>(),
        1 => "[a-z.\\[\\]0-9_-]{0,8}",
    ]
    .boxed()
}

fn arb_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => Just(Value::Null),
        2 => any::<bool>().prop_map(Value::Bool),
        3 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        2 => select(vec![
            i64::MIN,
            i64::MAX,
            -1,
            0,
            1,
            2,
            60,
            2_147_483_648,
            -2_147_483_649,
            -8_000_000_000_000_000,
            8_200_000_000_000_000,
            -210_000_000_000_000,
            -300_000_000_000_000,
            9_300_000_000_000_000,
        ])
        .prop_map(Value::from),
        2 => any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        1 => select(vec![1e300, -1e-300, 0.5, 1.5, -0.0, 5e-324, 1e21, 3.4e38, 3.5e38, -2.5])
            .prop_map(|f| json!(f)),
        4 => pick(STRINGS).prop_map(Value::from),
        2 => any::<String>().prop_map(Value::from),
        2 => arb_key().prop_map(Value::from),
    ]
    .boxed()
}

fn arb_json() -> BoxedStrategy<Value> {
    arb_leaf()
        .prop_recursive(6, 96, 5, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..5).prop_map(Value::Array),
                vec((arb_key(), inner), 0..5)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
            ]
        })
        .boxed()
}

/// `depth` levels of `and` / `or` / `not` (or per-field `not`) around a condition, and a value
/// nested `depth` arrays deep as a jsonb operand.
fn deep(kind: u8, depth: usize) -> Value {
    let mut v = json!({"n": 1});
    for level in 0..depth {
        v = match kind % 5 {
            0 => json!({"and": [v]}),
            1 => json!({"or": [v, {"n": level}]}),
            2 => json!({"not": v}),
            3 => {
                // {"n": {"not": {"not": ... {"eq": 1}}}}
                let mut op = json!({"eq": 1});
                for _ in 0..depth {
                    op = json!({"not": op});
                }
                return json!({"n": op});
            }
            _ => {
                let mut doc = json!(1);
                for _ in 0..depth {
                    doc = json!([doc]);
                }
                return json!({"meta": {"contains": {"k": doc}}, "meta.k": {"eq": doc}});
            }
        };
    }
    v
}

fn random_filters() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => arb_json(),
        2 => arb_json().prop_map(|w| json!({"where": w})),
        2 => (arb_json(), arb_json(), arb_json(), arb_json(), arb_json()).prop_map(
            |(w, o, l, s, f)| json!({"where": w, "order": o, "limit": l, "skip": s, "fields": f})
        ),
        4 => (pick(FIELD_KEYS), pick(&operator_keys()), arb_json())
            .prop_map(|(f, op, v)| json!({"where": {f: {op: v}}})),
        2 => (pick(FIELD_KEYS), arb_json()).prop_map(|(f, v)| json!({"where": {f: v}})),
        // Hostile strings where text is compared, matched or cast.
        2 => (
            pick(&["name", "meta.k", "meta.s", "n", "at", "x", "tags", "meta"]),
            pick(&["eq", "neq", "gt", "like", "nlike", "ilike", "nilike", "in", "contains", "between"]),
            pick(STRINGS),
        )
            .prop_map(|(f, op, s)| {
                let v = if matches!(op, "in" | "contains") {
                    json!([s])
                } else if op == "between" {
                    json!([s, s])
                } else {
                    json!(s)
                };
                json!({"where": {f: {op: v}}})
            }),
        1 => (any::<u8>(), 0usize..300).prop_map(|(kind, depth)| json!({"where": deep(kind, depth)})),
    ]
    .boxed()
}

#[test]
fn random_json_filters_never_panic_and_never_reach_the_database_as_errors() {
    let fx = fixture();
    let started = Instant::now();
    let (ok, typed) = (Cell::new(0usize), Cell::new(0usize));
    let mut runner = TestRunner::new(config(RANDOM_CASES));
    let result = runner.run(&random_filters(), |filter| {
        let r#where = filter.get("where").cloned().unwrap_or(Value::Null);
        let outcomes = [
            fx.items.find(&filter).map(|_| ()),
            fx.items.count(&r#where).map(|_| ()),
            fx.items.exists_with(&r#where).map(|_| ()),
        ];
        for outcome in outcomes {
            match outcome {
                Ok(()) => ok.set(ok.get() + 1),
                Err(RepoError::Filter(_)) => typed.set(typed.get() + 1),
                Err(e) => prop_assert!(
                    false,
                    "{filter}: not a typed filter error: {e} (kind {}, sqlstate {:?})",
                    e.kind(),
                    e.sqlstate()
                ),
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (ok, typed) = (ok.get(), typed.get());
    eprintln!(
        "{RANDOM_CASES} random JSON filters (3 calls each) in {:?}: {ok} ok, {typed} typed filter errors",
        started.elapsed()
    );
    // Both outcomes must be exercised, or the generator tests nothing.
    let calls = RANDOM_CASES as usize * 3;
    assert!(
        ok > calls / 10 && typed > calls / 10,
        "ok {ok}, typed {typed}"
    );
}

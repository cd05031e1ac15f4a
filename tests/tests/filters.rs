//! The filter language on a real Postgres, by hand: what ignis-rs does where Ignis fails
//! (`exists` / `notExists`, `not`, RFC 3339 date strings, array values as bound parameters,
//! `order` as one string with `NULLS FIRST` / `LAST`, typed errors for invalid input), and edge
//! values (unicode, `skip` over `offset`, empty lists, nulls in `in` / `nin` lists with SQL's
//! semantics, a many relation without a reverse relation, hidden properties in `where`), and
//! hostile input answered with short typed errors (values nested 100,000 levels, megabyte
//! names, invalid `regexp` patterns named by field). Every expected row is written out.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use ignis_repo::{dismantle, DefaultCrudRepository, FilterErrorKind, FilterLimits, RepoError};
use ignis_schema::enrich::IdOptions;
use ignis_schema::{Column, Enricher, Model, PgType, Relation, Schema};
use ignis_tests::TestDb;
use ignis_tx::Executor;
use serde_json::{json, Map, Value};

/// `Event` (integer id, text title, nullable int score, timestamptz at, jsonb meta, text[] tags,
/// hidden secret) with a many relation `notes` declared by fields / references, and `Note`,
/// which declares no relation back.
fn schema() -> Arc<Schema> {
    let event = Model::new("Event")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("title", PgType::Text).not_null())
        .column(Column::new("score", PgType::Integer))
        .column(Column::new("at", PgType::TIMESTAMPTZ))
        .column(Column::new("meta", PgType::Jsonb))
        .column(Column::new("tags", "text[]".parse().unwrap()))
        .column(Column::new("secret", PgType::Text))
        .hide(["secret"])
        .relation(Relation::many("notes", "Note", ["id"], ["eventId"]));
    let note = Model::new("Note")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("eventId", PgType::Integer).not_null())
        .column(Column::new("body", PgType::Text).not_null());
    Arc::new(Schema::new(vec![event, note]).unwrap())
}

struct App {
    events: DefaultCrudRepository,
    notes: DefaultCrudRepository,
    db: TestDb,
}

fn app() -> App {
    let db = TestDb::new();
    let schema = schema();
    let ds = db.migrated(&schema);
    App {
        events: DefaultCrudRepository::new(ds.clone(), schema.clone(), "Event").unwrap(),
        notes: DefaultCrudRepository::new(ds, schema, "Note").unwrap(),
        db,
    }
}

/// The tag of `beta` that holds a quote, a brace and a double quote at once.
const NASTY_TAG: &str = "it's }\"x\"{";

/// Five events, ids 1..=5 in this order:
///
/// | title   | score | at (as given)                     | meta                        | tags                                   | secret   |
/// |---------|-------|-----------------------------------|-----------------------------|----------------------------------------|----------|
/// | alpha   | 1     | 2024-03-10T12:00:00+02:00         | {"k": 1, "n": null}         | ["x", "y"]                             | s-alpha  |
/// | beta    | 5     | 2024-03-10T10:00:00.5Z            | {"k": "v"}                  | [NASTY_TAG, "}", "\""]                 | s-beta   |
/// | gamma   | null  | 2024-03-10                        | {}                          | []                                     | null     |
/// | delta   | 10    | null                              | null                        | null                                   | s-delta  |
/// | epsilon | 7     | 2024-03-10T23:30:00-05:00         | {"n": {"deep": true}}       | ["a,b", "{c}", "back\\slash", "NULL"]  | s-eps    |
fn seed(app: &App) -> Vec<Value> {
    let rows = json!([
        {"title": "alpha", "score": 1, "at": "2024-03-10T12:00:00+02:00",
         "meta": {"k": 1, "n": null}, "tags": ["x", "y"], "secret": "s-alpha"},
        {"title": "beta", "score": 5, "at": "2024-03-10T10:00:00.5Z",
         "meta": {"k": "v"}, "tags": [NASTY_TAG, "}", "\""], "secret": "s-beta"},
        {"title": "gamma", "score": null, "at": "2024-03-10",
         "meta": {}, "tags": [], "secret": null},
        {"title": "delta", "score": 10, "at": null,
         "meta": null, "tags": null, "secret": "s-delta"},
        {"title": "epsilon", "score": 7, "at": "2024-03-10T23:30:00-05:00",
         "meta": {"n": {"deep": true}}, "tags": ["a,b", "{c}", "back\\slash", "NULL"], "secret": "s-eps"}
    ]);
    let created = app.events.create_all(rows.as_array().unwrap()).unwrap();
    assert_eq!(created.count, 5);
    let ids: Vec<i64> = created
        .data
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    created.data
}

fn titles(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

/// Titles of the rows matching `where`, by id; `count` must agree.
fn matching(app: &App, r#where: Value) -> Vec<String> {
    let rows = app
        .events
        .find(&json!({"where": r#where, "order": "id"}))
        .unwrap_or_else(|e| panic!("{where}: {e}"));
    let n = app
        .events
        .count(&r#where)
        .unwrap_or_else(|e| panic!("count {where}: {e}"));
    assert_eq!(n as usize, rows.len(), "count of {where}");
    titles(&rows)
}

fn ordered(app: &App, filter: Value) -> Vec<String> {
    titles(
        &app.events
            .find(&filter)
            .unwrap_or_else(|e| panic!("{filter}: {e}")),
    )
}

/// Asserts that `result` is a typed filter error of `kind` whose message names every string in
/// `named`: never a database error, never rows.
fn assert_filter_error<T: std::fmt::Debug>(
    what: &Value,
    result: Result<T, RepoError>,
    kind: FilterErrorKind,
    named: &[&str],
) {
    match result {
        Err(RepoError::Filter(e)) => {
            assert_eq!(e.kind(), kind, "{what}: {e}");
            let message = e.to_string();
            for name in named {
                assert!(message.contains(name), "{what}: `{message}` names {name}");
            }
        }
        Err(other) => panic!(
            "{what}: expected a {kind} filter error, got {other} (sqlstate {:?})",
            other.sqlstate()
        ),
        Ok(rows) => panic!("{what}: expected a {kind} filter error, got {rows:?}"),
    }
}

/// Wraps a where object in one more level of nesting, and the number of levels that adds.
type Wrapper = (fn(Value) -> Value, usize);

/// `{key: value}`.
fn object(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    Value::Object(map)
}

const ALL: [&str; 5] = ["alpha", "beta", "gamma", "delta", "epsilon"];

#[test]
fn exists_and_not_exists_on_a_column_and_on_a_json_path() {
    let app = app();
    seed(&app);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        // On a column: IS NOT NULL / IS NULL.
        (
            json!({"score": {"exists": true}}),
            vec!["alpha", "beta", "delta", "epsilon"],
        ),
        (json!({"score": {"exists": false}}), vec!["gamma"]),
        (json!({"score": {"notExists": true}}), vec!["gamma"]),
        (
            json!({"score": {"notExists": false}}),
            vec!["alpha", "beta", "delta", "epsilon"],
        ),
        (json!({"meta": {"notExists": true}}), vec!["delta"]),
        (json!({"tags": {"exists": false}}), vec!["delta"]),
        // On a JSON path: the key is present, even when it holds JSON null.
        (json!({"meta.k": {"exists": true}}), vec!["alpha", "beta"]),
        (
            json!({"meta.n": {"exists": true}}),
            vec!["alpha", "epsilon"],
        ),
        (
            json!({"meta.n": {"notExists": true}}),
            vec!["beta", "gamma", "delta"],
        ),
        (json!({"meta.n.deep": {"exists": true}}), vec!["epsilon"]),
        (
            json!({"meta.n.deep": {"notExists": true}}),
            vec!["alpha", "beta", "gamma", "delta"],
        ),
        // ...which is not null equality: a JSON null reads as NULL through `#>>`.
        (
            json!({"meta.n": null}),
            vec!["alpha", "beta", "gamma", "delta"],
        ),
        (json!({"meta.n": {"neq": null}}), vec!["epsilon"]),
        // Combined with other operators on the same key.
        (
            json!({"meta.k": {"exists": true, "neq": "v"}}),
            vec!["alpha"],
        ),
    ];
    for (w, expected) in cases {
        assert_eq!(matching(&app, w.clone()), expected, "where {w}");
    }
    assert_filter_error(
        &json!("exists: 1"),
        app.events.find(&json!({"where": {"score": {"exists": 1}}})),
        FilterErrorKind::InvalidValue,
        &["`score`", "`exists`"],
    );
}

#[test]
fn not_negates_a_where_object_at_top_level_and_per_field_with_sql_null_semantics() {
    let app = app();
    seed(&app);
    // scores: alpha 1, beta 5, gamma NULL, delta 10, epsilon 7. NOT of unknown is unknown, so
    // gamma never matches a negated comparison on score.
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"not": {"score": {"gt": 4}}}), vec!["alpha"]),
        (
            json!({"not": {"or": [{"title": "alpha"}, {"title": "beta"}]}}),
            vec!["gamma", "delta", "epsilon"],
        ),
        (
            json!({"not": {"title": "alpha", "score": {"lt": 8}}}),
            // gamma: title = 'alpha' is false, so the AND is false whatever score is.
            vec!["beta", "gamma", "delta", "epsilon"],
        ),
        (
            json!({"not": {"score": null}}),
            vec!["alpha", "beta", "delta", "epsilon"],
        ),
        (json!({"not": {"not": {"score": 5}}}), vec!["beta"]),
        (
            json!({"score": {"not": {"inq": [1, 10]}}}),
            vec!["beta", "epsilon"],
        ),
        (
            json!({"score": {"not": 5}}),
            vec!["alpha", "delta", "epsilon"],
        ),
        (
            json!({"score": {"not": {"gte": 5, "lte": 7}}}),
            vec!["alpha", "delta"],
        ),
        (
            json!({"score": {"not": null}}),
            vec!["alpha", "beta", "delta", "epsilon"],
        ),
        (
            json!({"title": {"not": {"like": "%ta"}}}),
            vec!["alpha", "gamma", "epsilon"],
        ),
        (json!({"meta.k": {"not": {"eq": 1}}}), Vec::<&str>::new()),
        (json!({"meta.k": {"not": {"eq": "v"}}}), vec!["alpha"]),
        (
            json!({"tags": {"not": {"overlaps": ["x", "}"]}}}),
            vec!["gamma", "epsilon"],
        ),
        (
            json!({"and": [{"not": {"title": "alpha"}}, {"score": {"not": {"gt": 6}}}]}),
            vec!["beta"],
        ),
        // The negation of "no condition" matches nothing.
        (json!({"not": {}}), vec![]),
        (json!({"not": {"or": []}}), vec![]),
    ];
    for (w, expected) in cases {
        assert_eq!(matching(&app, w.clone()), expected, "where {w}");
    }
    assert_filter_error(
        &json!("top-level not with an array"),
        app.events.find(&json!({"where": {"not": [{"score": 1}]}})),
        FilterErrorKind::Malformed,
        &["not"],
    );
}

#[test]
fn rfc3339_date_strings_work_on_timestamptz_columns_in_where_and_on_write() {
    let app = app();
    let created = seed(&app);
    // Written in any offset, read back in UTC.
    let at: Vec<&Value> = created.iter().map(|r| &r["at"]).collect();
    assert_eq!(
        at,
        vec![
            &json!("2024-03-10T10:00:00Z"),
            &json!("2024-03-10T10:00:00.500Z"),
            &json!("2024-03-10T00:00:00Z"),
            &Value::Null,
            &json!("2024-03-11T04:30:00Z"),
        ]
    );
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"at": "2024-03-10T12:00:00+02:00"}), vec!["alpha"]),
        (json!({"at": "2024-03-10T10:00:00Z"}), vec!["alpha"]),
        (
            json!({"at": {"gt": "2024-03-10T11:00:00+01:00"}}),
            vec!["beta", "epsilon"],
        ),
        (
            json!({"at": {"gte": "2024-03-10T10:00:00Z"}}),
            vec!["alpha", "beta", "epsilon"],
        ),
        (
            json!({"at": {"gt": "2024-03-10T10:00:00.499999Z"}}),
            vec!["beta", "epsilon"],
        ),
        (
            json!({"at": {"lt": "2024-03-10T00:00:00.000001Z"}}),
            vec!["gamma"],
        ),
        (
            json!({"at": {"between": ["2024-03-10", "2024-03-10T10:00:00.499999Z"]}}),
            vec!["alpha", "gamma"],
        ),
        (
            json!({"at": {"between": ["2024-03-10T05:00:00-05:00", "2024-03-11"]}}),
            vec!["alpha", "beta"],
        ),
        (
            json!({"at": {"notBetween": ["2024-03-10T00:00:00Z", "2024-03-10T10:00:00+00:00"]}}),
            vec!["beta", "epsilon"],
        ),
        (
            json!({"at": {"inq": ["2024-03-10", "2024-03-10T23:30:00-05:00"]}}),
            vec!["gamma", "epsilon"],
        ),
        // Epoch milliseconds (a JS Date's number): 2024-03-10T10:00:00Z.
        (json!({"at": 1_710_064_800_000_i64}), vec!["alpha"]),
        (json!({"at": null}), vec!["delta"]),
    ];
    for (w, expected) in cases {
        assert_eq!(matching(&app, w.clone()), expected, "where {w}");
    }

    // On write: update and create take the same spellings.
    let updated = app
        .events
        .update_by_id(
            &json!(4),
            &json!({"at": "2024-12-31T23:59:59.999999-01:00"}),
        )
        .unwrap();
    assert_eq!(
        updated.data.unwrap()["at"],
        json!("2025-01-01T00:59:59.999999Z")
    );
    let created = app
        .events
        .create(&json!({"title": "zeta", "at": "2024-02-29"}))
        .unwrap();
    assert_eq!(created.data.unwrap()["at"], json!("2024-02-29T00:00:00Z"));
    assert_eq!(
        matching(
            &app,
            json!({"at": {"gte": "2025-01-01T01:59:59.999999+01:00"}})
        ),
        vec!["delta"]
    );

    // Not a date: a typed error naming the property, in where and on write.
    for bad in [
        json!({"at": {"gt": "2024-02-30"}}),
        json!({"at": {"between": ["2024-03-10", "yesterday"]}}),
        json!({"at": "2024-03-10T25:00:00Z"}),
        json!({"at": -8_000_000_000_000_000_i64}),
    ] {
        assert_filter_error(
            &bad,
            app.events.find(&json!({"where": bad.clone()})),
            FilterErrorKind::InvalidValue,
            &["at"],
        );
    }
    let err = app
        .events
        .create(&json!({"title": "bad", "at": "2024-13-01T00:00:00Z"}))
        .unwrap_err();
    assert_eq!(err.sqlstate(), None, "{err}");
    assert!(err.to_string().contains("`at`"), "{err}");
    assert_eq!(app.events.count(&json!({})).unwrap(), 6);
}

#[test]
fn array_operator_values_are_bound_parameters_of_the_array_type() {
    let app = app();
    let created = seed(&app);
    // Stored exactly: no element was split at a comma or unquoted.
    assert_eq!(created[1]["tags"], json!([NASTY_TAG, "}", "\""]));
    assert_eq!(
        created[4]["tags"],
        json!(["a,b", "{c}", "back\\slash", "NULL"])
    );
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"tags": {"contains": [NASTY_TAG]}}), vec!["beta"]),
        (json!({"tags": {"contains": NASTY_TAG}}), vec!["beta"]),
        (json!({"tags": {"contains": ["}", "\""]}}), vec!["beta"]),
        (
            json!({"tags": {"overlaps": ["nope", "a,b"]}}),
            vec!["epsilon"],
        ),
        // "a,b" is one element: neither "a" nor "b" is in any array.
        (json!({"tags": {"overlaps": ["a", "b"]}}), vec![]),
        (json!({"tags": {"contains": ["{c}"]}}), vec!["epsilon"]),
        (
            json!({"tags": {"contains": ["back\\slash"]}}),
            vec!["epsilon"],
        ),
        // The string "NULL" is a value, not a NULL element.
        (json!({"tags": {"contains": ["NULL"]}}), vec!["epsilon"]),
        (
            json!({"tags": {"containedBy": ["a,b", "{c}", "back\\slash", "NULL", "x", "y"]}}),
            vec!["alpha", "gamma", "epsilon"],
        ),
        (json!({"tags": ["x", "y"]}), vec!["alpha"]),
        (
            json!({"tags": {"eq": [NASTY_TAG, "}", "\""]}}),
            vec!["beta"],
        ),
        (
            json!({"tags": {"overlaps": ["x'}'); DROP TABLE \"Event\"; --"]}}),
            vec![],
        ),
        (json!({"tags": {"contains": ["\"}'{,\\"]}}), vec![]),
    ];
    for (w, expected) in cases {
        assert_eq!(matching(&app, w.clone()), expected, "where {w}");
    }
    assert_eq!(app.events.count(&json!({})).unwrap(), 5);
    // A value of the wrong shape for the array type is a typed error.
    assert_filter_error(
        &json!("contains an object"),
        app.events
            .find(&json!({"where": {"tags": {"contains": [{"a": 1}]}}})),
        FilterErrorKind::InvalidValue,
        &["tags"],
    );
}

#[test]
fn order_takes_one_string_and_honours_nulls_first_and_last() {
    let app = app();
    seed(&app);
    // scores: alpha 1, beta 5, gamma NULL, delta 10, epsilon 7.
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!("score"),
            vec!["alpha", "beta", "epsilon", "delta", "gamma"],
        ),
        (
            json!("score DESC"),
            vec!["gamma", "delta", "epsilon", "beta", "alpha"],
        ),
        (
            json!("score DESC NULLS LAST"),
            vec!["delta", "epsilon", "beta", "alpha", "gamma"],
        ),
        (
            json!("score asc nulls first"),
            vec!["gamma", "alpha", "beta", "epsilon", "delta"],
        ),
        (
            json!("score Nulls First"),
            vec!["gamma", "alpha", "beta", "epsilon", "delta"],
        ),
        (
            json!(["score ASC NULLS FIRST"]),
            vec!["gamma", "alpha", "beta", "epsilon", "delta"],
        ),
        // Several terms in one string.
        (
            json!("at desc nulls last, title"),
            vec!["epsilon", "beta", "alpha", "gamma", "delta"],
        ),
        (
            json!(["at DESC NULLS LAST", "title DESC"]),
            vec!["epsilon", "beta", "alpha", "gamma", "delta"],
        ),
        // A JSON path: jsonb order (strings before numbers), NULLs (no key, NULL meta) last.
        (
            json!("meta.k DESC NULLS LAST, id"),
            vec!["alpha", "beta", "gamma", "delta", "epsilon"],
        ),
        (
            json!("meta.k ASC NULLS FIRST, title DESC"),
            vec!["gamma", "epsilon", "delta", "beta", "alpha"],
        ),
    ];
    for (order, expected) in cases {
        assert_eq!(
            ordered(&app, json!({"order": order})),
            expected,
            "order {order}"
        );
    }
    for (bad, named) in [
        ("score SIDEWAYS", "`score SIDEWAYS`"),
        ("score NULLS", "NULLS must be followed by FIRST or LAST"),
        ("score DESC NULLS MIDDLE", "`score DESC NULLS MIDDLE`"),
        (
            "score DESC NULLS FIRST extra",
            "`score DESC NULLS FIRST extra`",
        ),
        ("score,", "empty"),
    ] {
        assert_filter_error(
            &json!(bad),
            app.events.find(&json!({"order": bad})),
            FilterErrorKind::InvalidOrder,
            &[named],
        );
    }
    assert_filter_error(
        &json!("nope DESC"),
        app.events
            .find(&json!({"order": "title, nope DESC NULLS LAST"})),
        FilterErrorKind::UnknownField,
        &["`Event`", "`nope`"],
    );
}

#[test]
fn invalid_filters_are_typed_errors_naming_the_problem_and_never_reach_the_database() {
    let app = app();
    seed(&app);
    let max = FilterLimits::default().max_in_list;
    let too_long: Vec<i64> = (0..=max as i64).collect();
    let cases: Vec<(Value, FilterErrorKind, Vec<&str>)> = vec![
        // limit / skip / offset: non-negative integers only.
        (
            json!({"limit": -1}),
            FilterErrorKind::InvalidValue,
            vec!["`limit`"],
        ),
        (
            json!({"limit": 1.5}),
            FilterErrorKind::InvalidValue,
            vec!["`limit`"],
        ),
        (
            json!({"limit": "ten"}),
            FilterErrorKind::InvalidValue,
            vec!["`limit`"],
        ),
        (
            json!({"limit": true}),
            FilterErrorKind::InvalidValue,
            vec!["`limit`"],
        ),
        (
            json!({"skip": -3}),
            FilterErrorKind::InvalidValue,
            vec!["`skip`"],
        ),
        (
            json!({"skip": 0.5}),
            FilterErrorKind::InvalidValue,
            vec!["`skip`"],
        ),
        (
            json!({"offset": "abc"}),
            FilterErrorKind::InvalidValue,
            vec!["`offset`"],
        ),
        (
            json!({"offset": -1, "skip": 1}),
            FilterErrorKind::InvalidValue,
            vec!["`offset`"],
        ),
        (
            json!({"limit": 1e30}),
            FilterErrorKind::InvalidValue,
            vec!["`limit`"],
        ),
        // between takes exactly [low, high].
        (
            json!({"where": {"score": {"between": [1]}}}),
            FilterErrorKind::InvalidValue,
            vec!["`score`", "`between`"],
        ),
        (
            json!({"where": {"score": {"between": [1, 2, 3]}}}),
            FilterErrorKind::InvalidValue,
            vec!["`score`", "`between`"],
        ),
        (
            json!({"where": {"score": {"notBetween": []}}}),
            FilterErrorKind::InvalidValue,
            vec!["`score`", "`notBetween`"],
        ),
        (
            json!({"where": {"score": {"between": "1..2"}}}),
            FilterErrorKind::InvalidValue,
            vec!["`score`", "`between`"],
        ),
        (
            json!({"where": {"score": {"between": [1, null]}}}),
            FilterErrorKind::InvalidValue,
            vec!["`score`", "`between`"],
        ),
        (
            json!({"where": {"meta.k": {"between": [1]}}}),
            FilterErrorKind::InvalidValue,
            vec!["`meta.k`", "`between`"],
        ),
        // Unknown fields in fields / order / include scopes.
        (
            json!({"fields": ["title", "nope"]}),
            FilterErrorKind::UnknownField,
            vec!["`Event`", "`nope`"],
        ),
        (
            json!({"fields": {"nope": true}}),
            FilterErrorKind::UnknownField,
            vec!["`Event`", "`nope`"],
        ),
        (
            json!({"order": ["title", "nope DESC"]}),
            FilterErrorKind::UnknownField,
            vec!["`Event`", "`nope`"],
        ),
        (
            json!({"order": "title.x"}),
            FilterErrorKind::InvalidPath,
            vec!["`title`"],
        ),
        (
            json!({"include": [{"relation": "notes", "scope": {"where": {"nope": 1}}}]}),
            FilterErrorKind::UnknownField,
            vec!["`Note`", "`nope`"],
        ),
        (
            json!({"include": [{"relation": "notes", "scope": {"where": {"title": "alpha"}}}]}),
            FilterErrorKind::UnknownField,
            vec!["`Note`", "`title`"],
        ),
        (
            json!({"include": [{"relation": "notes", "scope": {"fields": ["body", "nope"]}}]}),
            FilterErrorKind::UnknownField,
            vec!["`Note`", "`nope`"],
        ),
        (
            json!({"include": [{"relation": "notes", "scope": {"order": "nope DESC"}}]}),
            FilterErrorKind::UnknownField,
            vec!["`Note`", "`nope`"],
        ),
        (
            json!({"include": [{"relation": "event"}]}),
            FilterErrorKind::UnknownRelation,
            vec!["`Event`", "`event`"],
        ),
        // Over-long lists (the bound is inclusive, see below).
        (
            json!({"where": {"score": {"inq": too_long}}}),
            FilterErrorKind::ListTooLong,
            vec!["`score`", "10000"],
        ),
        (
            json!({"where": {"score": {"nin": too_long}}}),
            FilterErrorKind::ListTooLong,
            vec!["`score`"],
        ),
        (
            json!({"where": {"meta.k": {"in": too_long}}}),
            FilterErrorKind::ListTooLong,
            vec!["`meta.k`"],
        ),
        (
            json!({"where": {"score": too_long}}),
            FilterErrorKind::ListTooLong,
            vec!["`score`"],
        ),
        // Values the database would refuse are refused first.
        (
            json!({"where": {"title": {"like": "abc\\"}}}),
            FilterErrorKind::InvalidValue,
            vec!["`title`", "`like`"],
        ),
        (
            json!({"where": {"meta.k": {"nilike": "%\\"}}}),
            FilterErrorKind::InvalidValue,
            vec!["`meta.k`", "`nilike`"],
        ),
        (
            json!({"where": {"title": "a\u{0}b"}}),
            FilterErrorKind::InvalidValue,
            vec!["`title`", "NUL"],
        ),
        (
            json!({"where": {"meta": {"contains": {"k": "\u{0}"}}}}),
            FilterErrorKind::InvalidValue,
            vec!["`meta`", "NUL"],
        ),
        (
            json!({"where": {"score": "abc"}}),
            FilterErrorKind::InvalidValue,
            vec!["`score`"],
        ),
        (
            json!({"where": {"score": 2_147_483_648_i64}}),
            FilterErrorKind::InvalidValue,
            vec!["`score`"],
        ),
    ];
    for (filter, kind, named) in &cases {
        assert_filter_error(filter, app.events.find(filter), *kind, named);
        if let Some(w) = filter.get("where") {
            assert_filter_error(filter, app.events.count(w), *kind, named);
        }
    }

    // At the bounds: exactly max_in_list values, and 16 levels of nesting, are fine.
    let longest: Vec<i64> = (0..max as i64).collect();
    assert_eq!(
        matching(&app, json!({"score": {"inq": longest}})),
        vec!["alpha", "beta", "delta", "epsilon"]
    );
    let max_depth = FilterLimits::default().max_depth;
    let nest = |levels: usize, wrap: fn(Value) -> Value| {
        (0..levels).fold(json!({"score": 5}), |w, _| wrap(w))
    };
    // (wrapper, levels of nesting it adds). Built without `json!`, which would re-serialize
    // the nested value at every level.
    let wrappers: [Wrapper; 3] = [
        (|w| object("and", Value::Array(vec![w])), 1),
        (|w| object("or", Value::Array(vec![w])), 1),
        (|w| object("not", object("not", w)), 2),
    ];
    for (wrap, step) in wrappers {
        let levels = max_depth / step;
        assert_eq!(matching(&app, nest(levels, wrap)), vec!["beta"]);
        let deep = nest(levels + 1, wrap);
        assert_filter_error(
            &json!("one level too deep"),
            app.events.find(&object("where", deep.clone())),
            FilterErrorKind::TooDeep,
            &["16"],
        );
        assert_filter_error(
            &json!("one level too deep"),
            app.events.count(&deep),
            FilterErrorKind::TooDeep,
            &["16"],
        );
    }
    let per_field = (0..=max_depth).fold(json!({"eq": 5}), |op, _| object("not", op));
    assert_filter_error(
        &per_field,
        app.events
            .find(&json!({"where": {"score": per_field.clone()}})),
        FilterErrorKind::TooDeep,
        &["16"],
    );
    let very_deep = nest(1_000, wrappers[0].0);
    assert_filter_error(
        &json!("1000 levels"),
        app.events.find(&object("where", very_deep)),
        FilterErrorKind::TooDeep,
        &["16"],
    );
    assert_eq!(app.events.count(&json!({})).unwrap(), 5);
}

#[test]
fn unicode_values_round_trip_through_create_find_and_where_equality() {
    let app = app();
    let values = [
        "😀",
        "👨‍👩‍👧‍👦",
        "e\u{301}",
        "é",
        "Ω",
        "日本語",
        "\u{202e}rtl",
        "a\u{200b}b",
        "𝔘𝔫𝔦",
        "ﬁ",
    ];
    let mut ids = Vec::new();
    for v in values {
        let created = app
            .events
            .create(&json!({"title": v, "meta": {"k": v}, "tags": [v, "plain"]}))
            .unwrap()
            .data
            .unwrap();
        assert_eq!(created["title"], json!(v));
        assert_eq!(created["meta"], json!({"k": v}));
        assert_eq!(created["tags"], json!([v, "plain"]));
        ids.push(created["id"].clone());
    }
    for (v, id) in values.iter().zip(&ids) {
        let found = app.events.find_by_id(id).unwrap().unwrap();
        assert_eq!(found["title"], json!(v));
        // Exactly one row each: combining and precomposed é are different strings (no
        // normalisation), as are the emoji sequences.
        assert_eq!(matching(&app, json!({"title": v})), vec![v.to_string()]);
        assert_eq!(
            matching(&app, json!({"meta.k": v})),
            vec![v.to_string()],
            "path equality"
        );
        assert_eq!(
            matching(&app, json!({"tags": {"contains": [v]}})),
            vec![v.to_string()],
            "array containment"
        );
        assert_eq!(
            matching(&app, json!({"title": {"like": format!("%{v}%")}})),
            vec![v.to_string()],
            "like"
        );
    }
    assert_eq!(
        matching(&app, json!({"title": {"inq": ["e\u{301}", "é"]}})),
        vec!["e\u{301}", "é"]
    );
    assert_eq!(
        matching(
            &app,
            json!({"title": {"nin": ["e\u{301}", "é", "😀", "Ω", "ﬁ"]}})
        ),
        vec!["👨‍👩‍👧‍👦", "日本語", "\u{202e}rtl", "a\u{200b}b", "𝔘𝔫𝔦"]
    );
    // `_` is one character (code point), not one byte and not one grapheme.
    assert_eq!(
        matching(&app, json!({"title": {"like": "_"}})),
        vec!["😀", "é", "Ω", "ﬁ"]
    );
    assert_eq!(
        matching(&app, json!({"title": {"like": "e_"}})),
        vec!["e\u{301}"]
    );
    // ilike folds case as the database's ctype does: ASCII only under C, Unicode otherwise.
    let ctype: String = app
        .db
        .client()
        .query_one(
            "SELECT datctype::text FROM pg_database WHERE datname = current_database()",
            &[],
        )
        .unwrap()
        .get(0);
    let folded = matching(&app, json!({"title": {"ilike": "ω"}}));
    if matches!(ctype.as_str(), "C" | "POSIX") {
        assert_eq!(folded, Vec::<String>::new(), "ctype {ctype}");
    } else {
        assert_eq!(folded, vec!["Ω"], "ctype {ctype}");
    }
}

#[test]
fn skip_wins_over_offset_on_every_query_path() {
    let app = app();
    seed(&app);
    for (event, body) in [(1, "a1"), (1, "a2"), (1, "a3"), (2, "b1"), (2, "b2")] {
        app.notes
            .create(&json!({"eventId": event, "body": body}))
            .unwrap();
    }
    // By score: alpha, beta, epsilon, delta, gamma (NULL last).
    assert_eq!(
        ordered(&app, json!({"order": "score", "skip": 1, "offset": 3})),
        vec!["beta", "epsilon", "delta", "gamma"]
    );
    assert_eq!(
        ordered(&app, json!({"order": "score", "offset": 3, "skip": 1})),
        vec!["beta", "epsilon", "delta", "gamma"]
    );
    assert_eq!(
        ordered(&app, json!({"order": "score", "offset": 3})),
        vec!["delta", "gamma"]
    );
    assert_eq!(
        ordered(&app, json!({"order": "score", "skip": 0, "offset": 3})),
        ALL_BY_SCORE.to_vec()
    );
    // Ignis drops `offset` when `fields` or `include` is present; ignis-rs honours it.
    assert_eq!(
        app.events
            .find(&json!({"fields": ["title"], "order": "score", "offset": 3, "limit": 1}))
            .unwrap(),
        vec![json!({"title": "delta"})]
    );
    assert_eq!(
        app.events
            .find(
                &json!({"fields": ["title"], "include": ["notes"], "order": "score", "offset": 4})
            )
            .unwrap(),
        vec![json!({"title": "gamma", "notes": []})]
    );
    // Inside an include scope too (per parent).
    let rows = app
        .events
        .find(&json!({
            "fields": ["title"], "order": "score", "limit": 2,
            "include": [{"relation": "notes", "scope": {
                "fields": ["body"], "order": "body", "skip": 1, "offset": 0}}]
        }))
        .unwrap();
    assert_eq!(
        rows,
        vec![
            json!({"title": "alpha", "notes": [{"body": "a2"}, {"body": "a3"}]}),
            json!({"title": "beta", "notes": [{"body": "b2"}]}),
        ]
    );
    // find_one and the range report the skip that was applied.
    assert_eq!(
        app.events
            .find_one(&json!({"order": "score", "skip": 2, "offset": 0}))
            .unwrap()
            .unwrap()["title"],
        "epsilon"
    );
    let ranged = app
        .events
        .find_with_range(&json!({"order": "score", "skip": 2, "offset": 4, "limit": 2}))
        .unwrap();
    assert_eq!(titles(&ranged.data), vec!["epsilon", "delta"]);
    assert_eq!(
        (ranged.range.start, ranged.range.end, ranged.range.total),
        (2, 3, 5)
    );
}

const ALL_BY_SCORE: [&str; 5] = ["alpha", "beta", "epsilon", "delta", "gamma"];

#[test]
fn empty_in_nin_and_or_lists_on_the_database() {
    let app = app();
    seed(&app);
    let none: Vec<&str> = Vec::new();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"score": {"in": []}}), none.clone()),
        (json!({"score": {"inq": []}}), none.clone()),
        (json!({"score": []}), none.clone()),
        // nin: [] matches every row, NULL score included (there is no comparison to be unknown).
        (json!({"score": {"nin": []}}), ALL.to_vec()),
        (json!({"or": []}), ALL.to_vec()),
        (json!({"and": []}), ALL.to_vec()),
        (json!({"or": [], "title": "alpha"}), vec!["alpha"]),
        (
            json!({"score": {"inq": []}, "title": "alpha"}),
            none.clone(),
        ),
        (
            json!({"or": [{"score": {"in": []}}, {"title": "beta"}]}),
            vec!["beta"],
        ),
        (
            json!({"or": [{"score": {"nin": []}}, {"title": "beta"}]}),
            ALL.to_vec(),
        ),
        (json!({"not": {"score": {"in": []}}}), ALL.to_vec()),
        (json!({"not": {"score": {"nin": []}}}), none.clone()),
        (json!({"score": {"not": {"in": []}}}), ALL.to_vec()),
        (json!({"meta.k": {"in": []}}), none.clone()),
        (json!({"meta.k": {"nin": []}}), ALL.to_vec()),
        (json!({"tags": {"overlaps": []}}), none.clone()),
        (json!({"tags": {"contains": []}}), ALL.to_vec()),
    ];
    for (w, expected) in cases {
        assert_eq!(matching(&app, w.clone()), expected, "where {w}");
    }
    assert!(!app
        .events
        .exists_with(&json!({"score": {"in": []}}))
        .unwrap());
    assert!(app
        .events
        .exists_with(&json!({"score": {"nin": []}}))
        .unwrap());
    // A where that matches nothing is not an empty where: update_all runs and changes nothing.
    let r = app
        .events
        .update_all(&json!({"score": 0}), &json!({"score": {"in": []}}))
        .unwrap();
    assert_eq!((r.count, r.data.len()), (0, 0));
    assert_eq!(app.events.count(&json!({"score": 0})).unwrap(), 0);
}

#[test]
fn a_many_relation_declared_with_fields_and_references_needs_no_reverse_relation() {
    let app = app();
    seed(&app);
    assert!(
        app.notes.model().relations.is_empty(),
        "Note declares no relation back to Event"
    );
    for (event, body) in [
        (2, "b-late"),
        (1, "a-first"),
        (2, "b-early"),
        (1, "a-second"),
    ] {
        app.notes
            .create(&json!({"eventId": event, "body": body}))
            .unwrap();
    }
    let rows = app
        .events
        .find(&json!({
            "fields": ["title"],
            "order": "id",
            "where": {"id": {"lte": 3}},
            "include": [{"relation": "notes", "scope": {"fields": ["body"], "order": "body DESC"}}]
        }))
        .unwrap();
    assert_eq!(
        rows,
        vec![
            json!({"title": "alpha", "notes": [{"body": "a-second"}, {"body": "a-first"}]}),
            json!({"title": "beta", "notes": [{"body": "b-late"}, {"body": "b-early"}]}),
            json!({"title": "gamma", "notes": []}),
        ]
    );
    // The plain form, and a scope with a where.
    let rows = app
        .events
        .find(&json!({"where": {"title": "beta"}, "include": "notes"}))
        .unwrap();
    let mut bodies: Vec<&str> = rows[0]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    bodies.sort_unstable();
    assert_eq!(bodies, vec!["b-early", "b-late"]);
    assert_eq!(rows[0]["notes"][0]["eventId"], json!(2));
    let rows = app
        .events
        .find(&json!({
            "fields": ["title"], "order": "id", "limit": 2,
            "include": [{"relation": "notes", "scope": {"where": {"body": {"like": "%first"}}, "fields": ["body"]}}]
        }))
        .unwrap();
    assert_eq!(
        rows,
        vec![
            json!({"title": "alpha", "notes": [{"body": "a-first"}]}),
            json!({"title": "beta", "notes": []}),
        ]
    );
}

#[test]
fn a_where_on_a_hidden_property_works_while_it_is_never_returned() {
    let app = app();
    let created = seed(&app);
    for row in &created {
        assert!(row.get("secret").is_none(), "create returned {row}");
    }
    // secrets: alpha s-alpha, beta s-beta, gamma NULL, delta s-delta, epsilon s-eps.
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"secret": "s-beta"}), vec!["beta"]),
        (
            json!({"secret": {"like": "s-%a"}}),
            vec!["alpha", "beta", "delta"],
        ),
        (json!({"secret": null}), vec!["gamma"]),
        (
            json!({"secret": {"exists": true}, "score": {"gt": 5}}),
            vec!["delta", "epsilon"],
        ),
        (
            json!({"not": {"secret": {"inq": ["s-alpha", "s-eps"]}}}),
            vec!["beta", "delta"],
        ),
    ];
    for (w, expected) in cases {
        assert_eq!(matching(&app, w.clone()), expected, "where {w}");
    }
    // Ordering by it works too; it still does not come back.
    assert_eq!(
        ordered(&app, json!({"order": "secret DESC NULLS LAST"})),
        vec!["epsilon", "delta", "beta", "alpha", "gamma"]
    );
    for filter in [
        json!({"where": {"secret": "s-beta"}}),
        json!({"where": {"secret": "s-beta"}, "fields": ["title", "secret"]}),
        json!({"where": {"secret": "s-beta"}, "fields": {"secret": true, "title": true}}),
        json!({"where": {"secret": "s-beta"}, "fields": {"title": false}}),
        json!({"order": "secret", "include": ["notes"]}),
    ] {
        let rows = app.events.find(&filter).unwrap();
        assert!(!rows.is_empty(), "{filter}");
        for row in rows {
            assert!(row.get("secret").is_none(), "{filter}: {row}");
        }
    }
    assert_eq!(
        app.events
            .find(&json!({"where": {"secret": "s-beta"}, "fields": ["title", "secret"]}))
            .unwrap(),
        vec![json!({"title": "beta"})]
    );
    let updated = app
        .events
        .update_all(&json!({"score": 6}), &json!({"secret": "s-beta"}))
        .unwrap();
    assert_eq!(updated.count, 1);
    assert_eq!(updated.data[0]["title"], "beta");
    assert!(updated.data[0].get("secret").is_none());
    let deleted = app.events.delete_all(&json!({"secret": "s-eps"})).unwrap();
    assert_eq!(titles(&deleted.data), vec!["epsilon"]);
    assert!(deleted.data[0].get("secret").is_none());
}

/// Titles of the rows `sql` (a `SELECT title FROM "Event" WHERE ... ORDER BY id`) returns when
/// run as written, on a plain client: what Ignis's `IN (...)` / `NOT IN (...)` SQL matches.
fn raw_titles(app: &App, sql: &str) -> Vec<String> {
    app.db
        .client()
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn a_null_in_an_in_or_nin_list_matches_no_row_as_in_sql() {
    let app = app();
    seed(&app);
    // (where, the SQL Ignis writes for it, the titles both match).
    let cases: Vec<(Value, &str, Vec<&str>)> = vec![
        (
            json!({"score": {"inq": [1, null]}}),
            "score IN (1, NULL)",
            vec!["alpha"],
        ),
        (
            json!({"score": {"in": [null, 5, 7]}}),
            "score IN (NULL, 5, 7)",
            vec!["beta", "epsilon"],
        ),
        (
            json!({"score": [10, null]}),
            "score IN (10, NULL)",
            vec!["delta"],
        ),
        (json!({"score": {"inq": [null]}}), "score IN (NULL)", vec![]),
        // `x <> NULL` is unknown, so NOT IN with a null matches nothing, not even the rows
        // whose value is not in the list, nor those whose value is NULL.
        (
            json!({"score": {"nin": [1, null]}}),
            "score NOT IN (1, NULL)",
            vec![],
        ),
        (
            json!({"score": {"nin": [null]}}),
            "score NOT IN (NULL)",
            vec![],
        ),
        (
            json!({"title": {"nin": ["alpha", null]}}),
            "title NOT IN ('alpha', NULL)",
            vec![],
        ),
        (
            json!({"title": {"inq": ["gamma", null, "beta"]}}),
            "title IN ('gamma', NULL, 'beta')",
            vec!["beta", "gamma"],
        ),
        // NOT of an unknown is unknown: `not` does not turn the null into a match.
        (
            json!({"score": {"not": {"inq": [1, null]}}}),
            "NOT (score IN (1, NULL))",
            vec![],
        ),
        (
            json!({"not": {"score": {"inq": [1, null]}}}),
            "NOT (score IN (1, NULL))",
            vec![],
        ),
        // Without the null, the same lists match what they always did.
        (
            json!({"score": {"nin": [1]}}),
            "score NOT IN (1)",
            vec!["beta", "delta", "epsilon"],
        ),
        // JSON paths: numbers compare numerically, strings as text, the null matches nothing.
        (
            json!({"meta.k": {"in": [1, null]}}),
            "(meta #>> '{k}')::numeric IN (1, NULL)",
            vec!["alpha"],
        ),
        (
            json!({"meta.k": {"inq": ["v", null]}}),
            "meta #>> '{k}' IN ('v', NULL)",
            vec!["beta"],
        ),
        (
            json!({"meta.k": {"nin": ["v", null]}}),
            "meta #>> '{k}' NOT IN ('v', NULL)",
            vec![],
        ),
    ];
    for (r#where, sql, expected) in cases {
        assert_eq!(matching(&app, r#where.clone()), expected, "{where}");
        let raw = format!(
            "SELECT title FROM \"Event\" WHERE {} ORDER BY id",
            // Only alpha holds a number at meta.k: the numeric cast is safe for the raw query.
            sql.replace(
                "(meta #>> '{k}')::numeric",
                "(CASE WHEN jsonb_typeof(meta -> 'k') = 'number' THEN (meta #>> '{k}')::numeric END)"
            )
        );
        assert_eq!(raw_titles(&app, &raw), expected, "{raw}");
    }
    // Values next to a null are still coerced to the column's type.
    assert_filter_error(
        &json!("a text in an integer list"),
        app.events
            .find(&json!({"where": {"score": {"in": [null, "x"]}}})),
        FilterErrorKind::InvalidValue,
        &["`score`"],
    );
}

/// Runs a find on `Event` with `r#where` through the repository on `exec`; the filter error it
/// returns for the server's refusal of a pattern (SQLSTATE 2201B).
fn regexp_failure(
    app: &App,
    exec: &mut dyn ignis_tx::Executor,
    r#where: &Value,
) -> ignis_repo::FilterError {
    match app.events.on(exec).find(&json!({ "where": r#where })) {
        Err(RepoError::Filter(e)) => e,
        other => panic!("{where}: expected the filter error for 2201B, got {other:?}"),
    }
}

#[test]
fn an_invalid_regexp_names_its_field_operator_and_pattern_even_among_several() {
    let app = app();
    seed(&app);
    let ds = app.db.datasource();
    let mut conn = ds.connection().unwrap();
    let cases: Vec<(Value, Vec<&str>, Vec<&str>)> = vec![
        // (where, named in the message, not named).
        (
            json!({"title": {"regexp": "("}}),
            vec!["`title`", "`regexp`", "\"(\""],
            vec![],
        ),
        (
            json!({"title": {"regexp": "^a"}, "meta.k": {"iregexp": "a{2,1}"}}),
            vec!["`meta.k`", "`iregexp`", "\"a{2,1}\""],
            vec!["`title`", "\"^a\""],
        ),
        (
            json!({"or": [{"title": {"iregexp": "[z"}}, {"title": {"regexp": "b"}}]}),
            vec!["`title`", "`iregexp`", "\"[z\""],
            vec!["`regexp`", "\"b\""],
        ),
        (
            json!({"title": {"regexp": "x"}, "not": {"meta.k": {"regexp": "(?"}}}),
            vec!["`meta.k`", "`regexp`", "\"(?\""],
            vec!["`title`", "\"x\""],
        ),
    ];
    for (r#where, named, not_named) in cases {
        let e = regexp_failure(&app, &mut conn, &r#where);
        assert_eq!(e.kind(), FilterErrorKind::InvalidValue, "{where}: {e}");
        let message = e.to_string();
        for name in named {
            assert!(message.contains(name), "{where}: `{message}` names {name}");
        }
        for name in not_named {
            assert!(!message.contains(name), "{where}: `{message}` names {name}");
        }
    }
    // The probes ran outside a transaction: the connection is still good.
    assert_eq!(conn.query_one("SELECT 1", &[]).unwrap().get::<_, i32>(0), 1);

    // Inside a transaction the failed statement has aborted it: the server cannot be asked
    // which pattern is wrong, so every candidate is named.
    let mut tx = ds.begin(Default::default()).unwrap();
    let e = regexp_failure(
        &app,
        &mut tx,
        &json!({"title": {"regexp": "^a"}, "meta.k": {"iregexp": "a{2,1}"}}),
    );
    assert_eq!(e.kind(), FilterErrorKind::InvalidValue, "{e}");
    let message = e.to_string();
    for name in ["`title`", "`meta.k`", "\"^a\"", "\"a{2,1}\"", "`iregexp`"] {
        assert!(message.contains(name), "`{message}` names {name}");
    }
    tx.rollback().unwrap();
}

/// `levels` arrays around `1`, built iteratively.
fn nested_arrays(levels: usize) -> Value {
    (0..levels).fold(json!(1), |v, _| Value::Array(vec![v]))
}

#[test]
fn deep_where_values_and_megabyte_names_are_short_typed_errors() {
    let app = app();
    seed(&app);
    let limit = FilterLimits::default().max_value_depth.to_string();
    for levels in [10_000, 100_000] {
        for (key, op) in [("meta", "contains"), ("meta.k", "eq"), ("score", "in")] {
            let w = object(key, object(op, nested_arrays(levels)));
            let filter = object("where", w);
            let field = format!("`{key}`");
            assert_filter_error(
                &json!(levels),
                app.events.find(&filter),
                FilterErrorKind::ValueTooDeep,
                &[&field, &limit],
            );
            assert_filter_error(
                &json!(levels),
                app.events.count(&filter["where"]),
                FilterErrorKind::ValueTooDeep,
                &[&field, &limit],
            );
            dismantle(filter);
        }
    }
    // At the limit the value is an ordinary operand.
    let at_limit = object("where", object("meta", object("contains", json!({"k": 1}))));
    assert_eq!(ordered(&app, at_limit), vec!["alpha"]);
    let deepest = FilterLimits::default().max_value_depth;
    let w = object("meta.k", object("eq", nested_arrays(deepest)));
    assert!(matching(&app, w).is_empty());

    // Messages quote a short prefix of what they repeat.
    let mib = 1 << 20;
    let long = "q".repeat(mib);
    for (filter, kind) in [
        (
            object("where", object(&long, json!(1))),
            FilterErrorKind::UnknownField,
        ),
        (
            json!({"fields": [long.clone()]}),
            FilterErrorKind::UnknownField,
        ),
        (
            json!({"where": {"score": long.clone()}}),
            FilterErrorKind::InvalidValue,
        ),
        (
            json!({"where": {"score": {long.clone(): 1}}}),
            FilterErrorKind::UnknownOperator,
        ),
        (
            json!({"include": [long.clone()]}),
            FilterErrorKind::UnknownRelation,
        ),
        (
            json!({"order": format!("title {long}")}),
            FilterErrorKind::InvalidOrder,
        ),
    ] {
        match app.events.find(&filter) {
            Err(RepoError::Filter(e)) => {
                assert_eq!(e.kind(), kind);
                let message = e.to_string();
                assert!(
                    message.len() < 300,
                    "{} bytes: {}",
                    message.len(),
                    &message[..300]
                );
                // The cut says how long the quoted input was (the name, or the whole term).
                assert!(
                    message.contains("qqqq") && message.contains(&format!("…({mib} bytes)"))
                        || message.contains(&format!("…({} bytes)", mib + 6)),
                    "{message}"
                );
            }
            other => panic!(
                "expected a {kind} error, got {:?}",
                other.map(|rows| rows.len())
            ),
        }
    }
}

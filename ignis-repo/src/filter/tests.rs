//! Unit tests of the filter language: the SQL text sea-query builds (placeholders, never inlined
//! values) and the bound values, for every operator and edge case, and every error.

use ignis_schema::enrich::{IdOptions, TzOptions};
use ignis_schema::{Column, Enricher, Model, PgType, Relation, Schema};
use proptest::prelude::*;
use sea_query::{Alias, ArrayType, PostgresQueryBuilder, Query, Value as SqlValue};
use serde_json::{json, Value as JsonValue};

use super::*;

// ------------------------------------------------------------------------------------------------
// fixtures

/// Columns in order: id 0, age 1, name 2, metadata 3, tags 4, last_login_at 5, active 6,
/// avatar 7, password 8 (hidden), score 9, settings 10, rank 11.
fn user() -> Model {
    Model::new("User")
        .enrich(Enricher::Id(IdOptions::string()))
        .column(Column::new("age", PgType::Integer))
        .column(Column::new("name", PgType::Text))
        .column(Column::new("metadata", PgType::Jsonb))
        .column(Column::new("tags", PgType::Array(Box::new(PgType::Text))))
        .column(Column::new("lastLoginAt", PgType::TIMESTAMPTZ))
        .column(Column::new("active", PgType::Boolean))
        .column(Column::new("avatar", PgType::Bytea))
        .column(Column::new("password", PgType::Text))
        .column(Column::new(
            "score",
            PgType::Numeric {
                precision: Some(10),
                scale: Some(2),
            },
        ))
        .column(Column::new("settings", PgType::Json))
        .column(Column::new("rank", PgType::SmallInt))
        .hide(["password"])
        .relation(Relation::many("posts", "Post", ["id"], ["authorId"]))
}

/// Columns: id 0 (integer), created_at 1, modified_at 2, deleted_at 3, author_id 4, title 5.
fn post() -> Model {
    Model::new("Post")
        .schema("blog")
        .enrich(Enricher::Id(IdOptions::number()))
        .enrich(Enricher::Tz(TzOptions::with_deleted()))
        .column(Column::new("authorId", PgType::Text))
        .column(Column::new("title", PgType::Text))
        .default_filter(json!({"where": {"deletedAt": null}}))
        .relation(Relation::one("author", "User", ["authorId"], ["id"]))
}

fn schema() -> Schema {
    Schema::new(vec![user(), post()]).unwrap()
}

fn limits() -> FilterLimits {
    FilterLimits::default()
}

fn s(v: &str) -> SqlValue {
    SqlValue::String(Some(v.to_string()))
}

fn strings(items: &[&str]) -> SqlValue {
    SqlValue::Array(
        ArrayType::String,
        Some(Box::new(items.iter().map(|i| s(i)).collect())),
    )
}

fn ints(items: &[i32]) -> SqlValue {
    SqlValue::Array(
        ArrayType::Int,
        Some(Box::new(
            items.iter().map(|i| SqlValue::Int(Some(*i))).collect(),
        )),
    )
}

/// The SQL after `WHERE` and the bound values for a where on `model`.
fn where_on(model: &Model, w: JsonValue) -> (String, Vec<SqlValue>) {
    let condition =
        parse_where(model, &w, &limits()).unwrap_or_else(|e| panic!("{w} should parse: {e}"));
    let (sql, values) = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("T"))
        .cond_where(condition.to_sea_query(None))
        .build(PostgresQueryBuilder);
    let prefix = r#"SELECT "id" FROM "T" WHERE "#;
    let rest = sql
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("unexpected statement {sql}"));
    (rest.to_string(), values.0)
}

fn where_sql(w: JsonValue) -> (String, Vec<SqlValue>) {
    where_on(&user(), w)
}

fn where_err(w: JsonValue) -> FilterError {
    match parse_where(&user(), &w, &limits()) {
        Ok(c) => panic!("{w} should be rejected, parsed to {c:?}"),
        Err(e) => e,
    }
}

fn filter(json: JsonValue) -> Filter {
    Filter::parse(&user(), &schema(), &json, &limits())
        .unwrap_or_else(|e| panic!("{json} should parse: {e}"))
}

fn filter_err(json: JsonValue) -> FilterError {
    match Filter::parse(&user(), &schema(), &json, &limits()) {
        Ok(f) => panic!("{json} should be rejected, parsed to {f:?}"),
        Err(e) => e,
    }
}

// ------------------------------------------------------------------------------------------------
// where: implicit forms and every operator

#[test]
fn implicit_equality_array_and_null() {
    assert_eq!(
        where_sql(json!({"age": 30})),
        (r#""age" = $1"#.into(), vec![SqlValue::Int(Some(30))])
    );
    assert_eq!(
        where_sql(json!({"age": [1, 2]})),
        (r#""age" = ANY($1)"#.into(), vec![ints(&[1, 2])])
    );
    assert_eq!(
        where_sql(json!({"age": null})),
        (r#""age" IS NULL"#.into(), vec![])
    );
    // Several keys are ANDed (in key order, so the same filter always gives the same SQL).
    assert_eq!(
        where_sql(json!({"name": "x", "age": 3})),
        (
            r#""age" = $1 AND "name" = $2"#.into(),
            vec![SqlValue::Int(Some(3)), s("x")]
        )
    );
    // On an array column an array is the whole value, not a list.
    assert_eq!(
        where_sql(json!({"tags": ["a", "b"]})),
        (r#""tags" = $1"#.into(), vec![strings(&["a", "b"])])
    );
    // An object on a jsonb column is JSON equality, bound as jsonb.
    assert_eq!(
        where_sql(json!({"metadata": {"a": 1}})),
        (
            r#""metadata" = ($1::jsonb)"#.into(),
            vec![SqlValue::Json(Some(Box::new(json!({"a": 1}))))]
        )
    );
}

#[test]
fn every_operator_compiles_to_its_sql() {
    let int = |i: i32| SqlValue::Int(Some(i));
    let cases: Vec<(JsonValue, &str, Vec<SqlValue>)> = vec![
        (json!({"age": {"eq": 5}}), r#""age" = $1"#, vec![int(5)]),
        (json!({"age": {"is": 5}}), r#""age" = $1"#, vec![int(5)]),
        (json!({"age": {"ne": 5}}), r#""age" <> $1"#, vec![int(5)]),
        (json!({"age": {"neq": 5}}), r#""age" <> $1"#, vec![int(5)]),
        (json!({"age": {"isn": 5}}), r#""age" <> $1"#, vec![int(5)]),
        (json!({"age": {"gt": 5}}), r#""age" > $1"#, vec![int(5)]),
        (json!({"age": {"gte": 5}}), r#""age" >= $1"#, vec![int(5)]),
        (json!({"age": {"lt": 5}}), r#""age" < $1"#, vec![int(5)]),
        (json!({"age": {"lte": 5}}), r#""age" <= $1"#, vec![int(5)]),
        (
            json!({"name": {"like": "a%"}}),
            r#""name" LIKE $1"#,
            vec![s("a%")],
        ),
        (
            json!({"name": {"nlike": "a%"}}),
            r#""name" NOT LIKE $1"#,
            vec![s("a%")],
        ),
        (
            json!({"name": {"ilike": "a%"}}),
            r#""name" ILIKE $1"#,
            vec![s("a%")],
        ),
        (
            json!({"name": {"nilike": "a%"}}),
            r#""name" NOT ILIKE $1"#,
            vec![s("a%")],
        ),
        (
            json!({"name": {"regexp": "^a"}}),
            r#""name" ~ $1"#,
            vec![s("^a")],
        ),
        (
            json!({"name": {"iregexp": "^a"}}),
            r#""name" ~* $1"#,
            vec![s("^a")],
        ),
        (
            json!({"age": {"in": [1, 2]}}),
            r#""age" = ANY($1)"#,
            vec![ints(&[1, 2])],
        ),
        (
            json!({"age": {"inq": [1, 2]}}),
            r#""age" = ANY($1)"#,
            vec![ints(&[1, 2])],
        ),
        (
            json!({"age": {"nin": [1, 2]}}),
            r#""age" <> ALL($1)"#,
            vec![ints(&[1, 2])],
        ),
        // A scalar given to in / nin is a one-element list (Ignis: equality / inequality).
        (
            json!({"age": {"in": 7}}),
            r#""age" = ANY($1)"#,
            vec![ints(&[7])],
        ),
        (
            json!({"age": {"between": [1, 9]}}),
            r#""age" BETWEEN $1 AND $2"#,
            vec![int(1), int(9)],
        ),
        (
            json!({"age": {"notBetween": [1, 9]}}),
            r#""age" NOT BETWEEN $1 AND $2"#,
            vec![int(1), int(9)],
        ),
        (
            json!({"tags": {"contains": ["a"]}}),
            r#""tags" @> $1"#,
            vec![strings(&["a"])],
        ),
        // Ignis wraps a scalar into a one-element array.
        (
            json!({"tags": {"contains": "a"}}),
            r#""tags" @> $1"#,
            vec![strings(&["a"])],
        ),
        (
            json!({"tags": {"containedBy": ["a", "b"]}}),
            r#""tags" <@ $1"#,
            vec![strings(&["a", "b"])],
        ),
        (
            json!({"tags": {"overlaps": ["a", "b"]}}),
            r#""tags" && $1"#,
            vec![strings(&["a", "b"])],
        ),
        (
            json!({"metadata": {"contains": {"a": 1}}}),
            r#""metadata" @> ($1::jsonb)"#,
            vec![SqlValue::Json(Some(Box::new(json!({"a": 1}))))],
        ),
        (
            json!({"metadata": {"containedBy": {"a": 1, "b": 2}}}),
            r#""metadata" <@ ($1::jsonb)"#,
            vec![SqlValue::Json(Some(Box::new(json!({"a": 1, "b": 2}))))],
        ),
        (
            json!({"name": {"exists": true}}),
            r#""name" IS NOT NULL"#,
            vec![],
        ),
        (
            json!({"name": {"exists": false}}),
            r#""name" IS NULL"#,
            vec![],
        ),
        (
            json!({"name": {"notExists": true}}),
            r#""name" IS NULL"#,
            vec![],
        ),
        (
            json!({"age": {"not": {"gt": 5}}}),
            r#"NOT "age" > $1"#,
            vec![int(5)],
        ),
        (
            json!({"age": {"not": 5}}),
            r#"NOT "age" = $1"#,
            vec![int(5)],
        ),
        (
            json!({"age": {"gte": 18, "lt": 65}}),
            r#""age" >= $1 AND "age" < $2"#,
            vec![int(18), int(65)],
        ),
    ];
    for (w, sql, values) in cases {
        assert_eq!(where_sql(w.clone()), (sql.to_string(), values), "{w}");
    }
}

#[test]
fn null_edge_cases() {
    for op in ["eq", "is"] {
        assert_eq!(
            where_sql(json!({"age": {op: null}})),
            (r#""age" IS NULL"#.into(), vec![])
        );
    }
    for op in ["ne", "neq", "isn"] {
        assert_eq!(
            where_sql(json!({"age": {op: null}})),
            (r#""age" IS NOT NULL"#.into(), vec![])
        );
    }
    for op in ["gt", "like", "between", "contains", "in"] {
        assert_eq!(
            where_err(json!({"name": {op: null}})).kind(),
            FilterErrorKind::InvalidValue,
            "{op}: null"
        );
    }
    // A null inside a list would make NOT IN match nothing: refused.
    assert_eq!(
        where_err(json!({"age": {"nin": [1, null]}})).kind(),
        FilterErrorKind::InvalidValue
    );
}

#[test]
fn empty_lists_and_groups() {
    assert_eq!(
        where_sql(json!({"age": {"in": []}})),
        ("FALSE".into(), vec![])
    );
    assert_eq!(
        where_sql(json!({"age": {"inq": []}})),
        ("FALSE".into(), vec![])
    );
    assert_eq!(where_sql(json!({"age": []})), ("FALSE".into(), vec![]));
    assert_eq!(
        where_sql(json!({"age": {"nin": []}})),
        ("TRUE".into(), vec![])
    );
    assert_eq!(where_sql(json!({"or": []})), ("TRUE".into(), vec![]));
    assert_eq!(where_sql(json!({"and": []})), ("TRUE".into(), vec![]));
    assert_eq!(where_sql(json!({})), ("TRUE".into(), vec![]));
    assert_eq!(
        where_sql(json!({"or": [], "and": [], "age": 1})),
        (r#""age" = $1"#.into(), vec![SqlValue::Int(Some(1))])
    );
    assert_eq!(
        where_sql(json!({"tags": {"contains": []}})),
        ("TRUE".into(), vec![])
    );
    assert_eq!(
        where_sql(json!({"tags": {"overlaps": []}})),
        ("FALSE".into(), vec![])
    );
    // A where that restricts nothing is no where at all in a Filter.
    assert_eq!(filter(json!({"where": {"or": []}})).r#where, None);
    assert_eq!(filter(json!({"where": {"age": {"nin": []}}})).r#where, None);
}

#[test]
fn between_is_inclusive_exactly_two_and_not_symmetric() {
    let (sql, values) = where_sql(json!({"age": {"between": [9, 1]}}));
    assert_eq!(sql, r#""age" BETWEEN $1 AND $2"#);
    // Bounds keep their order: [9, 1] matches nothing, as SQL BETWEEN (not BETWEEN SYMMETRIC).
    assert_eq!(values, vec![SqlValue::Int(Some(9)), SqlValue::Int(Some(1))]);
    for bad in [
        json!([1]),
        json!([1, 2, 3]),
        json!(5),
        json!([null, 2]),
        json!({}),
    ] {
        let e = where_err(json!({"age": {"between": bad}}));
        assert_eq!(e.kind(), FilterErrorKind::InvalidValue, "{bad}");
    }
}

#[test]
fn and_or_nest_and_parenthesise() {
    let (sql, values) = where_sql(json!({
        "or": [
            {"age": 1},
            {"and": [{"name": "a"}, {"age": {"gt": 2}}]},
            {"or": [{"active": true}, {"rank": 3}]}
        ]
    }));
    assert_eq!(
        sql,
        r#""age" = $1 OR ("name" = $2 AND "age" > $3) OR ("active" = $4 OR "rank" = $5)"#
    );
    assert_eq!(
        values,
        vec![
            SqlValue::Int(Some(1)),
            s("a"),
            SqlValue::Int(Some(2)),
            SqlValue::Bool(Some(true)),
            SqlValue::SmallInt(Some(3)),
        ]
    );
    // A group next to a field: both must hold.
    let (sql, _) = where_sql(json!({"name": "a", "or": [{"age": 1}, {"age": 2}]}));
    assert_eq!(sql, r#""name" = $1 AND ("age" = $2 OR "age" = $3)"#);
    // `and` / `or` given one object instead of an array (Ignis accepts it).
    let (sql, _) = where_sql(json!({"or": {"age": 1}}));
    assert_eq!(sql, r#""age" = $1"#);
    // Top-level `not` (an ignis-rs extension).
    let (sql, _) = where_sql(json!({"not": {"age": 1, "name": "a"}}));
    assert_eq!(sql, r#"NOT ("age" = $1 AND "name" = $2)"#);
}

// ------------------------------------------------------------------------------------------------
// value coercion in where

#[test]
fn values_are_coerced_to_the_column_type() {
    let (_, values) = where_sql(json!({"rank": 3, "age": "42", "active": "true"}));
    assert_eq!(
        values,
        vec![
            SqlValue::Bool(Some(true)),
            SqlValue::Int(Some(42)),
            SqlValue::SmallInt(Some(3)),
        ]
    );
    // Text columns take numbers and booleans as their text.
    assert_eq!(where_sql(json!({"name": 5})).1, vec![s("5")]);
    // Timestamps are parsed (RFC 3339), not passed as text.
    let (sql, values) = where_sql(json!({"lastLoginAt": {"gte": "2024-01-31T12:00:00+02:00"}}));
    assert_eq!(sql, r#""last_login_at" >= $1"#);
    let expected = chrono::DateTime::parse_from_rfc3339("2024-01-31T10:00:00Z")
        .map(|d| d.with_timezone(&chrono::Utc))
        .ok();
    assert_eq!(values, vec![SqlValue::ChronoDateTimeUtc(expected)]);
    // Numeric binds as text with a cast, so the value stays exact.
    let (sql, values) = where_sql(json!({"score": {"gt": 0.1}}));
    assert_eq!(sql, r#""score" > ($1::text::numeric)"#);
    assert_eq!(values, vec![s("0.1")]);
    let (sql, values) = where_sql(json!({"score": {"in": [1, "2.5"]}}));
    assert_eq!(sql, r#""score" = ANY($1::text[]::numeric[])"#);
    assert_eq!(values, vec![strings(&["1", "2.5"])]);
    // bytea from Postgres's hex form.
    assert_eq!(
        where_sql(json!({"avatar": "\\x00ff"})).1,
        vec![SqlValue::Bytes(Some(vec![0, 255]))]
    );
    // jsonb lists bind as one jsonb[] parameter.
    let (sql, _) = where_sql(json!({"metadata": {"in": [{"a": 1}, 2]}}));
    assert_eq!(sql, r#""metadata" = ANY($1::jsonb[])"#);
    // A json (not jsonb) column is read as jsonb, which has equality.
    let (sql, _) = where_sql(json!({"settings": {"eq": {"a": 1}}}));
    assert_eq!(sql, r#"("settings"::jsonb) = ($1::jsonb)"#);
}

#[test]
fn pattern_operators_on_non_text_columns() {
    let (sql, values) = where_sql(json!({"age": {"like": "4%"}}));
    assert_eq!(sql, r#"("age"::text) LIKE $1"#);
    assert_eq!(values, vec![s("4%")]);
    for (w, op) in [
        (json!({"tags": {"like": "a"}}), "like"),
        (json!({"avatar": {"ilike": "a"}}), "ilike"),
        (json!({"metadata": {"overlaps": [1]}}), "overlaps"),
        (json!({"age": {"contains": [1]}}), "contains"),
        (json!({"tags": {"in": [["a"]]}}), "in"),
    ] {
        assert_eq!(
            where_err(w.clone()),
            FilterError::OperatorNotApplicable {
                field: w
                    .as_object()
                    .and_then(|o| o.keys().next().cloned())
                    .unwrap_or_default(),
                operator: op.into(),
                pg_type: user()
                    .column_by_property(
                        w.as_object()
                            .and_then(|o| o.keys().next())
                            .map(String::as_str)
                            .unwrap_or_default()
                    )
                    .map(|c| c.pg_type.to_string())
                    .unwrap_or_default(),
            },
            "{w}"
        );
    }
    // Patterns are passed through, wildcards and escapes included, as a bound value.
    let (sql, values) = where_sql(json!({"name": {"like": "50\\%_off%"}}));
    assert_eq!(sql, r#""name" LIKE $1"#);
    assert_eq!(values, vec![s("50\\%_off%")]);
}

#[test]
fn values_never_reach_the_sql_text() {
    let hostile = "'; DROP TABLE \"User\"; --";
    let (sql, values) = where_sql(json!({
        "name": hostile,
        "metadata.a": {"like": hostile},
        "tags": {"contains": [hostile]},
        "or": [{"name": {"in": [hostile]}}]
    }));
    assert!(!sql.contains("DROP"), "{sql}");
    // Bound four times: the plain value, the pattern, and inside the two arrays.
    assert_eq!(format!("{values:?}").matches("DROP").count(), 4);
}

// ------------------------------------------------------------------------------------------------
// JSON paths

#[test]
fn json_paths_compare_as_text() {
    assert_eq!(
        where_sql(json!({"metadata.a.b": "x"})),
        (
            r#"("metadata" #>> $1) = $2"#.into(),
            vec![strings(&["a", "b"]), s("x")]
        )
    );
    assert_eq!(
        where_sql(json!({"metadata.items[0].name": {"ilike": "%x%"}})),
        (
            r#"("metadata" #>> $1) ILIKE $2"#.into(),
            vec![strings(&["items", "0", "name"]), s("%x%")]
        )
    );
    // A boolean compares as its JSON text; `in` with strings is a text[] list.
    assert_eq!(
        where_sql(json!({"metadata.flag": true})).1,
        vec![strings(&["flag"]), s("true")]
    );
    assert_eq!(
        where_sql(json!({"metadata.kind": {"in": ["a", "b"]}})),
        (
            r#"("metadata" #>> $1) = ANY($2)"#.into(),
            vec![strings(&["kind"]), strings(&["a", "b"])]
        )
    );
    // Null at a path: the key is missing or holds JSON null.
    assert_eq!(
        where_sql(json!({"metadata.a": null})),
        (
            r#"("metadata" #>> $1) IS NULL"#.into(),
            vec![strings(&["a"])]
        )
    );
    // A json column's path reads it as jsonb.
    assert_eq!(
        where_sql(json!({"settings.theme": "dark"})).0,
        r#"("settings"::jsonb #>> $1) = $2"#
    );
}

#[test]
fn json_paths_compare_numerically_for_numbers() {
    let guarded = r#"(CASE WHEN ("metadata" #>> $1) ~ '^-?[0-9]+(\.[0-9]+)?$' THEN ("metadata" #>> $2)::numeric END)"#;
    let (sql, values) = where_sql(json!({"metadata.score": {"gt": 5}}));
    assert_eq!(sql, format!("{} > ($3::text::numeric)", guarded));
    assert_eq!(
        values,
        vec![strings(&["score"]), strings(&["score"]), s("5")]
    );
    // Implicit equality and eq with a number are numeric too (Ignis).
    let (sql, _) = where_sql(json!({"metadata.score": 5}));
    assert_eq!(sql, format!("{} = ($3::text::numeric)", guarded));
    let (sql, values) = where_sql(json!({"metadata.score": {"between": [1.5, 2]}}));
    assert_eq!(
        sql,
        format!(
            "{} BETWEEN ($3::text::numeric) AND ($4::text::numeric)",
            guarded
        )
    );
    assert_eq!(values[2..], [s("1.5"), s("2")]);
    // A list of numbers compares numerically, one numeric[] parameter.
    let (sql, values) = where_sql(json!({"metadata.score": {"nin": [1, 2]}}));
    assert_eq!(sql, format!("{} <> ALL($3::text[]::numeric[])", guarded));
    assert_eq!(values[2], strings(&["1", "2"]));
    // A string operand on a range operator compares as text.
    let (sql, _) = where_sql(json!({"metadata.score": {"gt": "5"}}));
    assert_eq!(sql, r#"("metadata" #>> $1) > $2"#);
}

#[test]
fn json_paths_as_jsonb_for_objects_containment_and_existence() {
    assert_eq!(
        where_sql(json!({"metadata.address": {"city": "Hanoi"}})),
        (
            r#"("metadata" #> $1) = ($2::jsonb)"#.into(),
            vec![
                strings(&["address"]),
                SqlValue::Json(Some(Box::new(json!({"city": "Hanoi"}))))
            ]
        )
    );
    assert_eq!(
        where_sql(json!({"metadata.roles": {"contains": ["admin"]}})).0,
        r#"("metadata" #> $1) @> ($2::jsonb)"#
    );
    assert_eq!(
        where_sql(json!({"metadata.a": {"exists": true}})),
        (
            r#"("metadata" #> $1) IS NOT NULL"#.into(),
            vec![strings(&["a"])]
        )
    );
    assert_eq!(
        where_sql(json!({"metadata.a": {"notExists": true}})).0,
        r#"("metadata" #> $1) IS NULL"#
    );
    assert_eq!(
        where_err(json!({"metadata.a": {"overlaps": [1]}})).kind(),
        FilterErrorKind::OperatorNotApplicable
    );
    assert_eq!(
        where_err(json!({"metadata.a": {"gt": {"x": 1}}})).kind(),
        FilterErrorKind::InvalidValue
    );
}

#[test]
fn bad_json_paths_are_rejected() {
    for key in [
        "metadata..a",
        "metadata.",
        "metadata.a b",
        "metadata.2a",
        "metadata[x",
        "metadata[0]x",
        "metadata.a'b",
        "name.a",
        ".a",
    ] {
        let e = where_err(json!({key: 1}));
        assert_eq!(e.kind(), FilterErrorKind::InvalidPath, "{key}: {e}");
    }
    let deep = format!("metadata{}", ".a".repeat(40));
    assert_eq!(
        where_err(json!({deep: 1})).kind(),
        FilterErrorKind::InvalidPath
    );
    assert_eq!(
        where_err(json!({"nope.a": 1})),
        FilterError::UnknownField {
            model: "User".into(),
            field: "nope".into()
        }
    );
    // Kebab-case and index segments are fine (Ignis JSON_PATH_PATTERN).
    assert_eq!(
        where_sql(json!({"metadata.user-id[3]._x": "v"})).1[0],
        strings(&["user-id", "3", "_x"])
    );
}

// ------------------------------------------------------------------------------------------------
// fields, order, limit, skip

#[test]
fn fields_array_and_object_forms() {
    assert_eq!(
        filter(json!({"fields": ["id", "name", "id"]})).fields,
        Some(Fields::Include(vec!["id".into(), "name".into()]))
    );
    assert_eq!(
        filter(json!({"fields": {"name": true, "age": false}})).fields,
        Some(Fields::Include(vec!["name".into()]))
    );
    assert_eq!(
        filter(json!({"fields": {"age": false, "tags": false}})).fields,
        Some(Fields::Exclude(vec!["age".into(), "tags".into()]))
    );
    assert_eq!(filter(json!({"fields": []})).fields, None);
    assert_eq!(filter(json!({"fields": {}})).fields, None);
    assert_eq!(
        filter_err(json!({"fields": ["id", "nope"]})),
        FilterError::UnknownField {
            model: "User".into(),
            field: "nope".into()
        }
    );
    assert_eq!(
        filter_err(json!({"fields": {"name": 1}})).kind(),
        FilterErrorKind::InvalidValue
    );
    assert_eq!(
        filter_err(json!({"fields": "name"})).kind(),
        FilterErrorKind::Malformed
    );
}

#[test]
fn hidden_properties_are_never_selected_but_usable_in_where() {
    let m = user();
    let f = filter(json!({"fields": ["id", "password"], "where": {"password": "h"}}));
    let (select, indexes) = f.select(&m, &[]);
    assert_eq!(indexes, vec![0]);
    let (sql, values) = select.build(PostgresQueryBuilder);
    assert_eq!(
        sql,
        r#"SELECT "id" FROM "public"."User" WHERE "password" = $1"#
    );
    assert_eq!(values.0, vec![s("h")]);
    // All fields: everything but the hidden one.
    let all = filter(json!({})).output_columns(&m);
    assert_eq!(all, vec![0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11]);
    // Excluding: still never the hidden one.
    let f = filter(json!({"fields": {"age": false}}));
    assert_eq!(f.output_columns(&m), vec![0, 2, 3, 4, 5, 6, 7, 9, 10, 11]);
}

#[test]
fn select_builds_the_whole_statement() {
    let m = user();
    let f = filter(json!({
        "fields": {"name": true},
        "where": {"age": {"gt": 18}},
        "order": "name DESC",
        "limit": 10,
        "skip": 20
    }));
    let (select, indexes) = f.select(&m, &["id", "nope"]);
    assert_eq!(indexes, vec![0, 2]);
    let (sql, values) = select.build(PostgresQueryBuilder);
    assert_eq!(
        sql,
        r#"SELECT "id", "name" FROM "public"."User" WHERE "age" > $1 ORDER BY "name" DESC LIMIT $2 OFFSET $3"#
    );
    assert_eq!(
        values.0,
        vec![
            SqlValue::Int(Some(18)),
            SqlValue::BigUnsigned(Some(10)),
            SqlValue::BigUnsigned(Some(20)),
        ]
    );
    // As the repository runs it: limit and skip as literals the planner can see.
    let (sql, values, indexes) = f.build_select(&m, &["id", "nope"]);
    assert_eq!(indexes, vec![0, 2]);
    assert_eq!(
        sql,
        r#"SELECT "id", "name" FROM "public"."User" WHERE "age" > $1 ORDER BY "name" DESC LIMIT 10 OFFSET 20"#
    );
    assert_eq!(values.0.len(), 1);
    // The schema-qualified table of another schema, and no clauses for an empty filter.
    let p = post();
    let (select, indexes) = Filter::default().select(&p, &[]);
    assert_eq!(indexes, vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(
        select.build(PostgresQueryBuilder).0,
        r#"SELECT "id", "created_at", "modified_at", "deleted_at", "author_id", "title" FROM "blog"."Post""#
    );
}

#[test]
fn order_parsing() {
    let terms = filter(json!({"order": ["age", "name desc", "rank ASC NULLS FIRST"]})).order;
    let summary: Vec<_> = terms
        .iter()
        .map(|t| (t.field.property.as_str(), t.direction, t.nulls))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("age", Direction::Asc, None),
            ("name", Direction::Desc, None),
            ("rank", Direction::Asc, Some(Nulls::First)),
        ]
    );
    // One string, comma-separated terms, NULLS LAST after DESC.
    let f = filter(json!({"order": "age DESC NULLS LAST, metadata.score"}));
    let (select, _) = f.select(&user(), &[]);
    let (sql, values) = select.build(PostgresQueryBuilder);
    assert!(
        sql.ends_with(r#"ORDER BY "age" DESC NULLS LAST, "metadata" #> $1 ASC"#),
        "{sql}"
    );
    assert_eq!(values.0, vec![strings(&["score"])]);
    for bad in [
        json!("name sideways"),
        json!("name DESC extra"),
        json!("name NULLS"),
        json!("name NULLS middle"),
        json!(""),
        json!(["age", " "]),
        json!([5]),
    ] {
        assert_eq!(
            filter_err(json!({"order": bad})).kind(),
            FilterErrorKind::InvalidOrder,
            "{bad}"
        );
    }
    assert_eq!(
        filter_err(json!({"order": "nope DESC"})),
        FilterError::UnknownField {
            model: "User".into(),
            field: "nope".into()
        }
    );
    assert_eq!(
        filter_err(json!({"order": "name.a"})).kind(),
        FilterErrorKind::InvalidPath
    );
    assert_eq!(
        filter_err(json!({"order": {"name": "DESC"}})).kind(),
        FilterErrorKind::Malformed
    );
}

#[test]
fn limit_skip_offset() {
    let f = filter(json!({"limit": 10, "offset": 5}));
    assert_eq!((f.limit, f.skip), (Some(10), Some(5)));
    // skip wins over offset.
    let f = filter(json!({"limit": "10", "skip": 1, "offset": 5}));
    assert_eq!((f.limit, f.skip), (Some(10), Some(1)));
    let f = filter(json!({"limit": null, "skip": 0}));
    assert_eq!((f.limit, f.skip), (None, Some(0)));
    for bad in [
        json!(-1),
        json!(1.5),
        json!("ten"),
        json!(true),
        json!([1]),
        json!(u64::MAX),
    ] {
        for key in ["limit", "skip", "offset"] {
            assert_eq!(
                filter_err(json!({key: bad})),
                FilterError::InvalidValue {
                    field: key.into(),
                    expected: "a non-negative integer".into(),
                    found: error::describe(&bad),
                },
            );
        }
    }
    // A per-repository maximum: the default limit, and a ceiling.
    let capped = FilterLimits {
        max_limit: Some(100),
        ..FilterLimits::default()
    };
    let f = Filter::parse(&user(), &schema(), &json!({}), &capped);
    assert_eq!(f.map(|f| f.limit), Ok(Some(100)));
    let e = Filter::parse(&user(), &schema(), &json!({"limit": 101}), &capped);
    assert_eq!(e.map_err(|e| e.kind()), Err(FilterErrorKind::InvalidValue));
}

// ------------------------------------------------------------------------------------------------
// include

#[test]
fn include_forms_and_nested_scopes() {
    let f = filter(json!({"include": "posts"}));
    assert_eq!(
        f.include,
        vec![Inclusion {
            relation: "posts".into(),
            scope: None,
            should_skip_default_filter: false
        }]
    );
    let f = filter(json!({"include": [{
        "relation": "posts",
        "scope": {
            "where": {"title": {"like": "a%"}},
            "order": "title",
            "limit": 3,
            "include": [{"relation": "author", "scope": {"fields": ["name"]}}]
        },
        "shouldSkipDefaultFilter": true
    }]}));
    let inclusion = &f.include[0];
    assert!(inclusion.should_skip_default_filter);
    let scope = inclusion.scope.as_ref().unwrap();
    assert_eq!(scope.limit, Some(3));
    assert_eq!(scope.order[0].field.column, "title");
    let (sql, _) = scope
        .select(&post(), &["authorId"])
        .0
        .build(PostgresQueryBuilder);
    assert_eq!(
        sql,
        r#"SELECT "id", "created_at", "modified_at", "deleted_at", "author_id", "title" FROM "blog"."Post" WHERE "title" LIKE $1 ORDER BY "title" ASC LIMIT $2"#
    );
    let nested = &scope.include[0];
    assert_eq!(nested.relation, "author");
    assert_eq!(
        nested.scope.as_ref().and_then(|s| s.fields.clone()),
        Some(Fields::Include(vec!["name".into()]))
    );
    // Scope keys are validated against the target model.
    assert_eq!(
        filter_err(json!({"include": [{"relation": "posts", "scope": {"where": {"age": 1}}}]})),
        FilterError::UnknownField {
            model: "Post".into(),
            field: "age".into()
        }
    );
    assert_eq!(
        filter_err(json!({"include": ["comments"]})),
        FilterError::UnknownRelation {
            model: "User".into(),
            relation: "comments".into()
        }
    );
    for bad in [
        json!({"include": [{"scope": {}}]}),
        json!({"include": [{"relation": "posts", "where": {}}]}),
        json!({"include": [{"relation": 5}]}),
        json!({"include": [5]}),
        json!({"include": [{"relation": "posts", "scope": []}]}),
    ] {
        assert_eq!(
            filter_err(bad.clone()).kind(),
            FilterErrorKind::Malformed,
            "{bad}"
        );
    }
}

#[test]
fn include_depth_is_bounded() {
    // User.posts -> Post.author -> User.posts -> ...: `levels` nested includes.
    let chain = |levels: usize| {
        let mut inner = JsonValue::Null;
        for level in (0..levels).rev() {
            let relation = if level % 2 == 0 { "posts" } else { "author" };
            inner = if inner.is_null() {
                json!({"include": [relation]})
            } else {
                json!({"include": [{"relation": relation, "scope": inner}]})
            };
        }
        inner
    };
    assert!(Filter::parse(&user(), &schema(), &chain(4), &limits()).is_ok());
    assert_eq!(
        Filter::parse(&user(), &schema(), &chain(5), &limits()),
        Err(FilterError::TooDeep { limit: 4 })
    );
}

// ------------------------------------------------------------------------------------------------
// errors

#[test]
fn every_error_variant_names_its_problem() {
    let e = where_err(json!({"nope": 1}));
    assert_eq!(e.to_string(), "model `User` has no property `nope`");
    assert_eq!(e.kind(), FilterErrorKind::UnknownField);
    // Column names are not keys: properties are.
    assert_eq!(
        where_err(json!({"last_login_at": null})).kind(),
        FilterErrorKind::UnknownField
    );

    let e = where_err(json!({"age": {"gtx": 1}}));
    assert_eq!(e.to_string(), "unknown operator `gtx` on `age`");
    assert_eq!(e.kind(), FilterErrorKind::UnknownOperator);
    assert_eq!(
        where_err(json!({"age": {"gt": 1, "foo": 2}})),
        FilterError::UnknownOperator {
            field: "age".into(),
            operator: "foo".into()
        }
    );

    let e = where_err(json!({"age": "abc"}));
    assert_eq!(
        e.to_string(),
        "invalid value for `age`: expected an integer between -2147483648 and 2147483647, found \
         the string \"abc\""
    );
    assert_eq!(e.kind(), FilterErrorKind::InvalidValue);
    assert_eq!(
        where_err(json!({"age": 1.5})).kind(),
        FilterErrorKind::InvalidValue
    );
    assert_eq!(
        where_err(json!({"lastLoginAt": "yesterday"})).kind(),
        FilterErrorKind::InvalidValue
    );
    assert_eq!(
        where_err(json!({"age": {}})).kind(),
        FilterErrorKind::InvalidValue
    );

    let e = where_err(json!({"metadata": {"overlaps": [1]}}));
    assert_eq!(
        e.to_string(),
        "operator `overlaps` does not apply to `metadata` of type jsonb"
    );

    let e = filter_err(json!({"include": ["nope"]}));
    assert_eq!(e.to_string(), "model `User` has no relation `nope`");
    assert_eq!(e.kind(), FilterErrorKind::UnknownRelation);

    let mut deep = json!({"age": 1});
    for _ in 0..17 {
        deep = json!({"and": [deep]});
    }
    let e = where_err(deep);
    assert_eq!(e, FilterError::TooDeep { limit: 16 });
    assert_eq!(e.to_string(), "the filter nests deeper than 16 levels");
    let mut ok = json!({"age": 1});
    for _ in 0..16 {
        ok = json!({"or": [ok]});
    }
    assert!(parse_where(&user(), &ok, &limits()).is_ok());
    let mut nots = json!(1);
    for _ in 0..17 {
        nots = json!({"not": nots});
    }
    assert_eq!(
        where_err(json!({"age": nots})),
        FilterError::TooDeep { limit: 16 }
    );

    let many: serde_json::Map<String, JsonValue> = (0..300)
        .map(|i| (format!("metadata.k{i}"), json!(i)))
        .collect();
    let e = where_err(JsonValue::Object(many));
    assert_eq!(e, FilterError::TooManyConditions { limit: 256 });
    assert_eq!(e.kind(), FilterErrorKind::TooManyConditions);

    let small = FilterLimits {
        max_in_list: 2,
        ..FilterLimits::default()
    };
    let e = parse_where(&user(), &json!({"age": [1, 2, 3]}), &small);
    assert_eq!(
        e,
        Err(FilterError::ListTooLong {
            field: "age".into(),
            limit: 2
        })
    );

    let e = filter_err(json!({"order": "name up"}));
    assert_eq!(
        e.to_string(),
        "invalid order `name up`: expected `property [ASC|DESC] [NULLS FIRST|NULLS LAST]`"
    );

    let e = where_err(json!({"name.first": "a"}));
    assert_eq!(
        e.to_string(),
        "invalid JSON path `name.first` on `name`: `name` is a text column; JSON paths need json \
         or jsonb"
    );
    assert_eq!(e.kind(), FilterErrorKind::InvalidPath);

    for bad in [
        json!({"wher": {}}),
        json!({"where": []}),
        json!({"where": {"and": 1}}),
        json!({"where": {"or": [1]}}),
        json!({"where": {"not": []}}),
        json!([]),
        json!("filter"),
    ] {
        let e = filter_err(bad.clone());
        assert_eq!(e.kind(), FilterErrorKind::Malformed, "{bad}");
    }
    assert_eq!(
        filter_err(json!({"wher": {}})).to_string(),
        "malformed filter: unknown filter key `wher` (expected one of where, fields, order, \
         limit, skip, offset, include)"
    );
    assert_eq!(FilterErrorKind::TooDeep.as_str(), "tooDeep");
    assert_eq!(FilterErrorKind::UnknownField.to_string(), "unknownField");
}

#[test]
fn long_strings_are_cut_in_messages() {
    let long = "x".repeat(1000);
    let e = where_err(json!({"age": long}));
    assert!(e.to_string().len() < 200, "{e}");
}

// ------------------------------------------------------------------------------------------------
// default filters and emptiness

#[test]
fn merge_default_filter_caller_keys_win() {
    let default = json!({
        "where": {"deletedAt": null, "age": {"gt": 1}},
        "order": ["id"],
        "limit": 5,
        "skip": 3
    });
    let caller = json!({
        "where": {"deletedAt": {"neq": null}, "title": "x", "age": {"lt": 9}},
        "order": ["title DESC"],
        "offset": 10,
        "fields": null
    });
    assert_eq!(
        merge_filter_json(&default, &caller),
        json!({
            "where": {"deletedAt": {"neq": null}, "title": "x", "age": {"gt": 1, "lt": 9}},
            "order": ["title DESC"],
            "limit": 5,
            "offset": 10
        })
    );
    assert_eq!(merge_filter_json(&default, &JsonValue::Null), default);
    assert_eq!(
        merge_filter_json(&json!({}), &json!({"where": {"a": 1}})),
        json!({"where": {"a": 1}})
    );
    // `and` lists concatenate, two `or` groups both hold: a default scope is never dropped.
    assert_eq!(
        merge_where_json(
            &json!({"and": [{"t": 1}], "or": [{"a": 1}, {"b": 1}]}),
            &json!({"and": [{"x": 1}], "or": [{"c": 1}]})
        ),
        json!({"and": [{"t": 1}, {"x": 1}, {"or": [{"a": 1}, {"b": 1}]}, {"or": [{"c": 1}]}]})
    );
    // An `and` given as one object (accepted by the parser) concatenates too.
    assert_eq!(
        merge_where_json(&json!({"and": {"t": 1}}), &json!({"and": [{"x": 1}]})),
        json!({"and": [{"t": 1}, {"x": 1}]})
    );
    assert_eq!(
        merge_where_json(&json!({"deletedAt": null}), &JsonValue::Null),
        json!({"deletedAt": null})
    );
}

#[test]
fn default_filters_apply_to_the_model_and_include_scopes() {
    let p = post();
    let parsed =
        Filter::parse_with_defaults(&p, &schema(), &json!({}), &limits(), false).and_then(|f| {
            f.r#where
                .map(|w| w.to_sea_query(None))
                .ok_or(FilterError::malformed(""))
        });
    let (sql, _) = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("T"))
        .cond_where(parsed.unwrap())
        .build(PostgresQueryBuilder);
    assert!(sql.ends_with(r#"WHERE "deleted_at" IS NULL"#), "{sql}");
    // Caller keys win.
    let f = Filter::parse_with_defaults(
        &p,
        &schema(),
        &json!({"where": {"deletedAt": {"neq": null}}}),
        &limits(),
        false,
    );
    let w = f.ok().and_then(|f| f.r#where);
    assert!(matches!(&w, Some(Condition::Compare(c)) if c.op == Operator::IsNotNull));
    // Skipped on request.
    let f = Filter::parse_with_defaults(&p, &schema(), &json!({}), &limits(), true);
    assert_eq!(f.map(|f| f.r#where), Ok(None));
    // Inside includes, per related model, unless the inclusion skips it.
    let u = user();
    let f = Filter::parse_with_defaults(
        &u,
        &schema(),
        &json!({"include": ["posts"]}),
        &limits(),
        false,
    )
    .unwrap();
    assert!(f.include[0]
        .scope
        .as_ref()
        .and_then(|s| s.r#where.as_ref())
        .is_some());
    let f = Filter::parse_with_defaults(
        &u,
        &schema(),
        &json!({"include": [{"relation": "posts", "shouldSkipDefaultFilter": true}]}),
        &limits(),
        false,
    )
    .unwrap();
    assert_eq!(f.include[0].scope, None);
    // Plain parse applies no default.
    assert_eq!(filter(json!({"include": ["posts"]})).include[0].scope, None);
    // The where-only form.
    let w = parse_where_with_defaults(&p, &json!({"title": "a"}), &limits(), false);
    assert!(matches!(w, Ok(Condition::And(ref parts)) if parts.len() == 2));
}

#[test]
fn empty_where_detection() {
    for empty in [
        None,
        Some(json!(null)),
        Some(json!({})),
        Some(json!({"and": []})),
        Some(json!({"or": []})),
        Some(json!({"and": [{}, {"or": []}]})),
        Some(json!({"or": [{}, {"age": 1}]})),
    ] {
        assert!(is_empty_where(empty.as_ref()), "{empty:?}");
    }
    for restricting in [
        json!({"age": 1}),
        json!({"deletedAt": null}),
        json!({"and": [{}, {"age": 1}]}),
        json!({"or": [{"age": 1}]}),
        json!({"not": {}}),
        json!([]),
    ] {
        assert!(!is_empty_where(Some(&restricting)), "{restricting}");
    }
}

// ------------------------------------------------------------------------------------------------
// helpers for the repository

#[test]
fn any_of_binds_one_array_of_the_column_type() {
    let p = post();
    let c = any_of(&p, "authorId", &[json!("a"), JsonValue::Null, json!("b")]).unwrap();
    assert_eq!(
        where_on(&p, JsonValue::Null).0,
        "TRUE",
        "an empty where renders TRUE"
    );
    let (sql, values) = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("T"))
        .cond_where(c.to_sea_query(Some("p")))
        .build(PostgresQueryBuilder);
    assert_eq!(
        sql,
        r#"SELECT "id" FROM "T" WHERE "p"."author_id" = ANY($1)"#
    );
    assert_eq!(values.0, vec![strings(&["a", "b"])]);
    // Integer keys given as JSON strings or numbers bind as int4.
    let c = any_of(&p, "id", &[json!(1), json!("2")]).unwrap();
    assert!(
        matches!(c, Condition::Compare(ref cmp) if cmp.operand == Operand::List(BoundValue::plain(ints(&[1, 2]))))
    );
    assert_eq!(any_of(&p, "id", &[]), Ok(Condition::Const(false)));
    assert_eq!(
        any_of(&p, "id", &[json!("x")]).map_err(|e| e.kind()),
        Err(FilterErrorKind::InvalidValue)
    );
    assert_eq!(
        any_of(&p, "nope", &[json!(1)]).map_err(|e| e.kind()),
        Err(FilterErrorKind::UnknownField)
    );
    let eq = field_eq(&p, "id", &json!(7))
        .unwrap()
        .and(field_eq(&p, "title", &JsonValue::Null).unwrap());
    let (sql, _) = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("T"))
        .cond_where(eq.to_sea_query(None))
        .build(PostgresQueryBuilder);
    assert_eq!(
        sql,
        r#"SELECT "id" FROM "T" WHERE "id" = $1 AND "title" IS NULL"#
    );
}

#[test]
fn statements_are_stable_across_list_lengths() {
    let a = where_sql(json!({"age": {"in": [1]}})).0;
    let b = where_sql(json!({"age": {"in": [1, 2, 3, 4, 5]}})).0;
    assert_eq!(a, b);
}

// ------------------------------------------------------------------------------------------------
// property tests: arbitrary JSON never panics

fn arbitrary_json() -> impl Strategy<Value = JsonValue> {
    let keys = prop_oneof![
        Just("and".to_string()),
        Just("or".to_string()),
        Just("not".to_string()),
        Just("age".to_string()),
        Just("name".to_string()),
        Just("metadata".to_string()),
        Just("metadata.a.b".to_string()),
        Just("metadata[0]".to_string()),
        Just("tags".to_string()),
        Just("lastLoginAt".to_string()),
        Just("avatar".to_string()),
        Just("score".to_string()),
        Just("settings.x".to_string()),
        Just("password".to_string()),
        Just("rank".to_string()),
        Just("active".to_string()),
        prop::sample::select(parse_operators()).prop_map(str::to_string),
        "[a-z.\\[\\]0-9]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(JsonValue::Null),
        any::<bool>().prop_map(JsonValue::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!("2024-01-31T12:00:00Z")),
        Just(json!("\\x00ff")),
        ".{0,12}".prop_map(JsonValue::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(JsonValue::Array),
            prop::collection::vec((keys.clone(), inner), 0..5)
                .prop_map(|entries| JsonValue::Object(entries.into_iter().collect())),
        ]
    })
}

fn parse_operators() -> Vec<&'static str> {
    super::OPERATORS
        .iter()
        .copied()
        .filter(|o| *o != "not")
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_where_never_panics(w in arbitrary_json()) {
        let m = user();
        if let Ok(condition) = parse_where(&m, &w, &limits()) {
            // Compiling and building a statement cannot fail or panic either.
            let (sql, _) = Query::select()
                .column(Alias::new("id"))
                .from(Alias::new("T"))
                .cond_where(condition.to_sea_query(None))
                .build(PostgresQueryBuilder);
            prop_assert!(sql.starts_with("SELECT"));
        }
    }

    #[test]
    fn arbitrary_filter_never_panics(
        w in arbitrary_json(),
        order in prop::option::of(".{0,20}"),
        limit in prop::option::of(any::<i64>()),
        include in prop::option::of(prop::sample::select(vec!["posts", "author", "nope"])),
    ) {
        let mut f = serde_json::Map::new();
        f.insert("where".into(), w);
        if let Some(o) = order { f.insert("order".into(), json!(o)); }
        if let Some(l) = limit { f.insert("limit".into(), json!(l)); }
        if let Some(i) = include { f.insert("include".into(), json!([i])); }
        let json = JsonValue::Object(f);
        let m = user();
        if let Ok(filter) = Filter::parse_with_defaults(&m, &schema(), &json, &limits(), false) {
            let (select, indexes) = filter.select(&m, &["id"]);
            let (sql, _) = select.build(PostgresQueryBuilder);
            prop_assert!(sql.starts_with("SELECT"));
            prop_assert!(indexes.contains(&0));
        }
    }

    #[test]
    fn merges_never_panic(a in arbitrary_json(), b in arbitrary_json()) {
        let merged = merge_filter_json(&a, &b);
        let _ = merge_where_json(&a, &b);
        let _ = is_empty_where(Some(&merged));
    }
}

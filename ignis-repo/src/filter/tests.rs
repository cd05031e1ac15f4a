//! Unit tests of the filter language: the SQL text the engine's writer produces (placeholders,
//! never inlined values) and the bound values, for every operator and edge case, and every error.

use ignis_schema::enrich::{IdOptions, TzOptions};
use ignis_schema::{Column, Enricher, Model, PgType, Relation, Schema};
use proptest::prelude::*;
use sea_query::{ArrayType, Value as SqlValue};
use serde_json::{json, Value as JsonValue};

use super::*;
use crate::dismantle;
use crate::query::sql::{condition_sql, select_sql};

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

/// The SQL of a where on `model` (what follows `WHERE`) and its bound values.
fn where_on(model: &Model, w: JsonValue) -> (String, Vec<SqlValue>) {
    let condition =
        parse_where(model, &w, &limits()).unwrap_or_else(|e| panic!("{w} should parse: {e}"));
    condition_sql(model, &condition)
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
            r#"("age" = $1) AND ("name" = $2)"#.into(),
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
            r#""metadata" = $1::jsonb"#.into(),
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
            r#""metadata" @> $1::jsonb"#,
            vec![SqlValue::Json(Some(Box::new(json!({"a": 1}))))],
        ),
        (
            json!({"metadata": {"containedBy": {"a": 1, "b": 2}}}),
            r#""metadata" <@ $1::jsonb"#,
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
            r#"NOT ("age" > $1)"#,
            vec![int(5)],
        ),
        (
            json!({"age": {"not": 5}}),
            r#"NOT ("age" = $1)"#,
            vec![int(5)],
        ),
        (
            json!({"age": {"gte": 18, "lt": 65}}),
            r#"("age" >= $1) AND ("age" < $2)"#,
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
    // A null inside a list is a NULL element of the one array parameter (SQL semantics, as
    // Ignis's `IN (1, NULL)`): on a column, on a JSON path compared numerically, and as text.
    let with_null = |items: Vec<SqlValue>, ty| SqlValue::Array(ty, Some(Box::new(items)));
    for op in ["in", "inq"] {
        assert_eq!(
            where_sql(json!({"age": {op: [1, null]}})),
            (
                r#""age" = ANY($1)"#.into(),
                vec![with_null(
                    vec![SqlValue::Int(Some(1)), SqlValue::Int(None)],
                    ArrayType::Int
                )]
            ),
            "{op}"
        );
    }
    assert_eq!(
        where_sql(json!({"age": {"nin": [null, 2]}})),
        (
            r#""age" <> ALL($1)"#.into(),
            vec![with_null(
                vec![SqlValue::Int(None), SqlValue::Int(Some(2))],
                ArrayType::Int
            )]
        )
    );
    assert_eq!(
        where_sql(json!({"name": [null]})),
        (
            r#""name" = ANY($1)"#.into(),
            vec![with_null(vec![SqlValue::String(None)], ArrayType::String)]
        )
    );
    let (sql, values) = where_sql(json!({"metadata.k": {"in": [1.5, null]}}));
    assert!(sql.ends_with("= ANY($2::text[]::numeric[])"), "{sql}");
    assert_eq!(
        values[1],
        with_null(vec![s("1.5"), SqlValue::String(None)], ArrayType::String)
    );
    let (sql, values) = where_sql(json!({"metadata.k": {"nin": ["a", null, 2]}}));
    assert_eq!(sql, r#"("metadata" #>> $1) <> ALL($2)"#);
    assert_eq!(
        values[1],
        with_null(
            vec![s("a"), SqlValue::String(None), s("2")],
            ArrayType::String
        )
    );
    // The elements are still coerced: a null does not excuse a bad neighbour.
    assert_eq!(
        where_err(json!({"age": {"in": [null, "x"]}})).kind(),
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
        r#"("age" = $1) OR (("name" = $2) AND ("age" > $3)) OR (("active" = $4) OR ("rank" = $5))"#
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
    assert_eq!(sql, r#"("name" = $1) AND (("age" = $2) OR ("age" = $3))"#);
    // `and` / `or` given one object instead of an array (Ignis accepts it).
    let (sql, _) = where_sql(json!({"or": {"age": 1}}));
    assert_eq!(sql, r#""age" = $1"#);
    // Top-level `not` (an ignis-rs extension).
    let (sql, _) = where_sql(json!({"not": {"age": 1, "name": "a"}}));
    assert_eq!(sql, r#"NOT (("age" = $1) AND ("name" = $2))"#);
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
    assert_eq!(sql, r#""score" > $1::text::numeric"#);
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
    assert_eq!(sql, r#""settings"::jsonb = $1::jsonb"#);
}

#[test]
fn casts_to_user_types_are_written_as_the_model_names_them() {
    // Postgres allows `$` in an identifier after its first character; the cast is SQL text,
    // so the name is written unchanged (a doubled `$$` would name another type).
    let m = Model::new("Odd").column(Column::new("x", PgType::Custom("my$1type".into())));
    let parse = |w: JsonValue| parse_where(&m, &w, &limits()).map(|c| condition_sql(&m, &c));
    assert_eq!(
        parse(json!({"x": "a"})),
        Ok((r#""x" = $1::text::my$1type"#.into(), vec![s("a")]))
    );
    assert_eq!(
        parse(json!({"x": {"in": ["a", "b"]}})),
        Ok((
            r#""x" = ANY($1::text[]::my$1type[])"#.into(),
            vec![strings(&["a", "b"])]
        ))
    );
}

#[test]
fn pattern_operators_on_non_text_columns() {
    let (sql, values) = where_sql(json!({"age": {"like": "4%"}}));
    assert_eq!(sql, r#""age"::text LIKE $1"#);
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
    // The path is bound once and read twice: the guard, then the cast.
    let guarded = r#"CASE WHEN ("metadata" #>> $1) ~ '^-?[0-9]+(\.[0-9]+)?$' THEN ("metadata" #>> $1)::numeric END"#;
    let (sql, values) = where_sql(json!({"metadata.score": {"gt": 5}}));
    assert_eq!(sql, format!("{} > $2::text::numeric", guarded));
    assert_eq!(values, vec![strings(&["score"]), s("5")]);
    // Implicit equality and eq with a number are numeric too, so `10.0` at the path matches
    // `10`. Ignis compares the text form for `eq` (only `10` matches); ignis-rs differs on
    // purpose, so that every operator given a number compares numbers (see the module doc).
    let (sql, _) = where_sql(json!({"metadata.score": 5}));
    assert_eq!(sql, format!("{} = $2::text::numeric", guarded));
    let (sql, values) = where_sql(json!({"metadata.score": {"between": [1.5, 2]}}));
    assert_eq!(
        sql,
        format!(
            "{} BETWEEN $2::text::numeric AND $3::text::numeric",
            guarded
        )
    );
    assert_eq!(values[1..], [s("1.5"), s("2")]);
    // A list of numbers compares numerically, one numeric[] parameter.
    let (sql, values) = where_sql(json!({"metadata.score": {"nin": [1, 2]}}));
    assert_eq!(sql, format!("{} <> ALL($2::text[]::numeric[])", guarded));
    assert_eq!(values[1], strings(&["1", "2"]));
    // A string operand on a range operator compares as text.
    let (sql, _) = where_sql(json!({"metadata.score": {"gt": "5"}}));
    assert_eq!(sql, r#"("metadata" #>> $1) > $2"#);
}

#[test]
fn json_paths_as_jsonb_for_objects_containment_and_existence() {
    assert_eq!(
        where_sql(json!({"metadata.address": {"city": "Hanoi"}})),
        (
            r#"("metadata" #> $1) = $2::jsonb"#.into(),
            vec![
                strings(&["address"]),
                SqlValue::Json(Some(Box::new(json!({"city": "Hanoi"}))))
            ]
        )
    );
    assert_eq!(
        where_sql(json!({"metadata.roles": {"contains": ["admin"]}})).0,
        r#"("metadata" #> $1) @> $2::jsonb"#
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
    let (sql, values, indexes) = select_sql(&m, &f, &[]);
    assert_eq!(indexes, vec![0]);
    assert_eq!(
        sql,
        r#"SELECT "id" FROM "public"."User" WHERE "password" = $1"#
    );
    assert_eq!(values, vec![s("h")]);
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
    // The join property `id` is selected though `fields` leaves it out; unknown names are
    // ignored. Limit and skip are literals the planner can see, not parameters.
    let (sql, values, indexes) = select_sql(&m, &f, &["id", "nope"]);
    assert_eq!(indexes, vec![0, 2]);
    assert_eq!(
        sql,
        r#"SELECT "id", "name" FROM "public"."User" WHERE "age" > $1 ORDER BY "name" DESC LIMIT 10 OFFSET 20"#
    );
    assert_eq!(values, vec![SqlValue::Int(Some(18))]);
    // The schema-qualified table of another schema, and no clauses for an empty filter.
    let p = post();
    let (sql, values, indexes) = select_sql(&p, &Filter::default(), &[]);
    assert_eq!(indexes, vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(values, vec![]);
    assert_eq!(
        sql,
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
    let (sql, values, _) = select_sql(&user(), &f, &[]);
    assert!(
        sql.ends_with(r#"ORDER BY "age" DESC NULLS LAST, ("metadata" #> $1) ASC"#),
        "{sql}"
    );
    assert_eq!(values, vec![strings(&["score"])]);
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
    let (sql, values, _) = select_sql(&post(), scope, &["authorId"]);
    assert_eq!(
        sql,
        r#"SELECT "id", "created_at", "modified_at", "deleted_at", "author_id", "title" FROM "blog"."Post" WHERE "title" LIKE $1 ORDER BY "title" ASC LIMIT 3"#
    );
    assert_eq!(values, vec![s("a%")]);
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

/// `{key: value}`, built without `json!` (which serialises its operands again, recursively).
fn object(key: &str, value: JsonValue) -> JsonValue {
    let mut map = serde_json::Map::new();
    map.insert(key.to_string(), value);
    JsonValue::Object(map)
}

#[test]
fn messages_quote_a_short_prefix_of_megabyte_inputs() {
    let mib = 1 << 20;
    let long_key = "k".repeat(mib);
    let long_value = "v".repeat(mib);
    let long_path = format!("metadata.{}", "a.".repeat(mib / 2));
    let cases: Vec<(FilterError, FilterErrorKind, &str)> = vec![
        (
            where_err(object(&long_key, json!(1))),
            FilterErrorKind::UnknownField,
            "model `User` has no property `kkkk",
        ),
        (
            filter_err(json!({"fields": [long_key.clone()]})),
            FilterErrorKind::UnknownField,
            "has no property `kkkk",
        ),
        (
            filter_err(json!({"order": format!("{long_key} DESC")})),
            FilterErrorKind::UnknownField,
            "has no property `kkkk",
        ),
        (
            where_err(json!({"age": long_value.clone()})),
            FilterErrorKind::InvalidValue,
            "invalid value for `age`: expected an integer",
        ),
        (
            where_err(json!({"name": {"like": format!("{long_value}\\")}})),
            FilterErrorKind::InvalidValue,
            "invalid value for `name`",
        ),
        (
            where_err(json!({"age": object(&long_key, json!(1))})),
            FilterErrorKind::UnknownOperator,
            "unknown operator `kkkk",
        ),
        (
            filter_err(json!({"include": [long_key.clone()]})),
            FilterErrorKind::UnknownRelation,
            "model `User` has no relation `kkkk",
        ),
        (
            filter_err(json!({"order": format!("name {long_key}")})),
            FilterErrorKind::InvalidOrder,
            "invalid order `name kkkk",
        ),
        (
            where_err(object(&long_path, json!(1))),
            FilterErrorKind::InvalidPath,
            "invalid JSON path `metadata.a.a.",
        ),
        (
            where_err(object(&format!("metadata.{long_key}"), json!(1))),
            FilterErrorKind::InvalidPath,
            "segment `kkkk",
        ),
        (
            filter_err(object(&long_key, json!(1))),
            FilterErrorKind::Malformed,
            "unknown filter key `kkkk",
        ),
        (
            filter_err(json!({"include": [object(&long_key, json!(1))]})),
            FilterErrorKind::Malformed,
            "unknown include key `kkkk",
        ),
        (
            filter_err(json!({"order": [[long_value.clone()]]})),
            FilterErrorKind::InvalidOrder,
            "invalid order `an array of 1 elements`",
        ),
    ];
    for (e, kind, names) in cases {
        let message = e.to_string();
        assert_eq!(e.kind(), kind, "{message}");
        assert!(message.len() < 300, "{} bytes: {message}", message.len());
        assert!(
            message.contains(names),
            "`{message}` should contain `{names}`"
        );
    }
    // The cut says how long the whole input was.
    let message = where_err(object(&long_key, json!(1))).to_string();
    assert!(message.ends_with(&format!("…({mib} bytes)`")), "{message}");
    let message = where_err(json!({"age": long_value})).to_string();
    assert!(message.contains(&format!("…({mib} bytes)")), "{message}");
}

#[test]
fn excerpts_cut_on_a_character_boundary_and_keep_short_input_whole() {
    use std::borrow::Cow;
    assert!(matches!(excerpt("createdBy"), Cow::Borrowed("createdBy")));
    let eighty = "x".repeat(96);
    assert_eq!(excerpt(&eighty), eighty);
    // 63 ASCII bytes then two-byte characters: byte 64 falls inside one, so the cut is at 63.
    let mixed = format!("{}{}", "a".repeat(63), "é".repeat(100));
    assert_eq!(excerpt(&mixed), format!("{}…(263 bytes)", "a".repeat(63)));
    let emoji = "😀".repeat(1000);
    let cut = excerpt(&emoji);
    assert_eq!(cut, format!("{}…(4000 bytes)", "😀".repeat(16)));
    // A value quoted in a message is cut too, control characters escaped.
    let e = where_err(json!({"age": "\u{1}".repeat(10_000)}));
    assert!(e.to_string().len() < 300, "{e}");
}

// ------------------------------------------------------------------------------------------------
// value depth: refused without recursion

/// `levels` arrays (or single-key objects) around `1`, built iteratively.
fn nested(levels: usize, objects: bool) -> JsonValue {
    let mut v = json!(1);
    for _ in 0..levels {
        v = if objects {
            object("a", v)
        } else {
            JsonValue::Array(vec![v])
        };
    }
    v
}

fn too_deep(field: &str, limit: usize) -> FilterError {
    FilterError::ValueTooDeep {
        field: field.into(),
        limit,
    }
}

#[test]
fn values_nested_beyond_the_limit_are_refused_without_overflowing_the_stack() {
    let limit = limits().max_value_depth;
    assert_eq!(limit, 256);
    let post = post();
    for levels in [10_000, 100_000] {
        for objects in [false, true] {
            let deep = nested(levels, objects);
            let wheres: Vec<(JsonValue, &str)> = vec![
                (object("metadata", deep), "metadata"),
                (
                    object("metadata", object("contains", nested(levels, objects))),
                    "metadata",
                ),
                (
                    object("metadata.a", object("eq", nested(levels, objects))),
                    "metadata.a",
                ),
                (
                    object("settings", object("not", nested(levels, objects))),
                    "settings",
                ),
                (
                    object(
                        "age",
                        object("in", JsonValue::Array(vec![nested(levels, objects)])),
                    ),
                    "age",
                ),
                (
                    object("tags", object("contains", nested(levels, objects))),
                    "tags",
                ),
            ];
            for (w, field) in wheres {
                assert_eq!(
                    parse_where(&user(), &w, &limits()),
                    Err(too_deep(field, limit))
                );
                let f = object("where", w);
                assert_eq!(
                    Filter::parse(&user(), &schema(), &f, &limits()),
                    Err(too_deep(field, limit))
                );
                assert_eq!(
                    Filter::parse_with_defaults(&user(), &schema(), &f, &limits(), false),
                    Err(too_deep(field, limit))
                );
                dismantle(f);
            }
            // A model with a default filter: the merge (which clones) never sees the value.
            let w = object("title", object("nin", nested(levels, objects)));
            assert_eq!(
                parse_where_with_defaults(&post, &w, &limits(), false),
                Err(too_deep("title", limit))
            );
            let f = object("where", w);
            assert_eq!(
                Filter::parse_with_defaults(&post, &schema(), &f, &limits(), false),
                Err(too_deep("title", limit))
            );
            dismantle(f);
            // In an include scope whose target has a default filter (merged under the scope).
            let scope = object("where", object("title", nested(levels, objects)));
            let mut inclusion = serde_json::Map::new();
            inclusion.insert("relation".into(), json!("posts"));
            inclusion.insert("scope".into(), scope);
            let f = object(
                "include",
                JsonValue::Array(vec![JsonValue::Object(inclusion)]),
            );
            assert_eq!(
                Filter::parse_with_defaults(&user(), &schema(), &f, &limits(), false),
                Err(too_deep("title", limit))
            );
            dismantle(f);
            // coerce_value and check_value_depth on their own.
            let deep = nested(levels, objects);
            assert_eq!(
                coerce_value("metadata", &PgType::Jsonb, &deep),
                Err(too_deep("metadata", 1024))
            );
            let jsonb_array = PgType::Array(Box::new(PgType::Jsonb));
            let list = JsonValue::Array(vec![deep]);
            assert_eq!(
                coerce_value("docs", &jsonb_array, &list),
                Err(too_deep("docs", 1024))
            );
            assert_eq!(
                check_value_depth("docs", &list, limit),
                Err(too_deep("docs", limit))
            );
            assert!(!is_empty_where(Some(&list)));
            dismantle(list);
        }
        // Groups nested as deep: the nesting limit answers, on the default-filter path too.
        let mut groups = json!({"title": "a"});
        for _ in 0..levels {
            groups = object("and", JsonValue::Array(vec![groups]));
        }
        assert_eq!(
            parse_where_with_defaults(&post, &groups, &limits(), false),
            Err(FilterError::TooDeep { limit: 16 })
        );
        let f = object("where", groups);
        assert_eq!(
            Filter::parse_with_defaults(&post, &schema(), &f, &limits(), false),
            Err(FilterError::TooDeep { limit: 16 })
        );
        dismantle(f);
    }
}

#[test]
fn value_depth_is_measured_in_container_levels_up_to_the_limit() {
    let limit = limits().max_value_depth;
    for objects in [false, true] {
        let at_limit = nested(limit, objects);
        assert_eq!(check_value_depth("v", &at_limit, limit), Ok(()));
        assert!(parse_where(&user(), &object("metadata", at_limit.clone()), &limits()).is_ok());
        assert!(coerce_value("v", &PgType::Jsonb, &at_limit).is_ok());
        let over = nested(limit + 1, objects);
        assert_eq!(
            check_value_depth("v", &over, limit),
            Err(too_deep("v", limit))
        );
        let e = parse_where(&user(), &object("metadata", over), &limits());
        assert_eq!(e, Err(too_deep("metadata", limit)));
        assert_eq!(
            e.map_err(|e| (e.kind(), e.to_string())),
            Err((
                FilterErrorKind::ValueTooDeep,
                "the value given for `metadata` nests arrays and objects deeper than 256 levels"
                    .into()
            ))
        );
    }
    // Scalars are level 0; siblings do not add up; empty containers count as a level.
    assert_eq!(check_value_depth("v", &json!("x"), 0), Ok(()));
    assert_eq!(check_value_depth("v", &json!([]), 0), Err(too_deep("v", 0)));
    assert_eq!(
        check_value_depth("v", &json!([[1], [2], {"a": [3]}]), 3),
        Ok(())
    );
    assert_eq!(
        check_value_depth("v", &json!([[1], [2], {"a": [[3]]}]), 3),
        Err(too_deep("v", 3))
    );
    // A repository's own limit applies to where operands.
    let strict = FilterLimits {
        max_value_depth: 2,
        ..FilterLimits::default()
    };
    assert!(parse_where(&user(), &json!({"metadata": {"a": [1]}}), &strict).is_ok());
    assert_eq!(
        parse_where(
            &user(),
            &json!({"metadata": {"contains": {"a": [[1]]}}}),
            &strict
        ),
        Err(too_deep("metadata", 2))
    );
    // The NUL check walks the same way, keys included.
    let mut deep_nul = json!("\u{0}");
    for _ in 0..100 {
        deep_nul = object("a", deep_nul);
    }
    let e = coerce_value("m", &PgType::Jsonb, &deep_nul);
    assert!(e.is_err_and(|e| e.to_string().contains("NUL")));
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
    let parsed = Filter::parse_with_defaults(&p, &schema(), &json!({}), &limits(), false).unwrap();
    let (sql, _, _) = select_sql(&p, &parsed, &[]);
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
    let (sql, values) = condition_sql(&p, &c);
    assert_eq!(sql, r#""author_id" = ANY($1)"#);
    assert_eq!(values, vec![strings(&["a", "b"])]);
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
    let (sql, values) = condition_sql(&p, &eq);
    assert_eq!(sql, r#"("id" = $1) AND ("title" IS NULL)"#);
    assert_eq!(values, vec![SqlValue::Int(Some(7))]);
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
            // Writing its SQL cannot panic either, and numbers exactly the values it binds.
            let (sql, values) = condition_sql(&m, &condition);
            prop_assert!(!sql.is_empty());
            prop_assert_eq!(placeholders(&sql), (1..=values.len()).collect::<Vec<_>>(), "{}", sql);
        }
    }

    #[test]
    fn valid_filters_parse_and_bind_exactly_the_values_they_number(filter in valid_filter()) {
        let m = user();
        let parsed = Filter::parse_with_defaults(&m, &schema(), &filter, &limits(), false);
        let parsed = match parsed {
            Ok(f) => f,
            Err(e) => return Err(TestCaseError::fail(format!("{filter} should parse: {e}"))),
        };
        let (sql, values, indexes) = select_sql(&m, &parsed, &["id"]);
        prop_assert!(indexes.contains(&0));
        // The distinct placeholders are exactly $1..$n for n values: as many placeholders as
        // values, the highest one the last value, none skipped (a JSON path read numerically
        // uses its one parameter twice).
        let numbers = placeholders(&sql);
        prop_assert_eq!(numbers.len(), values.len(), "{}", sql);
        prop_assert_eq!(numbers.last().copied().unwrap_or(0), values.len(), "{}", sql);
        prop_assert_eq!(numbers, (1..=values.len()).collect::<Vec<_>>(), "{}", sql);
        // The where alone writes the same text and values as inside the SELECT.
        if let Some(w) = parsed.r#where.as_ref().filter(|w| !w.matches_everything()) {
            let (where_sql, where_values) = condition_sql(&m, w);
            prop_assert!(sql.contains(&format!(" WHERE {where_sql}")), "{}", sql);
            prop_assert_eq!(&values[..where_values.len()], &where_values[..]);
        }
    }

    #[test]
    fn merged_wheres_keep_every_condition_of_both(a in arbitrary_json(), b in arbitrary_json()) {
        let merged = merge_where_json(&a, &b);
        match (&a, &b) {
            (_, JsonValue::Null) => prop_assert_eq!(&merged, &a),
            (JsonValue::Object(default), JsonValue::Object(caller)) => {
                let out = merged.as_object();
                prop_assert!(out.is_some(), "{merged}");
                let out = out.unwrap();
                let both_or = default.contains_key("or") && caller.contains_key("or");
                for (side, other) in [(default, caller), (caller, default)] {
                    for (key, value) in side {
                        if key == "or" && both_or {
                            continue;
                        }
                        prop_assert!(out.contains_key(key), "{key} lost: {merged}");
                        if key != "and" && !other.contains_key(key) {
                            prop_assert_eq!(&out[key], value);
                        }
                    }
                }
                if both_or {
                    // Two `or` groups become two conjuncts: both must hold.
                    prop_assert!(!out.contains_key("or"));
                    let conjuncts = out.get("and").and_then(JsonValue::as_array);
                    prop_assert!(conjuncts.is_some(), "{merged}");
                    let conjuncts = conjuncts.unwrap();
                    for side in [default, caller] {
                        let group = json!({"or": side["or"].clone()});
                        prop_assert!(conjuncts.contains(&group), "{group} lost: {merged}");
                    }
                }
                // Merging never widens a where to everything: it is empty only if both are.
                if !is_empty_where(Some(&a)) || !is_empty_where(Some(&b)) {
                    prop_assert!(!is_empty_where(Some(&merged)), "{a} + {b} = {merged}");
                }
            }
            _ => prop_assert_eq!(&merged, &b),
        }
    }

    #[test]
    fn merged_filters_take_the_callers_keys_and_keep_the_defaults_others(
        a in arbitrary_json(),
        b in arbitrary_json(),
    ) {
        let merged = merge_filter_json(&a, &b);
        match (&a, &b) {
            (JsonValue::Object(default), JsonValue::Object(caller)) => {
                let out = merged.as_object();
                prop_assert!(out.is_some(), "{merged}");
                let out = out.unwrap();
                let pages = ["skip", "offset"]
                    .iter()
                    .any(|k| caller.get(*k).is_some_and(|v| !v.is_null()));
                for (key, value) in caller.iter().filter(|(_, v)| !v.is_null()) {
                    let expected = match (key.as_str(), default.get(key)) {
                        ("where", Some(dw)) if !dw.is_null() => merge_where_json(dw, value),
                        _ => value.clone(),
                    };
                    prop_assert_eq!(&out[key], &expected, "caller's {}", key);
                }
                for (key, value) in default {
                    if caller.get(key).is_some_and(|v| !v.is_null()) {
                        continue;
                    }
                    if pages && (key == "skip" || key == "offset") {
                        prop_assert!(!out.contains_key(key), "default {key} kept: {merged}");
                    } else {
                        prop_assert_eq!(&out[key], value, "default's {}", key);
                    }
                }
            }
            (JsonValue::Object(_), JsonValue::Null) => prop_assert_eq!(&merged, &a),
            _ => prop_assert_eq!(&merged, &b),
        }
    }
}

/// The numbers of the `$n` placeholders of `sql`, sorted and deduplicated.
fn placeholders(sql: &str) -> Vec<usize> {
    let mut numbers: Vec<usize> = sql
        .split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// One condition the parser must accept on [`user`]: a known field, an operator that applies
/// to it, an operand of the right type.
fn valid_condition() -> impl Strategy<Value = JsonValue> {
    use prop::sample::select;
    let nullable_ints = prop::collection::vec(
        prop_oneof![3 => any::<i16>().prop_map(|n| json!(n)), 1 => Just(JsonValue::Null)],
        0..4,
    );
    let path_scalar = prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<i32>().prop_map(|n| json!(f64::from(n) / 8.0)),
        "[a-z]{0,5}".prop_map(|s| json!(s)),
        any::<bool>().prop_map(|b| json!(b)),
    ];
    prop_oneof![
        (
            select(vec!["eq", "neq", "gt", "gte", "lt", "lte", "is", "isn"]),
            any::<i32>()
        )
            .prop_map(|(op, n)| json!({"age": {op: n}})),
        (select(vec!["in", "inq", "nin"]), nullable_ints)
            .prop_map(|(op, v)| json!({"rank": {op: v}})),
        (
            select(vec![
                "like", "nlike", "ilike", "nilike", "regexp", "iregexp"
            ]),
            "[a-z%_]{0,6}",
        )
            .prop_map(|(op, p)| json!({"name": {op: p}})),
        (
            any::<i32>(),
            any::<i32>(),
            select(vec!["between", "notBetween"])
        )
            .prop_map(|(a, b, op)| json!({"age": {op: [a, b]}})),
        (
            select(vec!["metadata.a.b", "metadata[0].k", "settings.x"]),
            path_scalar.clone()
        )
            .prop_map(|(key, v)| object(key, v)),
        (
            select(vec!["metadata.a", "settings.x"]),
            select(vec!["eq", "neq", "gt", "lte"]),
            path_scalar,
        )
            .prop_map(|(key, op, v)| object(key, json!({op: v}))),
        prop::collection::vec("[a-z]{1,4}", 0..3).prop_map(|t| json!({"tags": {"contains": t}})),
        any::<bool>().prop_map(|b| json!({"active": b})),
        (
            select(vec!["exists", "notExists"]),
            any::<bool>(),
            select(vec!["metadata.a", "name"]),
        )
            .prop_map(|(op, b, key)| object(key, json!({op: b}))),
        (0_i64..4_102_444_800_000).prop_map(|ms| json!({"lastLoginAt": {"gte": ms}})),
        Just(json!({"password": null})),
        "[0-9]{1,3}\\.[0-9]{2}".prop_map(|s| json!({"score": {"lt": s}})),
        prop::collection::vec(any::<i32>(), 0..4).prop_map(|v| json!({"age": v})),
    ]
}

/// Valid where objects: [`valid_condition`]s in `and` / `or` / `not` groups, three levels at
/// most (the limit is 16).
fn valid_where() -> impl Strategy<Value = JsonValue> {
    valid_condition().prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"and": v})),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"or": v})),
            inner.prop_map(|w| json!({"not": w})),
        ]
    })
}

/// Valid filters: a where, order terms, limit, skip and an include with a scope.
fn valid_filter() -> impl Strategy<Value = JsonValue> {
    let order = prop::collection::vec(
        prop::sample::select(vec![
            "age",
            "name DESC",
            "metadata.a.b ASC NULLS FIRST",
            "lastLoginAt desc nulls last",
            "rank",
        ]),
        0..3,
    );
    (
        valid_where(),
        order,
        prop::option::of(0_u64..1000),
        prop::option::of(0_u64..1000),
        prop::option::of("[a-z%]{0,4}"),
    )
        .prop_map(|(w, order, limit, skip, include)| {
            let mut f = serde_json::Map::new();
            f.insert("where".into(), w);
            f.insert("order".into(), json!(order));
            if let Some(l) = limit {
                f.insert("limit".into(), json!(l));
            }
            if let Some(s) = skip {
                f.insert("skip".into(), json!(s));
            }
            if let Some(title) = include {
                let scope = json!({"where": {"title": {"like": title}}, "order": "id DESC"});
                f.insert(
                    "include".into(),
                    json!([{"relation": "posts", "scope": scope}]),
                );
            }
            JsonValue::Object(f)
        })
}

/// Arbitrary filters around [`arbitrary_json`] wheres: none may panic, and a fair share of
/// them must parse, or the property would hold of a parser that refuses everything.
#[test]
fn arbitrary_filters_never_panic_and_a_share_of_them_parse() {
    use proptest::test_runner::{Config, TestRunner};
    use std::cell::Cell;
    let strategy = (
        prop_oneof![arbitrary_json(), valid_where()],
        prop::option::of(".{0,20}"),
        prop::option::of(any::<i64>()),
        prop::option::of(prop::sample::select(vec!["posts", "author", "nope"])),
    );
    let cases = 2000;
    let (parsed, refused) = (Cell::new(0_u32), Cell::new(0_u32));
    let mut runner = TestRunner::new(Config::with_cases(cases));
    let result = runner.run(&strategy, |(w, order, limit, include)| {
        let mut f = serde_json::Map::new();
        f.insert("where".into(), w);
        if let Some(o) = order {
            f.insert("order".into(), json!(o));
        }
        if let Some(l) = limit {
            f.insert("limit".into(), json!(l));
        }
        if let Some(i) = include {
            f.insert("include".into(), json!([i]));
        }
        let json = JsonValue::Object(f);
        let m = user();
        match Filter::parse_with_defaults(&m, &schema(), &json, &limits(), false) {
            Ok(filter) => {
                parsed.set(parsed.get() + 1);
                let (sql, values, indexes) = select_sql(&m, &filter, &["id"]);
                prop_assert!(sql.starts_with("SELECT"));
                prop_assert_eq!(placeholders(&sql), (1..=values.len()).collect::<Vec<_>>());
                prop_assert!(indexes.contains(&0));
            }
            Err(e) => {
                refused.set(refused.get() + 1);
                // Every refusal is a typed error with a message of bounded length.
                prop_assert!(
                    !e.to_string().is_empty() && e.to_string().len() < 400,
                    "{e}"
                );
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (parsed, refused) = (parsed.get(), refused.get());
    assert!(
        parsed >= cases / 10 && refused >= cases / 10,
        "{parsed} parsed, {refused} refused of {cases}"
    );
}

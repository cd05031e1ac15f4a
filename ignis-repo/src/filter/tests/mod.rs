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

mod clauses;
mod coercion;
mod defaults;
mod depth;
mod errors;
mod include;
mod operators;
mod paths;
mod properties;
mod repo_helpers;

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

/// `{key: value}`, built without `json!` (which serialises its operands again, recursively).
fn object(key: &str, value: JsonValue) -> JsonValue {
    let mut map = serde_json::Map::new();
    map.insert(key.to_string(), value);
    JsonValue::Object(map)
}

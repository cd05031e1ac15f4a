//! The Ignis filter language: parse and validate against the model.
//!
//! A filter is the JSON an Ignis or LoopBack client sends (Ignis `TFilter`):
//!
//! ```json
//! {
//!   "where": {"age": {"gte": 18}, "or": [{"name": {"ilike": "a%"}}, {"metadata.score": {"gt": 5}}]},
//!   "fields": ["id", "name"],
//!   "order": ["createdAt DESC", "name"],
//!   "limit": 10, "skip": 20,
//!   "include": ["posts", {"relation": "author", "scope": {"fields": {"name": true}}}]
//! }
//! ```
//!
//! The pipeline is **parse → validate → compile**, and the first two are one step:
//! [`Filter::parse`] / [`parse_where`] read the JSON against a [`Model`](struct@ignis_schema::Model) and either return a
//! [`Filter`] / [`Condition`] in which every key is a known property (resolved to its column and
//! type), every operator is known, every value is coerced to the column's Postgres type
//! (coercion), and every size is within [`FilterLimits`]; or a [`FilterError`] naming the
//! problem. Nothing of the input reaches SQL as text: identifiers come from the model, values are
//! bound parameters, JSON paths are bound as one `text[]` parameter. Writing the parsed filter
//! as SQL (the repositories' query engine) cannot fail.
//!
//! ```
//! use ignis_repo::filter::{Condition, Filter, FilterLimits};
//! use ignis_schema::{enrich::IdOptions, Column, Enricher, Model, PgType, Schema};
//! use serde_json::json;
//!
//! let user = Model::new("User")
//!     .enrich(Enricher::Id(IdOptions::string()))
//!     .column(Column::new("age", PgType::Integer))
//!     .column(Column::new("metadata", PgType::Jsonb));
//! let schema = Schema::new(vec![user.clone()]).unwrap();
//! let json = json!({"where": {"age": {"in": [18, 21]}, "metadata.plan": "pro"},
//!                   "fields": ["id"], "order": "age DESC", "limit": 10});
//! let filter = Filter::parse(&user, &schema, &json, &FilterLimits::default()).unwrap();
//! assert_eq!(filter.limit, Some(10));
//! assert!(matches!(filter.r#where, Some(Condition::And(ref parts)) if parts.len() == 2));
//!
//! let err = Filter::parse(&user, &schema, &json!({"where": {"age": "abc"}}), &FilterLimits::default());
//! assert_eq!(err.unwrap_err().kind().as_str(), "invalidValue");
//! ```
//!
//! A repository writes the parsed filter as `SELECT "id" FROM "public"."User" WHERE ("age" =
//! ANY($1)) AND (("metadata" #>> $2) = $3) ORDER BY "age" DESC LIMIT 10`: one walk of the tree
//! writes the SQL and binds each value as it goes.
//!
//! # `where` (Ignis semantics)
//! - `{f: v}` is equality; `{f: [a, b]}` is `in`; `{f: null}` is `IS NULL`. On an array column,
//!   `{tags: ["a", "b"]}` is equality with that array (`IN` of arrays is not a thing).
//! - Operators: `eq`, `ne`, `neq`, `gt`, `gte`, `lt`, `lte`, `like`, `nlike`, `ilike`, `nilike`,
//!   `regexp` (`~`), `iregexp` (`~*`), `in`, `inq`, `nin`, `between`, `notBetween`, `is`, `isn`,
//!   `contains` (`@>`), `containedBy` (`<@`), `overlaps` (`&&`, arrays only), and the ignis-rs
//!   extensions `exists` / `notExists` (a column: IS NOT NULL / IS NULL; a JSON path: the key
//!   exists) and `not` (per field, or at top level around a where object). Several operators in
//!   one object are ANDed.
//! - `{eq|is: null}` is IS NULL, `{ne|neq|isn: null}` IS NOT NULL; `in: []` is FALSE, `nin: []`
//!   TRUE; `in` / `nin` with a scalar is a one-element list (as Ignis); `between` takes exactly
//!   `[low, high]`, inclusive and not symmetric; like patterns are passed through; `and: []` and
//!   `or: []` add no condition; `contains: []` is TRUE and `overlaps: []` FALSE (as Ignis).
//! - Lists bind as ONE array parameter, `col = ANY($1)` / `col <> ALL($1)`, so the SQL text does
//!   not depend on the list's length and the per-connection statement cache (keyed by SQL text)
//!   hits. A `null` in a list is a NULL element with SQL's semantics, as in Ignis (whose lists
//!   become `IN (...)` / `NOT IN (...)`): it matches no row, so `{"inq": [1, null]}` matches
//!   where the field is 1, and `{"nin": [1, null]}` matches no row at all (`x <> NULL` is
//!   unknown).
//! - An object whose keys are not all operators is, on a json/jsonb column or path, equality with
//!   that JSON value (as Ignis); on any other column an [`FilterError::UnknownOperator`].
//!
//! # JSON paths
//! A key `metadata.a.b` or `items[0].score` whose first segment is a json / jsonb property reads
//! `col #>> '{a,b}'` (the path bound as `text[]`) and compares it as text; when the operand is a
//! JSON number (any comparison operator, implicit equality, `between` with two numbers, `in` /
//! `nin` with only numbers) it compares numerically, through Ignis's guarded cast so a
//! non-numeric value at the path does not match instead of failing the statement (see
//! [`CompareAs::Numeric`]). Objects and arrays compare as jsonb (`col #> path = $1::jsonb`), and
//! `contains` / `containedBy` / `exists` use `col #> path` too. Ordering by a path orders by
//! `col #> path` (jsonb order: numbers numerically), as Ignis does.
//!
//! **A deliberate difference from Ignis:** `{"metadata.score": {"eq": 10}}` compares
//! numerically here, so it matches a stored `10.0` or `1e1` as well as `10`; Ignis compares the
//! text form for `eq` and matches only `10`. ignis-rs keeps the numeric comparison so that every
//! operator given a number agrees: the implicit form `{"metadata.score": 10}`, `eq` / `neq`,
//! `in` / `nin` and the range operators all compare numbers as numbers. A string operand
//! (`{"eq": "10"}`) compares the text form.
//!
//! # Default filters
//! [`merge_filter_json`] / [`merge_where_json`] merge a model's default filter (Ignis
//! `defaultFilter`, e.g. soft delete `{"where": {"deletedAt": null}}`) under the caller's, on the
//! JSON level, before parsing; [`Filter::parse_with_defaults`] does that for the filter and for
//! each include scope (per related model, unless `shouldSkipDefaultFilter`). [`is_empty_where`]
//! judges the caller's where before the merge, for `update_all` / `delete_all`'s refusal.
//!
//! # Limits
//! [`FilterLimits`] bounds nesting, number of conditions, list length, include depth, the
//! nesting of each value and (optionally) `limit`, so a hostile filter costs bounded work.
//! Values are measured without recursion (a depth check) before anything recursive
//! (coercion, serde_json's `Clone`, serialisation) touches them, so no input overflows the
//! stack; and error messages quote at most a short prefix of any name or value they repeat.
//!
//! # Errors found by the server
//! `regexp` / `iregexp` patterns are Postgres's regular expressions, which only the server
//! judges; a statement with an invalid one fails with SQLSTATE 2201B, and the repositories
//! turn that into the filter error naming the field, the operator and the pattern.

mod arg;
mod build;
mod coerce;
mod condition;
mod error;
mod merge;
mod parse;
mod regexp;
pub mod typed;

pub use arg::{IntoFilter, IntoId, IntoWhere};

#[cfg(test)]
mod tests;

use ignis_schema::{Model, Schema};
use serde_json::Value as JsonValue;

pub(crate) use build::{any_of, any_of_ints, field_eq};
pub use coerce::BoundValue;
pub(crate) use coerce::{check_value_depth, coerce_value};
pub use condition::{CompareAs, Comparison, Condition, FieldRef, Operand, Operator};
pub(crate) use error::excerpt;
pub use error::{FilterError, FilterErrorKind};
pub use merge::{is_empty_where, merge_filter_json, merge_where_json};
pub(crate) use parse::{resolve_field, ValueSlot};
pub use parse::{MAX_PATH_SEGMENTS, OPERATORS};
pub(crate) use regexp::regexp_error;

/// Bounds on what a filter may ask for, so a hostile or careless filter costs bounded work.
///
/// A repository holds one; [`Default`] gives the values below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterLimits {
    /// Deepest nesting of `and` / `or` / `not` groups, counting include scopes as one level each
    /// (default 16).
    pub max_depth: usize,
    /// Most conditions in one filter, over all its scopes: operators, groups, order terms and
    /// inclusions (default 256).
    pub max_conditions: usize,
    /// Longest `in` / `inq` / `nin` list (default 10 000).
    pub max_in_list: usize,
    /// Largest `limit` a top-level filter may ask for; when set, a filter without `limit` gets
    /// this one (default `None`: no limit, as Ignis). Include scopes are checked but not given a
    /// default, since their limit applies to a whole batched level.
    pub max_limit: Option<u64>,
    /// Deepest nesting of `include` (default 4).
    pub max_include_depth: usize,
    /// Deepest nesting of arrays and objects inside one value (default 256): a `where` operand
    /// (`{"meta": {"contains": ...}}`, `{"meta.a": [...]}`), and, in a repository, each value of
    /// the data given to a write. A scalar is level 0, `[1]` and `{"a": 1}` level 1. Checked
    /// without recursion before the value is coerced, cloned or serialised, all of which serde_json does recursively; a deeper value is a
    /// [`FilterError::ValueTooDeep`]. Whatever this says, coercion refuses json values
    /// nested deeper than 1024 levels.
    pub max_value_depth: usize,
}

impl FilterLimits {
    /// The deepest any valid filter document nests arrays and objects: its groups, per-field
    /// `not`s and include scopes (three levels each at most) around one operand of
    /// `max_value_depth` levels. A deeper document is refused before default filters are
    /// merged into it, since the merge clones it (recursively, in serde_json).
    fn document_depth(&self) -> usize {
        self.max_value_depth
            .saturating_add(self.max_depth.saturating_mul(3))
            .saturating_add(self.max_include_depth.saturating_mul(3))
            .saturating_add(3)
    }

    /// Refuses a document too deep to be a valid filter, with the error the parser gives it
    /// alone (a [`FilterError::TooDeep`] or [`FilterError::ValueTooDeep`] naming what is too
    /// deep; the parser neither merges nor clones). `parse_alone` parses `json` without any
    /// default filter.
    fn refuse_deep_document<T>(
        &self,
        json: &JsonValue,
        parse_alone: impl FnOnce() -> Result<T, FilterError>,
    ) -> Result<(), FilterError> {
        let limit = self.document_depth();
        if coerce::depth_within(json, limit) {
            return Ok(());
        }
        Err(parse_alone().err().unwrap_or(FilterError::ValueTooDeep {
            field: "filter".into(),
            limit,
        }))
    }
}

impl Default for FilterLimits {
    fn default() -> Self {
        FilterLimits {
            max_depth: 16,
            max_conditions: 256,
            max_in_list: 10_000,
            max_limit: None,
            max_include_depth: 4,
            max_value_depth: 256,
        }
    }
}

/// The `fields` of a filter: which properties to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    /// Only these properties (array form `["id", "name"]`, or object form with at least one
    /// `true`: `{"id": true, "name": true}`).
    Include(Vec<String>),
    /// Every property except these (object form with only `false`: `{"password": false}`).
    Exclude(Vec<String>),
}

/// Sort direction of an order term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// `ASC` (the default).
    #[default]
    Asc,
    /// `DESC`.
    Desc,
}

/// Where NULLs sort (`NULLS FIRST` / `NULLS LAST`; Ignis ignores the clause, ignis-rs honours it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    /// `NULLS FIRST`.
    First,
    /// `NULLS LAST`.
    Last,
}

/// One `order` term: `"name DESC"`, `"metadata.score ASC NULLS LAST"`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderTerm {
    /// The property or JSON path ordered by.
    pub field: FieldRef,
    /// ASC or DESC (case-insensitive in the input; ASC when left out).
    pub direction: Direction,
    /// NULLS FIRST / LAST, or Postgres's default (NULLS LAST for ASC, FIRST for DESC).
    pub nulls: Option<Nulls>,
}

/// One `include` entry: a relation of the model to load with the rows, with an optional scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Inclusion {
    /// The relation's name, as declared on the model (Ignis `createRelations`).
    pub relation: String,
    /// The scope filter (where / fields / order / limit / skip / include), parsed against the
    /// relation's target model; `None` when none was given.
    pub scope: Option<Filter>,
    /// Ignis `shouldSkipDefaultFilter`: do not apply the target model's default filter.
    pub should_skip_default_filter: bool,
}

/// A parsed and validated Ignis filter (`TFilter`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// The `where` condition; `None` when absent or when it restricts nothing (`{}`).
    pub r#where: Option<Condition>,
    /// The `fields` selection; `None` means every (non-hidden) property.
    pub fields: Option<Fields>,
    /// The `order` terms, in order.
    pub order: Vec<OrderTerm>,
    /// `limit`.
    pub limit: Option<u64>,
    /// `skip`, or its synonym `offset` (`skip` wins when both are given).
    pub skip: Option<u64>,
    /// The `include` entries.
    pub include: Vec<Inclusion>,
}

impl Filter {
    /// Parses and validates an Ignis filter against `model`.
    ///
    /// `json` is an object with the keys `where`, `fields`, `order`, `limit`, `skip`, `offset`,
    /// `include` (all optional; `null` counts as absent), or `null` for the empty filter. Include
    /// scopes are parsed against the relation's target model, looked up in `schema`. No default
    /// filter is applied (see [`Filter::parse_with_defaults`]).
    ///
    /// # Errors
    /// A [`FilterError`] for an unknown key, field, operator or relation, a value of the wrong
    /// type for its column, a malformed shape, or a filter beyond `limits`.
    pub fn parse(
        model: &Model,
        schema: &Schema,
        json: &JsonValue,
        limits: &FilterLimits,
    ) -> Result<Filter, FilterError> {
        parse::Parser::new(limits, false).top_filter(model, schema, json)
    }

    /// Like [`Filter::parse`], with default filters applied as Ignis does: unless
    /// `skip_default_filter`, the model's default filter is merged under `json`
    /// ([`merge_filter_json`]); and in every include scope the target model's default filter is
    /// merged under the scope, unless that inclusion says `shouldSkipDefaultFilter`.
    ///
    /// The merges clone the caller's JSON (serde_json clones recursively), so when there is
    /// something to merge (a default filter, or an `include` whose scopes may get one) a
    /// document nested deeper than any valid filter can be is refused first, after a walk
    /// without recursion, with the error [`Filter::parse`] gives it. Without a merge the
    /// parser's own bounds apply: group depth, and each operand's depth before it is coerced.
    ///
    /// # Errors
    /// As [`Filter::parse`]; an invalid default filter in a model is reported the same way.
    pub fn parse_with_defaults(
        model: &Model,
        schema: &Schema,
        json: &JsonValue,
        limits: &FilterLimits,
        skip_default_filter: bool,
    ) -> Result<Filter, FilterError> {
        let default = model
            .default_filter
            .as_ref()
            .filter(|_| !skip_default_filter);
        let has_include = json.get("include").is_some_and(|i| !i.is_null());
        if default.is_some() || has_include {
            limits.refuse_deep_document(json, || Filter::parse(model, schema, json, limits))?;
        }
        let parser = parse::Parser::new(limits, true);
        match default {
            Some(default) => parser.top_filter(model, schema, &merge_filter_json(default, json)),
            None => parser.top_filter(model, schema, json),
        }
    }

    /// [`Filter::parse_with_defaults`] of a filter that has no `include` on a model whose
    /// default filter does not apply (none, or skipped): the same parse, numbering the values
    /// taken from `json` as they are ([`ValueSlot`]). The caller checks both conditions.
    ///
    /// # Errors
    /// As [`Filter::parse`].
    pub(crate) fn parse_recorded(
        model: &Model,
        schema: &Schema,
        json: &JsonValue,
        limits: &FilterLimits,
    ) -> Result<(Filter, Vec<ValueSlot>), FilterError> {
        parse::Parser::new(limits, true)
            .recording()
            .top_filter_recorded(model, schema, json)
    }

    /// Indexes (into `model.columns`, in column order) of the properties this filter returns:
    /// `fields` honoured, hidden properties removed whatever `fields` says.
    pub fn output_columns(&self, model: &Model) -> Vec<usize> {
        model
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| self.returns(model, &c.property))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether `property` of `model` is returned: not hidden, and selected by `fields`.
    pub(crate) fn returns(&self, model: &Model, property: &str) -> bool {
        !model.is_hidden(property)
            && match &self.fields {
                None => true,
                Some(Fields::Include(props)) => props.iter().any(|p| p == property),
                Some(Fields::Exclude(props)) => !props.iter().any(|p| p == property),
            }
    }
}

/// Parses and validates a bare where object (Ignis `TWhere`, for `count`, `exists_with`,
/// `update_all` and `delete_all`) against `model`. `null` and `{}` give an empty
/// [`Condition::And`] (matches everything).
///
/// # Errors
/// As [`Filter::parse`].
pub fn parse_where(
    model: &Model,
    json: &JsonValue,
    limits: &FilterLimits,
) -> Result<Condition, FilterError> {
    parse::Parser::new(limits, false).top_where(model, json)
}

/// [`parse_where`] with the model's default filter's where merged under `json` (Ignis merge,
/// [`merge_where_json`]) unless `skip_default_filter`. As in [`Filter::parse_with_defaults`],
/// a document nested deeper than any valid where can be is refused before the merge.
///
/// # Errors
/// As [`Filter::parse`].
pub fn parse_where_with_defaults(
    model: &Model,
    json: &JsonValue,
    limits: &FilterLimits,
    skip_default_filter: bool,
) -> Result<Condition, FilterError> {
    let default_where = model
        .default_filter
        .as_ref()
        .and_then(|f| f.get("where"))
        .filter(|w| !w.is_null());
    match (default_where, skip_default_filter) {
        (Some(default), false) => {
            limits.refuse_deep_document(json, || parse_where(model, json, limits))?;
            parse_where(model, &merge_where_json(default, json), limits)
        }
        _ => parse_where(model, json, limits),
    }
}

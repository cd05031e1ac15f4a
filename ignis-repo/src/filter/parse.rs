//! Parsing and validation: Ignis filter JSON to [`Filter`] / [`Condition`].

use ignis_schema::{Model, PgType, Schema};
use sea_query::{ArrayType, Value as SqlValue};
use serde_json::{Map, Value as JsonValue};

use super::coerce::{coerce_list, coerce_value, depth_within, nul_error, path_text, BoundValue};
use super::condition::{CompareAs, Comparison, Condition, FieldRef, Operand, Operator};
use super::error::{describe, excerpt, FilterError};
use super::merge::merge_filter_json;
use super::{Direction, Fields, Filter, FilterLimits, Inclusion, Nulls, OrderTerm};

/// Every operator key of the filter language: Ignis's (`QueryOperators.SCHEME_SET` minus `and` /
/// `or`, which are groups) and the ignis-rs extensions `exists`, `notExists`, `not`. An object
/// in a `where` is an operator object when all its keys are here.
pub const OPERATORS: &[&str] = &[
    "eq",
    "ne",
    "neq",
    "gt",
    "gte",
    "lt",
    "lte",
    "like",
    "nlike",
    "ilike",
    "nilike",
    "is",
    "isn",
    "regexp",
    "iregexp",
    "in",
    "inq",
    "nin",
    "exists",
    "notExists",
    "between",
    "notBetween",
    "contains",
    "containedBy",
    "overlaps",
    "not",
];

/// The keys a filter object may have.
const FILTER_KEYS: &str = "where, fields, order, limit, skip, offset, include";

/// Most segments in one JSON path: in filters, order terms and update keys alike.
pub const MAX_PATH_SEGMENTS: usize = 32;

/// Longest JSON path segment, in bytes.
const MAX_SEGMENT_BYTES: usize = 128;

/// Guarded numeric cast of Ignis for a JSON number at a path (see [`CompareAs::Numeric`]).
const NUMERIC_CAST: &str = "::text::numeric";

fn is_operator_object(map: &Map<String, JsonValue>) -> bool {
    !map.is_empty() && map.keys().all(|k| OPERATORS.contains(&k.as_str()))
}

/// One parse of a filter: the limits and the running count of conditions.
pub(crate) struct Parser<'a> {
    limits: &'a FilterLimits,
    conditions: usize,
    /// Merge each include target's default filter under its scope.
    apply_defaults: bool,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(limits: &'a FilterLimits, apply_defaults: bool) -> Self {
        Parser {
            limits,
            conditions: 0,
            apply_defaults,
        }
    }

    fn tick(&mut self) -> Result<(), FilterError> {
        self.conditions += 1;
        if self.conditions > self.limits.max_conditions {
            return Err(FilterError::TooManyConditions {
                limit: self.limits.max_conditions,
            });
        }
        Ok(())
    }

    /// Refuses an operand nested deeper than [`FilterLimits::max_value_depth`], before anything
    /// else (coercion, cloning, serialising, all recursive in serde_json) touches it.
    fn check_operand(&self, field: &FieldRef, operand: &JsonValue) -> Result<(), FilterError> {
        if depth_within(operand, self.limits.max_value_depth) {
            return Ok(());
        }
        Err(FilterError::ValueTooDeep {
            field: field.key(),
            limit: self.limits.max_value_depth,
        })
    }

    fn check_depth(&self, depth: usize) -> Result<(), FilterError> {
        if depth > self.limits.max_depth {
            return Err(FilterError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        Ok(())
    }

    pub(crate) fn top_filter(
        mut self,
        model: &Model,
        schema: &Schema,
        json: &JsonValue,
    ) -> Result<Filter, FilterError> {
        let mut filter = self.filter(model, schema, json, 0)?;
        if let Some(max) = self.limits.max_limit {
            if filter.limit.is_none() {
                filter.limit = Some(max);
            }
        }
        Ok(filter)
    }

    pub(crate) fn top_where(
        mut self,
        model: &Model,
        json: &JsonValue,
    ) -> Result<Condition, FilterError> {
        match json {
            JsonValue::Null => Ok(Condition::And(Vec::new())),
            JsonValue::Object(map) => self.where_object(model, map, 0),
            other => Err(FilterError::malformed(format!(
                "a where must be an object, found {}",
                describe(other)
            ))),
        }
    }

    fn filter(
        &mut self,
        model: &Model,
        schema: &Schema,
        json: &JsonValue,
        include_depth: usize,
    ) -> Result<Filter, FilterError> {
        let map = match json {
            JsonValue::Null => return Ok(Filter::default()),
            JsonValue::Object(map) => map,
            other => {
                return Err(FilterError::malformed(format!(
                    "a filter must be an object with the keys {FILTER_KEYS}, found {}",
                    describe(other)
                )))
            }
        };
        let mut filter = Filter::default();
        let mut offset = None;
        for (key, value) in map {
            match key.as_str() {
                "where" => {
                    filter.r#where = match value {
                        JsonValue::Null => None,
                        JsonValue::Object(w) => {
                            let condition = self.where_object(model, w, include_depth)?;
                            (!condition.matches_everything()).then_some(condition)
                        }
                        other => {
                            return Err(FilterError::malformed(format!(
                                "`where` must be an object, found {}",
                                describe(other)
                            )))
                        }
                    }
                }
                "fields" => filter.fields = fields(model, value)?,
                "order" => filter.order = self.order(model, value)?,
                "limit" => filter.limit = count("limit", value)?,
                "skip" => filter.skip = count("skip", value)?,
                "offset" => offset = count("offset", value)?,
                "include" => filter.include = self.include(model, schema, value, include_depth)?,
                other => {
                    return Err(FilterError::malformed(format!(
                        "unknown filter key `{}` (expected one of {FILTER_KEYS})",
                        excerpt(other)
                    )))
                }
            }
        }
        if filter.skip.is_none() {
            filter.skip = offset;
        }
        if let (Some(max), Some(limit)) = (self.limits.max_limit, filter.limit) {
            if limit > max {
                return Err(FilterError::InvalidValue {
                    field: "limit".into(),
                    expected: format!("at most {max}"),
                    found: limit.to_string(),
                });
            }
        }
        Ok(filter)
    }

    // ----------------------------------------------------------------------------------------
    // include

    fn include(
        &mut self,
        model: &Model,
        schema: &Schema,
        value: &JsonValue,
        include_depth: usize,
    ) -> Result<Vec<Inclusion>, FilterError> {
        let items: Vec<&JsonValue> = match value {
            JsonValue::Null => return Ok(Vec::new()),
            JsonValue::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        if !items.is_empty() && include_depth >= self.limits.max_include_depth {
            return Err(FilterError::TooDeep {
                limit: self.limits.max_include_depth,
            });
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            self.tick()?;
            let (relation, scope, skip_default) = match item {
                JsonValue::String(relation) => (relation.as_str(), None, false),
                JsonValue::Object(o) => inclusion_object(o)?,
                other => {
                    return Err(FilterError::malformed(format!(
                        "an include entry must be a relation name or {{relation, scope, \
                         shouldSkipDefaultFilter}}, found {}",
                        describe(other)
                    )))
                }
            };
            let unknown = || FilterError::UnknownRelation {
                model: model.name.clone(),
                relation: relation.to_string(),
            };
            let rel = model.relation_by_name(relation).ok_or_else(unknown)?;
            let target = schema.model(&rel.target).ok_or_else(unknown)?;
            let scope_depth = include_depth + 1;
            self.check_depth(scope_depth)?;
            let default = if self.apply_defaults && !skip_default {
                target.default_filter.as_ref()
            } else {
                None
            };
            let scope = match (scope, default) {
                (Some(scope), Some(default)) => Some(self.filter(
                    target,
                    schema,
                    &merge_filter_json(default, scope),
                    scope_depth,
                )?),
                (None, Some(default)) => Some(self.filter(target, schema, default, scope_depth)?),
                (Some(scope), None) => Some(self.filter(target, schema, scope, scope_depth)?),
                (None, None) => None,
            };
            out.push(Inclusion {
                relation: rel.name.clone(),
                scope,
                should_skip_default_filter: skip_default,
            });
        }
        Ok(out)
    }

    // ----------------------------------------------------------------------------------------
    // order

    fn order(&mut self, model: &Model, value: &JsonValue) -> Result<Vec<OrderTerm>, FilterError> {
        let mut raw: Vec<&str> = Vec::new();
        match value {
            JsonValue::Null => return Ok(Vec::new()),
            JsonValue::String(s) => raw.extend(s.split(',')),
            JsonValue::Array(items) => {
                for item in items {
                    match item {
                        JsonValue::String(s) => raw.extend(s.split(',')),
                        other => {
                            return Err(FilterError::InvalidOrder {
                                term: describe(other),
                                reason: "an order term must be a string".into(),
                            })
                        }
                    }
                }
            }
            other => {
                return Err(FilterError::malformed(format!(
                    "`order` must be a string or an array of strings, found {}",
                    describe(other)
                )))
            }
        }
        let mut terms = Vec::with_capacity(raw.len());
        for term in raw {
            self.tick()?;
            terms.push(order_term(model, term)?);
        }
        Ok(terms)
    }

    // ----------------------------------------------------------------------------------------
    // where

    fn where_object(
        &mut self,
        model: &Model,
        map: &Map<String, JsonValue>,
        depth: usize,
    ) -> Result<Condition, FilterError> {
        self.check_depth(depth)?;
        let mut parts = Vec::with_capacity(map.len());
        for (key, value) in map {
            match key.as_str() {
                "and" | "or" => {
                    self.tick()?;
                    let items: Vec<&JsonValue> = match value {
                        JsonValue::Array(items) => items.iter().collect(),
                        JsonValue::Object(_) => vec![value],
                        other => {
                            return Err(FilterError::malformed(format!(
                                "`{key}` must be an array of where objects, found {}",
                                describe(other)
                            )))
                        }
                    };
                    if items.is_empty() {
                        continue;
                    }
                    let mut children = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            JsonValue::Object(inner) => {
                                children.push(self.where_object(model, inner, depth + 1)?)
                            }
                            other => {
                                return Err(FilterError::malformed(format!(
                                    "`{key}` must be an array of where objects, found an \
                                     element that is {}",
                                    describe(other)
                                )))
                            }
                        }
                    }
                    parts.push(if key == "and" {
                        Condition::all(children)
                    } else {
                        Condition::any(children)
                    });
                }
                "not" => {
                    self.tick()?;
                    match value {
                        JsonValue::Object(inner) => parts.push(Condition::Not(Box::new(
                            self.where_object(model, inner, depth + 1)?,
                        ))),
                        other => {
                            return Err(FilterError::malformed(format!(
                                "a top-level `not` must be a where object, found {}",
                                describe(other)
                            )))
                        }
                    }
                }
                _ => {
                    let field = resolve_field(model, key)?;
                    parts.push(self.field_value(&field, value, depth)?);
                }
            }
        }
        Ok(Condition::all(parts))
    }

    /// The condition `{key: value}` for a resolved field.
    fn field_value(
        &mut self,
        field: &FieldRef,
        value: &JsonValue,
        depth: usize,
    ) -> Result<Condition, FilterError> {
        match value {
            JsonValue::Object(map) if is_operator_object(map) => {
                let mut parts = Vec::with_capacity(map.len());
                for (op, operand) in map {
                    parts.push(self.operator(field, op, operand, depth)?);
                }
                Ok(Condition::all(parts))
            }
            _ => {
                self.tick()?;
                self.implicit(field, value)
            }
        }
    }

    /// Implicit equality: `{f: v}`, `{f: [..]}`, `{f: null}`, `{f: {non-operator object}}`.
    fn implicit(&mut self, field: &FieldRef, value: &JsonValue) -> Result<Condition, FilterError> {
        self.check_operand(field, value)?;
        match value {
            JsonValue::Null => Ok(null_check(field, Operator::IsNull)),
            JsonValue::Array(_) if !field.is_path() && field.pg_type.element().is_some() => {
                self.compare(field, Operator::Eq, "eq", value)
            }
            JsonValue::Array(_) => self.list(field, Operator::In, "in", value),
            JsonValue::Object(map) => {
                if field.is_path() || field.pg_type.is_json() {
                    return self.compare(field, Operator::Eq, "eq", value);
                }
                match map.keys().find(|k| !OPERATORS.contains(&k.as_str())) {
                    Some(unknown) => Err(FilterError::UnknownOperator {
                        field: field.key(),
                        operator: unknown.clone(),
                    }),
                    None => Err(FilterError::invalid(
                        &field.key(),
                        "a value or an operator object",
                        value,
                    )),
                }
            }
            _ => self.compare(field, Operator::Eq, "eq", value),
        }
    }

    fn operator(
        &mut self,
        field: &FieldRef,
        op: &str,
        operand: &JsonValue,
        depth: usize,
    ) -> Result<Condition, FilterError> {
        self.tick()?;
        if op != "not" {
            // A `not`'s operand is more operators (bounded by `max_depth`) or an implicit value
            // (checked in `implicit`).
            self.check_operand(field, operand)?;
        }
        match op {
            "eq" | "is" if operand.is_null() => Ok(null_check(field, Operator::IsNull)),
            "ne" | "neq" | "isn" if operand.is_null() => Ok(null_check(field, Operator::IsNotNull)),
            "eq" | "is" => self.compare(field, Operator::Eq, op, operand),
            "ne" | "neq" | "isn" => self.compare(field, Operator::Ne, op, operand),
            "gt" => self.compare(field, Operator::Gt, op, operand),
            "gte" => self.compare(field, Operator::Gte, op, operand),
            "lt" => self.compare(field, Operator::Lt, op, operand),
            "lte" => self.compare(field, Operator::Lte, op, operand),
            "like" => pattern(field, Operator::Like, op, operand),
            "nlike" => pattern(field, Operator::NotLike, op, operand),
            "ilike" => pattern(field, Operator::ILike, op, operand),
            "nilike" => pattern(field, Operator::NotILike, op, operand),
            "regexp" => pattern(field, Operator::Regexp, op, operand),
            "iregexp" => pattern(field, Operator::IRegexp, op, operand),
            "in" | "inq" => self.list(field, Operator::In, op, operand),
            "nin" => self.list(field, Operator::NotIn, op, operand),
            "between" => range(field, Operator::Between, op, operand),
            "notBetween" => range(field, Operator::NotBetween, op, operand),
            "contains" => containment(field, Operator::Contains, op, operand),
            "containedBy" => containment(field, Operator::ContainedBy, op, operand),
            "overlaps" => containment(field, Operator::Overlaps, op, operand),
            "exists" | "notExists" => {
                let JsonValue::Bool(flag) = operand else {
                    return Err(FilterError::invalid(
                        &field.key(),
                        format!("true or false for `{op}`"),
                        operand,
                    ));
                };
                let present = *flag == (op == "exists");
                Ok(existence(field, present))
            }
            "not" => {
                self.check_depth(depth + 1)?;
                let inner = match operand {
                    JsonValue::Object(map) if is_operator_object(map) => {
                        let mut parts = Vec::with_capacity(map.len());
                        for (inner_op, inner_operand) in map {
                            parts.push(self.operator(field, inner_op, inner_operand, depth + 1)?);
                        }
                        Condition::all(parts)
                    }
                    other => self.implicit(field, other)?,
                };
                Ok(Condition::Not(Box::new(inner)))
            }
            other => Err(FilterError::UnknownOperator {
                field: field.key(),
                operator: other.to_string(),
            }),
        }
    }

    /// `=`, `<>`, `>`, `>=`, `<`, `<=` with one non-null operand.
    fn compare(
        &mut self,
        field: &FieldRef,
        op: Operator,
        op_name: &str,
        operand: &JsonValue,
    ) -> Result<Condition, FilterError> {
        let key = field.key();
        if operand.is_null() {
            return Err(FilterError::invalid(
                &key,
                format!("a non-null value for `{op_name}`"),
                operand,
            ));
        }
        if field.is_path() {
            let (compare_as, bound) = match operand {
                JsonValue::Number(n) => (CompareAs::Numeric, numeric(n)),
                JsonValue::String(_) | JsonValue::Bool(_) => (
                    CompareAs::Text,
                    BoundValue::plain(SqlValue::String(Some(path_text(&key, operand)?))),
                ),
                JsonValue::Object(_) | JsonValue::Array(_)
                    if matches!(op, Operator::Eq | Operator::Ne) =>
                {
                    (
                        CompareAs::Jsonb,
                        coerce_value(&key, &PgType::Jsonb, operand)?,
                    )
                }
                _ => {
                    return Err(FilterError::invalid(
                        &key,
                        format!("a string, number or boolean for `{op_name}`"),
                        operand,
                    ))
                }
            };
            return Ok(comparison(field, compare_as, op, Operand::One(bound)));
        }
        let bound = coerce_value(&key, &field.pg_type, operand)?;
        Ok(comparison(
            field,
            CompareAs::Native,
            op,
            Operand::One(bound),
        ))
    }

    /// `in` / `inq` / `nin`: one array parameter.
    fn list(
        &mut self,
        field: &FieldRef,
        op: Operator,
        op_name: &str,
        operand: &JsonValue,
    ) -> Result<Condition, FilterError> {
        let key = field.key();
        let items: &[JsonValue] = match operand {
            JsonValue::Array(items) => items,
            JsonValue::Null => {
                return Err(FilterError::invalid(
                    &key,
                    format!("a list of values for `{op_name}`"),
                    operand,
                ))
            }
            // Ignis: `in` with a scalar is equality, `nin` inequality.
            single => std::slice::from_ref(single),
        };
        if items.len() > self.limits.max_in_list {
            return Err(FilterError::ListTooLong {
                field: key,
                limit: self.limits.max_in_list,
            });
        }
        if items.is_empty() {
            return Ok(Condition::Const(op == Operator::NotIn));
        }
        if field.is_path() {
            // A null element is a NULL in the array: it matches no row, as in SQL's
            // `IN (..., NULL)` (see `coerce_list`). The other elements decide how the path
            // compares: numerically when they are all numbers.
            let mut present = items.iter().filter(|v| !v.is_null()).peekable();
            let numeric = present.peek().is_some() && present.all(JsonValue::is_number);
            if numeric {
                let values = items
                    .iter()
                    .map(|v| SqlValue::String(v.as_number().map(|n| n.to_string())))
                    .collect();
                let bound = BoundValue {
                    value: SqlValue::Array(ArrayType::String, Some(Box::new(values))),
                    cast: Some("::text[]::numeric[]".into()),
                };
                return Ok(comparison(
                    field,
                    CompareAs::Numeric,
                    op,
                    Operand::List(bound),
                ));
            }
            let values = items
                .iter()
                .map(|item| match item {
                    JsonValue::Null => Ok(SqlValue::String(None)),
                    _ => path_text(&key, item).map(|s| SqlValue::String(Some(s))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let bound =
                BoundValue::plain(SqlValue::Array(ArrayType::String, Some(Box::new(values))));
            return Ok(comparison(field, CompareAs::Text, op, Operand::List(bound)));
        }
        if field.pg_type.element().is_some() {
            return Err(not_applicable(field, op_name));
        }
        let bound = coerce_list(&key, &field.pg_type, items)?;
        Ok(comparison(
            field,
            CompareAs::Native,
            op,
            Operand::List(bound),
        ))
    }
}

fn comparison(
    field: &FieldRef,
    compare_as: CompareAs,
    op: Operator,
    operand: Operand,
) -> Condition {
    Condition::Compare(Box::new(Comparison {
        field: field.clone(),
        compare_as,
        op,
        operand,
    }))
}

fn not_applicable(field: &FieldRef, op_name: &str) -> FilterError {
    FilterError::OperatorNotApplicable {
        field: field.key(),
        operator: op_name.to_string(),
        pg_type: field.pg_type.to_string(),
    }
}

/// A JSON number for a numeric comparison at a JSON path: its exact JSON spelling, as numeric.
fn numeric(n: &serde_json::Number) -> BoundValue {
    BoundValue {
        value: SqlValue::String(Some(n.to_string())),
        cast: Some(NUMERIC_CAST.into()),
    }
}

/// `IS NULL` / `IS NOT NULL`; on a JSON path, of `col #>> path` (a missing key and a JSON null
/// are both NULL there).
fn null_check(field: &FieldRef, op: Operator) -> Condition {
    let compare_as = if field.is_path() {
        CompareAs::Text
    } else {
        CompareAs::Native
    };
    comparison(field, compare_as, op, Operand::None)
}

/// `exists` / `notExists`: a column is (not) NULL; a JSON path's key is present (`col #> path IS
/// NOT NULL`, true for a JSON null too) or absent.
fn existence(field: &FieldRef, present: bool) -> Condition {
    let op = if present {
        Operator::IsNotNull
    } else {
        Operator::IsNull
    };
    let compare_as = if field.is_path() {
        CompareAs::Jsonb
    } else {
        CompareAs::Native
    };
    comparison(field, compare_as, op, Operand::None)
}

/// `like`, `nlike`, `ilike`, `nilike`, `regexp`, `iregexp`: a string pattern, passed through.
fn pattern(
    field: &FieldRef,
    op: Operator,
    op_name: &str,
    operand: &JsonValue,
) -> Result<Condition, FilterError> {
    let JsonValue::String(pattern) = operand else {
        return Err(FilterError::invalid(
            &field.key(),
            format!("a string pattern for `{op_name}`"),
            operand,
        ));
    };
    if pattern.contains('\0') {
        return Err(nul_error(&field.key(), operand));
    }
    let like = matches!(
        op,
        Operator::Like | Operator::NotLike | Operator::ILike | Operator::NotILike
    );
    if like && ends_in_escape(pattern) {
        // Postgres refuses it when matching reaches the end ("LIKE pattern must not end with
        // escape character", SQLSTATE 22025), so it is refused here, before any SQL runs.
        let expected =
            format!("a `{op_name}` pattern not ending in a lone `\\` (escape it: `\\\\`)");
        return Err(FilterError::invalid(&field.key(), expected, operand));
    }
    let compare_as = if field.is_path() {
        CompareAs::Text
    } else if field.pg_type.is_textual() {
        CompareAs::Native
    } else if field.pg_type.element().is_some() || field.pg_type == PgType::Bytea {
        return Err(not_applicable(field, op_name));
    } else {
        CompareAs::Text
    };
    let bound = BoundValue::plain(SqlValue::String(Some(pattern.clone())));
    Ok(comparison(field, compare_as, op, Operand::One(bound)))
}

/// True when a LIKE pattern ends with a `\` that escapes nothing.
fn ends_in_escape(pattern: &str) -> bool {
    let mut escaping = false;
    for c in pattern.chars() {
        escaping = !escaping && c == '\\';
    }
    escaping
}

/// `between` / `notBetween`: exactly `[low, high]`, neither null.
fn range(
    field: &FieldRef,
    op: Operator,
    op_name: &str,
    operand: &JsonValue,
) -> Result<Condition, FilterError> {
    let key = field.key();
    let bounds = match operand {
        JsonValue::Array(items) if items.len() == 2 && items.iter().all(|v| !v.is_null()) => items,
        _ => {
            return Err(FilterError::invalid(
                &key,
                format!("an array of two non-null values [low, high] for `{op_name}`"),
                operand,
            ))
        }
    };
    let (low, high) = (&bounds[0], &bounds[1]);
    if field.is_path() {
        if let (JsonValue::Number(a), JsonValue::Number(b)) = (low, high) {
            return Ok(comparison(
                field,
                CompareAs::Numeric,
                op,
                Operand::Two(numeric(a), numeric(b)),
            ));
        }
        let text = |v: &JsonValue| {
            path_text(&key, v).map(|s| BoundValue::plain(SqlValue::String(Some(s))))
        };
        return Ok(comparison(
            field,
            CompareAs::Text,
            op,
            Operand::Two(text(low)?, text(high)?),
        ));
    }
    let low = coerce_value(&key, &field.pg_type, low)?;
    let high = coerce_value(&key, &field.pg_type, high)?;
    Ok(comparison(
        field,
        CompareAs::Native,
        op,
        Operand::Two(low, high),
    ))
}

/// `contains` / `containedBy` / `overlaps`: arrays (`@>`, `<@`, `&&`) and jsonb (`@>`, `<@`).
fn containment(
    field: &FieldRef,
    op: Operator,
    op_name: &str,
    operand: &JsonValue,
) -> Result<Condition, FilterError> {
    let key = field.key();
    if operand.is_null() {
        return Err(FilterError::invalid(
            &key,
            format!("a non-null value for `{op_name}`"),
            operand,
        ));
    }
    if field.is_path() || field.pg_type.is_json() {
        if op == Operator::Overlaps {
            return Err(not_applicable(field, op_name));
        }
        let compare_as = if field.is_path() {
            CompareAs::Jsonb
        } else {
            CompareAs::Native
        };
        let bound = coerce_value(&key, &PgType::Jsonb, operand)?;
        return Ok(comparison(field, compare_as, op, Operand::One(bound)));
    }
    if field.pg_type.element().is_none() {
        return Err(not_applicable(field, op_name));
    }
    // Ignis wraps a scalar into a one-element array.
    let wrapped;
    let array = match operand {
        JsonValue::Array(items) => {
            if items.is_empty() {
                match op {
                    Operator::Contains => return Ok(Condition::Const(true)),
                    Operator::Overlaps => return Ok(Condition::Const(false)),
                    _ => {}
                }
            }
            operand
        }
        scalar => {
            wrapped = JsonValue::Array(vec![scalar.clone()]);
            &wrapped
        }
    };
    let bound = coerce_value(&key, &field.pg_type, array)?;
    Ok(comparison(
        field,
        CompareAs::Native,
        op,
        Operand::One(bound),
    ))
}

/// Reads `{relation, scope, shouldSkipDefaultFilter}`.
fn inclusion_object(
    o: &Map<String, JsonValue>,
) -> Result<(&str, Option<&JsonValue>, bool), FilterError> {
    let mut relation = None;
    let mut scope = None;
    let mut skip = false;
    for (k, v) in o {
        match (k.as_str(), v) {
            ("relation", JsonValue::String(r)) => relation = Some(r.as_str()),
            ("scope", JsonValue::Null) => {}
            ("scope", s @ JsonValue::Object(_)) => scope = Some(s),
            ("shouldSkipDefaultFilter", JsonValue::Bool(b)) => skip = *b,
            ("shouldSkipDefaultFilter", JsonValue::Null) => {}
            ("relation" | "scope" | "shouldSkipDefaultFilter", other) => {
                return Err(FilterError::malformed(format!(
                    "include `{k}` has the wrong type: {}",
                    describe(other)
                )))
            }
            (other, _) => {
                return Err(FilterError::malformed(format!(
                    "unknown include key `{}` (expected relation, scope, \
                     shouldSkipDefaultFilter)",
                    excerpt(other)
                )))
            }
        }
    }
    let relation =
        relation.ok_or_else(|| FilterError::malformed("an include object needs a `relation`"))?;
    Ok((relation, scope, skip))
}

/// `fields`: `["a", "b"]`, `{"a": true}` (only the true ones), `{"a": false}` (all but those).
fn fields(model: &Model, value: &JsonValue) -> Result<Option<Fields>, FilterError> {
    let known = |p: &str| -> Result<String, FilterError> {
        match model.column_by_property(p) {
            Some(c) => Ok(c.property.clone()),
            None => Err(FilterError::UnknownField {
                model: model.name.clone(),
                field: p.to_string(),
            }),
        }
    };
    match value {
        JsonValue::Null => Ok(None),
        JsonValue::Array(items) => {
            let mut props: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let JsonValue::String(p) = item else {
                    return Err(FilterError::malformed(format!(
                        "`fields` must list property names, found {}",
                        describe(item)
                    )));
                };
                let p = known(p)?;
                if !props.contains(&p) {
                    props.push(p);
                }
            }
            Ok((!props.is_empty()).then_some(Fields::Include(props)))
        }
        JsonValue::Object(map) => {
            let mut included = Vec::new();
            let mut excluded = Vec::new();
            for (p, flag) in map {
                let p = known(p)?;
                match flag {
                    JsonValue::Bool(true) => included.push(p),
                    JsonValue::Bool(false) => excluded.push(p),
                    other => {
                        return Err(FilterError::invalid(
                            &format!("fields.{p}"),
                            "true or false",
                            other,
                        ))
                    }
                }
            }
            if !included.is_empty() {
                Ok(Some(Fields::Include(included)))
            } else if !excluded.is_empty() {
                Ok(Some(Fields::Exclude(excluded)))
            } else {
                Ok(None)
            }
        }
        other => Err(FilterError::malformed(format!(
            "`fields` must be an array or an object, found {}",
            describe(other)
        ))),
    }
}

/// `limit`, `skip`, `offset`: a non-negative integer (numeric strings accepted, as LoopBack's
/// query-string coercion does), at most `i64::MAX` (Postgres's bigint).
fn count(name: &str, value: &JsonValue) -> Result<Option<u64>, FilterError> {
    let n = match value {
        JsonValue::Null => return Ok(None),
        JsonValue::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.2e18)
                .map(|f| f as u64)
        }),
        JsonValue::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n <= i64::MAX as u64 => Ok(Some(n)),
        _ => Err(FilterError::invalid(name, "a non-negative integer", value)),
    }
}

/// One order term: `key [ASC|DESC] [NULLS FIRST|NULLS LAST]`, case-insensitive.
fn order_term(model: &Model, term: &str) -> Result<OrderTerm, FilterError> {
    let invalid = |reason: &str| FilterError::InvalidOrder {
        term: excerpt(term.trim()).into_owned(),
        reason: reason.to_string(),
    };
    let words: Vec<&str> = term.split_whitespace().collect();
    let Some((key, rest)) = words.split_first() else {
        return Err(invalid("the term is empty"));
    };
    let field = resolve_field(model, key)?;
    let mut rest = rest.iter().map(|w| w.to_ascii_lowercase());
    let mut direction = Direction::Asc;
    let mut nulls = None;
    let mut next = rest.next();
    match next.as_deref() {
        Some("asc") => next = rest.next(),
        Some("desc") => {
            direction = Direction::Desc;
            next = rest.next();
        }
        _ => {}
    }
    match next.as_deref() {
        None => {}
        Some("nulls") => {
            nulls = match rest.next().as_deref() {
                Some("first") => Some(Nulls::First),
                Some("last") => Some(Nulls::Last),
                _ => return Err(invalid("NULLS must be followed by FIRST or LAST")),
            };
            if rest.next().is_some() {
                return Err(invalid("unexpected words after NULLS FIRST / LAST"));
            }
        }
        Some(_) => {
            return Err(invalid(
                "expected `property [ASC|DESC] [NULLS FIRST|NULLS LAST]`",
            ))
        }
    }
    Ok(OrderTerm {
        field,
        direction,
        nulls,
    })
}

/// Resolves a where / order key to a property of `model`, or a JSON path inside a json / jsonb
/// property (`metadata.a.b`, `items[0].score`).
pub(crate) fn resolve_field(model: &Model, key: &str) -> Result<FieldRef, FilterError> {
    let Some(split) = key.find(['.', '[']) else {
        let (index, column) = model
            .columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.property == key)
            .ok_or_else(|| FilterError::UnknownField {
                model: model.name.clone(),
                field: key.to_string(),
            })?;
        return Ok(FieldRef {
            property: column.property.clone(),
            index,
            column: column.column.clone(),
            pg_type: column.pg_type.clone(),
            path: Vec::new(),
        });
    };
    let property = &key[..split];
    let invalid = |reason: String| FilterError::InvalidPath {
        field: property.to_string(),
        path: key.to_string(),
        reason,
    };
    if property.is_empty() {
        return Err(invalid("the path does not start with a property".into()));
    }
    let (index, column) = model
        .columns
        .iter()
        .enumerate()
        .find(|(_, c)| c.property == property)
        .ok_or_else(|| FilterError::UnknownField {
            model: model.name.clone(),
            field: property.to_string(),
        })?;
    if !column.pg_type.is_json() {
        return Err(invalid(format!(
            "`{property}` is a {} column; JSON paths need json or jsonb",
            column.pg_type
        )));
    }
    let path = parse_path(&key[split..]).map_err(invalid)?;
    Ok(FieldRef {
        property: column.property.clone(),
        index,
        column: column.column.clone(),
        pg_type: column.pg_type.clone(),
        path,
    })
}

/// Splits `.a.b[0]` / `[0].score` into segments, validating each (Ignis `JSON_PATH_PATTERN`:
/// `^[a-zA-Z_][a-zA-Z0-9_-]*$|^\d+$`).
fn parse_path(mut rest: &str) -> Result<Vec<String>, String> {
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let segment;
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            segment = &after[..end];
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| "a `[` is not closed".to_string())?;
            segment = &after[..end];
            rest = &after[end + 1..];
            if !(rest.is_empty() || rest.starts_with(['.', '['])) {
                return Err("expected `.` or `[` after `]`".into());
            }
        } else {
            return Err("expected `.` or `[`".into());
        }
        if !valid_segment(segment) {
            return Err(format!(
                "segment `{}` is not an identifier ([A-Za-z_][A-Za-z0-9_-]*) or an array index",
                excerpt(segment)
            ));
        }
        segments.push(segment.to_string());
        if segments.len() > MAX_PATH_SEGMENTS {
            return Err(format!("more than {MAX_PATH_SEGMENTS} segments"));
        }
    }
    Ok(segments)
}

fn valid_segment(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_SEGMENT_BYTES {
        return false;
    }
    let bytes = s.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) {
        return true;
    }
    (bytes[0].is_ascii_alphabetic() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
}

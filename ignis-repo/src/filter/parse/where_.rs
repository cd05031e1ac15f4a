//! `where`: groups (`and` / `or` / `not`), field keys, implicit equality, operator objects and
//! lists, each operand checked and coerced.

use ignis_schema::{Model, PgType};
use sea_query::{ArrayType, Value as SqlValue};
use serde_json::{Map, Value as JsonValue};

use super::operators::{
    comparison, containment, existence, not_applicable, null_check, numeric, pattern, range,
};
use super::path::resolve_field;
use super::{is_operator, Parser};
use crate::filter::coerce::{coerce_list, coerce_value, path_text, BoundValue};
use crate::filter::condition::{CompareAs, Condition, FieldRef, Operand, Operator};
use crate::filter::error::{describe, FilterError};

fn is_operator_object(map: &Map<String, JsonValue>) -> bool {
    !map.is_empty() && map.keys().all(|k| is_operator(k))
}

impl Parser<'_> {
    pub(super) fn where_object(
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
                if let (1, Some((op, operand))) = (map.len(), map.iter().next()) {
                    return self.operator(field, op, operand, depth);
                }
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
                match map.keys().find(|k| !is_operator(k)) {
                    Some(unknown) => Err(FilterError::UnknownOperator {
                        field: field.key().into_owned(),
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
                field: field.key().into_owned(),
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
        let mut bound = coerce_value(&key, &field.pg_type, operand)?;
        self.note(&mut bound, field, operand, None);
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
                field: key.into_owned(),
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
                let bound = BoundValue::new(
                    SqlValue::Array(ArrayType::String, Some(Box::new(values))),
                    Some("::text[]::numeric[]".into()),
                );
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
        let mut bound = coerce_list(&key, &field.pg_type, items)?;
        self.note(&mut bound, field, operand, Some(operand.is_array()));
        Ok(comparison(
            field,
            CompareAs::Native,
            op,
            Operand::List(bound),
        ))
    }
}

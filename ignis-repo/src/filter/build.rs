//! Conditions built by the engine rather than parsed from a filter: the `= ANY($1)` of an
//! include's join keys, and `col = $1` of a by-id lookup.

use ignis_schema::{Model, PgType};
use sea_query::Value as SqlValue;
use serde_json::Value as JsonValue;

use super::coerce::{coerce_list, coerce_value, BoundValue};
use super::condition::{CompareAs, Comparison, Condition, Operand, Operator};
use super::error::FilterError;
use super::parse::resolve_field;

/// `col = ANY($1)` for the property `column_property` of `model`, with `values` coerced to its
/// type and bound as one array: how an include loads one relation level in one query (the
/// values are the join keys of the parent rows). Nulls are skipped (they join nothing);
/// duplicates are kept (harmless). No values gives `Condition::Const(false)`.
///
/// # Errors
/// [`FilterError::UnknownField`] for an unknown property, [`FilterError::InvalidValue`] for a
/// value that does not fit the column, [`FilterError::OperatorNotApplicable`] for an array
/// column.
pub(crate) fn any_of(
    model: &Model,
    column_property: &str,
    values: &[JsonValue],
) -> Result<Condition, FilterError> {
    let field = resolve_field(model, column_property)?;
    if field.is_path() || field.pg_type.element().is_some() {
        return Err(FilterError::OperatorNotApplicable {
            field: field.key().into_owned(),
            operator: "in".into(),
            pg_type: field.pg_type.to_string(),
        });
    }
    let present: Vec<JsonValue> = values.iter().filter(|v| !v.is_null()).cloned().collect();
    if present.is_empty() {
        return Ok(Condition::Const(false));
    }
    let list = coerce_list(&field.key(), &field.pg_type, &present)?;
    Ok(Condition::Compare(Box::new(Comparison {
        field,
        compare_as: CompareAs::Native,
        op: Operator::In,
        operand: Operand::List(list),
    })))
}

/// [`any_of`] for integer keys, bound without a JSON detour: how a typed include binds the
/// parent keys it read from an integer column. `None` when the property is not a
/// `smallint` / `integer` / `bigint` column or a key does not fit it; the caller then uses
/// [`any_of`], whose errors apply.
pub(crate) fn any_of_ints(model: &Model, property: &str, keys: &[i64]) -> Option<Condition> {
    let field = resolve_field(model, property).ok()?;
    if field.is_path() {
        return None;
    }
    let (array_type, values): (sea_query::ArrayType, Vec<SqlValue>) = match field.pg_type {
        PgType::SmallInt => (
            sea_query::ArrayType::SmallInt,
            keys.iter()
                .map(|&k| i16::try_from(k).ok().map(|v| SqlValue::SmallInt(Some(v))))
                .collect::<Option<_>>()?,
        ),
        PgType::Integer => (
            sea_query::ArrayType::Int,
            keys.iter()
                .map(|&k| i32::try_from(k).ok().map(|v| SqlValue::Int(Some(v))))
                .collect::<Option<_>>()?,
        ),
        PgType::BigInt => (
            sea_query::ArrayType::BigInt,
            keys.iter().map(|&k| SqlValue::BigInt(Some(k))).collect(),
        ),
        _ => return None,
    };
    if values.is_empty() {
        return Some(Condition::Const(false));
    }
    Some(Condition::Compare(Box::new(Comparison {
        field,
        compare_as: CompareAs::Native,
        op: Operator::In,
        operand: Operand::List(BoundValue::plain(SqlValue::Array(
            array_type,
            Some(Box::new(values)),
        ))),
    })))
}

/// `col = $1` for the property `property` of `model`, or `col IS NULL` when `value` is null:
/// a building block for joins on several columns and for by-id lookups.
///
/// # Errors
/// [`FilterError::UnknownField`] for an unknown property, [`FilterError::InvalidValue`] for a
/// value that does not fit the column.
pub(crate) fn field_eq(
    model: &Model,
    property: &str,
    value: &JsonValue,
) -> Result<Condition, FilterError> {
    let field = resolve_field(model, property)?;
    if field.is_path() {
        return Err(FilterError::InvalidPath {
            field: field.property.to_string(),
            path: property.to_string(),
            reason: "field_eq takes a property, not a JSON path".into(),
        });
    }
    let (op, operand) = if value.is_null() {
        (Operator::IsNull, Operand::None)
    } else {
        (
            Operator::Eq,
            Operand::One(coerce_value(&field.key(), &field.pg_type, value)?),
        )
    };
    Ok(Condition::Compare(Box::new(Comparison {
        field,
        compare_as: CompareAs::Native,
        op,
        operand,
    })))
}

//! The condition of each operator: comparisons, null checks, existence, patterns, ranges and
//! containment, on columns and JSON paths.

use ignis_schema::PgType;
use sea_query::Value as SqlValue;
use serde_json::Value as JsonValue;

use crate::filter::coerce::{coerce_value, nul_error, path_text, BoundValue};
use crate::filter::condition::{CompareAs, Comparison, Condition, FieldRef, Operand, Operator};
use crate::filter::error::FilterError;

/// Guarded numeric cast of Ignis for a JSON number at a path (see [`CompareAs::Numeric`]).
const NUMERIC_CAST: &str = "::text::numeric";

pub(super) fn comparison(
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

pub(super) fn not_applicable(field: &FieldRef, op_name: &str) -> FilterError {
    FilterError::OperatorNotApplicable {
        field: field.key().into_owned(),
        operator: op_name.to_string(),
        pg_type: field.pg_type.to_string(),
    }
}

/// A JSON number for a numeric comparison at a JSON path: its exact JSON spelling, as numeric.
pub(super) fn numeric(n: &serde_json::Number) -> BoundValue {
    BoundValue::new(
        SqlValue::String(Some(n.to_string())),
        Some(NUMERIC_CAST.into()),
    )
}

/// `IS NULL` / `IS NOT NULL`; on a JSON path, of `col #>> path` (a missing key and a JSON null
/// are both NULL there).
pub(super) fn null_check(field: &FieldRef, op: Operator) -> Condition {
    let compare_as = if field.is_path() {
        CompareAs::Text
    } else {
        CompareAs::Native
    };
    comparison(field, compare_as, op, Operand::None)
}

/// `exists` / `notExists`: a column is (not) NULL; a JSON path's key is present (`col #> path IS
/// NOT NULL`, true for a JSON null too) or absent.
pub(super) fn existence(field: &FieldRef, present: bool) -> Condition {
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
pub(super) fn pattern(
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
pub(super) fn range(
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
pub(super) fn containment(
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

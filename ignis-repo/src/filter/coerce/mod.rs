//! Coercion of JSON values to a column's Postgres type, before binding.
//!
//! sea-query-postgres hands every value to the `postgres` crate in binary format whatever type the
//! server inferred for the parameter, so a `Value::BigInt` bound to an `int4` column fails at the
//! server ("incorrect binary data format"). Values are therefore turned into the
//! [`sea_query::Value`] variant whose binary form *is* the column type's:
//!
//! | column type | bound as | JSON accepted |
//! |---|---|---|
//! | `smallint` / `integer` / `bigint` | `SmallInt` / `Int` / `BigInt` | integral numbers in range, numeric strings (`"42"`) |
//! | `real` / `double precision` | `Float` / `Double` | numbers, numeric strings |
//! | `numeric` | `String`, cast `$n::text::numeric` | numbers (their exact JSON spelling), numeric strings |
//! | `text` / `varchar` / `char` | `String` | strings; numbers and booleans as their text |
//! | `boolean` | `Bool` | booleans, `0` / `1`, Postgres's boolean strings (`"true"`, `"f"`, `"yes"`, ...) |
//! | `uuid` | `Uuid` | UUID strings |
//! | `date` | `ChronoDate` | `YYYY-MM-DD`, or an RFC 3339 date-time (its date) |
//! | `time` | `ChronoTime` | `HH:MM[:SS[.f]]` |
//! | `timestamptz` | `ChronoDateTimeUtc` | RFC 3339 / ISO 8601 strings (no offset: UTC), dates (midnight UTC), epoch milliseconds (a JS `Date`'s number) |
//! | `timestamp` | `ChronoDateTime` | the same strings; an offset is ignored, as Postgres does for `timestamp` |
//! | `json` / `jsonb` | `Json`, cast `$n::jsonb` | any JSON |
//! | `bytea` | `Bytes` | `"\\x..."` hex strings (Postgres's own output format) |
//! | `T[]` | `Array(T)` | JSON arrays, each element coerced as `T` |
//! | anything else (`interval`, `inet`, `cidr`, `timetz`, enums, domains) | `String`, cast `$n::text::T` | strings, numbers, booleans; the server parses them |
//!
//! Numeric is bound as text rather than `f64` so `0.1` stays exactly `0.1`. The `::text` in the
//! casts fixes the parameter's type to text whether the statement is prepared untyped (the server
//! infers) or with sea-query-postgres's own `as_types()`; the jsonb cast does the same for JSON.

mod datetime;
mod depth;
#[cfg(test)]
mod tests;

use chrono::NaiveTime;
use ignis_schema::PgType;
use sea_query::{ArrayType, Value as SqlValue};
use serde_json::Value as JsonValue;

use super::error::FilterError;
use datetime::{in_pg_range, parse_date, timestamp, timestamptz};
pub(crate) use depth::{check_value_depth, depth_within, nul_error};
use depth::{scan, MAX_VALUE_DEPTH};

/// A value ready to bind: a [`sea_query::Value`] of the column's binary type, and the SQL cast
/// (from the model, never from input) to write after its placeholder, if the type needs one.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundValue {
    /// The value bound as a parameter.
    pub value: SqlValue,
    /// A cast written after the placeholder, e.g. `::text::numeric` or `::jsonb`; `None` when
    /// the parameter binds as the column's type directly.
    pub cast: Option<String>,
    /// The value's number among the values a recording parse took from the filter JSON as
    /// they are (see `Parser::recording`), from 1; 0 for every other value. The statement
    /// writer reports which parameter each numbered value became, which is what lets a
    /// repository keep a filter's statement for other values (`query::template`).
    pub(crate) slot: u32,
}

impl BoundValue {
    /// A value that needs no cast.
    pub fn plain(value: SqlValue) -> Self {
        BoundValue::new(value, None)
    }

    /// `value`, written with `cast` after its placeholder.
    pub fn new(value: SqlValue, cast: Option<String>) -> Self {
        BoundValue {
            value,
            cast,
            slot: 0,
        }
    }
}

/// How a scalar Postgres type binds.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    Text,
    Bool,
    Uuid,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    /// json / jsonb, bound as jsonb.
    Json,
    Bytes,
    /// Bound as text and cast to the named type on the server.
    Cast(String),
}

fn kind(pg_type: &PgType) -> Option<Kind> {
    Some(match pg_type {
        PgType::SmallInt => Kind::SmallInt,
        PgType::Integer => Kind::Int,
        PgType::BigInt => Kind::BigInt,
        PgType::Real => Kind::Float,
        PgType::DoublePrecision => Kind::Double,
        PgType::Numeric { .. } => Kind::Cast("numeric".into()),
        PgType::Text | PgType::Varchar(_) | PgType::Char(_) => Kind::Text,
        PgType::Boolean => Kind::Bool,
        PgType::Uuid => Kind::Uuid,
        PgType::Date => Kind::Date,
        PgType::Time {
            with_time_zone: false,
            ..
        } => Kind::Time,
        PgType::Time {
            with_time_zone: true,
            ..
        } => Kind::Cast("timetz".into()),
        PgType::Timestamp {
            with_time_zone: true,
            ..
        } => Kind::TimestampTz,
        PgType::Timestamp {
            with_time_zone: false,
            ..
        } => Kind::Timestamp,
        PgType::Json | PgType::Jsonb => Kind::Json,
        PgType::Bytea => Kind::Bytes,
        PgType::Interval => Kind::Cast("interval".into()),
        PgType::Inet => Kind::Cast("inet".into()),
        PgType::Cidr => Kind::Cast("cidr".into()),
        PgType::Custom(name) => Kind::Cast(name.clone()),
        PgType::Array(_) => return None,
        // `PgType` is non-exhaustive: a type added later binds as text cast to its own name.
        other => Kind::Cast(other.to_string()),
    })
}

impl Kind {
    fn array_type(&self) -> ArrayType {
        match self {
            Kind::SmallInt => ArrayType::SmallInt,
            Kind::Int => ArrayType::Int,
            Kind::BigInt => ArrayType::BigInt,
            Kind::Float => ArrayType::Float,
            Kind::Double => ArrayType::Double,
            Kind::Text | Kind::Cast(_) => ArrayType::String,
            Kind::Bool => ArrayType::Bool,
            Kind::Uuid => ArrayType::Uuid,
            Kind::Date => ArrayType::ChronoDate,
            Kind::Time => ArrayType::ChronoTime,
            Kind::Timestamp => ArrayType::ChronoDateTime,
            Kind::TimestampTz => ArrayType::ChronoDateTimeUtc,
            Kind::Json => ArrayType::Json,
            Kind::Bytes => ArrayType::Bytes,
        }
    }

    fn null(&self) -> SqlValue {
        match self {
            Kind::SmallInt => SqlValue::SmallInt(None),
            Kind::Int => SqlValue::Int(None),
            Kind::BigInt => SqlValue::BigInt(None),
            Kind::Float => SqlValue::Float(None),
            Kind::Double => SqlValue::Double(None),
            Kind::Text | Kind::Cast(_) => SqlValue::String(None),
            Kind::Bool => SqlValue::Bool(None),
            Kind::Uuid => SqlValue::Uuid(None),
            Kind::Date => SqlValue::ChronoDate(None),
            Kind::Time => SqlValue::ChronoTime(None),
            Kind::Timestamp => SqlValue::ChronoDateTime(None),
            Kind::TimestampTz => SqlValue::ChronoDateTimeUtc(None),
            Kind::Json => SqlValue::Json(None),
            Kind::Bytes => SqlValue::Bytes(None),
        }
    }

    /// The cast after a scalar placeholder.
    fn cast(&self) -> Option<String> {
        match self {
            Kind::Json => Some("::jsonb".into()),
            Kind::Cast(t) => Some(format!("::text::{t}")),
            _ => None,
        }
    }

    /// The cast after an array placeholder.
    fn array_cast(&self) -> Option<String> {
        match self {
            Kind::Json => Some("::jsonb[]".into()),
            Kind::Cast(t) => Some(format!("::text[]::{t}[]")),
            _ => None,
        }
    }
}

/// Coerces one JSON value to the Postgres type `pg_type` of `field` (a property name, used in
/// errors). `null` gives a typed SQL NULL. Arrays (`T[]`) take a JSON array and coerce each
/// element; nested array types (`integer[][]`) are not supported.
///
/// This is what filters bind; the repository uses it for written values too, so reads and writes
/// agree on representation.
///
/// A json / jsonb value is walked once without recursion before it is cloned into the bound
/// value: it may hold no U+0000 (Postgres cannot store it) and may nest arrays and objects at
/// most 1024 levels deep, whatever the caller's limits, because serde_json clones, serialises
/// and drops it recursively. Callers with a lower limit check it first with
/// [`check_value_depth`] (the filter parser does, with
/// [`super::FilterLimits::max_value_depth`]).
///
/// # Errors
/// [`FilterError::InvalidValue`] naming the field, what the type expects and what was given;
/// [`FilterError::ValueTooDeep`] for a json / jsonb value nested deeper than 1024 levels.
pub(crate) fn coerce_value(
    field: &str,
    pg_type: &PgType,
    value: &JsonValue,
) -> Result<BoundValue, FilterError> {
    match pg_type {
        PgType::Array(element) => {
            let kind = kind(element).ok_or_else(|| {
                FilterError::invalid(field, "a column type other than a nested array", value)
            })?;
            let items = match value {
                JsonValue::Null => {
                    return Ok(BoundValue::new(
                        SqlValue::Array(kind.array_type(), None),
                        kind.array_cast(),
                    ))
                }
                JsonValue::Array(items) => items,
                _ => {
                    return Err(FilterError::invalid(
                        field,
                        format!("an array ({pg_type})"),
                        value,
                    ))
                }
            };
            let values = items
                .iter()
                .map(|item| scalar(field, &kind, item))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(BoundValue::new(
                SqlValue::Array(kind.array_type(), Some(Box::new(values))),
                kind.array_cast(),
            ))
        }
        other => {
            let kind = kind(other).ok_or_else(|| FilterError::invalid(field, "a scalar", value))?;
            Ok(BoundValue::new(scalar(field, &kind, value)?, kind.cast()))
        }
    }
}

/// Coerces a list of JSON values to ONE array parameter of the scalar type `pg_type` (for
/// `= ANY($n)` / `<> ALL($n)`), so the SQL text does not depend on the list's length. A JSON
/// `null` becomes a NULL element, with SQL's semantics (as Ignis, whose `inq` / `nin` write
/// `IN (...)` / `NOT IN (...)`): `x = ANY('{1,NULL}')` holds where `x = 1` and is unknown
/// elsewhere, so the NULL matches no row; `x <> ALL('{1,NULL}')` is false or unknown for every
/// row, so `nin` with a null matches none.
///
/// # Errors
/// [`FilterError::OperatorNotApplicable`] for an array type, and the errors of
/// [`coerce_value`] for an element that does not fit the type.
pub(crate) fn coerce_list(
    field: &str,
    pg_type: &PgType,
    items: &[JsonValue],
) -> Result<BoundValue, FilterError> {
    let kind = kind(pg_type).ok_or_else(|| FilterError::OperatorNotApplicable {
        field: field.to_string(),
        operator: "in".into(),
        pg_type: pg_type.to_string(),
    })?;
    let values = items
        .iter()
        .map(|item| scalar(field, &kind, item))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BoundValue::new(
        SqlValue::Array(kind.array_type(), Some(Box::new(values))),
        kind.array_cast(),
    ))
}

/// Text for comparing with `col #>> path` (JSON paths compare as text): strings as they are,
/// numbers and booleans as JSON spells them (which is what `#>>` returns for them).
pub(crate) fn path_text(field: &str, value: &JsonValue) -> Result<String, FilterError> {
    match value {
        JsonValue::String(s) if s.contains('\0') => Err(nul_error(field, value)),
        JsonValue::String(s) => Ok(s.clone()),
        JsonValue::Number(n) => Ok(n.to_string()),
        JsonValue::Bool(b) => Ok(b.to_string()),
        _ => Err(FilterError::invalid(
            field,
            "a string, number or boolean",
            value,
        )),
    }
}

fn int_range(field: &str, value: &JsonValue, min: i64, max: i64) -> Result<i64, FilterError> {
    let expected = || format!("an integer between {min} and {max}");
    let n = match value {
        JsonValue::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i)
            } else if n.is_u64() {
                None
            } else {
                n.as_f64().and_then(|f| {
                    // Integral floats (`1e3`, `42.0`) are accepted; the range check below rejects
                    // the ones that do not fit.
                    if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                        Some(f as i64)
                    } else {
                        None
                    }
                })
            }
        }
        JsonValue::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(i) if (min..=max).contains(&i) => Ok(i),
        _ => Err(FilterError::invalid(field, expected(), value)),
    }
}

fn float(field: &str, value: &JsonValue) -> Result<f64, FilterError> {
    let f = match value {
        JsonValue::Number(n) => n.as_f64(),
        JsonValue::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match f {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err(FilterError::invalid(field, "a finite number", value)),
    }
}

/// True for the spellings Postgres's `numeric` input accepts: `[+-]digits[.digits][e[+-]digits]`
/// (either side of the point may be empty, not both), `NaN` and `[+-]Infinity`.
fn is_numeric_literal(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let body = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if body == "nan" && lower == body || body == "infinity" || body == "inf" {
        return true;
    }
    let (mantissa, exponent) = match body.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
    };
    mantissa_ok && exponent_ok
}

fn text(field: &str, value: &JsonValue) -> Result<String, FilterError> {
    match value {
        JsonValue::String(s) if s.contains('\0') => Err(nul_error(field, value)),
        JsonValue::String(s) => Ok(s.clone()),
        JsonValue::Number(n) => Ok(n.to_string()),
        JsonValue::Bool(b) => Ok(b.to_string()),
        _ => Err(FilterError::invalid(field, "a string", value)),
    }
}

fn boolean(field: &str, value: &JsonValue) -> Result<bool, FilterError> {
    let b = match value {
        JsonValue::Bool(b) => Some(*b),
        JsonValue::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        // The spellings of the Postgres manual, 8.6 "Boolean Type".
        JsonValue::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    b.ok_or_else(|| FilterError::invalid(field, "a boolean", value))
}

fn bytes(field: &str, value: &JsonValue) -> Result<Vec<u8>, FilterError> {
    let expected = "a hex string starting with \\x (\\x0aff)";
    let JsonValue::String(s) = value else {
        return Err(FilterError::invalid(field, expected, value));
    };
    let Some(hex) = s.strip_prefix("\\x") else {
        return Err(FilterError::invalid(field, expected, value));
    };
    if hex.len() % 2 != 0 {
        return Err(FilterError::invalid(field, expected, value));
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| FilterError::invalid(field, expected, value))
}

fn scalar(field: &str, kind: &Kind, value: &JsonValue) -> Result<SqlValue, FilterError> {
    if value.is_null() {
        return Ok(kind.null());
    }
    Ok(match kind {
        Kind::SmallInt => {
            SqlValue::SmallInt(Some(
                int_range(field, value, i16::MIN.into(), i16::MAX.into())? as i16,
            ))
        }
        Kind::Int => SqlValue::Int(Some(
            int_range(field, value, i32::MIN.into(), i32::MAX.into())? as i32,
        )),
        Kind::BigInt => SqlValue::BigInt(Some(int_range(field, value, i64::MIN, i64::MAX)?)),
        Kind::Float => {
            let f = float(field, value)?;
            let narrow = f as f32;
            if !narrow.is_finite() {
                return Err(FilterError::invalid(
                    field,
                    "a number in real's range",
                    value,
                ));
            }
            SqlValue::Float(Some(narrow))
        }
        Kind::Double => SqlValue::Double(Some(float(field, value)?)),
        Kind::Text => SqlValue::String(Some(text(field, value)?)),
        Kind::Bool => SqlValue::Bool(Some(boolean(field, value)?)),
        Kind::Uuid => {
            let parsed = value
                .as_str()
                .and_then(|s| uuid::Uuid::parse_str(s.trim()).ok());
            SqlValue::Uuid(Some(
                parsed.ok_or_else(|| FilterError::invalid(field, "a UUID", value))?,
            ))
        }
        Kind::Date => {
            let parsed = value
                .as_str()
                .and_then(parse_date)
                .filter(|d| d.and_hms_opt(0, 0, 0).is_some_and(in_pg_range));
            SqlValue::ChronoDate(Some(
                parsed.ok_or_else(|| FilterError::invalid(field, "a date (2024-01-31)", value))?,
            ))
        }
        Kind::Time => {
            let parsed = value.as_str().and_then(|s| {
                let s = s.trim();
                NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
                    .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
                    .ok()
            });
            SqlValue::ChronoTime(Some(parsed.ok_or_else(|| {
                FilterError::invalid(field, "a time of day (13:45:00)", value)
            })?))
        }
        Kind::Timestamp => SqlValue::ChronoDateTime(Some(timestamp(field, value)?)),
        Kind::TimestampTz => SqlValue::ChronoDateTimeUtc(Some(timestamptz(field, value)?)),
        Kind::Json => {
            // Checked before the clone, which (like the later serialisation) recurses.
            scan(field, value, MAX_VALUE_DEPTH, true)?;
            SqlValue::Json(Some(Box::new(value.clone())))
        }
        Kind::Bytes => SqlValue::Bytes(Some(bytes(field, value)?)),
        Kind::Cast(type_name) => {
            if type_name == "numeric" {
                let literal = match value {
                    JsonValue::Number(n) => n.to_string(),
                    JsonValue::String(s) if is_numeric_literal(s.trim()) => s.trim().to_string(),
                    _ => return Err(FilterError::invalid(field, "a number", value)),
                };
                SqlValue::String(Some(literal))
            } else {
                SqlValue::String(Some(text(field, value)?))
            }
        }
    })
}

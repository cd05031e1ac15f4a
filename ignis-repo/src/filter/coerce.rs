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

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use ignis_schema::PgType;
use sea_query::{ArrayType, Value as SqlValue};
use serde_json::Value as JsonValue;

use super::error::FilterError;

/// A value ready to bind: a [`sea_query::Value`] of the column's binary type, and the SQL cast
/// (from the model, never from input) to write after its placeholder, if the type needs one.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundValue {
    /// The value bound as a parameter.
    pub value: SqlValue,
    /// A cast written after the placeholder, e.g. `::text::numeric` or `::jsonb`; `None` when
    /// the parameter binds as the column's type directly.
    pub cast: Option<String>,
}

impl BoundValue {
    /// A value that needs no cast.
    pub fn plain(value: SqlValue) -> Self {
        BoundValue { value, cast: None }
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
                    return Ok(BoundValue {
                        value: SqlValue::Array(kind.array_type(), None),
                        cast: kind.array_cast(),
                    })
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
            Ok(BoundValue {
                value: SqlValue::Array(kind.array_type(), Some(Box::new(values))),
                cast: kind.array_cast(),
            })
        }
        other => {
            let kind = kind(other).ok_or_else(|| FilterError::invalid(field, "a scalar", value))?;
            Ok(BoundValue {
                value: scalar(field, &kind, value)?,
                cast: kind.cast(),
            })
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
    Ok(BoundValue {
        value: SqlValue::Array(kind.array_type(), Some(Box::new(values))),
        cast: kind.array_cast(),
    })
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

/// Postgres text and jsonb cannot hold U+0000: the server would refuse the statement
/// (SQLSTATE 22021 for text, 22P05 for jsonb), so such values are refused before it is sent.
pub(crate) fn nul_error(field: &str, value: &JsonValue) -> FilterError {
    FilterError::invalid(
        field,
        "text without NUL characters (U+0000, which Postgres cannot store)",
        value,
    )
}

/// The deepest nesting of arrays and objects [`coerce_value`] accepts in a json / jsonb value,
/// whatever the repository's [`super::FilterLimits::max_value_depth`]: a coerced value is cloned
/// into the bound parameter, serialised when bound and dropped afterwards, and serde_json does
/// each of these recursively, one stack frame per level.
pub(crate) const MAX_VALUE_DEPTH: usize = 1024;

/// One container being walked by [`scan`]: the rest of its elements or entries.
enum Frame<'a> {
    Array(std::slice::Iter<'a, JsonValue>),
    Object(serde_json::map::Iter<'a>),
}

/// Walks `value` without recursion (an explicit stack of at most `max_depth` frames), checking
/// that arrays and objects nest at most `max_depth` levels (a scalar is level 0, `[1]` level 1)
/// and, when `refuse_nul`, that no string or object key contains U+0000.
///
/// # Errors
/// [`FilterError::ValueTooDeep`] naming `field` and `max_depth`, or the NUL error of
/// [`nul_error`]; whichever the walk meets first.
fn scan(
    field: &str,
    value: &JsonValue,
    max_depth: usize,
    refuse_nul: bool,
) -> Result<(), FilterError> {
    let too_deep = || FilterError::ValueTooDeep {
        field: field.to_string(),
        limit: max_depth,
    };
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut next = Some(value);
    loop {
        match next.take() {
            Some(JsonValue::String(s)) if refuse_nul && s.contains('\0') => {
                return Err(nul_error(field, value))
            }
            Some(JsonValue::Array(items)) => {
                if stack.len() >= max_depth {
                    return Err(too_deep());
                }
                stack.push(Frame::Array(items.iter()));
            }
            Some(JsonValue::Object(map)) => {
                if stack.len() >= max_depth {
                    return Err(too_deep());
                }
                stack.push(Frame::Object(map.iter()));
            }
            _ => {}
        }
        let Some(top) = stack.last_mut() else {
            return Ok(());
        };
        match top {
            Frame::Array(items) => match items.next() {
                Some(item) => next = Some(item),
                None => {
                    stack.pop();
                }
            },
            Frame::Object(entries) => match entries.next() {
                Some((key, _)) if refuse_nul && key.contains('\0') => {
                    return Err(nul_error(field, value))
                }
                Some((_, item)) => next = Some(item),
                None => {
                    stack.pop();
                }
            },
        }
    }
}

/// Checks, without recursion, that `value` nests arrays and objects at most `max_depth` levels
/// deep (a scalar is level 0, `[1]` and `{"a": 1}` level 1, `{"a": [1]}` level 2).
///
/// The parser applies it, with [`super::FilterLimits::max_value_depth`], to every `where`
/// operand before anything else looks at the operand; a repository applies it to each value of
/// the data given to a write before coercing it. It walks with an explicit stack (at most
/// `max_depth` entries), so a value nested a million levels is refused in time proportional to
/// the part walked and without overflowing the stack, which serde_json's own `Clone`, `Drop`
/// and serialisation would do on such a value.
///
/// # Errors
/// [`FilterError::ValueTooDeep`] naming `field` (quoted in the message through a short
/// excerpt) and `max_depth`.
pub(crate) fn check_value_depth(
    field: &str,
    value: &JsonValue,
    max_depth: usize,
) -> Result<(), FilterError> {
    scan(field, value, max_depth, false)
}

/// True when `value` nests arrays and objects at most `max_depth` levels deep
/// ([`check_value_depth`] without building an error).
pub(crate) fn depth_within(value: &JsonValue, max_depth: usize) -> bool {
    scan("", value, max_depth, false).is_ok()
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

fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .or_else(|| parse_offset_datetime(s).map(|d| d.date_naive()))
        .or_else(|| parse_naive_datetime(s).map(|d| d.date()))
}

fn parse_offset_datetime(s: &str) -> Option<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%#z").ok())
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z").ok())
}

fn parse_naive_datetime(s: &str) -> Option<NaiveDateTime> {
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, format) {
            return Some(d);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// The earliest moment Postgres's `timestamp`, `timestamptz` and `date` hold (4714-11-24 BC,
/// Julian day 0), in seconds since the Unix epoch. chrono's latest (year 262143) is within all
/// three types' upper bounds, so only the lower bound needs checking: a value below it would be
/// refused by the server ("timestamp out of range", SQLSTATE 22008) after the statement was sent.
const PG_MIN_UNIX_SECONDS: i64 = -210_866_803_200;

fn in_pg_range(d: NaiveDateTime) -> bool {
    d.and_utc().timestamp() >= PG_MIN_UNIX_SECONDS
}

fn timestamptz(field: &str, value: &JsonValue) -> Result<DateTime<Utc>, FilterError> {
    let parsed = match value {
        JsonValue::String(s) => {
            let s = s.trim();
            parse_offset_datetime(s)
                .map(|d| d.with_timezone(&Utc))
                .or_else(|| parse_naive_datetime(s).map(|d| d.and_utc()))
        }
        // A JS `Date` serialized as a number: milliseconds since the epoch.
        JsonValue::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        _ => None,
    };
    parsed
        .filter(|d| in_pg_range(d.naive_utc()))
        .ok_or_else(|| {
            FilterError::invalid(
                field,
                "an RFC 3339 timestamp (2024-01-31T12:00:00Z) or epoch milliseconds",
                value,
            )
        })
}

fn timestamp(field: &str, value: &JsonValue) -> Result<NaiveDateTime, FilterError> {
    let parsed = match value {
        JsonValue::String(s) => {
            let s = s.trim();
            parse_offset_datetime(s)
                .map(|d| d.naive_local())
                .or_else(|| parse_naive_datetime(s))
        }
        JsonValue::Number(n) => n
            .as_i64()
            .and_then(DateTime::from_timestamp_millis)
            .map(|d| d.naive_utc()),
        _ => None,
    };
    parsed.filter(|d| in_pg_range(*d)).ok_or_else(|| {
        FilterError::invalid(field, "an ISO 8601 timestamp (2024-01-31T12:00:00)", value)
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_characters_are_refused_in_text_and_json() {
        let text_array: PgType = "text[]".parse().unwrap();
        for (ty, v) in [
            (PgType::Text, json!("a\u{0}b")),
            (text_array, json!(["ok", "\u{0}"])),
            (PgType::Jsonb, json!({"k": ["\u{0}"]})),
            (PgType::Jsonb, json!({"\u{0}": 1})),
        ] {
            let err = coerce_value("f", &ty, &v).unwrap_err();
            assert!(err.to_string().contains("NUL"), "{ty}: {err}");
        }
        assert!(path_text("f", &json!("\u{0}")).is_err());
        assert!(coerce_value("f", &PgType::Jsonb, &json!({"k": "\\u0000"})).is_ok());
    }

    #[test]
    fn dates_and_timestamps_before_postgres_range_are_refused() {
        let first = NaiveDate::from_ymd_opt(-4713, 11, 24).unwrap();
        assert_eq!(
            first.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp(),
            PG_MIN_UNIX_SECONDS
        );
        let tz = PgType::TIMESTAMPTZ;
        let naive = PgType::Timestamp {
            precision: None,
            with_time_zone: false,
        };
        // Epoch milliseconds chrono accepts but Postgres does not (year -251 000).
        for ty in [&tz, &naive] {
            assert!(coerce_value("at", ty, &json!(-8_000_000_000_000_000_i64)).is_err());
            assert!(coerce_value("at", ty, &json!(-210_866_803_200_000_i64)).is_ok());
            assert!(coerce_value("at", ty, &json!(-210_866_803_200_001_i64)).is_err());
        }
        assert!(coerce_value("day", &PgType::Date, &json!("-4713-11-24")).is_ok());
        assert!(coerce_value("day", &PgType::Date, &json!("-4713-11-23")).is_err());
    }

    #[test]
    fn numeric_literals() {
        for ok in [
            "1",
            "-1.5",
            "+.5",
            "5.",
            "1e10",
            "1.5E-3",
            "NaN",
            "-Infinity",
        ] {
            assert!(is_numeric_literal(ok), "{ok}");
        }
        for bad in ["", ".", "e5", "1e", "1.2.3", "abc", "1 2", "--1", "-nan"] {
            assert!(!is_numeric_literal(bad), "{bad}");
        }
    }

    #[test]
    fn integers_are_range_checked_and_accept_numeric_strings() {
        let c = |v: JsonValue| coerce_value("age", &PgType::Integer, &v).map(|b| b.value);
        assert_eq!(c(json!(42)), Ok(SqlValue::Int(Some(42))));
        assert_eq!(c(json!("42")), Ok(SqlValue::Int(Some(42))));
        assert_eq!(c(json!(42.0)), Ok(SqlValue::Int(Some(42))));
        assert!(c(json!(42.5)).is_err());
        assert!(c(json!(2_147_483_648_i64)).is_err());
        assert!(c(json!(u64::MAX)).is_err());
        assert!(c(json!(true)).is_err());
        assert_eq!(
            coerce_value("n", &PgType::SmallInt, &json!(7)).map(|b| b.value),
            Ok(SqlValue::SmallInt(Some(7)))
        );
        assert!(coerce_value("n", &PgType::SmallInt, &json!(40_000)).is_err());
        assert_eq!(
            coerce_value("n", &PgType::BigInt, &json!(i64::MAX)).map(|b| b.value),
            Ok(SqlValue::BigInt(Some(i64::MAX)))
        );
    }

    #[test]
    fn timestamps_parse_rfc3339_dates_and_millis() {
        let c = |v: JsonValue| coerce_value("at", &PgType::TIMESTAMPTZ, &v).map(|b| b.value);
        let noon = DateTime::parse_from_rfc3339("2024-01-31T12:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .ok();
        assert_eq!(
            c(json!("2024-01-31T14:00:00+02:00")),
            Ok(SqlValue::ChronoDateTimeUtc(noon))
        );
        assert_eq!(
            c(json!("2024-01-31 12:00:00")),
            Ok(SqlValue::ChronoDateTimeUtc(noon))
        );
        assert_eq!(
            c(json!(1_706_702_400_000_i64)),
            Ok(SqlValue::ChronoDateTimeUtc(noon))
        );
        assert!(c(json!("yesterday")).is_err());
        let naive = PgType::Timestamp {
            precision: None,
            with_time_zone: false,
        };
        assert_eq!(
            coerce_value("at", &naive, &json!("2024-01-31T12:00:00+05:00")).map(|b| b.value),
            coerce_value("at", &naive, &json!("2024-01-31T12:00:00")).map(|b| b.value)
        );
        assert_eq!(
            coerce_value("d", &PgType::Date, &json!("2024-01-31")).map(|b| b.value),
            Ok(SqlValue::ChronoDate(NaiveDate::from_ymd_opt(2024, 1, 31)))
        );
    }

    #[test]
    fn casts_come_from_the_type() {
        let numeric = PgType::Numeric {
            precision: Some(10),
            scale: Some(2),
        };
        let b = coerce_value("price", &numeric, &json!(0.1)).ok();
        assert_eq!(
            b,
            Some(BoundValue {
                value: SqlValue::String(Some("0.1".into())),
                cast: Some("::text::numeric".into())
            })
        );
        assert!(coerce_value("price", &numeric, &json!("1; DROP")).is_err());
        let b = coerce_value("meta", &PgType::Jsonb, &json!({"a": 1})).ok();
        assert_eq!(b.and_then(|b| b.cast), Some("::jsonb".into()));
        let b = coerce_value("span", &PgType::Interval, &json!("1 day")).ok();
        assert_eq!(b.and_then(|b| b.cast), Some("::text::interval".into()));
        // A `$` in a user type name (Postgres allows it after the first character) is written
        // as it is: the cast is SQL text, not a template (`$$` would open a dollar quote).
        let odd = PgType::Custom("my$1type".into());
        let b = coerce_value("x", &odd, &json!("a")).ok();
        assert_eq!(b.and_then(|b| b.cast), Some("::text::my$1type".into()));
    }

    #[test]
    fn bytea_booleans_uuids_and_arrays() {
        assert_eq!(
            coerce_value("b", &PgType::Bytea, &json!("\\x0aFF")).map(|b| b.value),
            Ok(SqlValue::Bytes(Some(vec![10, 255])))
        );
        assert!(coerce_value("b", &PgType::Bytea, &json!("\\x0")).is_err());
        assert!(coerce_value("b", &PgType::Bytea, &json!("0a")).is_err());
        assert!(coerce_value("b", &PgType::Bytea, &json!("\\xé0")).is_err());
        assert_eq!(
            coerce_value("ok", &PgType::Boolean, &json!("yes")).map(|b| b.value),
            Ok(SqlValue::Bool(Some(true)))
        );
        assert!(coerce_value("ok", &PgType::Boolean, &json!("maybe")).is_err());
        assert!(coerce_value("id", &PgType::Uuid, &json!("not-a-uuid")).is_err());
        let ints = PgType::Array(Box::new(PgType::Integer));
        assert_eq!(
            coerce_value("xs", &ints, &json!([1, "2"])).map(|b| b.value),
            Ok(SqlValue::Array(
                ArrayType::Int,
                Some(Box::new(vec![
                    SqlValue::Int(Some(1)),
                    SqlValue::Int(Some(2))
                ]))
            ))
        );
        assert!(coerce_value("xs", &ints, &json!([1, "x"])).is_err());
        assert!(coerce_value("xs", &ints, &json!(1)).is_err());
        let nested = PgType::Array(Box::new(ints));
        assert!(coerce_value("xs", &nested, &json!([[1]])).is_err());
    }

    #[test]
    fn text_columns_take_numbers_and_booleans_as_text() {
        let c = |v: JsonValue| coerce_value("name", &PgType::Text, &v).map(|b| b.value);
        assert_eq!(c(json!(5)), Ok(SqlValue::String(Some("5".into()))));
        assert_eq!(c(json!(false)), Ok(SqlValue::String(Some("false".into()))));
        assert!(c(json!({"a": 1})).is_err());
        assert_eq!(c(JsonValue::Null), Ok(SqlValue::String(None)));
    }
}

//! The validated condition tree a `where` parses into.

use ignis_schema::{Model, PgType};
use sea_query::Value as SqlValue;
use serde_json::Value as JsonValue;

use super::coerce::{coerce_list, coerce_value, BoundValue};
use super::error::FilterError;
use super::parse::resolve_field;

/// A validated `where`: every field is a property of the model (resolved to its column and type),
/// every operator known, every value coerced to the column's type. Built by
/// [`super::parse_where`] / [`super::Filter::parse`]; the repositories write it into their
/// statements as SQL with every value bound as a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// All of these hold (Ignis `and`, and several keys or operators in one object). Empty:
    /// TRUE.
    And(Vec<Condition>),
    /// At least one of these holds (Ignis `or`). Empty: FALSE (the parser never builds an empty
    /// `or`: Ignis `or: []` adds no condition).
    Or(Vec<Condition>),
    /// SQL `NOT` of a condition (`not`, an ignis-rs extension: Ignis rejects it). Three-valued as
    /// in SQL: `NOT (age > 5)` does not match rows whose `age` is NULL.
    Not(Box<Condition>),
    /// A constant: `in: []` is FALSE, `nin: []` is TRUE (Ignis).
    Const(bool),
    /// One comparison of a field with bound values.
    Compare(Box<Comparison>),
}

impl Condition {
    /// The conjunction of `parts`, without a wrapper when there is exactly one.
    pub fn all(mut parts: Vec<Condition>) -> Condition {
        if parts.len() == 1 {
            parts.pop().unwrap_or(Condition::And(Vec::new()))
        } else {
            Condition::And(parts)
        }
    }

    /// The disjunction of `parts`, without a wrapper when there is exactly one.
    pub fn any(mut parts: Vec<Condition>) -> Condition {
        if parts.len() == 1 {
            parts.pop().unwrap_or(Condition::Or(Vec::new()))
        } else {
            Condition::Or(parts)
        }
    }

    /// `self AND other`, flattening when `self` is already a conjunction.
    pub fn and(self, other: Condition) -> Condition {
        match self {
            Condition::And(mut parts) => {
                parts.push(other);
                Condition::all(parts)
            }
            first => Condition::And(vec![first, other]),
        }
    }

    /// True when the condition restricts nothing: an empty `And` or `Const(true)`.
    pub fn matches_everything(&self) -> bool {
        match self {
            Condition::And(parts) => parts.iter().all(Condition::matches_everything),
            Condition::Const(value) => *value,
            _ => false,
        }
    }
}

/// A field a condition or order term applies to: a column, or a JSON path inside a json / jsonb
/// column. Identifiers come only from the model.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    /// The property name (Ignis key), without the path.
    pub property: String,
    /// The column's position in the model's `columns` (its SQL name is the model's).
    pub index: usize,
    /// The column's type.
    pub pg_type: PgType,
    /// JSON path segments below the column (`metadata.a[0]` gives `["a", "0"]`); empty for the
    /// column itself. Bound as one `text[]` parameter, never written into SQL.
    pub path: Vec<String>,
}

impl FieldRef {
    /// True when this is a JSON path rather than the whole column.
    pub fn is_path(&self) -> bool {
        !self.path.is_empty()
    }

    /// The key as a filter writes it (`metadata.a.0`), for messages: the property itself
    /// (borrowed) when there is no path.
    pub fn key(&self) -> std::borrow::Cow<'_, str> {
        if self.path.is_empty() {
            std::borrow::Cow::Borrowed(&self.property)
        } else {
            std::borrow::Cow::Owned(format!("{}.{}", self.property, self.path.join(".")))
        }
    }
}

/// What the field is compared as: the SQL expression on the left of the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareAs {
    /// The column as it is (`json` columns are read as `jsonb`, which has equality and ordering).
    Native,
    /// Text: `col #>> path` for a JSON path (Ignis), or `col::text` for a non-text column under a
    /// pattern operator (`like` on a uuid).
    Text,
    /// A JSON path as a number, when the operand is a JSON number, through Ignis's guarded cast:
    /// `CASE WHEN (col #>> path) ~ '^-?[0-9]+(\.[0-9]+)?$' THEN (col #>> path)::numeric END`,
    /// so a non-numeric value at the path is NULL (no match) instead of a cast error. Used for
    /// every operator given a number, equality included, where Ignis compares the text form
    /// (a deliberate difference: see "JSON paths" in the [`filter`](super) module doc).
    Numeric,
    /// A JSON path as jsonb: `col #> path` (containment, key existence, object equality).
    Jsonb,
}

/// A comparison operator, after Ignis synonyms are folded (`neq` is [`Operator::Ne`], `inq` is
/// [`Operator::In`], `is: null` is [`Operator::IsNull`], ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `=`.
    Eq,
    /// `<>`.
    Ne,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `LIKE` (pattern passed through: `%`, `_`, `\` escapes).
    Like,
    /// `NOT LIKE`.
    NotLike,
    /// `ILIKE`.
    ILike,
    /// `NOT ILIKE`.
    NotILike,
    /// `~` (POSIX regular expression, Ignis `regexp`).
    Regexp,
    /// `~*` (case-insensitive, Ignis `iregexp`).
    IRegexp,
    /// `= ANY($n)` with the list bound as one array.
    In,
    /// `<> ALL($n)` with the list bound as one array.
    NotIn,
    /// `BETWEEN $a AND $b` (inclusive, not symmetric).
    Between,
    /// `NOT BETWEEN $a AND $b`.
    NotBetween,
    /// `IS NULL` (on a JSON path compared as jsonb: the key is absent).
    IsNull,
    /// `IS NOT NULL` (on a JSON path compared as jsonb: the key exists).
    IsNotNull,
    /// `@>` (array or jsonb contains).
    Contains,
    /// `<@` (array or jsonb is contained by).
    ContainedBy,
    /// `&&` (arrays overlap).
    Overlaps,
}

/// The bound operand(s) of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// No operand (`IS NULL`, `IS NOT NULL`).
    None,
    /// One value.
    One(BoundValue),
    /// Two values (`BETWEEN`).
    Two(BoundValue, BoundValue),
    /// A list bound as one array parameter (`= ANY($n)`, `<> ALL($n)`).
    List(BoundValue),
}

/// One comparison: `field <op> operand`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The field compared.
    pub field: FieldRef,
    /// How the field is read.
    pub compare_as: CompareAs,
    /// The operator.
    pub op: Operator,
    /// The bound operand(s).
    pub operand: Operand,
}

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
            field: field.property.clone(),
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

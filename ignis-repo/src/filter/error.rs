//! The one error type of the filter language, and the kinds a caller can match on.

use std::fmt;

use serde_json::Value as JsonValue;

/// Why a filter (Ignis `TFilter` JSON) was rejected. Every variant is raised while parsing and
/// validating against the model, before any SQL is built, and names the model, field, operator,
/// relation or value involved.
///
/// Bad input never panics and never reaches the database: a filter either parses into a
/// [`super::Filter`] / [`super::Condition`] or yields one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// A key of `where`, `fields` or `order` is not a property of the model. Keys are Ignis
    /// property names (`createdBy`), never SQL column names (`created_by`).
    #[error("model `{model}` has no property `{field}`")]
    UnknownField {
        /// The model's Ignis name.
        model: String,
        /// The key as written.
        field: String,
    },
    /// An operator object holds a key that is not an Ignis operator (`{"age": {"gtx": 1}}`).
    #[error("unknown operator `{operator}` on `{field}`")]
    UnknownOperator {
        /// The property (or JSON path) the operator was applied to.
        field: String,
        /// The operator as written.
        operator: String,
    },
    /// A known operator applied to a column whose type it does not support (`overlaps` on a
    /// jsonb column, `like` on an array, `in` on an array column).
    #[error("operator `{operator}` does not apply to `{field}` of type {pg_type}")]
    OperatorNotApplicable {
        /// The property (or JSON path).
        field: String,
        /// The operator as written.
        operator: String,
        /// The column's Postgres type.
        pg_type: String,
    },
    /// A value that cannot be coerced to what the column or operator needs (`{"age": "abc"}` on
    /// an integer column, `between` with three elements, a negative `limit`).
    #[error("invalid value for `{field}`: expected {expected}, found {found}")]
    InvalidValue {
        /// The property, JSON path or filter key (`limit`) the value was given for.
        field: String,
        /// What was expected (`an integer between -2147483648 and 2147483647`).
        expected: String,
        /// A short description of what was given (long strings are truncated).
        found: String,
    },
    /// An `include` names a relation the model does not declare.
    #[error("model `{model}` has no relation `{relation}`")]
    UnknownRelation {
        /// The model's Ignis name.
        model: String,
        /// The relation as written.
        relation: String,
    },
    /// `and` / `or` / `not` groups (plus include scopes) nest deeper than
    /// [`super::FilterLimits::max_depth`], or includes nest deeper than
    /// [`super::FilterLimits::max_include_depth`].
    #[error("the filter nests deeper than {limit} levels")]
    TooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The filter holds more than [`super::FilterLimits::max_conditions`] conditions (operators,
    /// groups, order terms and inclusions, counted over the whole filter and its scopes).
    #[error("the filter has more than {limit} conditions")]
    TooManyConditions {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// An `in` / `inq` / `nin` list is longer than [`super::FilterLimits::max_in_list`].
    #[error("the list given for `{field}` has more than {limit} values")]
    ListTooLong {
        /// The property (or JSON path).
        field: String,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// An `order` term that is not `property [ASC|DESC] [NULLS FIRST|NULLS LAST]`.
    #[error("invalid order `{term}`: {reason}")]
    InvalidOrder {
        /// The term as written.
        term: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A JSON path key (`metadata.a.b`, `items[0].score`) whose first segment is not a json /
    /// jsonb property, or with an empty or invalid segment. Segments follow Ignis's
    /// `JSON_PATH_PATTERN`: an identifier (`[A-Za-z_][A-Za-z0-9_-]*`) or an array index (digits).
    #[error("invalid JSON path `{path}` on `{field}`: {reason}")]
    InvalidPath {
        /// The property the path starts from.
        field: String,
        /// The whole key as written.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// JSON of the wrong shape: a filter that is not an object, an unknown top-level key, `and`
    /// that is not an array of objects, an include object without `relation`, and the like.
    #[error("malformed filter: {message}")]
    Malformed {
        /// What is wrong.
        message: String,
    },
}

/// The kind of a [`FilterError`], without its data: what a caller matches on, and what
/// `cargo xtask query` writes as `error.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FilterErrorKind {
    /// [`FilterError::UnknownField`].
    UnknownField,
    /// [`FilterError::UnknownOperator`].
    UnknownOperator,
    /// [`FilterError::OperatorNotApplicable`].
    OperatorNotApplicable,
    /// [`FilterError::InvalidValue`].
    InvalidValue,
    /// [`FilterError::UnknownRelation`].
    UnknownRelation,
    /// [`FilterError::TooDeep`].
    TooDeep,
    /// [`FilterError::TooManyConditions`].
    TooManyConditions,
    /// [`FilterError::ListTooLong`].
    ListTooLong,
    /// [`FilterError::InvalidOrder`].
    InvalidOrder,
    /// [`FilterError::InvalidPath`].
    InvalidPath,
    /// [`FilterError::Malformed`].
    Malformed,
}

impl FilterErrorKind {
    /// The kind in camelCase (`unknownField`), stable for machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterErrorKind::UnknownField => "unknownField",
            FilterErrorKind::UnknownOperator => "unknownOperator",
            FilterErrorKind::OperatorNotApplicable => "operatorNotApplicable",
            FilterErrorKind::InvalidValue => "invalidValue",
            FilterErrorKind::UnknownRelation => "unknownRelation",
            FilterErrorKind::TooDeep => "tooDeep",
            FilterErrorKind::TooManyConditions => "tooManyConditions",
            FilterErrorKind::ListTooLong => "listTooLong",
            FilterErrorKind::InvalidOrder => "invalidOrder",
            FilterErrorKind::InvalidPath => "invalidPath",
            FilterErrorKind::Malformed => "malformed",
        }
    }
}

impl fmt::Display for FilterErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FilterError {
    /// The kind of this error.
    pub fn kind(&self) -> FilterErrorKind {
        match self {
            FilterError::UnknownField { .. } => FilterErrorKind::UnknownField,
            FilterError::UnknownOperator { .. } => FilterErrorKind::UnknownOperator,
            FilterError::OperatorNotApplicable { .. } => FilterErrorKind::OperatorNotApplicable,
            FilterError::InvalidValue { .. } => FilterErrorKind::InvalidValue,
            FilterError::UnknownRelation { .. } => FilterErrorKind::UnknownRelation,
            FilterError::TooDeep { .. } => FilterErrorKind::TooDeep,
            FilterError::TooManyConditions { .. } => FilterErrorKind::TooManyConditions,
            FilterError::ListTooLong { .. } => FilterErrorKind::ListTooLong,
            FilterError::InvalidOrder { .. } => FilterErrorKind::InvalidOrder,
            FilterError::InvalidPath { .. } => FilterErrorKind::InvalidPath,
            FilterError::Malformed { .. } => FilterErrorKind::Malformed,
        }
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        FilterError::Malformed {
            message: message.into(),
        }
    }

    pub(crate) fn invalid(field: &str, expected: impl Into<String>, found: &JsonValue) -> Self {
        FilterError::InvalidValue {
            field: field.to_string(),
            expected: expected.into(),
            found: describe(found),
        }
    }
}

/// The longest string quoted whole in an error message; longer ones are cut.
const MAX_QUOTED_CHARS: usize = 40;

/// A short description of a JSON value for error messages: scalars as written (strings quoted
/// and cut to 40 characters), arrays and objects by their size only.
pub(crate) fn describe(value: &JsonValue) -> String {
    match value {
        JsonValue::Null => "null".to_string(),
        JsonValue::Bool(b) => b.to_string(),
        JsonValue::Number(n) => format!("the number {n}"),
        JsonValue::String(s) => {
            if s.chars().count() > MAX_QUOTED_CHARS {
                let cut: String = s.chars().take(MAX_QUOTED_CHARS).collect();
                format!("the string {cut:?}...")
            } else {
                format!("the string {s:?}")
            }
        }
        JsonValue::Array(a) => format!("an array of {} elements", a.len()),
        JsonValue::Object(o) => format!("an object with {} keys", o.len()),
    }
}

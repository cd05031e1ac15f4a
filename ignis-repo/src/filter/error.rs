//! The one error type of the filter language, and the kinds a caller can match on.
//!
//! Messages quote user input (field names, operators, relations, order terms, JSON paths,
//! values) through [`excerpt`] and [`describe`], so an error about a megabyte of input is a
//! line, not a megabyte.

use std::borrow::Cow;
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
    #[error("model `{model}` has no property `{}`", excerpt(.field))]
    UnknownField {
        /// The model's Ignis name.
        model: String,
        /// The key as written.
        field: String,
    },
    /// An operator object holds a key that is not an Ignis operator (`{"age": {"gtx": 1}}`).
    #[error("unknown operator `{}` on `{}`", excerpt(.operator), excerpt(.field))]
    UnknownOperator {
        /// The property (or JSON path) the operator was applied to.
        field: String,
        /// The operator as written.
        operator: String,
    },
    /// A known operator applied to a column whose type it does not support (`overlaps` on a
    /// jsonb column, `like` on an array, `in` on an array column).
    #[error(
        "operator `{}` does not apply to `{}` of type {}",
        excerpt(.operator),
        excerpt(.field),
        excerpt(.pg_type)
    )]
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
    #[error(
        "invalid value for `{}`: expected {expected}, found {found}",
        excerpt(.field)
    )]
    InvalidValue {
        /// The property, JSON path or filter key (`limit`) the value was given for.
        field: String,
        /// What was expected (`an integer between -2147483648 and 2147483647`).
        expected: String,
        /// A short description of what was given (long strings are truncated).
        found: String,
    },
    /// An `include` names a relation the model does not declare.
    #[error("model `{model}` has no relation `{}`", excerpt(.relation))]
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
    #[error("the list given for `{}` has more than {limit} values", excerpt(.field))]
    ListTooLong {
        /// The property (or JSON path).
        field: String,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// An `order` term that is not `property [ASC|DESC] [NULLS FIRST|NULLS LAST]`.
    #[error("invalid order `{}`: {reason}", excerpt(.term))]
    InvalidOrder {
        /// The term as written.
        term: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A JSON path key (`metadata.a.b`, `items[0].score`) whose first segment is not a json /
    /// jsonb property, or with an empty or invalid segment. Segments follow Ignis's
    /// `JSON_PATH_PATTERN`: an identifier (`[A-Za-z_][A-Za-z0-9_-]*`) or an array index (digits).
    #[error(
        "invalid JSON path `{}` on `{}`: {reason}",
        excerpt(.path),
        excerpt(.field)
    )]
    InvalidPath {
        /// The property the path starts from.
        field: String,
        /// The whole key as written.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value (a `where` operand, or data given to a write) nests arrays and objects deeper than
    /// [`super::FilterLimits::max_value_depth`]. Checked without recursion, before the value is
    /// coerced, cloned or serialised (serde_json's own `Clone`, `Drop` and serialisation
    /// recurse once per level), so a hostile document cannot overflow the stack.
    #[error(
        "the value given for `{}` nests arrays and objects deeper than {limit} levels",
        excerpt(.field)
    )]
    ValueTooDeep {
        /// The property, JSON path or key the value was given for.
        field: String,
        /// The limit that was exceeded.
        limit: usize,
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
    /// [`FilterError::ValueTooDeep`].
    ValueTooDeep,
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
            FilterErrorKind::ValueTooDeep => "valueTooDeep",
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
            FilterError::ValueTooDeep { .. } => FilterErrorKind::ValueTooDeep,
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

/// How many bytes of user input a message quotes before cutting it (see [`excerpt`]).
const EXCERPT_BYTES: usize = 64;

/// Input up to this many bytes is quoted whole: cutting it would not make it much shorter than
/// the `…(N bytes)` note that replaces the rest. It also makes [`excerpt`] of an excerpt the
/// excerpt itself, so input cut when an error is built is not cut again when it is displayed.
const QUOTED_WHOLE_BYTES: usize = EXCERPT_BYTES + 32;

/// User input as an error message quotes it: whole when it is short (at most 96 bytes),
/// otherwise its first 64 bytes (cut on a character boundary) followed by `…(N bytes)`, `N`
/// being the whole input's length. Every message of [`FilterError`] and of the repository's
/// error that repeats a field name, operator, relation, order term, JSON path or value goes
/// through it, so a megabyte of input gives a message of a line.
pub(crate) fn excerpt(input: &str) -> Cow<'_, str> {
    if input.len() <= QUOTED_WHOLE_BYTES {
        return Cow::Borrowed(input);
    }
    let mut cut = EXCERPT_BYTES;
    while !input.is_char_boundary(cut) {
        cut -= 1;
    }
    Cow::Owned(format!("{}…({} bytes)", &input[..cut], input.len()))
}

/// A short description of a JSON value for error messages, in bounded time and space whatever
/// the value's size or depth (nothing is serialised, nothing recursed into): `null`, booleans
/// and numbers as written, strings quoted and cut by [`describe_str`], arrays and objects by their
/// size only.
pub(crate) fn describe(value: &JsonValue) -> String {
    match value {
        JsonValue::Null => "null".to_string(),
        JsonValue::Bool(b) => b.to_string(),
        JsonValue::Number(n) => format!("the number {n}"),
        JsonValue::String(s) => describe_str(s),
        JsonValue::Array(a) => format!("an array of {} elements", a.len()),
        JsonValue::Object(o) => format!("an object with {} keys", o.len()),
    }
}

/// [`describe`] of a JSON string: `the string "..."`, escaped as Rust's `{:?}` escapes it, with
/// at most 40 bytes between the quotes; a longer string is cut there (on a character) and
/// followed by `…(N bytes)`. Only the quoted part of the string is read.
pub(crate) fn describe_str(s: &str) -> String {
    const PREFIX: &str = "the string \"";
    let mut quoted = String::with_capacity(PREFIX.len() + QUOTED_STRING_BYTES + 24);
    quoted.push_str(PREFIX);
    let mut taken = 0;
    for c in s.chars() {
        let before = quoted.len();
        quoted.extend(c.escape_debug());
        if quoted.len() - PREFIX.len() > QUOTED_STRING_BYTES {
            quoted.truncate(before);
            break;
        }
        taken += c.len_utf8();
    }
    quoted.push('"');
    if taken < s.len() {
        quoted.push_str(&format!("…({} bytes)", s.len()));
    }
    quoted
}

/// The most bytes [`describe_str`] writes between the quotes.
const QUOTED_STRING_BYTES: usize = 40;

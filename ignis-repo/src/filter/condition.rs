//! The validated condition tree a `where` parses into.

use ignis_schema::PgType;

use super::coerce::BoundValue;

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
    /// The property name (Ignis key), without the path. A [`SmolStr`](smol_str::SmolStr):
    /// names up to 23 bytes, which is most property names, are kept inline, so resolving and
    /// cloning a field allocates nothing.
    pub property: smol_str::SmolStr,
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
            std::borrow::Cow::Borrowed(&*self.property)
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

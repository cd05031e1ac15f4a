//! Parsing and validation: Ignis filter JSON to [`Filter`] / [`Condition`].

use ignis_schema::{Model, Schema};
use serde_json::Value as JsonValue;

use super::coerce::depth_within;
use super::condition::{Condition, FieldRef};
use super::error::{describe, excerpt, FilterError};
use super::{Filter, FilterLimits};
use fields::fields;

mod fields;
mod include;
mod operators;
mod order;
mod path;
mod where_;

pub(crate) use path::resolve_field;
pub use path::MAX_PATH_SEGMENTS;

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

/// Whether `key` is one of [`OPERATORS`] (a `match`, which the compiler turns into a length
/// switch and at most a comparison or two, where a scan of the list compares up to 26 names).
pub(crate) fn is_operator(key: &str) -> bool {
    matches!(
        key,
        "eq" | "ne"
            | "neq"
            | "gt"
            | "gte"
            | "lt"
            | "lte"
            | "like"
            | "nlike"
            | "ilike"
            | "nilike"
            | "is"
            | "isn"
            | "regexp"
            | "iregexp"
            | "in"
            | "inq"
            | "nin"
            | "exists"
            | "notExists"
            | "between"
            | "notBetween"
            | "contains"
            | "containedBy"
            | "overlaps"
            | "not"
    )
}

/// The keys a filter object may have.
const FILTER_KEYS: &str = "where, fields, order, limit, skip, offset, include";

/// One parse of a filter: the limits and the running count of conditions.
pub(crate) struct Parser<'a> {
    limits: &'a FilterLimits,
    conditions: usize,
    /// Merge each include target's default filter under its scope.
    apply_defaults: bool,
    /// With [`Parser::recording`]: the values taken from the JSON as they are (see
    /// [`ValueSlot`]), in parse order.
    record: Option<Vec<ValueSlot>>,
}

/// A value of a filter that a recording parse coerced straight from one JSON node, with
/// nothing else about the filter depending on it but its kind: a non-null scalar compared
/// with a column (`{"status": "paid"}`, `{"total": {"gt": 10}}`), or an `in` / `inq` / `nin`
/// list of scalars and nulls on a column (one array parameter whatever its length). Any
/// other node of that kind, at the same place of a filter otherwise equal, parses to the same
/// filter with this value replaced by [`ValueSlot::replay`] (see `query::template`).
#[derive(Debug, Clone)]
pub(crate) struct ValueSlot {
    /// The address of the JSON node in the parsed document.
    pub(crate) node: usize,
    /// The field key the coercion names in its errors.
    pub(crate) key: String,
    /// The column's type.
    pub(crate) pg_type: ignis_schema::PgType,
    /// An `in` / `inq` / `nin` list (`Some(true)`: given as an array; `Some(false)`: a single
    /// scalar), or one value (`None`).
    pub(crate) list: Option<bool>,
    /// The cast the coerced value is written with.
    pub(crate) cast: Option<String>,
    /// The variant of the coerced value.
    pub(crate) variant: std::mem::Discriminant<sea_query::Value>,
}

impl ValueSlot {
    /// The value `node` coerces to in this slot, as the parser coerces it there, or `None`
    /// when `node` is not of the slot's kind or does not coerce to a value written the same
    /// way (which the parser would then refuse or treat otherwise). `max_in_list` bounds a
    /// list as the parser does.
    pub(crate) fn replay(
        &self,
        node: &JsonValue,
        max_in_list: usize,
    ) -> Option<super::coerce::BoundValue> {
        if !slot_kind_fits(self.list, node) {
            return None;
        }
        let bound = match node {
            JsonValue::Array(items) if items.len() <= max_in_list => {
                super::coerce::coerce_list(&self.key, &self.pg_type, items)
            }
            JsonValue::Array(_) => return None,
            v if self.list.is_some() => {
                super::coerce::coerce_list(&self.key, &self.pg_type, std::slice::from_ref(v))
            }
            v => super::coerce::coerce_value(&self.key, &self.pg_type, v),
        }
        .ok()?;
        (bound.cast == self.cast && std::mem::discriminant(&bound.value) == self.variant)
            .then_some(bound)
    }
}

/// Whether `node` is of the kind a slot of kind `list` (see [`ValueSlot::list`]) holds: a
/// non-null scalar for one value or a single-scalar list, a non-empty array of scalars and
/// nulls for a list given as an array. Both the recording parse and a replay ask this.
fn slot_kind_fits(list: Option<bool>, node: &JsonValue) -> bool {
    let scalar = |v: &JsonValue| {
        matches!(
            v,
            JsonValue::Bool(_) | JsonValue::Number(_) | JsonValue::String(_)
        )
    };
    match (list, node) {
        (Some(true), JsonValue::Array(items)) => {
            !items.is_empty() && items.iter().all(|i| i.is_null() || scalar(i))
        }
        (Some(true), _) => false,
        (_, v) => scalar(v),
    }
}

impl<'a> Parser<'a> {
    pub(crate) fn new(limits: &'a FilterLimits, apply_defaults: bool) -> Self {
        Parser {
            limits,
            conditions: 0,
            apply_defaults,
            record: None,
        }
    }

    /// This parser, numbering the values it takes from the JSON as they are ([`ValueSlot`]);
    /// [`Parser::top_filter_recorded`] returns them after the parse.
    pub(crate) fn recording(mut self) -> Self {
        self.record = Some(Vec::new());
        self
    }

    /// Numbers `bound`, coerced from `node` in a slot of kind `list` (see [`ValueSlot`]), when
    /// recording and `node` is of that kind.
    fn note(
        &mut self,
        bound: &mut super::coerce::BoundValue,
        field: &FieldRef,
        node: &JsonValue,
        list: Option<bool>,
    ) {
        let Some(record) = self.record.as_mut() else {
            return;
        };
        if !slot_kind_fits(list, node) || field.is_path() {
            return;
        }
        record.push(ValueSlot {
            node: node as *const JsonValue as usize,
            key: field.key().into_owned(),
            pg_type: field.pg_type.clone(),
            list,
            cast: bound.cast.clone(),
            variant: std::mem::discriminant(&bound.value),
        });
        bound.slot = u32::try_from(record.len()).unwrap_or(0);
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
            field: field.key().into_owned(),
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
        self,
        model: &Model,
        schema: &Schema,
        json: &JsonValue,
    ) -> Result<Filter, FilterError> {
        Ok(self.top_filter_recorded(model, schema, json)?.0)
    }

    /// [`Parser::top_filter`], and the values it numbered (empty unless
    /// [`Parser::recording`]), slot `n` at index `n - 1`.
    pub(crate) fn top_filter_recorded(
        mut self,
        model: &Model,
        schema: &Schema,
        json: &JsonValue,
    ) -> Result<(Filter, Vec<ValueSlot>), FilterError> {
        let mut filter = self.filter(model, schema, json, 0)?;
        if let Some(max) = self.limits.max_limit {
            if filter.limit.is_none() {
                filter.limit = Some(max);
            }
        }
        Ok((filter, self.record.unwrap_or_default()))
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

#[cfg(test)]
mod operator_tests {
    use super::{is_operator, OPERATORS};

    #[test]
    fn is_operator_accepts_exactly_the_listed_operators() {
        for op in OPERATORS {
            assert!(is_operator(op), "{op}");
        }
        for key in [
            "and",
            "or",
            "Eq",
            "gt ",
            "",
            "inqq",
            "limit",
            "where",
            "notexists",
        ] {
            assert!(!is_operator(key), "{key}");
        }
    }
}

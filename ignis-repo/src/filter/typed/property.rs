//! Properties ([`Property`]) and JSON paths ([`JsonPath`]): the operators by property type.

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
#[allow(unused_imports)]
use serde_json::{Map, Value as JsonValue};
#[allow(unused_imports)]
use std::fmt;
#[allow(unused_imports)]
use std::marker::PhantomData;

/// A property of the model `M` whose field has the Rust type `T`: what `#[derive(Properties)]`
/// generates, one associated constant per column field (`User::EMAIL`).
///
/// Its methods write one condition on the property ([`Condition`]) or an order term
/// ([`OrderBy`]); which methods exist depends on `T` (see the [module docs](super)).
pub struct Property<M, T> {
    pub(super) name: &'static str,
    pub(super) marker: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Property<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Property<M, T> {}

impl<M, T> fmt::Debug for Property<M, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Property").field(&self.name).finish()
    }
}

impl<M, T> Property<M, T> {
    /// The property `name` (the Ignis property name, `createdAt`) of `M`, of type `T`. The
    /// derive checks the name against the struct; one written by hand is checked only when
    /// a repository parses the filter (an unknown property is `FilterError::UnknownField`).
    pub const fn new(name: &'static str) -> Self {
        Property {
            name,
            marker: PhantomData,
        }
    }

    /// The property name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The order term `"{name} ASC"`.
    pub fn asc(self) -> OrderBy<M> {
        OrderBy::new(self.name.to_string(), "ASC")
    }

    /// The order term `"{name} DESC"`.
    pub fn desc(self) -> OrderBy<M> {
        OrderBy::new(self.name.to_string(), "DESC")
    }

    pub(super) fn op(self, op: &str, value: JsonValue) -> Condition<M> {
        Condition::from_node(leaf(self.name, op, value))
    }

    /// `{name: {"contains": value}}`: on an array property, the array holds every element
    /// given (`@>`; `contains([])` matches every row, as Ignis); on a json property, the
    /// document contains the JSON given (jsonb `@>`).
    pub fn contains<A: Contained<T>>(self, value: A) -> Condition<M> {
        self.op("contains", value.into_contained_json())
    }
}

impl<M, T: Compared> Property<M, T> {
    /// `{name: {"eq": value}}`: equal to `value`.
    pub fn eq(self, value: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("eq", value.into_filter_json())
    }

    /// `{name: {"neq": value}}`: not equal to `value` (a NULL property matches neither `eq`
    /// nor `ne`, as in SQL).
    pub fn ne(self, value: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("neq", value.into_filter_json())
    }

    /// `{name: {"inq": [values]}}`: equal to one of `values`; an empty list matches no row.
    pub fn in_<I>(self, values: I) -> Condition<M>
    where
        I: IntoIterator,
        I::Item: IntoValue<T::Value>,
    {
        self.op("inq", list(values))
    }

    /// `{name: {"nin": [values]}}`: equal to none of `values`; an empty list matches every
    /// row.
    pub fn nin<I>(self, values: I) -> Condition<M>
    where
        I: IntoIterator,
        I::Item: IntoValue<T::Value>,
    {
        self.op("nin", list(values))
    }
}

impl<M, T: Compared> Property<M, T>
where
    T::Value: Ordered,
{
    /// `{name: {"gt": value}}`: greater than `value`.
    pub fn gt(self, value: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("gt", value.into_filter_json())
    }

    /// `{name: {"gte": value}}`: greater than or equal to `value`.
    pub fn gte(self, value: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("gte", value.into_filter_json())
    }

    /// `{name: {"lt": value}}`: less than `value`.
    pub fn lt(self, value: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("lt", value.into_filter_json())
    }

    /// `{name: {"lte": value}}`: less than or equal to `value`.
    pub fn lte(self, value: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("lte", value.into_filter_json())
    }

    /// `{name: {"between": [low, high]}}`: from `low` to `high`, both included.
    pub fn between(
        self,
        low: impl IntoValue<T::Value>,
        high: impl IntoValue<T::Value>,
    ) -> Condition<M> {
        let range = JsonValue::Array(vec![low.into_filter_json(), high.into_filter_json()]);
        self.op("between", range)
    }

    /// `{name: {"notBetween": [low, high]}}`: below `low` or above `high`.
    pub fn not_between(
        self,
        low: impl IntoValue<T::Value>,
        high: impl IntoValue<T::Value>,
    ) -> Condition<M> {
        let range = JsonValue::Array(vec![low.into_filter_json(), high.into_filter_json()]);
        self.op("notBetween", range)
    }
}

impl<M, T: Compared> Property<M, T>
where
    T::Value: Text,
{
    /// `{name: {"like": pattern}}`: SQL `LIKE` (`%` any run, `_` one character).
    pub fn like(self, pattern: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("like", pattern.into_filter_json())
    }

    /// `{name: {"nlike": pattern}}`: `NOT LIKE`.
    pub fn nlike(self, pattern: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("nlike", pattern.into_filter_json())
    }

    /// `{name: {"ilike": pattern}}`: `ILIKE` (case-insensitive).
    pub fn ilike(self, pattern: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("ilike", pattern.into_filter_json())
    }

    /// `{name: {"nilike": pattern}}`: `NOT ILIKE`.
    pub fn nilike(self, pattern: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("nilike", pattern.into_filter_json())
    }

    /// `{name: {"regexp": pattern}}`: matches the Postgres regular expression (`~`). An
    /// invalid pattern is the repository's filter error naming it.
    pub fn regexp(self, pattern: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("regexp", pattern.into_filter_json())
    }

    /// `{name: {"iregexp": pattern}}`: case-insensitive `regexp` (`~*`).
    pub fn iregexp(self, pattern: impl IntoValue<T::Value>) -> Condition<M> {
        self.op("iregexp", pattern.into_filter_json())
    }
}

impl<M, V> Property<M, Option<V>> {
    /// `{name: {"eq": null}}`: the property is NULL.
    pub fn is_null(self) -> Condition<M> {
        self.op("eq", JsonValue::Null)
    }

    /// `{name: {"neq": null}}`: the property is not NULL.
    pub fn is_not_null(self) -> Condition<M> {
        self.op("neq", JsonValue::Null)
    }
}

impl<M, T: ArrayProperty> Property<M, T> {
    /// `{name: {"containedBy": [values]}}`: every element of the array is among `values`
    /// (`<@`).
    pub fn contained_by<I>(self, values: I) -> Condition<M>
    where
        I: IntoIterator,
        I::Item: IntoValue<T::Element>,
    {
        self.op("containedBy", list(values))
    }

    /// `{name: {"overlaps": [values]}}`: the array shares an element with `values` (`&&`);
    /// an empty list matches no row.
    pub fn overlaps<I>(self, values: I) -> Condition<M>
    where
        I: IntoIterator,
        I::Item: IntoValue<T::Element>,
    {
        self.op("overlaps", list(values))
    }
}

impl<M, T: JsonProperty> Property<M, T> {
    /// The JSON path `{name}.{path}` in the document (`metadata.plan`, `items[0].sku`), for
    /// conditions and order terms on what the document holds. `path` is written after a `.`
    /// unless it starts with `[`; the repository checks it when it parses the filter.
    pub fn path(self, path: &str) -> JsonPath<M> {
        JsonPath::new(self.name).path(path)
    }
}

/// A JSON path inside a json / jsonb property ([`Property::path`]), e.g. `metadata.plan`:
/// conditions on it take any JSON value, compared as the filter language compares paths (a
/// number numerically, a string as text, an object or array as jsonb).
pub struct JsonPath<M> {
    pub(super) key: String,
    pub(super) marker: PhantomData<fn() -> M>,
}

impl<M> Clone for JsonPath<M> {
    fn clone(&self) -> Self {
        JsonPath::new(&self.key)
    }
}

impl<M> fmt::Debug for JsonPath<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JsonPath").field(&self.key).finish()
    }
}

impl<M> JsonPath<M> {
    pub(super) fn new(key: &str) -> Self {
        JsonPath {
            key: key.to_string(),
            marker: PhantomData,
        }
    }

    /// The filter key: `metadata.plan`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The path `path` below this one (`.path`, or `path` itself when it starts with `[`).
    pub fn path(mut self, path: &str) -> Self {
        if !path.starts_with('[') {
            self.key.push('.');
        }
        self.key.push_str(path);
        self
    }

    pub(super) fn op(&self, op: &str, value: JsonValue) -> Condition<M> {
        Condition::from_node(leaf(&self.key, op, value))
    }

    /// `{path: {"eq": value}}`; `null` asks for a missing or null value.
    pub fn eq(&self, value: impl Into<JsonValue>) -> Condition<M> {
        self.op("eq", value.into())
    }

    /// `{path: {"neq": value}}`; `null` asks for a present, non-null value.
    pub fn ne(&self, value: impl Into<JsonValue>) -> Condition<M> {
        self.op("neq", value.into())
    }

    /// `{path: {"gt": value}}`.
    pub fn gt(&self, value: impl Into<JsonValue>) -> Condition<M> {
        self.op("gt", value.into())
    }

    /// `{path: {"gte": value}}`.
    pub fn gte(&self, value: impl Into<JsonValue>) -> Condition<M> {
        self.op("gte", value.into())
    }

    /// `{path: {"lt": value}}`.
    pub fn lt(&self, value: impl Into<JsonValue>) -> Condition<M> {
        self.op("lt", value.into())
    }

    /// `{path: {"lte": value}}`.
    pub fn lte(&self, value: impl Into<JsonValue>) -> Condition<M> {
        self.op("lte", value.into())
    }

    /// `{path: {"between": [low, high]}}`.
    pub fn between(&self, low: impl Into<JsonValue>, high: impl Into<JsonValue>) -> Condition<M> {
        self.op("between", JsonValue::Array(vec![low.into(), high.into()]))
    }

    /// `{path: {"inq": [values]}}`.
    pub fn in_<I>(&self, values: I) -> Condition<M>
    where
        I: IntoIterator,
        I::Item: Into<JsonValue>,
    {
        self.op("inq", values.into_iter().map(Into::into).collect())
    }

    /// `{path: {"nin": [values]}}`.
    pub fn nin<I>(&self, values: I) -> Condition<M>
    where
        I: IntoIterator,
        I::Item: Into<JsonValue>,
    {
        self.op("nin", values.into_iter().map(Into::into).collect())
    }

    /// `{path: {"like": pattern}}`.
    pub fn like(&self, pattern: &str) -> Condition<M> {
        self.op("like", pattern.into())
    }

    /// `{path: {"ilike": pattern}}`.
    pub fn ilike(&self, pattern: &str) -> Condition<M> {
        self.op("ilike", pattern.into())
    }

    /// `{path: {"regexp": pattern}}`.
    pub fn regexp(&self, pattern: &str) -> Condition<M> {
        self.op("regexp", pattern.into())
    }

    /// `{path: {"contains": value}}`: the value at the path contains `value` (jsonb `@>`).
    pub fn contains(&self, value: impl Into<JsonValue>) -> Condition<M> {
        self.op("contains", value.into())
    }

    /// `{path: {"exists": true}}`: the document has a value at the path.
    pub fn exists(&self) -> Condition<M> {
        self.op("exists", JsonValue::Bool(true))
    }

    /// `{path: {"notExists": true}}`: the document has no value at the path.
    pub fn not_exists(&self) -> Condition<M> {
        self.op("notExists", JsonValue::Bool(true))
    }

    /// The order term `"{path} ASC"` (jsonb order: numbers numerically).
    pub fn asc(&self) -> OrderBy<M> {
        OrderBy::new(self.key.clone(), "ASC")
    }

    /// The order term `"{path} DESC"`.
    pub fn desc(&self) -> OrderBy<M> {
        OrderBy::new(self.key.clone(), "DESC")
    }
}

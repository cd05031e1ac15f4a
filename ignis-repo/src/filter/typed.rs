//! Typed filters: a builder checked by the compiler that writes the same Ignis filter JSON a
//! client would send.
//!
//! A model struct with `#[derive(Properties)]` gets one associated constant per field:
//! a [`Property<M, T>`] (`M` the model, `T` the field's Rust type) for a column, a
//! [`Related<M, R>`] for a relation. Their methods are the filter operators that apply to `T`,
//! each taking values of `T`'s type, so an unknown property (no such constant), an operator the
//! type has no use for (`like` on a number, `gt` on a boolean, `is_null` on a `NOT NULL` field)
//! or a value of the wrong type (`age.gt("abc")`) does not compile.
//!
//! ```
//! use ignis_repo::filter::typed::{Properties, TypedFilter};
//! use serde_json::json;
//!
//! #[derive(Properties)]
//! struct User {
//!     id: String,
//!     email: String,
//!     age: Option<i32>,
//!     created_at: chrono::DateTime<chrono::Utc>,
//!     metadata: Option<serde_json::Value>,
//!     #[ignis(relation)]
//!     orders: Vec<Order>,
//! }
//!
//! #[derive(Properties)]
//! struct Order {
//!     id: i32,
//!     status: String,
//! }
//!
//! let filter = TypedFilter::new()
//!     .r#where(User::EMAIL.ilike("%@example.com").and(User::AGE.gt(30)))
//!     .order(User::CREATED_AT.desc())
//!     .limit(20)
//!     .include(User::ORDERS.scope(TypedFilter::new().r#where(Order::STATUS.eq("PAID"))));
//! assert_eq!(
//!     filter.to_json(),
//!     json!({
//!         "where": {"and": [{"email": {"ilike": "%@example.com"}}, {"age": {"gt": 30}}]},
//!         "order": ["createdAt DESC"],
//!         "limit": 20,
//!         "include": [{"relation": "orders", "scope": {"where": {"status": {"eq": "PAID"}}}}]
//!     })
//! );
//! // users.find(&filter)? (repository methods take a TypedFilter as they take filter JSON)
//! ```
//!
//! # Why JSON
//! The builder's output is the Ignis filter JSON ([`serde_json::Value`], through
//! `From<TypedFilter<M>>` / `From<Condition<M>>`), which a repository then parses as it parses
//! a client's: validated against the model, every value coerced to its column's type, the
//! model's default filter merged in. A typed filter and the JSON written by hand for it are
//! the same value, so they find the same rows by construction, and the typed layer adds no
//! second route to SQL. The builder is named `TypedFilter` because [`Filter`](super::Filter) is
//! the parsed and validated filter those JSON documents become.
//!
//! # Operators by property type
//! | property type `T` | methods |
//! |---|---|
//! | any | [`asc`](Property::asc), [`desc`](Property::desc); a `fields` entry |
//! | `V` or `Option<V>`, `V:` [`FilterValue`] | [`eq`](Property::eq), [`ne`](Property::ne), [`in_`](Property::in_), [`nin`](Property::nin) |
//! | ... and `V:` [`Ordered`] (numbers, strings, dates and times, UUIDs) | [`gt`](Property::gt), [`gte`](Property::gte), [`lt`](Property::lt), [`lte`](Property::lte), [`between`](Property::between), [`not_between`](Property::not_between) |
//! | ... and `V:` [`Text`] (`String`) | [`like`](Property::like), [`nlike`](Property::nlike), [`ilike`](Property::ilike), [`nilike`](Property::nilike), [`regexp`](Property::regexp), [`iregexp`](Property::iregexp) |
//! | `Option<_>` | [`is_null`](Property::is_null), [`is_not_null`](Property::is_not_null) |
//! | `Vec<E>` or `Option<Vec<E>>` (a Postgres array) | [`contains`](Property::contains), [`contained_by`](Property::contained_by), [`overlaps`](Property::overlaps) |
//! | `serde_json::Value` or `Option<Value>` (jsonb) | [`contains`](Property::contains), [`path`](Property::path) (an untyped [`JsonPath`] condition) |
//!
//! A value is given as the property's value type, or a reference to it, or `&str` for a
//! `String`. `Vec<u8>` (bytea) has no operators besides the null checks.
//!
//! # What stays a run-time check
//! A constant names a property of the model its struct describes; a [`Property::new`] written
//! by hand, a [`JsonPath`] and the values inside it are checked when the repository parses the
//! filter, as any JSON filter is. A float that is not finite is written as its text (`"NaN"`),
//! which the repository refuses as an invalid value rather than reading it as `null`.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use serde_json::{Map, Value as JsonValue};

/// Derives one associated constant per field of a struct with named fields, for typed
/// filters: `User::EMAIL`, a [`Property`], for the field `email`; `User::ORDERS`, a
/// [`Related`], for a `#[ignis(relation)]` field. Documented on the macro's own crate
/// (`ignis_derive::Properties`).
pub use ignis_derive::Properties;

/// A Rust value a filter compares a property with: how it is written in the filter JSON, in a
/// form the repository's coercion accepts for the matching Postgres type.
///
/// Implemented for the types `#[derive(Model)]` maps to scalar Postgres types: `i16`, `i32`,
/// `i64` (JSON numbers), `f32`, `f64` (JSON numbers; a non-finite value as its text, which the
/// repository refuses), `bool`, `String`, chrono's `DateTime<Utc>` (RFC 3339),
/// `NaiveDateTime`, `NaiveDate`, `NaiveTime`, and `uuid::Uuid`. Implement it for a type of
/// your own (a Postgres enum, a newtype) to give its properties `eq` / `ne` / `in_` / `nin`.
///
/// ```
/// use ignis_repo::filter::typed::{FilterValue, Property};
/// use serde_json::{json, Value};
///
/// #[derive(Clone, Copy)]
/// enum Status { Active, Banned }
/// impl FilterValue for Status {
///     fn to_filter_json(&self) -> Value {
///         Value::from(match self { Status::Active => "ACTIVE", Status::Banned => "BANNED" })
///     }
/// }
/// struct User;
/// const STATUS: Property<User, Status> = Property::new("status");
/// assert_eq!(serde_json::Value::from(STATUS.ne(Status::Banned)), json!({"status": {"neq": "BANNED"}}));
/// ```
pub trait FilterValue {
    /// The value as filter JSON.
    fn to_filter_json(&self) -> JsonValue;
}

/// A [`FilterValue`] whose Postgres type is ordered, so `gt` / `gte` / `lt` / `lte` /
/// `between` apply: numbers, `String`, dates and times, UUIDs (not `bool`).
pub trait Ordered: FilterValue {}

/// A [`FilterValue`] held in a text column, so the pattern operators (`like`, `ilike`,
/// `regexp`, ...) apply: `String`, or a newtype of your own over it.
pub trait Text: FilterValue {}

macro_rules! number_value {
    ($($t:ty),*) => {$(
        impl FilterValue for $t {
            fn to_filter_json(&self) -> JsonValue {
                JsonValue::from(*self)
            }
        }
        impl Ordered for $t {}
    )*};
}
number_value!(i16, i32, i64);

macro_rules! float_value {
    ($($t:ty),*) => {$(
        impl FilterValue for $t {
            /// A JSON number; a non-finite value (which JSON has no number for) as its text,
            /// which the repository refuses as an invalid value.
            fn to_filter_json(&self) -> JsonValue {
                if self.is_finite() {
                    JsonValue::from(*self)
                } else {
                    JsonValue::String(self.to_string())
                }
            }
        }
        impl Ordered for $t {}
    )*};
}
float_value!(f32, f64);

impl FilterValue for bool {
    fn to_filter_json(&self) -> JsonValue {
        JsonValue::Bool(*self)
    }
}

impl FilterValue for String {
    fn to_filter_json(&self) -> JsonValue {
        JsonValue::String(self.clone())
    }
}
impl Ordered for String {}
impl Text for String {}

impl FilterValue for DateTime<Utc> {
    /// RFC 3339 in UTC with as many fractional digits as needed (`2024-05-01T12:00:00Z`).
    fn to_filter_json(&self) -> JsonValue {
        JsonValue::String(self.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}
impl Ordered for DateTime<Utc> {}

impl FilterValue for NaiveDateTime {
    /// `2024-05-01T12:00:00[.ffffff]`.
    fn to_filter_json(&self) -> JsonValue {
        JsonValue::String(self.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
    }
}
impl Ordered for NaiveDateTime {}

impl FilterValue for NaiveDate {
    /// `2024-05-01`.
    fn to_filter_json(&self) -> JsonValue {
        JsonValue::String(self.format("%Y-%m-%d").to_string())
    }
}
impl Ordered for NaiveDate {}

impl FilterValue for NaiveTime {
    /// `12:00:00[.ffffff]`.
    fn to_filter_json(&self) -> JsonValue {
        JsonValue::String(self.format("%H:%M:%S%.f").to_string())
    }
}
impl Ordered for NaiveTime {}

impl FilterValue for uuid::Uuid {
    /// The hyphenated form.
    fn to_filter_json(&self) -> JsonValue {
        JsonValue::String(self.hyphenated().to_string())
    }
}
impl Ordered for uuid::Uuid {}

/// What a method of a property whose values are `V` accepts as a value: `V` itself, `&V`, and
/// `&str` for `String`. Anything else is a compile error (`the trait IntoValue<i32> is not
/// implemented for &str`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of the property's type `{V}`",
    label = "expected a value of type `{V}`, or a reference to one"
)]
pub trait IntoValue<V> {
    /// The value as filter JSON.
    fn into_filter_json(self) -> JsonValue;
}

impl<V: FilterValue> IntoValue<V> for V {
    fn into_filter_json(self) -> JsonValue {
        self.to_filter_json()
    }
}

impl<V: FilterValue> IntoValue<V> for &V {
    fn into_filter_json(self) -> JsonValue {
        self.to_filter_json()
    }
}

impl IntoValue<String> for &str {
    fn into_filter_json(self) -> JsonValue {
        JsonValue::String(self.to_string())
    }
}

/// A property type compared by value: `V` or `Option<V>` for a [`FilterValue`] `V`; `Value`
/// is `V` (an `Option` field compares its values; its nulls are [`Property::is_null`]'s).
pub trait Compared {
    /// The type of the values compared.
    type Value: FilterValue;
}

impl<V: FilterValue> Compared for V {
    type Value = V;
}

impl<V: FilterValue> Compared for Option<V> {
    type Value = V;
}

/// A property type held in a Postgres array: `Vec<E>` or `Option<Vec<E>>` for a
/// [`FilterValue`] `E` (so not `Vec<u8>`, which is bytea).
pub trait ArrayProperty {
    /// The type of the array's elements.
    type Element: FilterValue;
}

impl<E: FilterValue> ArrayProperty for Vec<E> {
    type Element = E;
}

impl<E: FilterValue> ArrayProperty for Option<Vec<E>> {
    type Element = E;
}

/// A property type held in a json / jsonb column: `serde_json::Value` or `Option<Value>`.
pub trait JsonProperty {}

impl JsonProperty for JsonValue {}
impl JsonProperty for Option<JsonValue> {}

/// What [`Property::contains`] accepts for a property of type `T`: for an array property
/// (`Vec<E>`, `Option<Vec<E>>`), any iterable of values of `E` (jsonb `@>` of those
/// elements); for a json property, anything that converts into a `serde_json::Value`.
#[diagnostic::on_unimplemented(
    message = "`contains` on a `{T}` property does not take a `{Self}`",
    label = "expected a list of the array's elements, or JSON for a json property"
)]
pub trait Contained<T> {
    /// The operand as filter JSON.
    fn into_contained_json(self) -> JsonValue;
}

fn list<V, I>(items: I) -> JsonValue
where
    I: IntoIterator,
    I::Item: IntoValue<V>,
{
    JsonValue::Array(items.into_iter().map(IntoValue::into_filter_json).collect())
}

impl<E: FilterValue, I> Contained<Vec<E>> for I
where
    I: IntoIterator,
    I::Item: IntoValue<E>,
{
    fn into_contained_json(self) -> JsonValue {
        list(self)
    }
}

impl<E: FilterValue, I> Contained<Option<Vec<E>>> for I
where
    I: IntoIterator,
    I::Item: IntoValue<E>,
{
    fn into_contained_json(self) -> JsonValue {
        list(self)
    }
}

impl<J: Into<JsonValue>> Contained<JsonValue> for J {
    fn into_contained_json(self) -> JsonValue {
        self.into()
    }
}

impl<J: Into<JsonValue>> Contained<Option<JsonValue>> for J {
    fn into_contained_json(self) -> JsonValue {
        self.into()
    }
}

/// `{key: {op: value}}`.
fn leaf(key: &str, op: &str, value: JsonValue) -> Node {
    let mut operator = Map::new();
    operator.insert(op.to_string(), value);
    let mut object = Map::new();
    object.insert(key.to_string(), JsonValue::Object(operator));
    Node::Leaf(JsonValue::Object(object))
}

/// A property of the model `M` whose field has the Rust type `T`: what `#[derive(Properties)]`
/// generates, one associated constant per column field (`User::EMAIL`).
///
/// Its methods write one condition on the property ([`Condition`]) or an order term
/// ([`OrderBy`]); which methods exist depends on `T` (see the [module docs](self)).
pub struct Property<M, T> {
    name: &'static str,
    marker: PhantomData<fn() -> (M, T)>,
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

    fn op(self, op: &str, value: JsonValue) -> Condition<M> {
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
    key: String,
    marker: PhantomData<fn() -> M>,
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
    fn new(key: &str) -> Self {
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

    fn op(&self, op: &str, value: JsonValue) -> Condition<M> {
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

/// The shape of a condition, turned into JSON once the builder is done.
#[derive(Clone, Debug)]
enum Node {
    /// `{key: {op: value}}`.
    Leaf(JsonValue),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl Node {
    fn to_json(&self) -> JsonValue {
        let group = |key: &str, value: JsonValue| {
            let mut object = Map::new();
            object.insert(key.to_string(), value);
            JsonValue::Object(object)
        };
        match self {
            Node::Leaf(json) => json.clone(),
            Node::And(parts) => group("and", parts.iter().map(Node::to_json).collect()),
            Node::Or(parts) => group("or", parts.iter().map(Node::to_json).collect()),
            Node::Not(inner) => group("not", inner.to_json()),
        }
    }
}

/// A where condition on the model `M`: one property's ([`Property`]'s methods), or conditions
/// combined with [`and`](Condition::and), [`or`](Condition::or) and [`not`] (or `!`).
///
/// As JSON (`serde_json::Value::from(condition)`) it is an Ignis where object, what `count`,
/// `exists_with`, `update_all` and `delete_all` take: `{"email": {"eq": "a@b.c"}}`,
/// `{"and": [.., ..]}`, `{"or": [.., ..]}`, `{"not": {..}}`. Chains of `and` (or of `or`)
/// make one group, not nested ones.
///
/// ```
/// use ignis_repo::filter::typed::{not, Property};
/// use serde_json::{json, Value};
///
/// struct User;
/// const AGE: Property<User, i32> = Property::new("age");
/// const NAME: Property<User, String> = Property::new("name");
/// let adults_not_bob = AGE.gte(18).and(AGE.lt(65)).and(not(NAME.eq("Bob")));
/// assert_eq!(Value::from(adults_not_bob), json!({"and": [
///     {"age": {"gte": 18}}, {"age": {"lt": 65}}, {"not": {"name": {"eq": "Bob"}}}
/// ]}));
/// ```
pub struct Condition<M> {
    node: Node,
    marker: PhantomData<fn() -> M>,
}

impl<M> Clone for Condition<M> {
    fn clone(&self) -> Self {
        Condition::from_node(self.node.clone())
    }
}

impl<M> fmt::Debug for Condition<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Condition").field(&self.to_json()).finish()
    }
}

impl<M> Condition<M> {
    fn from_node(node: Node) -> Self {
        Condition {
            node,
            marker: PhantomData,
        }
    }

    /// Both this condition and `other` (`{"and": [self, other]}`).
    pub fn and(self, other: Condition<M>) -> Condition<M> {
        let mut parts = match self.node {
            Node::And(parts) => parts,
            node => vec![node],
        };
        match other.node {
            Node::And(more) => parts.extend(more),
            node => parts.push(node),
        }
        Condition::from_node(Node::And(parts))
    }

    /// This condition or `other` (`{"or": [self, other]}`).
    pub fn or(self, other: Condition<M>) -> Condition<M> {
        let mut parts = match self.node {
            Node::Or(parts) => parts,
            node => vec![node],
        };
        match other.node {
            Node::Or(more) => parts.extend(more),
            node => parts.push(node),
        }
        Condition::from_node(Node::Or(parts))
    }

    /// The where object.
    pub fn to_json(&self) -> JsonValue {
        self.node.to_json()
    }
}

/// The negation of `condition` (`{"not": condition}`); `!condition` is the same.
pub fn not<M>(condition: Condition<M>) -> Condition<M> {
    Condition::from_node(Node::Not(Box::new(condition.node)))
}

impl<M> std::ops::Not for Condition<M> {
    type Output = Condition<M>;

    /// [`not`]`(self)`.
    fn not(self) -> Condition<M> {
        not(self)
    }
}

impl<M> From<Condition<M>> for JsonValue {
    /// The where object ([`Condition::to_json`]).
    fn from(condition: Condition<M>) -> JsonValue {
        condition.to_json()
    }
}

/// One order term on the model `M`: [`Property::asc`] / [`Property::desc`] (or a
/// [`JsonPath`]'s), optionally with where NULLs go.
pub struct OrderBy<M> {
    key: String,
    direction: &'static str,
    nulls: Option<&'static str>,
    marker: PhantomData<fn() -> M>,
}

impl<M> Clone for OrderBy<M> {
    fn clone(&self) -> Self {
        OrderBy {
            key: self.key.clone(),
            direction: self.direction,
            nulls: self.nulls,
            marker: PhantomData,
        }
    }
}

impl<M> fmt::Debug for OrderBy<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OrderBy").field(&self.term()).finish()
    }
}

impl<M> OrderBy<M> {
    fn new(key: String, direction: &'static str) -> Self {
        OrderBy {
            key,
            direction,
            nulls: None,
            marker: PhantomData,
        }
    }

    /// NULLs before the other values (`NULLS FIRST`).
    pub fn nulls_first(mut self) -> Self {
        self.nulls = Some("NULLS FIRST");
        self
    }

    /// NULLs after the other values (`NULLS LAST`).
    pub fn nulls_last(mut self) -> Self {
        self.nulls = Some("NULLS LAST");
        self
    }

    /// The term as the filter JSON writes it: `"createdAt DESC"`, `"name ASC NULLS LAST"`.
    pub fn term(&self) -> String {
        match self.nulls {
            Some(nulls) => format!("{} {} {nulls}", self.key, self.direction),
            None => format!("{} {}", self.key, self.direction),
        }
    }
}

/// A relation of the model `M` to the model `R`: what `#[derive(Properties)]` generates for a
/// `#[ignis(relation)]` field (`User::ORDERS: Related<User, Order>`), to
/// [`include`](TypedFilter::include) it, with a scope filter typed by `R`.
pub struct Related<M, R> {
    name: &'static str,
    marker: PhantomData<fn() -> (M, R)>,
}

impl<M, R> Clone for Related<M, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, R> Copy for Related<M, R> {}

impl<M, R> fmt::Debug for Related<M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Related").field(&self.name).finish()
    }
}

impl<M, R> Related<M, R> {
    /// The relation `name` of `M`, to `R`. As with [`Property::new`], a name written by hand
    /// is checked when the repository parses the filter.
    pub const fn new(name: &'static str) -> Self {
        Related {
            name,
            marker: PhantomData,
        }
    }

    /// The relation name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The inclusion with a scope: `{"relation": name, "scope": filter}`; the scope's where,
    /// fields, order, limit, skip and includes apply to the related rows.
    pub fn scope(self, filter: TypedFilter<R>) -> Include<M> {
        Include {
            relation: self.name,
            scope: Some(filter.into_json()),
            skip_default_filter: false,
            marker: PhantomData,
        }
    }

    /// The inclusion without the related model's default filter (Ignis
    /// `shouldSkipDefaultFilter`), e.g. to load soft-deleted related rows too.
    pub fn skip_default_filter(self) -> Include<M> {
        Include::from(self).skip_default_filter()
    }
}

/// One `include` entry of a filter on `M`: a [`Related`] (`"orders"`) or one with a scope
/// (`{"relation": "orders", "scope": {..}}`).
pub struct Include<M> {
    relation: &'static str,
    scope: Option<JsonValue>,
    skip_default_filter: bool,
    marker: PhantomData<fn() -> M>,
}

impl<M> Clone for Include<M> {
    fn clone(&self) -> Self {
        Include {
            relation: self.relation,
            scope: self.scope.clone(),
            skip_default_filter: self.skip_default_filter,
            marker: PhantomData,
        }
    }
}

impl<M> fmt::Debug for Include<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Include").field(&self.to_json()).finish()
    }
}

impl<M, R> From<Related<M, R>> for Include<M> {
    /// The inclusion without a scope.
    fn from(related: Related<M, R>) -> Self {
        Include {
            relation: related.name,
            scope: None,
            skip_default_filter: false,
            marker: PhantomData,
        }
    }
}

impl<M> Include<M> {
    /// This inclusion without the related model's default filter (`shouldSkipDefaultFilter`).
    pub fn skip_default_filter(mut self) -> Self {
        self.skip_default_filter = true;
        self
    }

    /// The entry: the relation name alone, or an object with its scope and
    /// `shouldSkipDefaultFilter`.
    pub fn to_json(&self) -> JsonValue {
        if self.scope.is_none() && !self.skip_default_filter {
            return JsonValue::String(self.relation.to_string());
        }
        let mut object = Map::new();
        object.insert("relation".into(), JsonValue::String(self.relation.into()));
        if let Some(scope) = &self.scope {
            object.insert("scope".into(), scope.clone());
        }
        if self.skip_default_filter {
            object.insert("shouldSkipDefaultFilter".into(), JsonValue::Bool(true));
        }
        JsonValue::Object(object)
    }
}

/// Properties of `M` for [`TypedFilter::fields`]: one [`Property`], a tuple of up to 12 of
/// them (of different types), or an array or `Vec` of properties of one type.
pub trait FieldList<M> {
    /// Appends the property names, in order.
    fn push_names(self, names: &mut Vec<&'static str>);
}

impl<M, T> FieldList<M> for Property<M, T> {
    fn push_names(self, names: &mut Vec<&'static str>) {
        names.push(self.name);
    }
}

impl<M, T, const N: usize> FieldList<M> for [Property<M, T>; N] {
    fn push_names(self, names: &mut Vec<&'static str>) {
        names.extend(self.iter().map(Property::name));
    }
}

impl<M, T> FieldList<M> for Vec<Property<M, T>> {
    fn push_names(self, names: &mut Vec<&'static str>) {
        names.extend(self.iter().map(Property::name));
    }
}

macro_rules! field_tuple {
    ($($p:ident),+) => {
        impl<M, $($p: FieldList<M>),+> FieldList<M> for ($($p,)+) {
            #[allow(non_snake_case)]
            fn push_names(self, names: &mut Vec<&'static str>) {
                let ($($p,)+) = self;
                $($p.push_names(names);)+
            }
        }
    };
}
field_tuple!(A);
field_tuple!(A, B);
field_tuple!(A, B, C);
field_tuple!(A, B, C, D);
field_tuple!(A, B, C, D, E);
field_tuple!(A, B, C, D, E, F);
field_tuple!(A, B, C, D, E, F, G);
field_tuple!(A, B, C, D, E, F, G, H);
field_tuple!(A, B, C, D, E, F, G, H, I);
field_tuple!(A, B, C, D, E, F, G, H, I, J);
field_tuple!(A, B, C, D, E, F, G, H, I, J, K);
field_tuple!(A, B, C, D, E, F, G, H, I, J, K, L);

/// The `fields` of a typed filter.
#[derive(Clone, Debug)]
enum Selection {
    Only(Vec<&'static str>),
    AllBut(Vec<&'static str>),
}

/// A filter on the model `M` (Ignis `TFilter`), built with typed conditions, order terms and
/// includes, written as the filter JSON a repository takes (`serde_json::Value::from(filter)`,
/// [`TypedFilter::to_json`]). See the [module docs](self).
///
/// ```
/// use ignis_repo::filter::typed::{Property, Related, TypedFilter};
/// use serde_json::json;
///
/// struct Post;
/// struct Comment;
/// const TITLE: Property<Post, String> = Property::new("title");
/// const VIEWS: Property<Post, i32> = Property::new("views");
/// const PUBLISHED_AT: Property<Post, Option<chrono::NaiveDate>> = Property::new("publishedAt");
/// const COMMENTS: Related<Post, Comment> = Related::new("comments");
///
/// let filter = TypedFilter::new()
///     .r#where(PUBLISHED_AT.is_not_null())
///     .r#where(VIEWS.between(10, 100).or(TITLE.like("Rust%")))
///     .fields((TITLE, VIEWS))
///     .order(VIEWS.desc().nulls_last())
///     .order(TITLE.asc())
///     .skip(40)
///     .limit(20)
///     .include(COMMENTS.skip_default_filter());
/// assert_eq!(serde_json::Value::from(filter), json!({
///     "where": {"and": [
///         {"publishedAt": {"neq": null}},
///         {"or": [{"views": {"between": [10, 100]}}, {"title": {"like": "Rust%"}}]}
///     ]},
///     "fields": ["title", "views"],
///     "order": ["views DESC NULLS LAST", "title ASC"],
///     "skip": 40,
///     "limit": 20,
///     "include": [{"relation": "comments", "shouldSkipDefaultFilter": true}]
/// }));
/// ```
pub struct TypedFilter<M> {
    r#where: Option<Condition<M>>,
    fields: Option<Selection>,
    order: Vec<OrderBy<M>>,
    limit: Option<u64>,
    skip: Option<u64>,
    include: Vec<Include<M>>,
}

impl<M> Clone for TypedFilter<M> {
    fn clone(&self) -> Self {
        TypedFilter {
            r#where: self.r#where.clone(),
            fields: self.fields.clone(),
            order: self.order.clone(),
            limit: self.limit,
            skip: self.skip,
            include: self.include.clone(),
        }
    }
}

impl<M> fmt::Debug for TypedFilter<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TypedFilter").field(&self.to_json()).finish()
    }
}

impl<M> Default for TypedFilter<M> {
    fn default() -> Self {
        TypedFilter::new()
    }
}

impl<M> TypedFilter<M> {
    /// The empty filter (`{}`: every row, in no particular order).
    pub fn new() -> Self {
        TypedFilter {
            r#where: None,
            fields: None,
            order: Vec::new(),
            limit: None,
            skip: None,
            include: Vec::new(),
        }
    }

    /// Adds a where condition; a second call ANDs with the first.
    pub fn r#where(mut self, condition: Condition<M>) -> Self {
        self.r#where = Some(match self.r#where.take() {
            Some(existing) => existing.and(condition),
            None => condition,
        });
        self
    }

    /// Returns only these properties (`"fields": ["id", "email"]`; hidden properties never
    /// leave the repository either way). Replaces an earlier `fields` / `fields_except`.
    pub fn fields(mut self, properties: impl FieldList<M>) -> Self {
        let mut names = Vec::new();
        properties.push_names(&mut names);
        self.fields = Some(Selection::Only(names));
        self
    }

    /// Returns every property but these (`"fields": {"secret": false}`). Replaces an earlier
    /// `fields` / `fields_except`.
    pub fn fields_except(mut self, properties: impl FieldList<M>) -> Self {
        let mut names = Vec::new();
        properties.push_names(&mut names);
        self.fields = Some(Selection::AllBut(names));
        self
    }

    /// Adds an order term after those already given.
    pub fn order(mut self, term: OrderBy<M>) -> Self {
        self.order.push(term);
        self
    }

    /// At most `limit` rows.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Skips the first `skip` rows (Ignis `skip` / `offset`).
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = Some(skip);
        self
    }

    /// Includes a relation ([`Related`]) with the rows, or an [`Include`] with a scope.
    pub fn include(mut self, relation: impl Into<Include<M>>) -> Self {
        self.include.push(relation.into());
        self
    }

    /// The filter JSON: an object with only the keys set (`where`, `fields`, `order`,
    /// `limit`, `skip`, `include`).
    pub fn to_json(&self) -> JsonValue {
        let mut object = Map::new();
        if let Some(condition) = &self.r#where {
            object.insert("where".into(), condition.to_json());
        }
        match &self.fields {
            Some(Selection::Only(names)) => {
                let names = names.iter().map(|n| JsonValue::from(*n)).collect();
                object.insert("fields".into(), JsonValue::Array(names));
            }
            Some(Selection::AllBut(names)) => {
                let names = names
                    .iter()
                    .map(|n| (n.to_string(), JsonValue::Bool(false)))
                    .collect();
                object.insert("fields".into(), JsonValue::Object(names));
            }
            None => {}
        }
        if !self.order.is_empty() {
            let terms = self.order.iter().map(|t| JsonValue::from(t.term()));
            object.insert("order".into(), terms.collect());
        }
        if let Some(limit) = self.limit {
            object.insert("limit".into(), limit.into());
        }
        if let Some(skip) = self.skip {
            object.insert("skip".into(), skip.into());
        }
        if !self.include.is_empty() {
            let entries = self.include.iter().map(Include::to_json);
            object.insert("include".into(), entries.collect());
        }
        JsonValue::Object(object)
    }

    /// [`TypedFilter::to_json`], consuming the builder.
    pub fn into_json(self) -> JsonValue {
        self.to_json()
    }
}

impl<M> From<TypedFilter<M>> for JsonValue {
    /// The filter JSON ([`TypedFilter::to_json`]).
    fn from(filter: TypedFilter<M>) -> JsonValue {
        filter.to_json()
    }
}

impl<M> From<&TypedFilter<M>> for JsonValue {
    /// The filter JSON ([`TypedFilter::to_json`]).
    fn from(filter: &TypedFilter<M>) -> JsonValue {
        filter.to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct User;
    const NAME: Property<User, String> = Property::new("name");
    const SCORE: Property<User, Option<f64>> = Property::new("score");
    const TAGS: Property<User, Option<Vec<String>>> = Property::new("tags");
    const META: Property<User, Option<JsonValue>> = Property::new("metadata");
    const BORN: Property<User, chrono::NaiveDate> = Property::new("born");

    #[test]
    fn values_are_written_in_the_forms_coercion_reads() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        assert_eq!(
            BORN.gte(day).to_json(),
            json!({"born": {"gte": "2024-02-29"}})
        );
        let at = day.and_hms_micro_opt(1, 2, 3, 4).unwrap_or_default();
        assert_eq!(at.to_filter_json(), json!("2024-02-29T01:02:03.000004"));
        assert_eq!(
            at.and_utc().to_filter_json(),
            json!("2024-02-29T01:02:03.000004Z")
        );
        assert_eq!(
            SCORE.lt(f64::NAN).to_json(),
            json!({"score": {"lt": "NaN"}}),
            "never null, which `eq` would read as IS NULL"
        );
        assert_eq!(SCORE.eq(1.5).to_json(), json!({"score": {"eq": 1.5}}));
        let name = String::from("ann");
        assert_eq!(
            NAME.in_([&name, &name]).to_json(),
            json!({"name": {"inq": ["ann", "ann"]}})
        );
    }

    #[test]
    fn groups_flatten_and_negate() {
        let c = NAME.eq("a").or(NAME.eq("b")).or(NAME.eq("c"));
        assert_eq!(
            c.to_json(),
            json!({"or": [{"name": {"eq": "a"}}, {"name": {"eq": "b"}}, {"name": {"eq": "c"}}]})
        );
        let c = !(SCORE.is_null().and(TAGS.contains(["x"])));
        assert_eq!(
            c.to_json(),
            json!({"not": {"and": [{"score": {"eq": null}}, {"tags": {"contains": ["x"]}}]}})
        );
    }

    #[test]
    fn json_paths_and_containment() {
        assert_eq!(
            META.path("items")
                .path("[0]")
                .path("sku")
                .eq("A-1")
                .to_json(),
            json!({"metadata.items[0].sku": {"eq": "A-1"}})
        );
        assert_eq!(
            META.contains(json!({"plan": "pro"})).to_json(),
            json!({"metadata": {"contains": {"plan": "pro"}}})
        );
        assert_eq!(
            META.path("score").desc().nulls_first().term(),
            "metadata.score DESC NULLS FIRST"
        );
    }

    #[test]
    fn fields_except_is_the_object_form() {
        let f = TypedFilter::new().fields_except((NAME, SCORE));
        assert_eq!(
            f.to_json(),
            json!({"fields": {"name": false, "score": false}})
        );
        assert_eq!(TypedFilter::<User>::new().to_json(), json!({}));
    }
}

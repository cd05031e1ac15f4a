//! The values typed filters compare properties with, and what each property type allows.

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

pub(super) fn list<V, I>(items: I) -> JsonValue
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
pub(super) fn leaf(key: &str, op: &str, value: JsonValue) -> Node {
    let mut operator = Map::new();
    operator.insert(op.to_string(), value);
    let mut object = Map::new();
    object.insert(key.to_string(), JsonValue::Object(operator));
    Node::Leaf(JsonValue::Object(object))
}

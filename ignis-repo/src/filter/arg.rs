//! What repository methods take as a filter or a where: the Ignis filter JSON, or the typed
//! builders of [`super::typed`], which write that JSON.

use std::borrow::Cow;

use serde_json::Value as JsonValue;

use super::typed::{Condition, TypedFilter};

/// A filter argument: a `&serde_json::Value` (the Ignis filter JSON, `null` or `{}` for none)
/// or a [`TypedFilter`] (by value or reference). Repository methods that take
/// a filter (`find`, `find_one`, `find_by_id_with`, `find_with_range`, ...) take any of them.
pub trait IntoFilter<'a> {
    /// The filter JSON.
    fn into_filter(self) -> Cow<'a, JsonValue>;
}

impl<'a> IntoFilter<'a> for &'a JsonValue {
    fn into_filter(self) -> Cow<'a, JsonValue> {
        Cow::Borrowed(self)
    }
}

impl<'a, M> IntoFilter<'a> for TypedFilter<M> {
    fn into_filter(self) -> Cow<'a, JsonValue> {
        Cow::Owned(self.to_json())
    }
}

impl<'a, M> IntoFilter<'a> for &TypedFilter<M> {
    fn into_filter(self) -> Cow<'a, JsonValue> {
        Cow::Owned(self.to_json())
    }
}

/// A where argument: a `&serde_json::Value` (an Ignis where object, `null` or `{}` for none) or
/// a typed [`Condition`] (by value or reference). Repository methods that take a where (`count`,
/// `exists_with`, `update_all`, `delete_all`, ...) take any of them.
pub trait IntoWhere<'a> {
    /// The where JSON.
    fn into_where(self) -> Cow<'a, JsonValue>;
}

impl<'a> IntoWhere<'a> for &'a JsonValue {
    fn into_where(self) -> Cow<'a, JsonValue> {
        Cow::Borrowed(self)
    }
}

impl<'a, M> IntoWhere<'a> for Condition<M> {
    fn into_where(self) -> Cow<'a, JsonValue> {
        Cow::Owned(self.to_json())
    }
}

impl<'a, M> IntoWhere<'a> for &Condition<M> {
    fn into_where(self) -> Cow<'a, JsonValue> {
        Cow::Owned(self.to_json())
    }
}

/// A primary-key argument of the by-id methods (`find_by_id`, `update_by_id`, `delete_by_id`,
/// ...): a `&serde_json::Value`, or a Rust key value (`i16`, `i32`, `i64`, `&str`, `String`,
/// `&String`, `uuid::Uuid`), coerced to the key column's type as a filter value is.
pub trait IntoId<'a> {
    /// The id as JSON.
    fn into_id(self) -> Cow<'a, JsonValue>;
}

impl<'a> IntoId<'a> for &'a JsonValue {
    fn into_id(self) -> Cow<'a, JsonValue> {
        Cow::Borrowed(self)
    }
}

macro_rules! owned_id {
    ($($ty:ty),*) => {$(
        impl<'a> IntoId<'a> for $ty {
            fn into_id(self) -> Cow<'a, JsonValue> {
                Cow::Owned(JsonValue::from(self))
            }
        }
    )*};
}

owned_id!(i16, i32, i64, &str, String);

impl<'a> IntoId<'a> for &String {
    fn into_id(self) -> Cow<'a, JsonValue> {
        Cow::Owned(JsonValue::from(self.as_str()))
    }
}

impl<'a> IntoId<'a> for uuid::Uuid {
    fn into_id(self) -> Cow<'a, JsonValue> {
        Cow::Owned(JsonValue::from(self.to_string()))
    }
}

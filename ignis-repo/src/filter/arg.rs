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

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

/// Derives one associated constant per field of a struct with named fields, for typed
/// filters: `User::EMAIL`, a [`Property`], for the field `email`; `User::ORDERS`, a
/// [`Related`], for a `#[ignis(relation)]` field. Documented on the macro's own crate
/// (`ignis_derive::Properties`).
pub use ignis_derive::Properties;

/// The types of the constants `#[derive(Properties)]` writes for an enricher's properties that
/// the struct does not declare (`User::CREATED_AT` for `#[ignis(tz)]`), named here so the
/// deriving crate needs no dependency on `chrono` or `serde_json`.
#[doc(hidden)]
pub mod __types {
    /// `timestamp with time zone`.
    pub type Timestamptz = chrono::DateTime<chrono::Utc>;
    /// `timestamp without time zone`.
    pub type Timestamp = chrono::NaiveDateTime;
    /// `jsonb`.
    pub type Json = serde_json::Value;
}

mod builder;
mod condition;
mod property;
mod values;

#[cfg(test)]
mod tests;

pub use builder::*;
pub use condition::*;
pub use property::*;
pub use values::*;

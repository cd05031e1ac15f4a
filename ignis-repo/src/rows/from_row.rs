//! [`FromRow`]: rows decoded by hand, straight from the Postgres values.

use super::RowRef;
use crate::RepoError;

/// A type built from one row of a repository's model (and its included relations), reading
/// properties by name: rows decoded by hand, straight from the Postgres binary values.
///
/// The serde route ([`Repository::find_as`](crate::Repository::find_as)) works for any
/// `Deserialize` type, but serde has no date-time type: a `chrono::DateTime` field is handed
/// RFC 3339 text and parses it back (about 1,700 instructions per timestamp, more than the rest
/// of a row). [`FromRow`] is the other route, the one Diesel's `Queryable` and sqlx's `FromRow`
/// take: the type reads each property with [`RowRef::get`], which decodes the column with the
/// `postgres` crate's [`FromSql`](postgres::types::FromSql) for the Rust type asked for
/// (`i32`, `String`, `chrono::DateTime<Utc>`, `uuid::Uuid`, `serde_json::Value` for jsonb, ...),
/// and reads included relations with [`RowRef::many`] and [`RowRef::one`]. The queries are the ones
/// [`Repository::find`](crate::Repository::find) runs (filters, default filters, hidden
/// properties, one query per include level); only the decoding differs.
///
/// ```
/// use chrono::{DateTime, Utc};
/// use ignis_repo::{FromRow, RepoError, RowRef};
///
/// struct Order {
///     id: i32,
///     status: String,
///     created_at: DateTime<Utc>,
/// }
///
/// impl FromRow for Order {
///     fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
///         Ok(Order {
///             id: row.get("id")?,
///             status: row.get("status")?,
///             created_at: row.get("createdAt")?,
///         })
///     }
/// }
///
/// struct User {
///     name: String,
///     orders: Vec<Order>,
/// }
///
/// impl FromRow for User {
///     fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
///         Ok(User { name: row.get("name")?, orders: row.many("orders")? })
///     }
/// }
/// // users.find_into::<User>(&json!({"include": ["orders"]}))
/// ```
pub trait FromRow: Sized {
    /// Builds the value from `row`.
    ///
    /// # Errors
    /// Whatever [`RowRef::get`], [`RowRef::many`] or [`RowRef::one`] return, or the type's own
    /// [`RepoError`].
    fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError>;
}

//! [`FromRow`] and [`RowRef`]: rows decoded by hand, straight from the Postgres values.

use postgres::types::FromSql;

use crate::row_set::{Included, RowSet};
use crate::RepoError;

/// A type built from one row of a repository's model (and its included relations), reading
/// properties by name: rows decoded by hand, straight from the Postgres binary values.
///
/// The serde route ([`Repository::find_as`](crate::Repository::find_as)) works for any
/// `Deserialize` type, but serde has no date-time type: a `chrono::DateTime` field is handed
/// RFC 3339 text and parses it back (about 1,700 instructions per timestamp, more than the rest
/// of a row). [`FromRow`] is the other route, the one Diesel's `Queryable` and sqlx's `FromRow`
/// take: the type reads each property with [`RowRef::get`], which decodes the column with the
/// `postgres` crate's [`FromSql`] for the Rust type asked for (`i32`, `String`,
/// `chrono::DateTime<Utc>`, `uuid::Uuid`, `serde_json::Value` for jsonb, ...), and reads
/// included relations with [`RowRef::many`] and [`RowRef::one`]. The queries are the ones
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

/// Where a [`RowRef`]'s properties are.
#[derive(Clone, Copy)]
pub(crate) enum Columns<'r> {
    /// `(column position, property)` pairs.
    Out(&'r [(usize, String)]),
    /// The property of each column, in row order.
    Keys(&'r [String]),
}

impl<'r> Columns<'r> {
    /// How many properties the row returns.
    pub(crate) fn len(&self) -> usize {
        match self {
            Columns::Out(out) => out.len(),
            Columns::Keys(keys) => keys.len(),
        }
    }

    /// Returned property `n`: its column position in the row and its name.
    pub(crate) fn at(&self, n: usize) -> Option<(usize, &'r str)> {
        match *self {
            Columns::Out(out) => out.get(n).map(|(i, p)| (*i, p.as_str())),
            Columns::Keys(keys) => keys.get(n).map(|p| (n, p.as_str())),
        }
    }
}

/// One row as [`FromRow`] sees it: its returned properties by name and its included
/// relations. Borrowed from the result for the length of [`FromRow::from_row`].
pub struct RowRef<'r> {
    /// Where the next property is looked for first: [`FromRow`] impls usually read the
    /// properties in column order, so most lookups succeed at once.
    next: std::cell::Cell<usize>,
    model: &'r str,
    pub(crate) row: &'r postgres::Row,
    pub(crate) columns: Columns<'r>,
    pub(crate) included: &'r [Included],
    index: usize,
}

impl<'r> RowRef<'r> {
    /// Row `index` of `set`.
    pub(crate) fn in_set(model: &'r str, set: &'r RowSet, index: usize) -> Self {
        RowRef {
            next: std::cell::Cell::new(0),
            model,
            row: &set.rows[index],
            columns: Columns::Out(&set.out),
            included: &set.included,
            index,
        }
    }

    /// A row without includes whose column `i` is property `keys[i]`.
    pub(crate) fn plain(model: &'r str, row: &'r postgres::Row, keys: &'r [String]) -> Self {
        RowRef {
            next: std::cell::Cell::new(0),
            model,
            row,
            columns: Columns::Keys(keys),
            included: &[],
            index: 0,
        }
    }

    fn position(&self, property: &str) -> Option<usize> {
        let is = |n: usize| self.columns.at(n).filter(|(_, p)| *p == property);
        let hint = self.next.get();
        let (n, (i, _)) = match is(hint) {
            Some(hit) => (hint, hit),
            None => (0..self.columns.len()).find_map(|n| is(n).map(|hit| (n, hit)))?,
        };
        self.next.set(n + 1);
        Some(i)
    }

    fn decode_error(&self, property: &str, message: String) -> RepoError {
        RepoError::Decode {
            model: self.model.to_string(),
            property: property.to_string(),
            message,
        }
    }

    /// The value of `property` (a property name, as in filters) decoded as `T` by the
    /// `postgres` crate's [`FromSql`] (binary format; `Option<T>` for a nullable column).
    ///
    /// # Errors
    /// [`RepoError::Decode`] when the property is not among the returned ones (unknown,
    /// hidden, or left out by `fields`), when `T` does not accept the column's Postgres type,
    /// or for a NULL read into a non-`Option` type.
    pub fn get<T: FromSql<'r>>(&self, property: &str) -> Result<T, RepoError> {
        let Some(i) = self.position(property) else {
            return Err(self.decode_error(property, "not a returned property of this row".into()));
        };
        self.row
            .try_get(i)
            .map_err(|e| self.decode_error(property, e.to_string()))
    }

    fn relation(&self, name: &str) -> Result<(&'r Included, &'r [usize]), RepoError> {
        let included: &'r [Included] = self.included;
        let inc = included
            .iter()
            .find(|inc| inc.name == name)
            .ok_or_else(|| RepoError::Relation {
                model: self.model.to_string(),
                relation: name.to_string(),
                message: "not included by the filter".into(),
            })?;
        Ok((inc, self.related(inc)))
    }

    /// This row's related rows in `inc` (an inclusion of this row's level): indexes into
    /// `inc.set.rows`.
    pub(crate) fn related(&self, inc: &'r Included) -> &'r [usize] {
        let from = inc.starts.get(self.index).copied().unwrap_or(0);
        let to = inc.starts.get(self.index + 1).copied().unwrap_or(from);
        inc.indexes.get(from..to).unwrap_or_default()
    }

    /// The rows of the included relation `name` (a `many` relation; for a `one` relation, a
    /// list of at most one), each built with `T::from_row`, in the inclusion scope's order.
    ///
    /// # Errors
    /// [`RepoError::Relation`] when the filter did not include `name`, or `T`'s errors.
    pub fn many<T: FromRow>(&self, name: &str) -> Result<Vec<T>, RepoError> {
        let (inc, rows) = self.relation(name)?;
        rows.iter()
            .map(|&r| T::from_row(&RowRef::in_set(&inc.target, &inc.set, r)))
            .collect()
    }

    /// The row of the included `one` relation `name`, built with `T::from_row`, or `None`
    /// when there is none (no key, or the related row is filtered out).
    ///
    /// # Errors
    /// As [`RowRef::many`].
    pub fn one<T: FromRow>(&self, name: &str) -> Result<Option<T>, RepoError> {
        let (inc, rows) = self.relation(name)?;
        rows.first()
            .map(|&r| T::from_row(&RowRef::in_set(&inc.target, &inc.set, r)))
            .transpose()
    }
}

//! Row sets and the view of one row decoders share: [`RowSet`] (one level's rows, undecoded,
//! with each include's related rows grouped per row), [`RowRef`] (one row of a set) and the
//! [`FromRow`] trait that builds a type from a [`RowRef`].

use std::borrow::Cow;

use ignis_schema::{Model, Schema};
use postgres::types::FromSql;

use crate::RepoError;

/// The rows of one level: the rows as Postgres returned them, which of their columns the
/// caller gets, and the related rows of each included relation, already grouped per row.
pub(crate) struct RowSet<'p> {
    /// Index of the rows' model in the schema.
    pub(crate) model: usize,
    /// The rows.
    pub(crate) rows: Vec<postgres::Row>,
    /// `(column position in the row, model column index)` of each returned column, in model
    /// order: the properties the caller gets (join columns the filter's `fields` left out are
    /// selected but not returned).
    pub(crate) out: Cow<'p, [(usize, usize)]>,
    /// The model column index of each selected column, in select order.
    pub(crate) columns: Cow<'p, [usize]>,
    /// One entry per included relation, in the filter's order.
    pub(crate) included: Vec<Included<'p>>,
    /// Where the column positions of a [`FromRow`] type's properties in these rows are kept
    /// when the rows come from a plan made once (`out` is then the plan's), so they are
    /// resolved once per repository rather than once per set.
    pub(crate) positions: Option<&'p super::PositionCache>,
}

impl<'p> RowSet<'p> {
    /// A set without includes whose every selected column is returned (a write's RETURNING
    /// rows, a by-id find), `out` and `columns` borrowed from a plan made once.
    pub(crate) fn plain(
        model: usize,
        rows: Vec<postgres::Row>,
        out: &'p [(usize, usize)],
        columns: &'p [usize],
        positions: &'p super::PositionCache,
    ) -> Self {
        RowSet {
            model,
            rows,
            out: Cow::Borrowed(out),
            columns: Cow::Borrowed(columns),
            included: Vec::new(),
            positions: Some(positions),
        }
    }

    /// The set with its column lists owned (cloned when borrowed), so it outlives the plan
    /// they were borrowed from.
    pub(crate) fn into_static(self) -> RowSet<'static> {
        RowSet {
            model: self.model,
            rows: self.rows,
            out: Cow::Owned(self.out.into_owned()),
            columns: Cow::Owned(self.columns.into_owned()),
            positions: None,
            included: self
                .included
                .into_iter()
                .map(|inc| Included {
                    name: inc.name,
                    many: inc.many,
                    set: inc.set.into_static(),
                    starts: inc.starts,
                    indexes: inc.indexes,
                    positions: inc.positions,
                })
                .collect(),
        }
    }

    /// An empty set over `model` (an include with no parent key).
    pub(crate) fn empty(model: usize) -> Self {
        RowSet {
            model,
            rows: Vec::new(),
            out: Cow::Borrowed(&[]),
            columns: Cow::Borrowed(&[]),
            included: Vec::new(),
            positions: None,
        }
    }
}

/// One included relation of a [`RowSet`].
pub(crate) struct Included<'p> {
    /// The relation's name: the key under which the related rows appear.
    pub(crate) name: String,
    /// A `many` relation (a sequence of rows) or a `one` relation (a row or null).
    pub(crate) many: bool,
    /// The related rows.
    pub(crate) set: RowSet<'p>,
    /// For parent row `p`, the related rows are `set.rows[i]` for `i` in
    /// `indexes[starts[p]..starts[p + 1]]` (compressed rows: one allocation per level).
    pub(crate) starts: Vec<usize>,
    /// See `starts`.
    pub(crate) indexes: Vec<usize>,
    /// The column positions of the last [`FromRow`] type read from `set` (keyed by the address
    /// of its [`FromRow::PROPERTIES`]), so the related rows of every parent row share one
    /// resolution.
    pub(crate) positions: std::cell::OnceCell<(usize, Vec<usize>)>,
}

/// The column position of each of `properties` in `set`'s returned columns ([`ABSENT`] for a
/// property the set does not return), in the order of `properties`.
///
/// A type usually lists its properties in the model's column order, so each property is looked
/// for first right after the previous one's column: one comparison each in the common case.
pub(crate) fn resolve(schema: &Schema, set: &RowSet<'_>, properties: &[&str]) -> Vec<usize> {
    let columns = &schema.models()[set.model].columns;
    let out: &[(usize, usize)] = &set.out;
    let named = |n: usize, p: &str| {
        out.get(n)
            .is_some_and(|&(_, col)| columns.get(col).is_some_and(|c| c.property == p))
    };
    let mut next = 0;
    let mut positions = Vec::with_capacity(properties.len());
    for p in properties {
        let found = if named(next, p) {
            Some(next)
        } else {
            (0..out.len()).find(|&n| named(n, p))
        };
        positions.push(found.map_or(ABSENT, |n| {
            next = n + 1;
            out[n].0
        }));
    }
    positions
}

/// A [`FromRow::PROPERTIES`] entry the row set does not return.
pub(crate) const ABSENT: usize = usize::MAX;

/// One row as a decoder sees it: its returned properties by name and its included relations.
/// Borrowed from the result for the length of one decode.
#[derive(Clone)]
pub struct RowRef<'r> {
    /// Where the next property is looked for first: decoders usually read the properties in
    /// column order, so most lookups succeed at once.
    next: std::cell::Cell<usize>,
    schema: &'r Schema,
    model: &'r Model,
    set: &'r RowSet<'r>,
    row: &'r postgres::Row,
    index: usize,
    /// The column position of each of the decoded type's [`FromRow::PROPERTIES`], resolved
    /// once per row set; `None` when the type reads by name only.
    positions: Option<&'r [usize]>,
}

impl std::fmt::Debug for RowRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowRef")
            .field("model", &self.model.name)
            .field("index", &self.index)
            .finish()
    }
}

impl<'r> RowRef<'r> {
    /// Row `index` of `set`.
    #[inline]
    pub(crate) fn in_set(schema: &'r Schema, set: &'r RowSet<'r>, index: usize) -> Self {
        RowRef {
            next: std::cell::Cell::new(0),
            schema,
            model: &schema.models()[set.model],
            set,
            row: &set.rows[index],
            index,
            positions: None,
        }
    }

    /// Row `index` of `set`, for a type whose [`FromRow::PROPERTIES`] sit at `positions` (see
    /// [`resolve`]).
    #[inline]
    pub(crate) fn in_set_at(
        schema: &'r Schema,
        set: &'r RowSet<'r>,
        index: usize,
        positions: &'r [usize],
    ) -> Self {
        RowRef {
            positions: Some(positions),
            ..RowRef::in_set(schema, set, index)
        }
    }

    /// `(column position, model column index)` of each returned property.
    pub(crate) fn out(&self) -> &'r [(usize, usize)] {
        &self.set.out
    }

    /// The included relations of this row's level.
    pub(crate) fn included(&self) -> &'r [Included<'r>] {
        &self.set.included
    }

    /// The row as Postgres returned it.
    pub(crate) fn raw(&self) -> &'r postgres::Row {
        self.row
    }

    /// The schema the row's model and relations belong to.
    pub(crate) fn schema(&self) -> &'r Schema {
        self.schema
    }

    /// The row's model.
    pub fn model(&self) -> &'r Model {
        self.model
    }

    /// The property name of returned column `n` (an index into [`RowRef::out`]).
    pub(crate) fn property(&self, n: usize) -> Option<(usize, &'r str)> {
        self.set
            .out
            .get(n)
            .map(|&(pos, col)| (pos, self.model.columns[col].property.as_str()))
    }

    /// The column position of `property`, looked for first where the previous lookup ended
    /// (decoders usually read the properties in column order, so most lookups are one
    /// comparison).
    fn position(&self, property: &str) -> Option<usize> {
        let out: &[(usize, usize)] = &self.set.out;
        let columns = &self.model.columns;
        let named = |col: usize| columns.get(col).is_some_and(|c| c.property == property);
        let hint = self.next.get();
        if let Some(&(pos, col)) = out.get(hint) {
            if named(col) {
                self.next.set(hint + 1);
                return Some(pos);
            }
        }
        let n = out.iter().position(|&(_, col)| named(col))?;
        self.next.set(n + 1);
        Some(out[n].0)
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn decode_error(&self, property: &str, message: String) -> RepoError {
        RepoError::Decode {
            model: self.model.name.clone(),
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
            return Err(self.not_returned(property));
        };
        self.row
            .try_get(i)
            .map_err(|e| self.decode_error(property, e.to_string()))
    }

    /// The value of entry `k` of the decoded type's [`FromRow::PROPERTIES`] (`property`),
    /// read at the column position resolved once for the row set; by name, as
    /// [`RowRef::get`], when the rows are not decoded through those properties. The read
    /// derived [`FromRow`] impls make.
    ///
    /// # Errors
    /// As [`RowRef::get`].
    #[doc(hidden)]
    #[inline(always)]
    pub fn field<T: FromSql<'r>>(&self, k: usize, property: &str) -> Result<T, RepoError> {
        if let Some(&pos) = self.positions.and_then(|p| p.get(k)) {
            if pos == ABSENT {
                return self.field_by_name(property);
            }
            return match self.row.try_get(pos) {
                Ok(v) => Ok(v),
                Err(e) => self.field_failed(property, &e),
            };
        }
        self.field_by_name(property)
    }

    /// The column positions of `properties` (a derived type's [`FromRow::PROPERTIES`], `N`
    /// of them) in this row: the ones resolved once for the row set when it has them (a copy
    /// of `N` integers), else looked up by name now. A property that is not returned has
    /// position `usize::MAX`, which [`RowRef::at`] reports as not returned.
    #[doc(hidden)]
    #[inline(always)]
    pub fn positions_of<const N: usize>(&self, properties: &[&str; N]) -> [usize; N] {
        match self.positions.and_then(|p| <&[usize; N]>::try_from(p).ok()) {
            Some(p) => *p,
            None => self.positions_by_name(properties),
        }
    }

    #[cold]
    #[inline(never)]
    fn positions_by_name<const N: usize>(&self, properties: &[&str; N]) -> [usize; N] {
        properties.map(|p| self.position(p).unwrap_or(ABSENT))
    }

    /// The value at column position `pos` (from [`RowRef::positions_of`]) of `property`,
    /// decoded as `T`: the read derived [`FromRow`] impls make.
    ///
    /// # Errors
    /// As [`RowRef::get`]: the property is not returned (`pos` is `usize::MAX`), or `T` does
    /// not accept the value.
    #[doc(hidden)]
    #[inline(always)]
    pub fn at<T: FromSql<'r>>(&self, pos: usize, property: &str) -> Result<T, RepoError> {
        match self.row.try_get(pos) {
            Ok(v) => Ok(v),
            Err(e) => Err(self.at_failed(pos, property, &e)),
        }
    }

    #[cold]
    #[inline(never)]
    fn at_failed(&self, pos: usize, property: &str, e: &postgres::Error) -> RepoError {
        if pos == ABSENT {
            self.not_returned(property)
        } else {
            self.decode_error(property, e.to_string())
        }
    }

    /// [`RowRef::field`] of a row read by name (no positions resolved for it): out of line, so
    /// the by-position reads a derived impl makes stay small.
    #[cold]
    #[inline(never)]
    fn field_by_name<T: FromSql<'r>>(&self, property: &str) -> Result<T, RepoError> {
        self.get(property)
    }

    #[cold]
    #[inline(never)]
    fn not_returned(&self, property: &str) -> RepoError {
        self.decode_error(property, "not a returned property of this row".into())
    }

    /// The error of a read at a resolved position (out of line, as [`RowRef::field_by_name`]).
    #[cold]
    #[inline(never)]
    fn field_failed<T>(&self, property: &str, e: &postgres::Error) -> Result<T, RepoError> {
        Err(self.decode_error(property, e.to_string()))
    }

    /// The inclusion of relation `name` at this row's level, if the filter included it.
    fn inclusion(&self, name: &str) -> Option<&'r Included<'r>> {
        let included: &'r [Included<'r>] = &self.set.included;
        included.iter().find(|inc| inc.name == name)
    }

    fn relation(&self, name: &str) -> Result<&'r Included<'r>, RepoError> {
        self.inclusion(name).ok_or_else(|| RepoError::Relation {
            model: self.model.name.clone(),
            relation: name.to_string(),
            message: "not included by the filter".into(),
        })
    }

    /// This row's related rows in `inc` (an inclusion of this row's level): indexes into
    /// `inc.set.rows`.
    pub(crate) fn related(&self, inc: &'r Included<'r>) -> &'r [usize] {
        let from = inc.starts.get(self.index).copied().unwrap_or(0);
        let to = inc.starts.get(self.index + 1).copied().unwrap_or(from);
        inc.indexes.get(from..to).unwrap_or_default()
    }

    /// Whether the filter included the relation `name` at this row's level: a type with
    /// relation fields reads them with [`RowRef::many`] / [`RowRef::one`] when it did, and
    /// leaves them empty when it did not.
    pub fn is_included(&self, name: &str) -> bool {
        self.inclusion(name).is_some()
    }

    /// The rows of the included relation `name` (a `many` relation; for a `one` relation, a
    /// list of at most one), each built with `T::from_row`, in the inclusion scope's order.
    ///
    /// # Errors
    /// [`RepoError::Relation`] when the filter did not include `name`, or `T`'s errors.
    pub fn many<T: FromRow>(&self, name: &str) -> Result<Vec<T>, RepoError> {
        self.many_in(self.relation(name)?)
    }

    /// [`RowRef::many`] when the filter included `name`, else an empty list: the read derived
    /// [`FromRow`] impls make of a `many` relation field (one lookup of the inclusion).
    ///
    /// # Errors
    /// `T`'s errors.
    #[doc(hidden)]
    pub fn many_if_included<T: FromRow>(&self, name: &str) -> Result<Vec<T>, RepoError> {
        match self.inclusion(name) {
            Some(inc) => self.many_in(inc),
            None => Ok(Vec::new()),
        }
    }

    /// The related rows of this row in `inc`, each built with `T::from_row`.
    fn many_in<T: FromRow>(&self, inc: &'r Included<'r>) -> Result<Vec<T>, RepoError> {
        let rows = self.related(inc);
        let positions = related_positions::<T>(self.schema, inc);
        let mut out = Vec::with_capacity(rows.len());
        for &r in rows {
            out.push(T::from_row(&in_set_with(
                self.schema,
                &inc.set,
                r,
                positions,
            ))?);
        }
        Ok(out)
    }

    /// The row of the included `one` relation `name`, built with `T::from_row`, or `None`
    /// when there is none (no key, or the related row is filtered out).
    ///
    /// # Errors
    /// As [`RowRef::many`].
    pub fn one<T: FromRow>(&self, name: &str) -> Result<Option<T>, RepoError> {
        self.one_in(self.relation(name)?)
    }

    /// [`RowRef::one`] when the filter included `name`, else `None`: the read derived
    /// [`FromRow`] impls make of a `one` relation field.
    ///
    /// # Errors
    /// `T`'s errors.
    #[doc(hidden)]
    pub fn one_if_included<T: FromRow>(&self, name: &str) -> Result<Option<T>, RepoError> {
        match self.inclusion(name) {
            Some(inc) => self.one_in(inc),
            None => Ok(None),
        }
    }

    /// The first related row of this row in `inc`, built with `T::from_row`.
    fn one_in<T: FromRow>(&self, inc: &'r Included<'r>) -> Result<Option<T>, RepoError> {
        let rows = self.related(inc);
        let positions = related_positions::<T>(self.schema, inc);
        rows.first()
            .map(|&r| T::from_row(&in_set_with(self.schema, &inc.set, r, positions)))
            .transpose()
    }
}

/// Row `index` of `set`, read through `positions` when there are some.
#[inline]
fn in_set_with<'r>(
    schema: &'r Schema,
    set: &'r RowSet<'r>,
    index: usize,
    positions: Option<&'r [usize]>,
) -> RowRef<'r> {
    match positions {
        Some(p) => RowRef::in_set_at(schema, set, index, p),
        None => RowRef::in_set(schema, set, index),
    }
}

/// The positions of `T`'s [`FromRow::PROPERTIES`] in the related rows of `inc`, resolved on
/// the first parent row and kept for the others (`None` when `T` reads by name, or when
/// another type was resolved there first).
fn related_positions<'r, T: FromRow>(
    schema: &Schema,
    inc: &'r Included<'r>,
) -> Option<&'r [usize]> {
    if T::PROPERTIES.is_empty() {
        return None;
    }
    let key = T::PROPERTIES.as_ptr() as usize;
    let (k, positions) = inc
        .positions
        .get_or_init(|| (key, resolve(schema, &inc.set, T::PROPERTIES)));
    (*k == key).then_some(positions.as_slice())
}

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
    /// The properties `from_row` reads by position: resolved to column positions once per row
    /// set, so each read is an index instead of a lookup by name. `#[derive(FromRow)]` lists
    /// the struct's column fields and reads entry `k` as
    /// `row.at(row.positions_of(&[..])[k], PROPERTIES[k])` ([`RowRef::positions_of`],
    /// [`RowRef::at`]; [`RowRef::field`] reads one entry the same way); a hand-written impl
    /// that reads with [`RowRef::get`] leaves it empty.
    const PROPERTIES: &'static [&'static str] = &[];

    /// Builds the value from `row`.
    ///
    /// # Errors
    /// Whatever [`RowRef::get`], [`RowRef::many`] or [`RowRef::one`] return, or the type's own
    /// [`RepoError`].
    fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError>;
}

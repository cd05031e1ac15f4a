//! Rows: what a statement returned, and the decoders that turn it into the caller's type.
//!
//! Every read and every write that returns rows yields one [`RowSet`] per level: the rows as
//! Postgres returned them (undecoded binary values), which of their columns the caller gets,
//! and, per included relation, the related rows already grouped per row of this level
//! (see `crate::query::include`). A [`Decoder`] then builds each top-level row once, reading
//! nested relations through [`RowRef`]: JSON objects ([`JsonRows`]), serde types
//! ([`SerdeRows`]) or [`FromRow`] types ([`FromRowRows`]). Nothing else differs between the
//! three outputs: the statements, the grouping and the order are the same code.

mod deserialize;
mod from_row;
mod value;

use std::borrow::Cow;
use std::marker::PhantomData;

use ignis_schema::{Model, Schema};
use postgres::types::{FromSql, Type};
use serde_json::{Map, Value as JsonValue};

use crate::RepoError;

pub(crate) use deserialize::RawBytes;
pub use from_row::FromRow;
pub(crate) use value::{decodable, decode_value, Cell};

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
}

impl<'p> RowSet<'p> {
    /// A set without includes whose every selected column is returned (a write's RETURNING
    /// rows, a by-id find), `out` and `columns` borrowed from a plan made once.
    pub(crate) fn plain(
        model: usize,
        rows: Vec<postgres::Row>,
        out: &'p [(usize, usize)],
        columns: &'p [usize],
    ) -> Self {
        RowSet {
            model,
            rows,
            out: Cow::Borrowed(out),
            columns: Cow::Borrowed(columns),
            included: Vec::new(),
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
        }
    }

    /// Every top-level row built by `decoder`, in order.
    ///
    /// # Errors
    /// The decoder's errors.
    pub(crate) fn decode<D: Decoder>(
        &self,
        schema: &Schema,
        decoder: &D,
    ) -> Result<Vec<D::Row>, RepoError> {
        (0..self.rows.len())
            .map(|i| decoder.decode(&RowRef::in_set(schema, self, i)))
            .collect()
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
}

/// How rows become values of the caller's type: one impl per output, all reading the same
/// [`RowSet`]s.
pub(crate) trait Decoder {
    /// The decoded row.
    type Row;

    /// Builds one row.
    ///
    /// # Errors
    /// [`RepoError::Decode`] / [`RepoError::Deserialize`], or the type's own errors.
    fn decode(&self, row: &RowRef<'_>) -> Result<Self::Row, RepoError>;

    /// Whether a column of Postgres type `ty` can be decoded at all, asked of a write's
    /// RETURNING columns before the write runs (a write that autocommits cannot be undone
    /// when its rows then fail to decode).
    fn accepts(&self, ty: &Type) -> bool {
        decodable(ty)
    }
}

/// Rows as JSON objects keyed by property name (see the value table in `value.rs`), with
/// included relations nested under their names.
pub(crate) struct JsonRows;

impl Decoder for JsonRows {
    type Row = JsonValue;

    fn decode(&self, row: &RowRef<'_>) -> Result<JsonValue, RepoError> {
        let mut obj = Map::new();
        for &(pos, col) in row.out() {
            let property = &row.model.columns[col].property;
            let cell: Cell = row.row.try_get(pos).map_err(|e| {
                let message = std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string());
                row.decode_error(property, message)
            })?;
            obj.insert(property.clone(), cell.0);
        }
        for inc in row.included() {
            let related = row.related(inc);
            let value = if inc.many {
                JsonValue::Array(
                    related
                        .iter()
                        .map(|&r| self.decode(&RowRef::in_set(row.schema, &inc.set, r)))
                        .collect::<Result<_, _>>()?,
                )
            } else {
                match related.first() {
                    Some(&r) => self.decode(&RowRef::in_set(row.schema, &inc.set, r))?,
                    None => JsonValue::Null,
                }
            };
            obj.insert(inc.name.clone(), value);
        }
        Ok(JsonValue::Object(obj))
    }
}

/// Rows deserialized into `T` through serde, straight from the Postgres values (see
/// `serde.rs`).
pub(crate) struct SerdeRows<T>(PhantomData<fn() -> T>);

impl<T> SerdeRows<T> {
    pub(crate) fn new() -> Self {
        SerdeRows(PhantomData)
    }
}

impl<T: serde::de::DeserializeOwned> Decoder for SerdeRows<T> {
    type Row = T;

    fn decode(&self, row: &RowRef<'_>) -> Result<T, RepoError> {
        T::deserialize(deserialize::RowDeserializer(row.clone())).map_err(|source| {
            RepoError::Deserialize {
                model: row.model.name.clone(),
                source,
            }
        })
    }
}

/// Rows built by `T`'s [`FromRow`].
pub(crate) struct FromRowRows<T>(PhantomData<fn() -> T>);

impl<T> FromRowRows<T> {
    pub(crate) fn new() -> Self {
        FromRowRows(PhantomData)
    }
}

impl<T: FromRow> Decoder for FromRowRows<T> {
    type Row = T;

    fn decode(&self, row: &RowRef<'_>) -> Result<T, RepoError> {
        T::from_row(row)
    }
}

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
    pub(crate) fn in_set(schema: &'r Schema, set: &'r RowSet<'r>, index: usize) -> Self {
        RowRef {
            next: std::cell::Cell::new(0),
            schema,
            model: &schema.models()[set.model],
            set,
            row: &set.rows[index],
            index,
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

    fn position(&self, property: &str) -> Option<usize> {
        let is = |n: usize| self.property(n).filter(|(_, p)| *p == property);
        let hint = self.next.get();
        let (n, (i, _)) = match is(hint) {
            Some(hit) => (hint, hit),
            None => (0..self.set.out.len()).find_map(|n| is(n).map(|hit| (n, hit)))?,
        };
        self.next.set(n + 1);
        Some(i)
    }

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
            return Err(self.decode_error(property, "not a returned property of this row".into()));
        };
        self.row
            .try_get(i)
            .map_err(|e| self.decode_error(property, e.to_string()))
    }

    fn relation(&self, name: &str) -> Result<(&'r Included<'r>, &'r [usize]), RepoError> {
        let included: &'r [Included<'r>] = &self.set.included;
        let inc = included
            .iter()
            .find(|inc| inc.name == name)
            .ok_or_else(|| RepoError::Relation {
                model: self.model.name.clone(),
                relation: name.to_string(),
                message: "not included by the filter".into(),
            })?;
        Ok((inc, self.related(inc)))
    }

    /// This row's related rows in `inc` (an inclusion of this row's level): indexes into
    /// `inc.set.rows`.
    pub(crate) fn related(&self, inc: &'r Included<'r>) -> &'r [usize] {
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
            .map(|&r| T::from_row(&RowRef::in_set(self.schema, &inc.set, r)))
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
            .map(|&r| T::from_row(&RowRef::in_set(self.schema, &inc.set, r)))
            .transpose()
    }
}

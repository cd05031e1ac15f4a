//! Rows: what a statement returned, and the decoders that turn it into the caller's type.
//!
//! Every read and every write that returns rows yields one [`RowSet`] per level: the rows as
//! Postgres returned them (undecoded binary values), which of their columns the caller gets,
//! and, per included relation, the related rows already grouped per row of this level
//! (see the engine's include step, `query/include.rs`). A [`Decoder`] then builds each top-level row once, reading
//! nested relations through [`RowRef`]: JSON objects ([`JsonRows`]), serde types
//! ([`SerdeRows`]) or [`FromRow`] types ([`RowDecoder`]). Nothing else differs between the
//! three outputs: the statements, the grouping and the order are the same code.

mod deserialize;
mod set;
mod value;

use std::marker::PhantomData;

use ignis_schema::Schema;
use postgres::types::Type;
use serde_json::{Map, Value as JsonValue};

use crate::RepoError;

pub(crate) use deserialize::RawBytes;
pub use set::{FromRow, RowRef};
pub(crate) use set::{Included, RowSet};
pub(crate) use value::{decodable, decode_value, Cell};

/// Every top-level row of `set` built by `decoder`, in order.
///
/// # Errors
/// The decoder's errors.
pub(crate) fn decode<D: Decoder>(
    set: &RowSet<'_>,
    schema: &Schema,
    decoder: &D,
) -> Result<Vec<D::Row>, RepoError> {
    let mut out = Vec::with_capacity(set.rows.len());
    let properties = decoder.properties();
    if properties.is_empty() || set.rows.is_empty() {
        for i in 0..set.rows.len() {
            out.push(decoder.decode(&RowRef::in_set(schema, set, i))?);
        }
        return Ok(out);
    }
    let mut resolved = Vec::new();
    let positions = positions(set, schema, properties, &mut resolved);
    for i in 0..set.rows.len() {
        out.push(decoder.decode(&RowRef::in_set_at(schema, set, i, positions))?);
    }
    Ok(out)
}

/// The column positions of one row type's [`FromRow::PROPERTIES`] in the rows of a statement
/// whose columns never change (a plan made once), keyed by the address of those properties:
/// resolved for the first type read and kept.
pub(crate) type PositionCache = std::sync::OnceLock<(usize, Vec<usize>)>;

/// The first row of `set` built by `decoder` (`None` when the set is empty), the rest left
/// undecoded.
///
/// # Errors
/// The decoder's errors.
pub(crate) fn decode_first<D: Decoder>(
    set: &RowSet<'_>,
    schema: &Schema,
    decoder: &D,
) -> Result<Option<D::Row>, RepoError> {
    if set.rows.is_empty() {
        return Ok(None);
    }
    let properties = decoder.properties();
    if properties.is_empty() {
        return decoder.decode(&RowRef::in_set(schema, set, 0)).map(Some);
    }
    let mut resolved = Vec::new();
    let positions = positions(set, schema, properties, &mut resolved);
    decoder
        .decode(&RowRef::in_set_at(schema, set, 0, positions))
        .map(Some)
}

/// The column positions of `properties` (a [`FromRow::PROPERTIES`]) in `set`: from the cache
/// of the plan the set came from when it has one (resolved there on first use, for the first
/// row type read), else resolved now into `resolved`.
fn positions<'s>(
    set: &'s RowSet<'_>,
    schema: &Schema,
    properties: &[&str],
    resolved: &'s mut Vec<usize>,
) -> &'s [usize] {
    let key = properties.as_ptr() as usize;
    if let Some(cache) = set.positions {
        let (k, cached) = cache.get_or_init(|| (key, set::resolve(schema, set, properties)));
        if *k == key {
            return cached;
        }
    }
    *resolved = set::resolve(schema, set, properties);
    resolved
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

    /// The properties the decoded type reads by position ([`FromRow::PROPERTIES`]), resolved
    /// to column positions once per row set; empty for decoders that read by name.
    fn properties(&self) -> &'static [&'static str] {
        &[]
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
            let property = &row.model().columns[col].property;
            let cell: Cell = row.raw().try_get(pos).map_err(|e| {
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
                        .map(|&r| self.decode(&RowRef::in_set(row.schema(), &inc.set, r)))
                        .collect::<Result<_, _>>()?,
                )
            } else {
                match related.first() {
                    Some(&r) => self.decode(&RowRef::in_set(row.schema(), &inc.set, r))?,
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
                model: row.model().name.clone(),
                source,
            }
        })
    }
}

/// A row type a repository returns ([`crate::Repository`]'s `T`): JSON objects
/// ([`serde_json::Value`], the default) or any [`FromRow`] type, such as a struct with
/// `#[derive(FromRow)]`. Implemented for those two; the methods are the engine's.
pub trait Row: Sized {
    /// Builds the row.
    ///
    /// # Errors
    /// As [`FromRow::from_row`]; for JSON, [`RepoError::Decode`].
    #[doc(hidden)]
    fn decode_row(row: &RowRef<'_>) -> Result<Self, RepoError>;

    /// [`FromRow::PROPERTIES`] of a `FromRow` row type; empty for JSON rows.
    #[doc(hidden)]
    const PROPERTIES: &'static [&'static str] = &[];
}

impl Row for JsonValue {
    fn decode_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
        JsonRows.decode(row)
    }
}

impl<T: FromRow> Row for T {
    fn decode_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
        T::from_row(row)
    }

    const PROPERTIES: &'static [&'static str] = T::PROPERTIES;
}

/// The decoder of a repository's row type `T`.
pub(crate) struct RowDecoder<T>(PhantomData<fn() -> T>);

impl<T> RowDecoder<T> {
    pub(crate) fn new() -> Self {
        RowDecoder(PhantomData)
    }
}

impl<T: Row> Decoder for RowDecoder<T> {
    type Row = T;

    fn decode(&self, row: &RowRef<'_>) -> Result<T, RepoError> {
        T::decode_row(row)
    }

    fn properties(&self) -> &'static [&'static str] {
        T::PROPERTIES
    }
}

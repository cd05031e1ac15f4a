//! What the write methods take: the Ignis JSON object, or a typed value that hands over its
//! fields by property ([`WriteValues`]), such as the `New...` and `...Patch` types
//! `#[derive(Writable)]` generates.

use ignis_tx::postgres::types::ToSql;
use serde_json::Value as JsonValue;

/// The properties a typed write sets, each with its Rust value, bound as a parameter through
/// the value's own [`ToSql`] (no JSON in between). `#[derive(Writable)]` implements it for the
/// `New...` and `...Patch` types it generates; a hand-written impl lists the properties it
/// sets.
///
/// ```
/// use ignis_repo::{CreateData, WriteValues};
/// use ignis_tx::postgres::types::ToSql;
///
/// struct NewTag {
///     label: String,
///     color: Option<String>,
/// }
///
/// impl WriteValues for NewTag {
///     fn write_values<'s>(&'s self, out: &mut dyn FnMut(&'static str, &'s (dyn ToSql + Sync))) {
///         out("label", &self.label);
///         if let Some(color) = &self.color {
///             out("color", color);
///         }
///     }
/// }
/// // Lets `DefaultCrudRepository<Tag>::create` / `create_all` take it.
/// # struct Tag;
/// impl CreateData<Tag> for NewTag {
///     fn write_data(&self) -> ignis_repo::WriteData<'_> {
///         ignis_repo::WriteData::Values(self)
///     }
/// }
/// ```
pub trait WriteValues: Sync {
    /// Calls `out(property, value)` for every property the value sets (Ignis property names;
    /// a property left out takes its column default on insert and is left as it is on
    /// update).
    fn write_values<'s>(&'s self, out: &mut dyn FnMut(&'static str, &'s (dyn ToSql + Sync)));
}

/// The data of one write: Ignis JSON (an object keyed by property, coerced to the columns'
/// types; JSON-path keys on updates), or typed values bound as they are.
#[derive(Clone, Copy)]
pub enum WriteData<'d> {
    /// An Ignis data object.
    Json(&'d JsonValue),
    /// Typed values (see [`WriteValues`]).
    Values(&'d dyn WriteValues),
}

impl std::fmt::Debug for WriteData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteData::Json(v) => f.debug_tuple("Json").field(v).finish(),
            WriteData::Values(_) => f.write_str("Values(..)"),
        }
    }
}

/// What `create` and `create_all` of a repository with row type `E` take: a JSON object on
/// any repository, or a typed insert of `E`'s model (the `New...` type of
/// `#[derive(Writable)]`: generated columns such as ids, timestamps and audit columns may be
/// left out).
pub trait CreateData<E> {
    /// The data to write.
    fn write_data(&self) -> WriteData<'_>;
}

/// What `update_by_id` and `update_all` of a repository with row type `E` take: a JSON object
/// (JSON-path keys allowed) on any repository, or a typed patch of `E`'s model (the
/// `...Patch` type of `#[derive(Writable)]`, which writes only the fields it sets).
pub trait PatchData<E> {
    /// The data to write.
    fn write_data(&self) -> WriteData<'_>;
}

impl<E> CreateData<E> for JsonValue {
    fn write_data(&self) -> WriteData<'_> {
        WriteData::Json(self)
    }
}

impl<E> PatchData<E> for JsonValue {
    fn write_data(&self) -> WriteData<'_> {
        WriteData::Json(self)
    }
}

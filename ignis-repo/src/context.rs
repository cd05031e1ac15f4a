//! The context of one repository call: what every handle of a repository shares
//! ([`Shared`]: datasource, schema, limits, SQL names, plans made once), the handle's options
//! ([`CallOptions`]) and the executor the call runs on ([`Call`]). The engine (`query`) and the
//! writers (`write`) are methods of [`Call`]; the public handles (`repository`) make one per
//! call.

use std::sync::{Arc, OnceLock};

use ignis_schema::Schema;
use ignis_tx::{DataSource, Executor};
use serde_json::Value as JsonValue;

use crate::filter::FilterLimits;
use crate::query::sql::SchemaSql;

/// What every handle of one repository shares: the datasource, the schema and model, the
/// filter limits, the quoted SQL names of every model and the plans built on first use.
pub(crate) struct Shared {
    pub(crate) ds: DataSource,
    pub(crate) schema: Arc<Schema>,
    pub(crate) model: usize,
    pub(crate) limits: FilterLimits,
    pub(crate) sql: SchemaSql,
    pub(crate) plans: Plans,
}

/// The RETURNING plan of writes: the returned columns (model indexes), the `(position,
/// column)` pairs rows are decoded with, and the ` RETURNING ..` clause.
pub(crate) type Returning = (Vec<usize>, Vec<(usize, usize)>, String);

/// What depends only on the model, built on first use and kept for the repository's life (the
/// schema behind an `Arc` never changes).
#[derive(Default)]
pub(crate) struct Plans {
    /// The visible columns (model indexes), their `(position, column)` pairs and the
    /// ` RETURNING ..` clause of writes.
    pub(crate) returning: OnceLock<Returning>,
    /// The statement of a plain by-id find: the primary key's column index, the SQL
    /// (`SELECT <visible columns> FROM <table> WHERE <pk> = $1`), its `(position, column)` pairs
    /// and its selected columns;
    /// `None` when the model's key cannot use one (see `Call::find_by_id`).
    #[allow(clippy::type_complexity)]
    pub(crate) by_id: OnceLock<Option<(usize, String, Vec<(usize, usize)>, Vec<usize>)>>,
    /// The column positions, in the by-id statement's rows, of the [`crate::FromRow::PROPERTIES`]
    /// of the first row type read through it (keyed by the address of those properties).
    pub(crate) by_id_positions: crate::rows::PositionCache,
    /// `SELECT <visible columns> FROM <table>`: the start of a find that returns every
    /// visible column (the columns of `returning`).
    pub(crate) select_visible: OnceLock<String>,
    /// The column positions of a row type's properties in rows of every visible column in
    /// `returning`'s order (writes' RETURNING rows and finds of every visible column).
    pub(crate) visible_positions: crate::rows::PositionCache,
    /// The INSERT texts of typed creates (see `write::insert`), by the model columns given,
    /// in order, and whether the text has a RETURNING clause: a repository's typed creates
    /// usually give the same columns every time, so the text is written once. Holds at most
    /// [`INSERT_TEXTS`] entries; past that, texts are written per call.
    pub(crate) insert_texts: std::sync::Mutex<Vec<InsertText>>,
    /// The statements of by-id finds with a filter of only `fields` (`SELECT <those columns>
    /// FROM <table> WHERE <pk> = $1`), by the selected columns: a caller that reads a few
    /// properties by id usually asks for the same ones every time. At most [`INSERT_TEXTS`]
    /// entries; past that, statements are written per call.
    pub(crate) keyed_selects: std::sync::Mutex<Vec<Arc<KeyedSelect>>>,
    /// The statements of finds kept by filter document (see `query::template`).
    pub(crate) find_templates: crate::query::template::Templates,
    /// The model column indexes of the user-audit properties (`createdBy`, `modifiedBy`), when
    /// the model has them.
    pub(crate) audit_columns: OnceLock<[Option<usize>; 2]>,
    /// The model column indexes of `modifiedAt` and `modifiedBy`, which an UPDATE sets unless
    /// its data does, when the model has them.
    pub(crate) modified_columns: OnceLock<[Option<usize>; 2]>,
    /// Whether `create_all` may use `COPY` (see `write::copy`).
    pub(crate) copy_allowed: OnceLock<bool>,
}

/// One kept by-id select of some columns (see [`Plans::keyed_selects`]).
#[derive(Debug)]
pub(crate) struct KeyedSelect {
    /// The `fields` value of the filter it was planned for: the same document (equal as JSON)
    /// selects the same columns, so it is found without parsing it again.
    pub(crate) fields: JsonValue,
    /// The selected model columns, in select order (each one returned).
    pub(crate) columns: Vec<usize>,
    /// `(position, column)` of each of them.
    pub(crate) out: Vec<(usize, usize)>,
    /// `SELECT <columns> FROM <table> WHERE <pk> = $1`.
    pub(crate) sql: String,
    /// The column positions of a row type's properties in its rows.
    pub(crate) positions: crate::rows::PositionCache,
}

/// One kept INSERT text: the model columns given, in order; whether it returns rows; the text.
pub(crate) type InsertText = (Vec<usize>, bool, Arc<str>);

/// Most INSERT texts [`Plans::insert_texts`] keeps.
pub(crate) const INSERT_TEXTS: usize = 16;

/// Per-handle call options (Ignis passes them per call in `options`; here a handle carries
/// them, and handles are cheap to derive: `repo.with_actor(7).create(..)`).
#[derive(Clone)]
pub(crate) struct CallOptions {
    pub(crate) actor: Option<Arc<JsonValue>>,
    pub(crate) skip_default_filter: bool,
    pub(crate) should_return: bool,
    pub(crate) force: bool,
}

/// One repository call: the handle's shared state and options, and the executor it runs on.
/// The engine (`query`) and the writers (`write`) are methods of it.
pub(crate) struct Call<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) opts: &'a CallOptions,
    pub(crate) exec: &'a mut dyn Executor,
}

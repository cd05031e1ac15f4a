//! Typed models: the [`ModelDef`] trait that `#[derive(Model)]` implements, and the helpers its
//! generated code calls.
//!
//! `#[derive(Model)]` (from the `ignis-derive` crate, re-exported as [`derive@crate::Model`] beside the
//! struct of the same name) turns a Rust struct into the [`Model`] it describes, so one
//! definition serves the migrator, the JSON schema format and the repositories. The attributes
//! are documented on the derive.
//!
//! ```
//! use ignis_schema::{Model, ModelDef, Schema};
//!
//! #[derive(Model)]
//! #[ignis(id = "string", tz)]
//! struct Note {
//!     id: String,
//!     #[ignis(index)]
//!     title: String,
//!     body: Option<String>,
//! }
//!
//! let schema = Schema::new(vec![Note::model()]).unwrap();
//! let note = schema.model("Note").unwrap();
//! let properties: Vec<&str> = note.columns.iter().map(|c| c.property.as_str()).collect();
//! assert_eq!(properties, ["id", "createdAt", "modifiedAt", "title", "body"]);
//! ```

use crate::column::Column;
use crate::model::Model;
use crate::types::PgType;

/// A Rust type that describes an Ignis model: what `#[derive(Model)]` implements.
///
/// ```
/// use ignis_schema::{Column, ModelDef, PgType};
///
/// // By hand, as the derive would write it for `struct Setting { key: String }`:
/// struct Setting;
/// impl ModelDef for Setting {
///     const MODEL_NAME: &'static str = "Setting";
///     fn model() -> ignis_schema::Model {
///         ignis_schema::Model::new(Self::MODEL_NAME)
///             .column(Column::new("key", PgType::Text).not_null().primary_key())
///     }
/// }
/// assert_eq!(Setting::model().primary_key(), vec!["key"]);
/// ```
pub trait ModelDef {
    /// The Ignis model name (`User`): what relations and foreign keys of other models name.
    /// A constant, so models that relate to each other name one another without building
    /// each other's model.
    const MODEL_NAME: &'static str;

    /// The model: its table, columns (enrichers' first), keys, indexes, foreign keys and
    /// relations. Built anew on each call; build a [`crate::Schema`] once from the models.
    fn model() -> Model;
}

/// The Postgres type of a `#[ignis(pg_type = "..")]` attribute: `text` parsed by
/// [`PgType`]'s `FromStr`. The derive refuses at compile time every text that parser refuses,
/// so the fallback, [`PgType::Custom`] with the text as written, is never taken for a derived
/// model; it keeps this function total.
///
/// ```
/// use ignis_schema::{derive_support::pg_type, PgType};
/// assert_eq!(pg_type("varchar(20)"), PgType::Varchar(Some(20)));
/// assert_eq!(pg_type("mood"), PgType::Custom("mood".into()));
/// ```
pub fn pg_type(text: &str) -> PgType {
    text.parse()
        .unwrap_or_else(|_| PgType::Custom(text.trim().to_string()))
}

/// `model` with `column` added at the end, unless a column of the same property is already
/// there (an enricher's: `id`, `createdAt`, ...), which then stands as the enricher made it.
/// A derived struct may so declare the enrichers' properties as fields, to read them, without
/// declaring their columns twice.
///
/// ```
/// use ignis_schema::{derive_support::with_column, enrich::IdOptions, Column, Enricher, Model, PgType};
/// let model = Model::new("User").enrich(Enricher::Id(IdOptions::string()));
/// let model = with_column(model, Column::new("id", PgType::Integer));
/// let model = with_column(model, Column::new("name", PgType::Text));
/// assert_eq!(model.columns.len(), 2);
/// assert_eq!(model.columns[0].pg_type, PgType::Text);
/// ```
pub fn with_column(model: Model, column: Column) -> Model {
    if model.column_by_property(&column.property).is_some() {
        model
    } else {
        model.column(column)
    }
}

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
use crate::error::SchemaError;
use crate::model::Model;
use crate::schema::{EnumType, Schema};
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

    /// The Postgres enum types the model's columns use (the `#[derive(PgEnum)]` types of its
    /// fields), each once; none by default. [`SchemaBuilder`] adds them to the schema.
    fn enums() -> Vec<EnumType> {
        Vec::new()
    }
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

/// A Rust enum that is a Postgres enum type (`CREATE TYPE name AS ENUM (labels)`): what
/// `#[derive(PgEnum)]` implements (re-exported as [`derive@crate::PgEnum`]).
///
/// A `#[derive(Model)]` field of such a type (or `Option<T>`, `Vec<T>` of it) is a column of
/// [`PgEnumDef::pg_type`], and the model's [`ModelDef::enums`] lists [`PgEnumDef::enum_type`],
/// so a schema built with [`SchemaBuilder`] creates the type before the tables that use it.
///
/// ```
/// use ignis_schema::{EnumType, PgEnumDef, PgType};
///
/// // By hand, as the derive would write it for `enum Mood { Sad, Happy }`:
/// #[derive(Debug, PartialEq)]
/// enum Mood { Sad, Happy }
/// impl PgEnumDef for Mood {
///     const TYPE_NAME: &'static str = "mood";
///     const SCHEMA: &'static str = "public";
///     const LABELS: &'static [&'static str] = &["sad", "happy"];
///     fn label(&self) -> &'static str {
///         match self { Mood::Sad => "sad", Mood::Happy => "happy" }
///     }
///     fn from_label(label: &str) -> Option<Self> {
///         match label { "sad" => Some(Mood::Sad), "happy" => Some(Mood::Happy), _ => None }
///     }
/// }
/// assert_eq!(Mood::pg_type(), PgType::Custom("mood".into()));
/// assert_eq!(Mood::enum_type(), EnumType::new("mood", ["sad", "happy"]));
/// assert_eq!(Mood::from_label("happy"), Some(Mood::Happy));
/// ```
#[diagnostic::on_unimplemented(
    message = "no Postgres type for the Rust type `{Self}`",
    label = "neither a mapped type nor a `#[derive(PgEnum)]` enum",
    note = "use a mapped type (i16, i32, i64, f32, f64, bool, String, Vec<u8>, serde_json::Value, \
            chrono's DateTime<Utc> / NaiveDateTime / NaiveDate / NaiveTime, uuid::Uuid, Decimal, \
            Vec<T> of those, Option<T>), derive `PgEnum` on a fieldless enum, or name the \
            column's type with #[ignis(pg_type = \"...\")]"
)]
pub trait PgEnumDef: Sized + 'static {
    /// The Postgres type name (`mood`), unquoted.
    const TYPE_NAME: &'static str;
    /// The Postgres schema of the type (`public` unless given).
    const SCHEMA: &'static str;
    /// The labels in declaration order, which is the type's sort order.
    const LABELS: &'static [&'static str];

    /// The label of this value.
    fn label(&self) -> &'static str;

    /// The value of `label`, or `None` when the type has no such label.
    fn from_label(label: &str) -> Option<Self>;

    /// The type a column of this enum has: [`PgType::Custom`] with the type name, qualified
    /// by its schema when it is not `public` (`app.mood`), as the migrator compares it.
    fn pg_type() -> PgType {
        if Self::SCHEMA == "public" {
            PgType::Custom(Self::TYPE_NAME.to_string())
        } else {
            PgType::Custom(format!("{}.{}", Self::SCHEMA, Self::TYPE_NAME))
        }
    }

    /// The enum type, for [`crate::Schema::with_enums`].
    fn enum_type() -> EnumType {
        EnumType {
            name: Self::TYPE_NAME.to_string(),
            schema: Self::SCHEMA.to_string(),
            values: Self::LABELS.iter().map(|l| (*l).to_string()).collect(),
        }
    }
}

/// Adds `e` to `enums` unless an equal type is there already: what a derived
/// [`ModelDef::enums`] calls for each enum field, so a type used by two fields is listed once.
///
/// ```
/// use ignis_schema::{derive_support::push_enum, EnumType};
/// let mut enums = Vec::new();
/// push_enum(&mut enums, EnumType::new("mood", ["sad"]));
/// push_enum(&mut enums, EnumType::new("mood", ["sad"]));
/// assert_eq!(enums.len(), 1);
/// ```
pub fn push_enum(enums: &mut Vec<EnumType>, e: EnumType) {
    if !enums.contains(&e) {
        enums.push(e);
    }
}

/// The JSON value of a `#[ignis(default_filter = "..")]` attribute. The derive parses the text
/// at compile time and refuses JSON that is not an object, so the fallback (`Null`) is never
/// taken for a derived model; it keeps this function total.
///
/// ```
/// use ignis_schema::derive_support::json_value;
/// assert_eq!(json_value(r#"{"where": {"deletedAt": null}}"#)["where"]["deletedAt"], serde_json::Value::Null);
/// assert!(json_value("{").is_null());
/// ```
pub fn json_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

/// A [`Schema`] from derived models and enums: each model's [`ModelDef::model`] and the enum
/// types its fields use ([`ModelDef::enums`]), plus enums added on their own, each listed once.
///
/// ```
/// use ignis_schema::{Model, ModelDef, PgEnumDef, SchemaBuilder};
///
/// // `#[derive(PgEnum)] enum Mood { Sad, Happy }` writes this (and `ToSql` / `FromSql`):
/// enum Mood { Sad, Happy }
/// impl PgEnumDef for Mood {
///     const TYPE_NAME: &'static str = "mood";
///     const SCHEMA: &'static str = "public";
///     const LABELS: &'static [&'static str] = &["sad", "happy"];
///     fn label(&self) -> &'static str {
///         match self { Mood::Sad => "sad", Mood::Happy => "happy" }
///     }
///     fn from_label(label: &str) -> Option<Self> {
///         match label { "sad" => Some(Mood::Sad), "happy" => Some(Mood::Happy), _ => None }
///     }
/// }
///
/// #[derive(Model)]
/// #[ignis(id = "number")]
/// struct Diary { id: i32, mood: Mood, moods: Option<Vec<Mood>> }
///
/// let schema = SchemaBuilder::new().model::<Diary>().build().unwrap();
/// assert_eq!(schema.enums().len(), 1);
/// assert_eq!(schema.enums()[0].values, ["sad", "happy"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SchemaBuilder {
    models: Vec<Model>,
    enums: Vec<EnumType>,
}

impl SchemaBuilder {
    /// No models, no enums.
    pub fn new() -> Self {
        SchemaBuilder::default()
    }

    /// Adds `T`'s model and the enum types of its fields.
    pub fn model<T: ModelDef>(mut self) -> Self {
        self.models.push(T::model());
        for e in T::enums() {
            push_enum(&mut self.enums, e);
        }
        self
    }

    /// Adds a model built some other way (the builder, a schema file).
    pub fn with_model(mut self, model: Model) -> Self {
        self.models.push(model);
        self
    }

    /// Adds the enum type `E`, used by no derived field (a column with `pg_type = ".."`).
    pub fn enum_type<E: PgEnumDef>(mut self) -> Self {
        push_enum(&mut self.enums, E::enum_type());
        self
    }

    /// Validates the models and enums into a [`Schema`].
    ///
    /// # Errors
    /// What [`Schema::new`] and [`Schema::with_enums`] return: an invalid model or reference
    /// between models, or two different enum types of the same schema and name.
    pub fn build(self) -> Result<Schema, SchemaError> {
        Schema::new(self.models)?.with_enums(self.enums)
    }
}

/// Serializes a [`PgEnumDef`] value as its label: what `#[derive(PgEnum)]` with
/// `#[ignis(serde)]` generates `Serialize` with.
///
/// # Errors
/// The serializer's, as `serialize_str` returns it.
pub fn serialize_label<E: PgEnumDef, S: serde::Serializer>(
    value: &E,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.label())
}

/// Deserializes a [`PgEnumDef`] value from its label: what `#[derive(PgEnum)]` with
/// `#[ignis(serde)]` generates `Deserialize` with.
///
/// # Errors
/// A string that is not one of [`PgEnumDef::LABELS`] (serde's `unknown_variant`, listing
/// them), or anything but a string.
pub fn deserialize_label<'de, E: PgEnumDef, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<E, D::Error> {
    struct Label<E>(std::marker::PhantomData<E>);
    impl<E: PgEnumDef> serde::de::Visitor<'_> for Label<E> {
        type Value = E;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "a label of the Postgres enum {}", E::TYPE_NAME)
        }
        fn visit_str<Err: serde::de::Error>(self, v: &str) -> Result<E, Err> {
            E::from_label(v).ok_or_else(|| Err::unknown_variant(v, E::LABELS))
        }
    }
    deserializer.deserialize_str(Label(std::marker::PhantomData))
}

/// The serde crate, for the impls `#[derive(PgEnum)]` writes with `#[ignis(serde)]`.
#[doc(hidden)]
pub use serde as __serde;

//! The example application of the Ignis persistence guide: `User` and `Configuration` (with its
//! `creator` / `modifier` relations to `User`), plus `ConfigurationReport`, a `skip_migrate` model
//! over a reporting view that the migrator must never create or alter. Each is a struct with
//! `#[derive(Model, FromRow, Properties)]`: the model the migrator and the repositories use, the
//! row type of a typed repository and typed filter properties, from one definition; `User` and
//! `Configuration` also derive `Writable`, their typed writes (`NewUser`, `UserPatch`,
//! `NewConfiguration`, `ConfigurationPatch`).
//!
//! `cargo xtask migrate` migrates this schema when no `--schema` file is given.
//!
//! ```
//! let schema = ignis_example::schema();
//! assert_eq!(schema.models().len(), 3);
//! assert!(schema.model("ConfigurationReport").unwrap().skip_migrate);
//! ```

use chrono::{DateTime, Utc};
use ignis_repo::filter::typed::Properties;
use ignis_repo::{FromRow, Writable};
use ignis_schema::{Model, ModelDef, Schema};
use serde_json::Value;

/// `User`: string id, timestamps, the Ignis user columns (string parent id), and `name` /
/// `email` text not null as in the guide's quick example. The struct is the model
/// (`#[derive(Model)]`), the row type of a typed repository (`#[derive(FromRow)]`) and the
/// source of typed filter properties (`User::EMAIL`, `#[derive(Properties)]`); it reads the
/// enricher properties an application usually shows. `NewUser` and `UserPatch`
/// (`#[derive(Writable)]`) are its typed writes.
#[derive(ignis_schema::Model, FromRow, Properties, Writable, Debug, Clone, PartialEq)]
#[ignis(id = "string", tz, user_columns)]
pub struct User {
    /// Primary key (the `id` enricher: a generated text id).
    pub id: String,
    /// Creation time (the `tz` enricher).
    pub created_at: DateTime<Utc>,
    /// Status (the user-columns enricher).
    pub status: String,
    /// User type (the user-columns enricher).
    pub r#type: String,
    /// Last login (the user-columns enricher).
    pub last_login_at: Option<DateTime<Utc>>,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// `Configuration`, exactly as in the guide: string id, timestamps, data-type columns, user audit
/// (`created_by` / `modified_by`, text because users have string ids), `code` not null,
/// `description`, `group` not null, `UQ_Configuration_code`, `IDX_Configuration_group`,
/// `FK_Configuration_createdBy_User_id`, and relations `creator` / `modifier` to `User`.
#[derive(ignis_schema::Model, FromRow, Properties, Writable, Debug, Clone, PartialEq)]
#[ignis(id = "string", tz, data_type, user_audit = "string")]
pub struct Configuration {
    /// Primary key.
    pub id: String,
    /// Numeric value (the data-type enricher).
    pub n_value: Option<f64>,
    /// JSON value (the data-type enricher).
    pub j_value: Option<Value>,
    /// Binary value (the data-type enricher).
    pub b_value: Option<Vec<u8>>,
    /// Boolean value (the data-type enricher).
    pub bo_value: Option<bool>,
    /// Who created it (the user-audit enricher), a `User` id.
    #[ignis(foreign_key(model = "User"))]
    pub created_by: Option<String>,
    /// Unique code.
    #[ignis(unique)]
    pub code: String,
    /// Description.
    pub description: Option<String>,
    /// Group.
    #[ignis(index)]
    pub group: String,
    /// The creator, when the filter includes `creator`.
    #[ignis(relation(fields = "createdBy"))]
    pub creator: Option<User>,
    /// The last modifier, when the filter includes `modifier`.
    #[ignis(relation(fields = "modifiedBy"))]
    pub modifier: Option<User>,
}

/// `ConfigurationReport`: a read model over a view that a DBA maintains (`skip_migrate`).
#[derive(ignis_schema::Model, FromRow, Properties, Debug, Clone, PartialEq)]
#[ignis(table = "configuration_report", skip_migrate)]
pub struct ConfigurationReport {
    /// The configuration group.
    pub group: Option<String>,
    /// Configurations in it.
    pub total: Option<i64>,
}

/// The `User` model ([`User`]'s derive).
pub fn user() -> Model {
    User::model()
}

/// The `Configuration` model ([`Configuration`]'s derive).
pub fn configuration() -> Model {
    Configuration::model()
}

/// The `ConfigurationReport` model ([`ConfigurationReport`]'s derive).
pub fn configuration_report() -> Model {
    ConfigurationReport::model()
}

/// The example application's validated schema.
pub fn schema() -> Schema {
    match Schema::new(vec![user(), configuration(), configuration_report()]) {
        Ok(schema) => schema,
        // The models above are fixed; a failure here is a bug in this file, caught by its tests.
        Err(e) => panic!("the example schema is invalid: {e}"),
    }
}

/// The example schema as a schema file (the JSON format of `ignis_schema::Schema`), written with
/// enrichers as a user would write it by hand. `example_schema_file_matches_the_rust_models` in
/// the workspace's `tests/tests/migrate.rs` checks that it describes the same models as [`schema`].
pub const SCHEMA_FILE: &str = include_str!("../schema.json");

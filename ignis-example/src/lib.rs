//! The example application of the Ignis persistence guide: `User` and `Configuration` (with its
//! `creator` / `modifier` relations to `User`), plus `ConfigurationReport`, a `skip_migrate` model
//! over a reporting view that the migrator must never create or alter.
//!
//! `cargo xtask migrate` migrates this schema when no `--schema` file is given.
//!
//! ```
//! let schema = ignis_example::schema();
//! assert_eq!(schema.models().len(), 3);
//! assert!(schema.model("ConfigurationReport").unwrap().skip_migrate);
//! ```

use ignis_schema::enrich::{
    DataTypeOptions, IdOptions, TzOptions, UserAuditOptions, UserColumnsOptions,
};
use ignis_schema::{Column, Enricher, ForeignKey, Index, Model, PgType, Relation, Schema};

/// `User`: string id, timestamps, the Ignis user columns (string parent id), and `name` /
/// `email` text not null as in the guide's quick example.
pub fn user() -> Model {
    Model::new("User")
        .enrich(Enricher::Id(IdOptions::string()))
        .enrich(Enricher::Tz(TzOptions::default()))
        .enrich(Enricher::UserColumns(UserColumnsOptions::default()))
        .column(Column::new("name", PgType::Text).not_null())
        .column(Column::new("email", PgType::Text).not_null())
}

/// `Configuration`, exactly as in the guide: string id, timestamps, data-type columns, user audit
/// (`created_by` / `modified_by`, text because users have string ids), `code` not null,
/// `description`, `group` not null, `UQ_Configuration_code`, `IDX_Configuration_group`,
/// `FK_Configuration_createdBy_User_id`, and relations `creator` / `modifier` to `User`.
pub fn configuration() -> Model {
    Model::new("Configuration")
        .enrich(Enricher::Id(IdOptions::string()))
        .enrich(Enricher::Tz(TzOptions::default()))
        .enrich(Enricher::DataType(DataTypeOptions::default()))
        .enrich(Enricher::UserAudit(UserAuditOptions::string()))
        .column(Column::new("code", PgType::Text).not_null())
        .column(Column::new("description", PgType::Text))
        .column(Column::new("group", PgType::Text).not_null())
        .unique("UQ_Configuration_code", ["code"])
        .index(Index::new("IDX_Configuration_group", ["group"]))
        .foreign_key(ForeignKey::new(
            "FK_Configuration_createdBy_User_id",
            ["createdBy"],
            "User",
            ["id"],
        ))
        .relation(Relation::one("creator", "User", ["createdBy"], ["id"]))
        .relation(Relation::one("modifier", "User", ["modifiedBy"], ["id"]))
}

/// `ConfigurationReport`: a read model over a view that a DBA maintains (`skip_migrate`).
pub fn configuration_report() -> Model {
    Model::new("ConfigurationReport")
        .table("configuration_report")
        .column(Column::new("group", PgType::Text))
        .column(Column::new("total", PgType::BigInt))
        .skip_migrate()
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
/// this crate's tests checks that it describes the same models as [`schema`].
pub const SCHEMA_FILE: &str = include_str!("../schema.json");

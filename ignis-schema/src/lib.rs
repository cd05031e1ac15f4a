//! # ignis-schema: models as data
//!
//! The model layer of ignis-rs, the Rust persistence layer of the IGNIS framework. A [`Model`](struct@Model)
//! describes one table the way an Ignis model does: its name, table, columns (each with a
//! **property name** used by filters and JSON rows and a **column name** used by SQL), primary
//! key, unique constraints, indexes, foreign keys, relations for `include`, `skip_migrate`, hidden
//! properties and an optional default filter. [`enrich`] has the Ignis enrichers (id, timestamps,
//! user audit, data-type, principal, user columns). A [`Schema`] is a validated set of models, and
//! can be read from and written to a JSON schema file. Keys, indexes, constraints, foreign keys
//! and relations name columns by their property names; a column's SQL name appears only where the
//! column declares it.
//!
//! Models build sea-query `TableCreateStatement` and `ForeignKeyCreateStatement`, and
//! `CREATE INDEX` as SQL text ([`ddl`]). This crate opens no database connection.
//!
//! ```
//! use ignis_schema::{enrich, Column, Enricher, ForeignKey, Index, Model, PgType, Relation, Schema};
//! let user = Model::new("User")
//!     .enrich(Enricher::Id(enrich::IdOptions::string()))
//!     .column(Column::new("name", PgType::Text).not_null());
//! let post = Model::new("Post")
//!     .enrich(Enricher::Id(enrich::IdOptions::number()))
//!     .column(Column::new("authorId", PgType::Text).not_null())
//!     .index(Index::new("IDX_Post_authorId", ["authorId"]))
//!     .foreign_key(ForeignKey::new("FK_Post_authorId_User_id", ["authorId"], "User", ["id"]))
//!     .relation(Relation::one("author", "User", ["authorId"], ["id"]));
//! let schema = Schema::new(vec![user, post]).unwrap();
//! assert_eq!(schema.model("Post").unwrap().create_sql().len(), 3);
//! ```
#![warn(missing_docs)]

pub mod column;
pub mod ddl;
pub mod derive_support;
pub mod enrich;
pub mod error;
pub mod model;
pub mod schema;
pub mod types;

pub use column::{snake_case, Column, Identity, IdentityGeneration, SequenceOptions};
pub use ddl::{
    deferral_sql, index_definition, object_name, object_name_pair, operator_sql, quote_ident,
    quote_ident_list, quote_literal, quote_qualified, rename_serial_sequence_sql, IndexDefinition,
};
pub use derive_support::{ModelDef, PgEnumDef, SchemaBuilder};
pub use enrich::Enricher;
pub use error::SchemaError;
pub use ignis_derive::{Model, PgEnum};
pub use model::{
    split_operator, Check, Exclusion, ExclusionElement, ForeignKey, ForeignKeyAction,
    ForeignKeyTarget, Index, IndexKey, Model, NullsOrder, ReferencedTable, Relation, RelationKind,
    SortOrder, UniqueConstraint, MAX_IDENTIFIER_BYTES,
};
pub use schema::{EnumType, Schema};
pub use types::PgType;

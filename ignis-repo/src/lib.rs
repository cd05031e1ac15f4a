//! # ignis-repo: repositories and the Ignis filter language
//!
//! The repository layer of ignis-rs, the Rust persistence layer of the IGNIS framework. A
//! [`Repository`] over a model of an `ignis-schema` [`Schema`](ignis_schema::Schema) finds,
//! counts, creates, updates and deletes rows with the filter JSON an Ignis or LoopBack client
//! sends (Ignis `TFilter`: `where`, `fields`, `order`, `limit`, `skip` / `offset`, `include`;
//! see [`filter`]), on a pooled connection or inside a transaction ([`Repository::on`]).
//!
//! Rows come back three ways from the same queries: JSON objects (`find`), serde types
//! (`find_as`) and [`FromRow`] types (`find_into`). [`Repository::find_iter`] streams a filter's
//! rows through a server-side cursor, one batch in memory at a time ([`RowStream`]), and
//! [`Repository::copy_to`] exports a model's table with `COPY .. TO STDOUT`.
//!
//! Writes take the same two forms: an Ignis JSON object, or typed values bound as they are
//! ([`WriteValues`]: the `New...` and `...Patch` types of `#[derive(Writable)]`, through
//! [`CreateData`] and [`PatchData`]). A typed repository (`DefaultCrudRepository<User>`, rows
//! `#[derive(FromRow)]`) reads and writes its struct types.
//!
//! ## Layout
//! - [`filter`]: parse, validate, coerce and merge filters into a typed [`Filter`].
//! - `query`: the engine. A read is planned once, written once (SQL and bound values in one
//!   walk, the SQL text being the prepared-statement cache key), run once per include level,
//!   and yields one row set per level, related rows grouped per parent. A repository keeps the
//!   statement of each find filter without `fields` or `include` it plans (up to 16), and runs
//!   it for a filter that differs only in its values without parsing that filter again.
//! - `rows`: row sets and the decoders (JSON, serde, `FromRow`); JSON value shapes.
//! - `write`: INSERT, COPY, UPDATE with JSON paths, DELETE, soft delete; JSON or typed data.
//! - `repository`: the public handles.
//!
//! Start with the [`prelude`].

pub mod filter;

mod context;
mod error;
mod json;
mod query;
mod repository;
mod rows;
mod write;

pub use error::RepoError;
pub use filter::{
    Filter, FilterError, FilterErrorKind, FilterLimits, IntoFilter, IntoId, IntoWhere,
};
pub use ignis_derive::{FromRow, Writable};

/// What `#[derive(PgEnum)]`'s generated code names; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use postgres::types as postgres_types;
}
pub use json::dismantle;
pub use query::export::{CopyFormat, CopyReport};
pub use query::stream::{RowStream, DEFAULT_BATCH_SIZE};
pub use query::{Range, RangeResult};
pub use repository::{
    DefaultCrudRepository, On, Pooled, ReadOnly, ReadWrite, ReadableRepository, Repository, Runner,
    Scope, WriteResult,
};
pub use rows::{FromRow, Row, RowRef};
pub use write::{CreateData, PatchData, WriteData, WriteValues};

/// What an application needs in one `use`: the repository handles, their results and errors,
/// the row traits and derives, the typed filter builder, and ignis-tx's datasource and
/// transaction types.
///
/// ```
/// use ignis_repo::prelude::*;
///
/// fn active_users(users: &ReadableRepository) -> Result<Vec<serde_json::Value>, RepoError> {
///     users.find(&serde_json::json!({"where": {"status": "ACTIVE"}, "limit": 10}))
/// }
/// ```
pub mod prelude {
    pub use crate::filter::typed::{Properties, TypedFilter};
    pub use crate::{
        CopyFormat, CopyReport, CreateData, DefaultCrudRepository, Filter, FilterError,
        FilterErrorKind, FilterLimits, FromRow, IntoFilter, IntoId, IntoWhere, PatchData,
        RangeResult, ReadableRepository, RepoError, Repository, Row, RowRef, RowStream, Writable,
        WriteResult,
    };
    pub use ignis_tx::{DataSource, IsolationLevel, Transaction, TransactionOptions};
}

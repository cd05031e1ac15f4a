//! The one error type of the repositories.
//!
//! Messages quote names given by the caller through the filter module's `excerpt`, so an error
//! about a megabyte of input is a line, not a megabyte.

use crate::filter::{excerpt, FilterError};

/// Why a repository call failed. A failed write changed nothing: each call is one statement, or
/// runs in one transaction (`create_all` in several statements), or inside the caller's
/// transaction, which the caller then rolls back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The filter or where is invalid for the model (unknown field or operator, wrong value
    /// type, too deep...). Nothing was sent to the database.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// The database or the pool failed; the server's SQLSTATE is in
    /// [`RepoError::sqlstate`].
    #[error(transparent)]
    Database(ignis_tx::Error),
    /// The model is not in the schema the repository was built with.
    #[error("model `{}` is not in the schema", excerpt(.0))]
    UnknownModel(String),
    /// The data given to a write is not valid for the model (not an object, unknown property,
    /// a value of the wrong type, a generated column).
    #[error("model `{}`: {message}", excerpt(.model))]
    InvalidData {
        /// The model written to.
        model: String,
        /// What is wrong, naming the property (user input quoted through
        /// the filter module's `excerpt`).
        message: String,
    },
    /// `update_all` / `delete_all` with an empty where (judged before the default filter is
    /// merged) would touch every row: refused unless forced.
    #[error("{operation} on model `{model}` with an empty where would change every row; use .force() to mean it")]
    EmptyWhere {
        /// `update_all`, `delete_all`, `soft_delete_all` or `restore_all`.
        operation: &'static str,
        /// The model.
        model: String,
    },
    /// The model has no primary key, so `*_by_id` cannot address a row.
    #[error("model `{0}` has no primary key")]
    NoPrimaryKey(String),
    /// The model has no `deletedAt` property, so soft delete is not available.
    #[error("model `{0}` has no `deletedAt` property: soft delete needs the tz enricher with deleted_at")]
    NoSoftDelete(String),
    /// A column could not be decoded to JSON.
    #[error("model `{model}`, property `{property}`: cannot decode the value: {message}")]
    Decode {
        /// The model read.
        model: String,
        /// The property whose column failed.
        property: String,
        /// Why.
        message: String,
    },
    /// A row did not deserialize into the requested Rust type.
    #[error("model `{model}`: a row does not deserialize into the requested type: {source}")]
    Deserialize {
        /// The model read.
        model: String,
        /// serde's error (names the field).
        source: serde_json::Error,
    },
    /// A relation cannot be loaded (e.g. it joins on several columns).
    #[error("model `{model}`, relation `{relation}`: {message}")]
    Relation {
        /// The model.
        model: String,
        /// The relation.
        relation: String,
        /// Why.
        message: String,
    },
    /// A handle bound to an executor ([`crate::Repository::on`]) was called again while one of
    /// its calls was running (from a [`crate::FromRow`] impl, for example): an executor runs one
    /// statement at a time. Nothing was sent.
    #[error("this repository handle's executor is busy with another call of the same handle")]
    HandleInUse,
    /// Writing an export ([`crate::Repository::copy_to`]) to the caller's writer failed; the
    /// export stopped there.
    #[error("model `{model}`: writing the export failed: {source}")]
    Output {
        /// The model exported.
        model: String,
        /// The writer's error.
        source: std::io::Error,
    },
    /// The operation cannot serve this model as it is defined (for example a `COPY` export of
    /// a model whose default filter binds values). Nothing was sent.
    #[error("model `{}`: {message}", excerpt(.model))]
    Unsupported {
        /// The model.
        model: String,
        /// What is not supported, and the way around it.
        message: String,
    },
}

/// How the message of the [`FilterError::Malformed`] made from SQLSTATE 2201B starts; the
/// server's own message follows.
pub(crate) const REGEXP_ERROR_PREFIX: &str = "invalid regexp / iregexp pattern: ";

impl From<ignis_tx::Error> for RepoError {
    /// A database error, except SQLSTATE 2201B (invalid_regular_expression): a `regexp` /
    /// `iregexp` pattern only Postgres's regex engine can judge, reported as the filter error it
    /// is ([`FilterError::Malformed`] with the server's reason) rather than a database failure.
    /// Repository calls, which have the statement's condition at hand, replace it with the
    /// finer error that names the field, the operator and the pattern. It is the one filter
    /// error found by the server; inside a transaction, that transaction has failed and must
    /// be rolled back.
    fn from(e: ignis_tx::Error) -> Self {
        match e.as_database_error() {
            Some(db) if db.code == "2201B" => RepoError::Filter(FilterError::Malformed {
                message: format!("{REGEXP_ERROR_PREFIX}{}", db.message),
            }),
            _ => RepoError::Database(e),
        }
    }
}

impl RepoError {
    /// A short machine-readable name of the variant (`filter`, `database`, `invalidData`,
    /// `emptyWhere`, ...), for logs and wire formats. For filter errors,
    /// [`FilterError::kind`] is finer.
    pub fn kind(&self) -> &'static str {
        match self {
            RepoError::Filter(_) => "filter",
            RepoError::Database(_) => "database",
            RepoError::UnknownModel(_) => "unknownModel",
            RepoError::InvalidData { .. } => "invalidData",
            RepoError::EmptyWhere { .. } => "emptyWhere",
            RepoError::NoPrimaryKey(_) => "noPrimaryKey",
            RepoError::NoSoftDelete(_) => "noSoftDelete",
            RepoError::Decode { .. } => "decode",
            RepoError::Deserialize { .. } => "deserialize",
            RepoError::Relation { .. } => "relation",
            RepoError::HandleInUse => "handleInUse",
            RepoError::Output { .. } => "output",
            RepoError::Unsupported { .. } => "unsupported",
        }
    }

    /// The SQLSTATE of the database error, if this is one (e.g. `23505` for a unique violation).
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            RepoError::Database(e) => e.sqlstate(),
            _ => None,
        }
    }
}

impl ignis_tx::TransactionError for RepoError {
    fn as_tx_error(&self) -> Option<&ignis_tx::Error> {
        match self {
            RepoError::Database(e) => Some(e),
            _ => None,
        }
    }
}

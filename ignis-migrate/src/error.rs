//! The one error type of ignis-migrate.

/// Why a plan could not be made or applied. In every case the transaction was rolled back, so the
/// database is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// A connection, transaction or catalog query failed.
    #[error(transparent)]
    Database(#[from] ignis_tx::Error),
    /// The models are not a valid schema.
    #[error(transparent)]
    Schema(#[from] ignis_schema::SchemaError),
    /// Postgres rejected a model's own DDL (a type, default, check or index predicate) while
    /// normalising the models in a scratch schema: a default that does not parse, a type that
    /// does not exist. Nothing was applied.
    #[error("model `{model}`: Postgres rejects its DDL ({source}); nothing was applied\n  {sql}")]
    InvalidModelDdl {
        /// The model whose statement failed.
        model: String,
        /// The statement.
        sql: String,
        /// The server's error, with its SQLSTATE.
        source: ignis_tx::Error,
    },
    /// A step of the plan failed; the whole plan was rolled back.
    #[error("step {number} of {total} ({description}) failed: {source}; the whole plan was rolled back\n  {sql}")]
    StepFailed {
        /// 1-based position of the step.
        number: usize,
        /// Steps in the plan.
        total: usize,
        /// What the step does (`create table public.User`).
        description: String,
        /// The statement.
        sql: String,
        /// The server's error, with its SQLSTATE.
        source: ignis_tx::Error,
    },
    /// The plan has steps that lose data and the run did not allow it; nothing was applied.
    /// Each entry names the step, the table / column and why (`drop column public.Post.secret:
    /// 6 rows have a value`).
    #[error("refusing to lose data (pass --allow-data-loss / MigrateOptions::allow_data_loss to apply); nothing was applied:\n  {}", steps.join("\n  "))]
    DataLossRefused {
        /// One line per refused step.
        steps: Vec<String>,
    },
    /// A catalog row did not have the expected shape.
    #[error("catalog introspection: {0}")]
    Introspect(String),
    /// refinery could not load or apply the versioned migrations (an unreadable directory, a
    /// failing file, an applied file that was changed or removed). Files applied before a
    /// failing one stay applied; the failing one is rolled back.
    #[error("versioned migrations: {0}")]
    Versioned(#[source] refinery::Error),
    /// A versioned migration's name or file set is not valid (a name refinery cannot parse,
    /// two files with one version).
    #[error("invalid versioned migration: {0}")]
    InvalidMigration(String),
    /// A migrations directory or file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory or file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl MigrateError {
    /// The SQLSTATE of the underlying database error, if there is one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            MigrateError::Database(e)
            | MigrateError::InvalidModelDdl { source: e, .. }
            | MigrateError::StepFailed { source: e, .. } => e.sqlstate(),
            _ => None,
        }
    }
}

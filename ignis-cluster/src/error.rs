//! The one error type of ignis-cluster.

use std::path::PathBuf;
use std::time::Duration;

/// What went wrong while creating, starting, stopping or asking a local server.
///
/// Every message names the command, file or node involved; a failed server command carries its
/// output and the end of the server's log, which is usually where the reason is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A program this crate needs is missing (`initdb`, `pg_ctl`, `pg_basebackup`, `pgbouncer`,
    /// `runuser`): the message says how to install it.
    #[error("{0}")]
    Missing(String),
    /// A file or folder could not be created, read, written or removed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`create`, `read`, `write`, `remove`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A command (initdb, pg_ctl, pg_basebackup, pgbouncer, chown) could not be run or failed:
    /// the message holds its exit status, its output and, for a server, the end of its log.
    #[error("{0}")]
    Command(String),
    /// A query on a node failed, or the node could not be reached.
    #[error("{context}: {source}")]
    Postgres {
        /// Which node and what was asked.
        context: String,
        /// The cause.
        #[source]
        source: postgres::Error,
    },
    /// Something did not happen within the time allowed (a standby catching up, a promotion,
    /// PgBouncer listening).
    #[error("{what} (waited {waited:?})")]
    Timeout {
        /// What was awaited, and what was seen last.
        what: String,
        /// How long it was awaited.
        waited: Duration,
    },
    /// The request does not fit the cluster: a standby number out of range, a node that is not
    /// running, a state file that does not hold what it should.
    #[error("{0}")]
    Invalid(String),
}

impl ClusterError {
    /// An [`ClusterError::Io`] error.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        ClusterError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A [`ClusterError::Postgres`] error.
    pub(crate) fn pg(context: impl Into<String>, source: postgres::Error) -> Self {
        ClusterError::Postgres {
            context: context.into(),
            source,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = ClusterError> = std::result::Result<T, E>;

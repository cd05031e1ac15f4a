//! # ignis-cluster: local PostgreSQL processes for development and tests
//!
//! Real servers, started from the PostgreSQL binaries of this machine (`initdb`, `pg_ctl`,
//! `pg_basebackup`; PgBouncer from its Debian package), never a mock:
//! - [`LocalCluster`]: the workspace's long-lived cluster under `target/ignis-pg/`, which
//!   `cargo xtask db` starts, stops and reports on, with optional streaming standbys and
//!   PgBouncer;
//! - [`Topology`]: an isolated primary with hot standbys and PgBouncer in a directory of its
//!   own, on free loopback ports, for tests that stop, start and promote nodes; stopped and
//!   removed when dropped;
//! - [`NodeStatus`]: role (`pg_is_in_recovery()`), WAL position and replay lag of each node.
//!
//! Both run the same code: finding the server binaries ([`find_server_bin`]), running them as
//! the `postgres` OS user when the caller is root (Postgres and PgBouncer refuse to run as
//! root), choosing free ports, a UTF-8 locale for new clusters ([`CLUSTER_LOCALES`]), and
//! reporting a failed server command with the end of its log.
//!
//! Servers listen on 127.0.0.1 only with `trust` authentication for the `postgres` user: they
//! are throwaway databases for one machine.
//!
//! ```no_run
//! use std::time::Duration;
//! use ignis_cluster::{NodeId, Topology, TopologyOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let options = TopologyOptions { replicas: 2, pgbouncer: true, ..TopologyOptions::default() };
//! let mut topology = Topology::start(&Topology::dir_in_target("doc-example"), &options)?;
//! let mut primary = postgres::Client::connect(&topology.primary_url("postgres"), postgres::NoTls)?;
//! primary.batch_execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")?;
//! topology.wait_for_replay(Duration::from_secs(10))?;
//! for url in topology.replica_urls("postgres") {
//!     let mut standby = postgres::Client::connect(&url, postgres::NoTls)?;
//!     assert_eq!(standby.query_one("SELECT count(*) FROM t", &[])?.get::<_, i64>(0), 1);
//! }
//! topology.stop_node(NodeId::Primary)?;
//! topology.promote(1)?; // standby 1 now accepts writes
//! # Ok(()) }
//! ```

mod error;
mod local;
mod node;
mod pgbouncer;
mod process;
mod status;
mod topology;

pub use error::{ClusterError, Result};
pub use local::{LocalCluster, Started, Stopped};
pub use node::{ctype_folds_ascii_only, StopMode, CLUSTER_LOCALES, DB_USER, FALLBACK_LOCALE};
pub use process::{find_server_bin, free_port, log_tail, ServerTools, SERVER_OS_USER};
pub use status::{standby_application_name, url_for, Lsn, NodeId, NodeStatus, Role};
pub use topology::{SynchronousCommit, Topology, TopologyOptions};

//! What a node is doing: its role, its WAL position and how far a standby lags.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{ClusterError, Result};
use crate::node::DB_USER;

/// A node of a topology or of the local cluster, named by how it was started: the primary,
/// standby `n` (numbered from 1), or PgBouncer. A promoted standby keeps its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeId {
    /// The server created with `initdb`, which the standbys were copied from.
    Primary,
    /// Standby `n` (1-based), made with `pg_basebackup -R` from the primary.
    Standby(usize),
    /// PgBouncer in transaction pooling mode in front of the primary.
    PgBouncer,
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Primary => f.write_str("primary"),
            NodeId::Standby(n) => write!(f, "standby {n}"),
            NodeId::PgBouncer => f.write_str("pgbouncer"),
        }
    }
}

/// The `application_name` standby `n` connects to its primary with: `standby<n>`, the name
/// `pg_stat_replication` shows and `synchronous_standby_names` lists.
pub fn standby_application_name(n: usize) -> String {
    format!("standby{n}")
}

/// A server's role, as `pg_is_in_recovery()` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Not in recovery: accepts writes.
    Primary,
    /// In recovery: a hot standby, read-only.
    Standby,
    /// PgBouncer, answering on its admin console (it is not asked for the role of the server
    /// behind it: while that server is down, a query through PgBouncer waits up to its
    /// `query_wait_timeout`).
    Pooler,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Primary => "primary",
            Role::Standby => "standby",
            Role::Pooler => "pooler",
        })
    }
}

/// A WAL position (`pg_lsn`): `X/Y` in hexadecimal, a 64-bit byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl Lsn {
    /// How many bytes of WAL lie between `self` and a later `upto` (0 when `upto` is not
    /// later).
    pub fn bytes_until(self, upto: Lsn) -> u64 {
        upto.0.saturating_sub(self.0)
    }
}

impl FromStr for Lsn {
    type Err = ClusterError;

    /// Parses Postgres's text form, `16/B374D848`.
    fn from_str(s: &str) -> Result<Lsn> {
        let bad = || ClusterError::Invalid(format!("not a WAL position (X/Y in hex): {s:?}"));
        let (hi, lo) = s.trim().split_once('/').ok_or_else(bad)?;
        let hi = u32::from_str_radix(hi, 16).map_err(|_| bad())?;
        let lo = u32::from_str_radix(lo, 16).map_err(|_| bad())?;
        Ok(Lsn((u64::from(hi) << 32) | u64::from(lo)))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// One node as [`crate::Topology::status`] or [`crate::LocalCluster::status`] sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStatus {
    /// Which node.
    pub node: NodeId,
    /// Its TCP port on 127.0.0.1 (the recorded one when it is stopped, if any).
    pub port: Option<u16>,
    /// Whether its process is running.
    pub running: bool,
    /// `pg_is_in_recovery()` ([`Role::Pooler`] for PgBouncer); `None` when stopped or
    /// unreachable.
    pub role: Option<Role>,
    /// A primary's `pg_current_wal_lsn()`, a standby's `pg_last_wal_replay_lsn()`.
    pub lsn: Option<Lsn>,
    /// For a standby: bytes of WAL between the primary's current position and what this
    /// standby replayed (`pg_wal_lsn_diff`); `None` when either is unknown.
    pub lag_bytes: Option<u64>,
    /// For a standby: `replay_lag` of its row in the primary's `pg_stat_replication` (how long
    /// its last replayed commit took to replay); `None` when idle or not connected.
    pub lag_time: Option<Duration>,
    /// For a standby: `pg_is_wal_replay_paused()`.
    pub replay_paused: Option<bool>,
    /// Why the node could not be asked, when it is running but did not answer.
    pub error: Option<String>,
}

impl NodeStatus {
    /// A stopped node.
    pub(crate) fn stopped(node: NodeId, port: Option<u16>) -> NodeStatus {
        NodeStatus {
            node,
            port,
            running: false,
            role: None,
            lsn: None,
            lag_bytes: None,
            lag_time: None,
            replay_paused: None,
            error: None,
        }
    }
}

/// The URL of database `database` on 127.0.0.1:`port` as the `postgres` user (no password).
pub fn url_for(port: u16, database: &str) -> String {
    format!(
        "postgres://{DB_USER}@127.0.0.1:{port}/{}",
        encode_path(database)
    )
}

/// Percent-encodes what a URL path segment cannot hold as is.
fn encode_path(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A connection to 127.0.0.1:`port`, database `postgres`, giving up after `timeout`.
pub(crate) fn connect(port: u16, timeout: Duration) -> Result<postgres::Client> {
    let mut config = postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user(DB_USER)
        .dbname("postgres")
        .application_name("ignis-cluster")
        .connect_timeout(timeout);
    config
        .connect(postgres::NoTls)
        .map_err(|e| ClusterError::pg(format!("cannot connect to 127.0.0.1:{port}"), e))
}

/// What one server says about itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    pub role: Role,
    pub lsn: Option<Lsn>,
    pub replay_paused: Option<bool>,
}

/// Asks the server on `port` for its role, WAL position and (standby) replay pause.
pub(crate) fn probe(port: u16) -> Result<Probe> {
    let mut client = connect(port, Duration::from_secs(3))?;
    probe_client(&mut client, port)
}

pub(crate) fn probe_client(client: &mut postgres::Client, port: u16) -> Result<Probe> {
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(), \
                    CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
                         ELSE pg_current_wal_lsn() END::text, \
                    CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END",
            &[],
        )
        .map_err(|e| ClusterError::pg(format!("cannot ask 127.0.0.1:{port} for its role"), e))?;
    let in_recovery: bool = row
        .try_get(0)
        .map_err(|e| ClusterError::pg("pg_is_in_recovery()", e))?;
    let lsn: Option<String> = row
        .try_get(1)
        .map_err(|e| ClusterError::pg("WAL position", e))?;
    let replay_paused: Option<bool> = row
        .try_get(2)
        .map_err(|e| ClusterError::pg("pg_is_wal_replay_paused()", e))?;
    Ok(Probe {
        role: if in_recovery {
            Role::Standby
        } else {
            Role::Primary
        },
        lsn: lsn.as_deref().map(str::parse).transpose()?,
        replay_paused,
    })
}

/// `replay_lag` per `application_name` in the primary's `pg_stat_replication`.
pub(crate) fn replay_lags(port: u16) -> Result<HashMap<String, Option<Duration>>> {
    let mut client = connect(port, Duration::from_secs(3))?;
    let rows = client
        .query(
            "SELECT application_name, EXTRACT(EPOCH FROM replay_lag)::float8 \
             FROM pg_stat_replication",
            &[],
        )
        .map_err(|e| ClusterError::pg(format!("pg_stat_replication on 127.0.0.1:{port}"), e))?;
    let mut lags = HashMap::new();
    for row in rows {
        let name: Option<String> = row
            .try_get(0)
            .map_err(|e| ClusterError::pg("pg_stat_replication.application_name", e))?;
        let seconds: Option<f64> = row
            .try_get(1)
            .map_err(|e| ClusterError::pg("pg_stat_replication.replay_lag", e))?;
        let lag = seconds
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        if let Some(name) = name {
            lags.insert(name, lag);
        }
    }
    Ok(lags)
}

/// The statuses of a set of Postgres nodes (`(node, port, running)`): each running node is
/// asked for its role and position; standbys get their lag against the running node
/// [`NodeId::Primary`] when it is still a primary.
pub(crate) fn statuses(nodes: &[(NodeId, Option<u16>, bool)]) -> Vec<NodeStatus> {
    let mut out: Vec<NodeStatus> = nodes
        .iter()
        .map(|&(node, port, running)| {
            let mut status = NodeStatus::stopped(node, port);
            status.running = running;
            if let (true, Some(port)) = (running, port) {
                match probe(port) {
                    Ok(p) => {
                        status.role = Some(p.role);
                        status.lsn = p.lsn;
                        status.replay_paused = p.replay_paused;
                    }
                    Err(e) => status.error = Some(error_chain(&e)),
                }
            }
            status
        })
        .collect();
    let primary = out
        .iter()
        .find(|s| s.node == NodeId::Primary && s.role == Some(Role::Primary))
        .and_then(|s| Some((s.lsn?, s.port?)));
    if let Some((primary_lsn, primary_port)) = primary {
        let lags = replay_lags(primary_port).unwrap_or_default();
        for status in &mut out {
            if let (NodeId::Standby(n), Some(Role::Standby)) = (status.node, status.role) {
                status.lag_bytes = status.lsn.map(|lsn| lsn.bytes_until(primary_lsn));
                status.lag_time = lags.get(&standby_application_name(n)).copied().flatten();
            }
        }
    }
    out
}

/// PgBouncer's status: running (its pid file names a live `pgbouncer`), its port, and
/// [`Role::Pooler`] when its admin console answers `SHOW VERSION`.
pub(crate) fn bouncer_status(bouncer: &crate::pgbouncer::Bouncer, port: Option<u16>) -> NodeStatus {
    let mut status = NodeStatus::stopped(NodeId::PgBouncer, port);
    status.running = bouncer.running_pid().is_some();
    if let (true, Some(port)) = (status.running, port) {
        let answer = (|| {
            let mut config = postgres::Config::new();
            config
                .host("127.0.0.1")
                .port(port)
                .user(DB_USER)
                .dbname("pgbouncer")
                .connect_timeout(Duration::from_secs(3));
            let mut client = config
                .connect(postgres::NoTls)
                .map_err(|e| ClusterError::pg(format!("PgBouncer on 127.0.0.1:{port}"), e))?;
            client
                .simple_query("SHOW VERSION")
                .map_err(|e| ClusterError::pg("SHOW VERSION on PgBouncer's console", e))
        })();
        match answer {
            Ok(_) => status.role = Some(Role::Pooler),
            Err(e) => status.error = Some(error_chain(&e)),
        }
    }
    status
}

/// An error and its sources on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsn_parses_and_prints_as_postgres_does() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn.0, 0x16_B374_D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!("0/0".parse::<Lsn>().unwrap(), Lsn(0));
        assert_eq!(Lsn(0x100).bytes_until(Lsn(0x180)), 0x80);
        assert_eq!(Lsn(0x180).bytes_until(Lsn(0x100)), 0);
        for bad in ["", "16", "x/1", "1/2/3", "1/100000000"] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_encode_the_database_name() {
        assert_eq!(
            url_for(5432, "postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        assert_eq!(
            url_for(5432, "a b/c"),
            "postgres://postgres@127.0.0.1:5432/a%20b%2Fc"
        );
    }
}

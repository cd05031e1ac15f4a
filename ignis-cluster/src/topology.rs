//! Isolated topologies for tests: a primary, streaming standbys and PgBouncer of their own.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{ClusterError, Result};
use crate::node::{node_in, settings_with, PgNode, StopMode};
use crate::pgbouncer::{bouncer_in, Bouncer};
use crate::process::{chmod, create_dir_all, fnv1a, free_port, poll, port_is_free, ServerTools};
use crate::status::{
    bouncer_status, connect, error_chain, probe, standby_application_name, statuses, url_for, Lsn,
    NodeId, NodeStatus, Role,
};

/// How long [`Topology::promote`] waits by default for a promoted standby to accept writes.
const PROMOTE_TIMEOUT: Duration = Duration::from_secs(60);

/// What `synchronous_commit` the primary of a synchronous topology runs with
/// ([`TopologyOptions::synchronous_commit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SynchronousCommit {
    /// `on`: a commit returns once the synchronous standby has flushed its WAL to disk. After a
    /// failover to that standby, nothing acknowledged is lost; a read on it right after the
    /// commit may still not see the row (replay can lag the flush).
    #[default]
    On,
    /// `remote_write`: once the standby has written (not flushed) the WAL.
    RemoteWrite,
    /// `remote_apply`: once the standby has replayed the commit, so a read on it right after
    /// sees the row.
    RemoteApply,
    /// `local`: the primary does not wait for any standby.
    Local,
}

impl SynchronousCommit {
    /// The setting's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SynchronousCommit::On => "on",
            SynchronousCommit::RemoteWrite => "remote_write",
            SynchronousCommit::RemoteApply => "remote_apply",
            SynchronousCommit::Local => "local",
        }
    }
}

/// What [`Topology::start`] builds.
///
/// ```
/// use ignis_cluster::TopologyOptions;
/// let options = TopologyOptions { replicas: 2, pgbouncer: true, ..TopologyOptions::default() };
/// assert!(!options.synchronous_standby);
/// ```
#[derive(Debug, Clone)]
pub struct TopologyOptions {
    /// How many streaming standbys of the primary (`pg_basebackup -R`), numbered from 1.
    pub replicas: usize,
    /// Whether PgBouncer runs in front of the primary, in transaction pooling mode.
    pub pgbouncer: bool,
    /// `true`: the primary's `synchronous_standby_names` is `FIRST 1 (standby1, standby2,
    /// ...)`, so standby 1 is synchronous and the next running one takes over when it is down,
    /// with [`TopologyOptions::synchronous_commit`]. After the primary stops, promoting the
    /// synchronous standby (standby 1 while it runs) loses no acknowledged commit. `false`:
    /// asynchronous replication (a commit never waits for a standby).
    pub synchronous_standby: bool,
    /// The primary's `synchronous_commit` when [`TopologyOptions::synchronous_standby`] is set.
    pub synchronous_commit: SynchronousCommit,
    /// More server settings for every node (`name`, `value`), given as `-c` options; names are
    /// letters, digits, `_` and `.`.
    pub settings: Vec<(String, String)>,
    /// `fsync` of every node. Off by default: a topology is throwaway, and a server whose
    /// process is killed ([`StopMode::Immediate`]) still finds every acknowledged commit in the
    /// operating system's cache, so crash and failover tests keep their meaning (only a crash
    /// of the machine would lose data). It also spares each standby's first start the fsync of
    /// its whole copied data directory (seconds).
    pub fsync: bool,
    /// Keep the directory (data, logs) when the topology is dropped; by default it is removed
    /// (unless the thread is panicking, so a failed test leaves its logs to read).
    pub keep_files: bool,
    /// How long to wait for each standby to stream, for PgBouncer to listen, and in
    /// [`Topology::start_node`].
    pub start_timeout: Duration,
}

impl Default for TopologyOptions {
    fn default() -> Self {
        TopologyOptions {
            replicas: 0,
            pgbouncer: false,
            synchronous_standby: false,
            synchronous_commit: SynchronousCommit::On,
            settings: Vec::new(),
            fsync: false,
            keep_files: false,
            start_timeout: Duration::from_secs(60),
        }
    }
}

/// One Postgres node of a topology.
#[derive(Debug)]
struct Member {
    id: NodeId,
    pg: PgNode,
    port: u16,
    running: bool,
}

/// An isolated topology of local servers (a primary, `replicas` hot standbys streaming from
/// it, optionally PgBouncer in front of the primary) in a directory of its own, on free
/// loopback ports: for tests that stop, start and promote nodes without touching the shared
/// developer cluster. Everything it started is stopped when it is dropped, and its directory is
/// removed (see [`TopologyOptions::keep_files`]).
///
/// Layout of the directory: `primary/`, `standby-1/`, ... (each `data/` and `postgres.log`)
/// and `pgbouncer/` (`pgbouncer.ini`, `pgbouncer.log`). When the caller is root the servers run
/// as the `postgres` OS user; if that user cannot reach the directory, the nodes live in
/// `/tmp/ignis-topology-<hash of the directory>` instead ([`Topology::home`]).
///
/// Servers listen on 127.0.0.1 only, with `trust` authentication for the `postgres` user and no
/// Unix socket. They start with `wal_level=replica`, `max_wal_senders=10`,
/// `max_replication_slots=10`, `hot_standby=on`, `wal_keep_size=256MB` (so a standby
/// stopped for a while catches up from the primary's WAL) and `fsync=off` (see
/// [`TopologyOptions::fsync`]).
///
/// ```no_run
/// use ignis_cluster::{NodeId, Topology, TopologyOptions};
/// # fn main() -> Result<(), ignis_cluster::ClusterError> {
/// let options = TopologyOptions { replicas: 2, pgbouncer: true, ..TopologyOptions::default() };
/// let mut topology = Topology::start(&Topology::dir_in_target("example"), &options)?;
/// let primary = topology.primary_url("postgres");
/// // ... write through `primary`, then:
/// topology.wait_for_replay(std::time::Duration::from_secs(10))?;
/// topology.stop_node(NodeId::Primary)?;
/// topology.promote(1)?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Topology {
    dir: PathBuf,
    home: PathBuf,
    tools: ServerTools,
    options: TopologyOptions,
    members: Vec<Member>,
    bouncer: Option<(Bouncer, u16, bool)>,
    current_primary: NodeId,
}

impl Topology {
    /// `<workspace>/target/ignis-topology/<name>`: a directory for [`Topology::start`] that
    /// `cargo clean` removes. Tests pass a name of their own, so topologies of concurrent tests
    /// never share a directory.
    pub fn dir_in_target(name: &str) -> PathBuf {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let workspace = manifest.parent().unwrap_or(manifest);
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        workspace.join("target").join("ignis-topology").join(safe)
    }

    /// Creates and starts a topology in `dir`: `initdb` of the primary, `pg_basebackup -R` per
    /// standby, each started on a free port of 127.0.0.1; returns once every standby streams
    /// from the primary (and, with [`TopologyOptions::synchronous_standby`], one is
    /// synchronous) and PgBouncer accepts connections. What `dir` held before is stopped
    /// (servers or PgBouncer left running by an earlier run) and deleted.
    ///
    /// # Errors
    /// [`ClusterError::Missing`] when the server binaries or (if asked for) PgBouncer are not
    /// installed; [`ClusterError::Command`] with the server's log when a step fails;
    /// [`ClusterError::Timeout`] when a standby does not stream in
    /// [`TopologyOptions::start_timeout`]; [`ClusterError::Invalid`] for a setting name that
    /// is not a plain identifier. Whatever was started before the error is stopped again.
    pub fn start(dir: &Path, options: &TopologyOptions) -> Result<Topology> {
        for (name, _) in &options.settings {
            let plain = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !plain {
                return Err(ClusterError::Invalid(format!(
                    "server setting name {name:?}: only letters, digits, `_` and `.` are allowed"
                )));
            }
        }
        let tools = ServerTools::detect()?;
        if options.pgbouncer {
            tools.pgbouncer()?;
        }
        let dir = if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| ClusterError::io("read", ".", e))?
                .join(dir)
        };
        clear_leftovers(&tools, &dir)?;
        create_dir_all(&dir)?;
        let home = prepare_home(&tools, &dir)?;
        let mut topology = Topology {
            dir,
            home,
            tools,
            options: options.clone(),
            members: Vec::new(),
            bouncer: None,
            current_primary: NodeId::Primary,
        };
        topology.build()?;
        Ok(topology)
    }

    /// The steps of [`Topology::start`] after the directory is ready; on error, `Drop` stops
    /// what was started.
    fn build(&mut self) -> Result<()> {
        let primary_dir = self.home.join("primary");
        create_dir_all(&primary_dir)?;
        self.tools.give_to_server_user(&primary_dir)?;
        let primary = node_in(&primary_dir, None);
        let initdb = primary.initdb(&self.tools, true)?;
        tracing::debug!(locale = initdb.locale, dir = %self.home.display(), "topology primary created");
        primary.ensure_replication_hba()?;
        self.members.push(Member {
            id: NodeId::Primary,
            pg: primary,
            port: 0,
            running: false,
        });
        self.start_member(0, true)?;
        let primary_port = self.members[0].port;
        for n in 1..=self.options.replicas {
            let dir = self.home.join(format!("standby-{n}"));
            create_dir_all(&dir)?;
            self.tools.give_to_server_user(&dir)?;
            let pg = node_in(&dir, None);
            pg.base_backup(
                &self.tools,
                primary_port,
                &standby_application_name(n),
                true,
            )?;
            self.members.push(Member {
                id: NodeId::Standby(n),
                pg,
                port: 0,
                running: false,
            });
            self.start_member(n, true)?;
        }
        self.wait_streaming(self.options.replicas, false)?;
        if self.options.synchronous_standby && self.options.replicas > 0 {
            self.make_synchronous()?;
        }
        if self.options.pgbouncer {
            let bouncer = bouncer_in(&self.home.join("pgbouncer"));
            let port = free_port()?;
            bouncer.configure(&self.tools, port, primary_port)?;
            bouncer.start(&self.tools, port, self.options.start_timeout)?;
            self.bouncer = Some((bouncer, port, true));
            self.check_bouncer(port)?;
        }
        Ok(())
    }

    /// Starts member `index` on its port (a new free one when `new_port`, retried when another
    /// process takes it first).
    fn start_member(&mut self, index: usize, new_port: bool) -> Result<()> {
        let settings = self.node_settings();
        let member = &mut self.members[index];
        let mut attempts = 0;
        loop {
            if new_port {
                member.port = free_port()?;
            }
            match member.pg.start(&self.tools, member.port, &settings) {
                Ok(()) => {
                    member.running = true;
                    return Ok(());
                }
                // Another process bound the port between our check and the server's bind.
                Err(_) if new_port && attempts < 3 && !port_is_free(member.port) => {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The `-c` settings every node starts with.
    fn node_settings(&self) -> Vec<(String, String)> {
        let fsync = if self.options.fsync { "on" } else { "off" };
        let mut extra = vec![
            ("wal_keep_size".to_string(), "256MB".to_string()),
            ("fsync".to_string(), fsync.to_string()),
        ];
        extra.extend(self.options.settings.iter().cloned());
        settings_with(&extra)
    }

    /// Waits until the primary has `count` streaming standbys (`synchronous`: and one with
    /// `sync_state = 'sync'`).
    fn wait_streaming(&self, count: usize, synchronous: bool) -> Result<()> {
        if count == 0 {
            return Ok(());
        }
        let port = self.members[0].port;
        let timeout = self.options.start_timeout;
        let mut last = String::from("no answer yet");
        let seen = poll(timeout, || {
            let mut client = match connect(port, Duration::from_secs(3)) {
                Ok(c) => c,
                Err(e) => {
                    last = error_chain(&e);
                    return None;
                }
            };
            let row = client
                .query_one(
                    "SELECT count(*) FILTER (WHERE state = 'streaming'), \
                            count(*) FILTER (WHERE sync_state = 'sync') \
                     FROM pg_stat_replication",
                    &[],
                )
                .map_err(|e| last = e.to_string())
                .ok()?;
            let streaming: i64 = row.try_get(0).ok()?;
            let sync: i64 = row.try_get(1).ok()?;
            last = format!("{streaming} streaming, {sync} synchronous");
            let enough = usize::try_from(streaming).is_ok_and(|s| s >= count);
            (enough && (!synchronous || sync >= 1)).then_some(())
        });
        seen.ok_or_else(|| ClusterError::Timeout {
            what: format!(
                "waiting for {count} standbys to stream from the primary on port {port} \
                 (pg_stat_replication: {last})"
            ),
            waited: timeout,
        })
    }

    /// `synchronous_standby_names = 'FIRST 1 (standby1, ...)'` and `synchronous_commit` on the
    /// primary (`ALTER SYSTEM`, after the standbys were copied, so they do not inherit it and a
    /// promoted standby never waits for a synchronous standby of its own).
    fn make_synchronous(&mut self) -> Result<()> {
        let names: Vec<String> = (1..=self.options.replicas)
            .map(standby_application_name)
            .collect();
        let port = self.members[0].port;
        let mut client = connect(port, Duration::from_secs(5))?;
        // The names are ours (`standbyN`) and the commit level a fixed keyword: no quoting
        // needed, nothing from the outside reaches this SQL.
        let statements = [
            format!(
                "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 ({})'",
                names.join(", ")
            ),
            format!(
                "ALTER SYSTEM SET synchronous_commit = '{}'",
                self.options.synchronous_commit.as_str()
            ),
            "SELECT pg_reload_conf()".to_string(),
        ];
        for sql in &statements {
            client
                .batch_execute(sql)
                .map_err(|e| ClusterError::pg(format!("{sql} on port {port}"), e))?;
        }
        self.wait_streaming(self.options.replicas, true)
    }

    /// A query through PgBouncer on `port`, so a topology is returned only once it passes.
    fn check_bouncer(&self, port: u16) -> Result<()> {
        let timeout = self.options.start_timeout;
        let mut last = String::new();
        poll(timeout, || match connect(port, Duration::from_secs(3)) {
            Ok(mut client) => client
                .simple_query("SELECT 1")
                .map_err(|e| last = e.to_string())
                .ok()
                .map(|_| ()),
            Err(e) => {
                last = error_chain(&e);
                None
            }
        })
        .ok_or_else(|| ClusterError::Timeout {
            what: format!("a query through PgBouncer on port {port}: {last}"),
            waited: timeout,
        })
    }

    fn member(&self, node: NodeId) -> Result<&Member> {
        self.members
            .iter()
            .find(|m| m.id == node)
            .ok_or_else(|| self.no_such(node))
    }

    fn member_index(&self, node: NodeId) -> Result<usize> {
        self.members
            .iter()
            .position(|m| m.id == node)
            .ok_or_else(|| self.no_such(node))
    }

    fn no_such(&self, node: NodeId) -> ClusterError {
        ClusterError::Invalid(format!(
            "the topology has no {node} (it has a primary, {} standbys{})",
            self.options.replicas,
            if self.bouncer.is_some() {
                " and PgBouncer"
            } else {
                ""
            }
        ))
    }

    /// The directory given to [`Topology::start`].
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the nodes' files are: [`Topology::dir`], or a folder under /tmp when the
    /// `postgres` OS user cannot reach it (see [`Topology`]).
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The options the topology was started with.
    pub fn options(&self) -> &TopologyOptions {
        &self.options
    }

    /// The TCP port of `node` on 127.0.0.1 (kept across [`Topology::stop_node`] and
    /// [`Topology::start_node`]).
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when the topology has no such node.
    pub fn port(&self, node: NodeId) -> Result<u16> {
        match node {
            NodeId::PgBouncer => self
                .bouncer
                .as_ref()
                .map(|(_, port, _)| *port)
                .ok_or_else(|| self.no_such(node)),
            _ => self.member(node).map(|m| m.port),
        }
    }

    /// The URL of `database` on `node`: `postgres://postgres@127.0.0.1:PORT/database`.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when the topology has no such node.
    pub fn node_url(&self, node: NodeId, database: &str) -> Result<String> {
        Ok(url_for(self.port(node)?, database))
    }

    /// The URL of `database` on the node started as primary ([`NodeId::Primary`]), whether or
    /// not a standby was promoted since: `postgres://postgres@127.0.0.1:PORT/database`.
    pub fn primary_url(&self, database: &str) -> String {
        url_for(self.members[0].port, database)
    }

    /// The URLs of `database` on standby 1, 2, ... in that order (a promoted standby included:
    /// its place in the list is its number).
    pub fn replica_urls(&self, database: &str) -> Vec<String> {
        self.members[1..]
            .iter()
            .map(|m| url_for(m.port, database))
            .collect()
    }

    /// The URL of `database` through PgBouncer (transaction pooling in front of the primary),
    /// or `None` when the topology has no PgBouncer.
    pub fn pgbouncer_url(&self, database: &str) -> Option<String> {
        self.bouncer
            .as_ref()
            .map(|(_, port, _)| url_for(*port, database))
    }

    /// One URL naming every Postgres node (primary first, then the standbys) with
    /// `target_session_attrs=read-write`, so a client connects to whichever accepts writes:
    /// `postgres://postgres@127.0.0.1:P0,127.0.0.1:P1,.../database?target_session_attrs=read-write`.
    pub fn multi_host_url(&self, database: &str) -> String {
        let hosts: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.port))
            .collect();
        let single = url_for(self.members[0].port, database);
        let path = single
            .split_once(&format!("127.0.0.1:{}", self.members[0].port))
            .map_or("", |(_, path)| path);
        format!(
            "postgres://postgres@{}{path}?target_session_attrs=read-write",
            hosts.join(",")
        )
    }

    /// The node that accepts writes: [`NodeId::Primary`], or the standby last promoted with
    /// [`Topology::promote`].
    pub fn current_primary(&self) -> NodeId {
        self.current_primary
    }

    /// The server log of `node` (PgBouncer's log for [`NodeId::PgBouncer`]).
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when the topology has no such node.
    pub fn log_file(&self, node: NodeId) -> Result<PathBuf> {
        match node {
            NodeId::PgBouncer => self
                .bouncer
                .as_ref()
                .map(|(b, _, _)| b.log())
                .ok_or_else(|| self.no_such(node)),
            _ => self.member(node).map(|m| m.pg.log.clone()),
        }
    }

    /// Whether `node` was left running by this topology (started and not stopped since).
    pub fn is_running(&self, node: NodeId) -> bool {
        match node {
            NodeId::PgBouncer => self.bouncer.as_ref().is_some_and(|(_, _, r)| *r),
            _ => self.member(node).is_ok_and(|m| m.running),
        }
    }

    /// Stops `node` with `pg_ctl stop -m fast` (PgBouncer: SIGTERM). Stopping a stopped node
    /// does nothing.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when the topology has no such node; [`ClusterError::Command`]
    /// when `pg_ctl stop` fails.
    pub fn stop_node(&mut self, node: NodeId) -> Result<()> {
        self.stop_node_with(node, StopMode::Fast)
    }

    /// Stops `node` with the given mode ([`StopMode::Immediate`] is a crash: no shutdown
    /// checkpoint, sessions cut without a goodbye). PgBouncer ignores the mode (SIGTERM).
    ///
    /// # Errors
    /// As [`Topology::stop_node`].
    pub fn stop_node_with(&mut self, node: NodeId, mode: StopMode) -> Result<()> {
        if node == NodeId::PgBouncer {
            let Some((bouncer, _, running)) = self.bouncer.as_mut() else {
                return Err(self.no_such(node));
            };
            bouncer.stop()?;
            *running = false;
            return Ok(());
        }
        let index = self.member_index(node)?;
        let member = &mut self.members[index];
        member.pg.stop(&self.tools, mode)?;
        member.running = false;
        Ok(())
    }

    /// Starts a stopped `node` again on its port (a standby resumes streaming from where it
    /// stopped; a stopped primary runs crash recovery if it was stopped immediately). Starting
    /// a running node does nothing.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when the topology has no such node; [`ClusterError::Command`]
    /// with the end of the server log when it does not start (for example when another process
    /// took its port meanwhile).
    pub fn start_node(&mut self, node: NodeId) -> Result<()> {
        if node == NodeId::PgBouncer {
            let timeout = self.options.start_timeout;
            let Some((bouncer, port, running)) = self.bouncer.as_mut() else {
                return Err(self.no_such(node));
            };
            bouncer.start(&self.tools, *port, timeout)?;
            *running = true;
            return Ok(());
        }
        let index = self.member_index(node)?;
        if self.members[index].pg.running_port(&self.tools)?.is_some() {
            self.members[index].running = true;
            return Ok(());
        }
        self.start_member(index, false)
    }

    /// Promotes standby `standby` (1-based) to a primary (`pg_ctl promote -w`) and waits until
    /// it accepts writes (`pg_is_in_recovery()` false and a transaction id assigned), at most
    /// one minute. The other standbys keep following the old primary; PgBouncer keeps pointing
    /// at it.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when there is no such standby or it is stopped;
    /// [`ClusterError::Command`] when `pg_ctl promote` fails (for example because it is no
    /// longer a standby); [`ClusterError::Timeout`] when it does not accept writes in time.
    pub fn promote(&mut self, standby: usize) -> Result<()> {
        let node = NodeId::Standby(standby);
        let member = self.member(node)?;
        if !member.running {
            return Err(ClusterError::Invalid(format!(
                "{node} is stopped: start it before promoting it"
            )));
        }
        member.pg.promote(&self.tools)?;
        wait_writable(member.port, PROMOTE_TIMEOUT)?;
        self.current_primary = node;
        Ok(())
    }

    /// Each node: port, whether it runs, role (`pg_is_in_recovery()`), WAL position, and for
    /// standbys the replay lag in bytes (against the current WAL position of
    /// [`NodeId::Primary`], while it runs as a primary) and in time (`replay_lag` of
    /// `pg_stat_replication`). PgBouncer's role is [`Role::Pooler`] while its admin console
    /// answers. A node that
    /// runs but does not answer has [`NodeStatus::error`] set.
    ///
    /// # Errors
    /// [`ClusterError::Command`] when `pg_ctl status` cannot be run.
    pub fn status(&self) -> Result<Vec<NodeStatus>> {
        let mut nodes = Vec::new();
        for member in &self.members {
            let running = member.pg.running_port(&self.tools)?.is_some();
            nodes.push((member.id, Some(member.port), running));
        }
        let mut out = statuses(&nodes);
        if let Some((bouncer, port, _)) = &self.bouncer {
            out.push(bouncer_status(bouncer, Some(*port)));
        }
        Ok(out)
    }

    /// Waits until every running standby (still in recovery) has replayed the WAL the current
    /// primary ([`Topology::current_primary`]) had written when this was called, so a row
    /// committed before the call is visible on each of them.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when the current primary is stopped; [`ClusterError::Timeout`]
    /// naming the standbys behind and their positions (for example one whose replay is paused,
    /// or one following another primary); [`ClusterError::Postgres`] when a node cannot be
    /// asked.
    pub fn wait_for_replay(&self, timeout: Duration) -> Result<()> {
        let primary = self.member(self.current_primary)?;
        if !primary.running {
            return Err(ClusterError::Invalid(format!(
                "the current primary ({}) is stopped",
                self.current_primary
            )));
        }
        let target = probe(primary.port)?.lsn.ok_or_else(|| {
            ClusterError::Invalid(format!("{} reports no WAL position", self.current_primary))
        })?;
        let start = Instant::now();
        let mut waiting: Vec<&Member> = self
            .members
            .iter()
            .filter(|m| m.running && m.id != self.current_primary)
            .collect();
        let mut clients = Vec::new();
        for member in &waiting {
            clients.push(connect(member.port, Duration::from_secs(5))?);
        }
        let mut behind: Vec<(NodeId, Option<Lsn>)> = Vec::new();
        let done = poll(timeout, || {
            behind.clear();
            let mut still = Vec::new();
            let mut still_clients = Vec::new();
            for (member, mut client) in waiting.drain(..).zip(clients.drain(..)) {
                match crate::status::probe_client(&mut client, member.port) {
                    Ok(p) if p.role == Role::Primary => {}
                    Ok(p) if p.lsn.is_some_and(|l| l >= target) => {}
                    Ok(p) => {
                        behind.push((member.id, p.lsn));
                        still.push(member);
                        still_clients.push(client);
                    }
                    Err(_) => {
                        behind.push((member.id, None));
                        still.push(member);
                        still_clients.push(client);
                    }
                }
            }
            waiting = still;
            clients = still_clients;
            waiting.is_empty().then_some(())
        });
        done.ok_or_else(|| {
            let list: Vec<String> = behind
                .iter()
                .map(|(id, lsn)| match lsn {
                    Some(l) => format!("{id} at {l}"),
                    None => format!("{id} (no answer)"),
                })
                .collect();
            ClusterError::Timeout {
                what: format!(
                    "standbys replaying up to {target} of the {}: {} behind",
                    self.current_primary,
                    list.join(", ")
                ),
                waited: start.elapsed(),
            }
        })
    }

    /// Stops every node (PgBouncer, standbys, primary), fast, and leaves the files; this is what
    /// `Drop` does first (with [`StopMode::Immediate`] when the files are removed).
    ///
    /// # Errors
    /// The first failure; every node is still asked to stop.
    pub fn stop_all(&mut self) -> Result<()> {
        self.stop_everything(StopMode::Fast)
    }

    fn stop_everything(&mut self, mode: StopMode) -> Result<()> {
        let mut first_error = None;
        if let Some((bouncer, _, running)) = self.bouncer.as_mut() {
            if let Err(e) = bouncer.stop() {
                first_error.get_or_insert(e);
            }
            *running = false;
        }
        for member in self.members.iter_mut().rev() {
            if let Err(e) = member.pg.stop(&self.tools, mode) {
                first_error.get_or_insert(e);
            }
            member.running = false;
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        let remove = !self.options.keep_files && !std::thread::panicking();
        let mode = if remove {
            StopMode::Immediate
        } else {
            StopMode::Fast
        };
        if let Err(e) = self.stop_everything(mode) {
            tracing::warn!("stopping the topology in {}: {e}", self.dir.display());
        }
        if remove {
            if self.home != self.dir {
                let _ = fs::remove_dir_all(&self.home);
            }
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Waits until the server on `port` accepts a write transaction.
pub(crate) fn wait_writable(port: u16, timeout: Duration) -> Result<()> {
    let mut last = String::from("no answer yet");
    poll(timeout, || {
        let mut client = connect(port, Duration::from_secs(3))
            .map_err(|e| last = error_chain(&e))
            .ok()?;
        // txid_current() assigns a transaction id, which a read-only server refuses.
        client
            .simple_query("SELECT txid_current()")
            .map_err(|e| last = e.to_string())
            .ok()
            .map(|_| ())
    })
    .ok_or_else(|| ClusterError::Timeout {
        what: format!("the server on port {port} to accept writes: {last}"),
        waited: timeout,
    })
}

/// Stops whatever an earlier topology left running in `dir` (or in its /tmp home) and deletes
/// both.
fn clear_leftovers(tools: &ServerTools, dir: &Path) -> Result<()> {
    let tmp_home = tmp_home_for(dir);
    for home in [dir.to_path_buf(), tmp_home] {
        let Ok(entries) = fs::read_dir(&home) else {
            continue;
        };
        let entries: Vec<fs::DirEntry> = entries.flatten().collect();
        // Never delete a folder that is not a topology's (a wrong path given by mistake).
        if let Some(stranger) = entries.iter().find(|e| !is_topology_entry(&e.file_name())) {
            return Err(ClusterError::Invalid(format!(
                "{} holds {:?}, which no topology writes: give a directory of its own (it is \
                 emptied first)",
                home.display(),
                stranger.file_name()
            )));
        }
        for entry in entries {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == "pgbouncer") {
                bouncer_in(&path).stop()?;
            } else {
                let pg = node_in(&path, None);
                if pg.initialized() {
                    pg.stop(tools, StopMode::Immediate)?;
                }
            }
        }
        fs::remove_dir_all(&home).map_err(|e| ClusterError::io("remove", &home, e))?;
    }
    Ok(())
}

/// Whether a name in a topology's directory is one a topology writes.
fn is_topology_entry(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name == "primary"
        || name == "pgbouncer"
        || name
            .strip_prefix("standby-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `/tmp/ignis-topology-<hash of dir>`.
fn tmp_home_for(dir: &Path) -> PathBuf {
    PathBuf::from(format!(
        "/tmp/ignis-topology-{:016x}",
        fnv1a(dir.as_os_str())
    ))
}

/// When root: gives `dir` to the `postgres` OS user, or when that user cannot reach it, makes
/// `/tmp/ignis-topology-<hash>` (mode 700) instead. Returns where the nodes go.
fn prepare_home(tools: &ServerTools, dir: &Path) -> Result<PathBuf> {
    if !tools.runs_as_server_user() {
        return Ok(dir.to_path_buf());
    }
    tools.give_to_server_user(dir)?;
    if tools.server_can_use(dir)? {
        return Ok(dir.to_path_buf());
    }
    let home = tmp_home_for(dir);
    create_dir_all(&home)?;
    chmod(&home, 0o700)?;
    tools.give_to_server_user(&home)?;
    if !tools.server_can_use(&home)? {
        return Err(ClusterError::Invalid(format!(
            "the `postgres` OS user can reach neither {} nor {}",
            dir.display(),
            home.display()
        )));
    }
    Ok(home)
}

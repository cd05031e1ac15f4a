//! Read replicas: which replica serves a read, how their health is known, and read-your-writes.
//!
//! # Routing
//! Each replica ([`crate::DataSourceConfig::read_replicas`]) has its own r2d2 pool. A read
//! outside a transaction ([`crate::DataSource::read_connection`]) takes the next usable replica
//! in round-robin order; when none is usable, the primary. The read path reads two atomics per
//! replica and makes no query of its own, except right after the calling thread wrote (below).
//!
//! # Health
//! A background thread (one per datasource with replicas; it ends when the last clone of the
//! datasource is dropped) checks every replica each
//! [`crate::ReplicaOptions::recheck_after`]: one query per replica (`pg_is_in_recovery()`,
//! `pg_last_wal_replay_lsn()`) and one on the primary (`pg_current_wal_lsn()`). A replica is
//! usable when it answered, is still in recovery (a promoted standby is no longer a replica: the
//! primary's multi-host configuration reaches it) and lags less than
//! [`crate::ReplicaOptions::max_lag`] and [`crate::ReplicaOptions::max_lag_bytes`]. Its lag in
//! time is the age of the oldest primary position the thread sampled that the replica has not
//! replayed yet, so it is known to within one check interval. A read that finds a replica dead
//! (connection refused, lost, or shut down) marks it unusable at once; the next successful check
//! brings it back.
//!
//! # Read your writes
//! When a write on the primary returns (a [`crate::PooledConnection`] that ran a write is
//! dropped, or a transaction commits), the datasource asks the same connection for
//! `pg_current_wal_insert_lsn()`, which is at or past the end of the write's commit record, and
//! keeps it in a thread-local slot keyed by the datasource (all clones share it). A later read on
//! that thread only goes to a replica whose replayed position has reached it: first by the
//! cached positions, then by asking the replicas (`pg_last_wal_replay_lsn()`) for up to
//! [`crate::ReplicaOptions::read_your_writes_wait`], else from the primary. Those queries happen
//! only while the replicas are behind the thread's last write; the cached positions they refresh
//! serve the reads after them.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use postgres::types::PgLsn;

use crate::conn::{Conn, Manager};
use crate::{Error, HostPort, ReplicaOptions};

/// What a read replica looked like at its last check ([`crate::DataSource::replica_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaStatus {
    /// The replica's address.
    pub addr: HostPort,
    /// Whether reads are routed to it now.
    pub usable: bool,
    /// Whether it has been checked at all (before the first check it is not usable).
    pub checked: bool,
    /// The WAL position it had replayed (`pg_last_wal_replay_lsn()`), as last seen.
    pub replay_lsn: Option<u64>,
    /// Bytes of WAL it was behind the primary at the last check, when both answered.
    pub lag_bytes: Option<u64>,
    /// How far behind the primary it was at the last check (to within the check interval).
    pub lag: Option<Duration>,
    /// Why it is not usable: the last connection or query error, "not in recovery", or
    /// the lag that exceeded the bound.
    pub reason: Option<String>,
}

/// One replica: its pool, whether reads may go to it, and its cached replay position.
pub(crate) struct Node {
    pub(crate) addr: HostPort,
    pub(crate) pool: r2d2::Pool<Manager>,
    usable: AtomicBool,
    replay_lsn: AtomicU64,
    status: Mutex<ReplicaStatus>,
}

impl Node {
    fn new(addr: HostPort, pool: r2d2::Pool<Manager>) -> Self {
        Node {
            status: Mutex::new(ReplicaStatus {
                addr: addr.clone(),
                usable: false,
                checked: false,
                replay_lsn: None,
                lag_bytes: None,
                lag: None,
                reason: Some("not checked yet".into()),
            }),
            addr,
            pool,
            usable: AtomicBool::new(false),
            replay_lsn: AtomicU64::new(0),
        }
    }

    /// A read found the replica dead: skip it until a check finds it healthy.
    pub(crate) fn mark_down(&self, reason: &str) {
        if self.usable.swap(false, Ordering::AcqRel) {
            tracing::warn!(replica = %self.addr, reason, "read replica unusable; reads go elsewhere until it recovers");
        }
        if let Ok(mut s) = self.status.lock() {
            s.usable = false;
            s.reason = Some(reason.to_string());
        }
    }

    fn raise_replay(&self, lsn: u64) {
        self.replay_lsn.fetch_max(lsn, Ordering::AcqRel);
    }
}

/// The replicas of one datasource (shared by its clones), with the primary's pool for the
/// health checks and the read-your-writes positions.
pub(crate) struct ReplicaSet {
    /// Identity of the datasource family for the thread-local write positions.
    id: u64,
    pub(crate) nodes: Vec<Node>,
    options: ReplicaOptions,
    next: AtomicUsize,
    primary: r2d2::Pool<Manager>,
    /// Primary positions sampled by the checks, oldest first.
    samples: Mutex<VecDeque<(Instant, u64)>>,
    /// Dropping it (with the set) ends the check thread at once.
    _stop: Mutex<mpsc::Sender<()>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// `(datasource id, WAL position of the thread's last write through it)`.
    static LAST_WRITE: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
}

impl ReplicaSet {
    /// The set over `nodes` (address and pool each), and its check thread.
    ///
    /// # Errors
    /// [`Error::Config`] when the check thread cannot be spawned.
    pub(crate) fn start(
        nodes: Vec<(HostPort, r2d2::Pool<Manager>)>,
        primary: r2d2::Pool<Manager>,
        options: ReplicaOptions,
    ) -> Result<Arc<Self>, Error> {
        let (stop, stopped) = mpsc::channel::<()>();
        let set = Arc::new(ReplicaSet {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            nodes: nodes.into_iter().map(|(a, p)| Node::new(a, p)).collect(),
            options,
            next: AtomicUsize::new(0),
            primary,
            samples: Mutex::new(VecDeque::new()),
            _stop: Mutex::new(stop),
        });
        let weak: Weak<ReplicaSet> = Arc::downgrade(&set);
        std::thread::Builder::new()
            .name("ignis-replica-check".into())
            .spawn(move || loop {
                let Some(set) = weak.upgrade() else { return };
                set.check_all();
                let wait = set.options.recheck_after;
                drop(set);
                if let Err(mpsc::RecvTimeoutError::Disconnected) = stopped.recv_timeout(wait) {
                    return;
                }
            })
            .map_err(|e| Error::Config(format!("cannot start the replica check thread: {e}")))?;
        Ok(set)
    }

    /// The WAL position of the calling thread's last write through this datasource (0: none).
    pub(crate) fn last_write(&self) -> u64 {
        LAST_WRITE.with(|w| {
            w.borrow()
                .iter()
                .find(|(id, _)| *id == self.id)
                .map_or(0, |(_, lsn)| *lsn)
        })
    }

    fn set_last_write(&self, lsn: u64) {
        LAST_WRITE.with(|w| {
            let mut w = w.borrow_mut();
            match w.iter_mut().find(|(id, _)| *id == self.id) {
                Some((_, last)) => *last = (*last).max(lsn),
                None => w.push((self.id, lsn)),
            }
        });
    }

    /// Records that a write returned on `conn` (a primary connection, outside any transaction
    /// block): its insert position becomes the calling thread's read-your-writes bound. When
    /// `conn` cannot answer, any primary session's position (at or past it) is used.
    pub(crate) fn record_write(&self, conn: &mut Conn) {
        const SQL: &str = "SELECT pg_current_wal_insert_lsn()";
        let lsn = match conn.query(SQL, &[]) {
            Ok(rows) => rows.first().and_then(|r| r.try_get::<_, PgLsn>(0).ok()),
            Err(e) => {
                tracing::debug!(error = %e, "reading the write position on the writing connection failed");
                None
            }
        };
        let lsn = lsn.or_else(|| {
            let mut c = self
                .primary
                .get_timeout(self.options.connect_timeout)
                .ok()?;
            let rows = c.query(SQL, &[]).ok()?;
            rows.first().and_then(|r| r.try_get::<_, PgLsn>(0).ok())
        });
        match lsn {
            Some(lsn) => self.set_last_write(u64::from(lsn)),
            None => {
                tracing::warn!("the position of a write is unknown; reads may not see it")
            }
        }
    }

    /// A connection of a usable replica that has replayed `min_lsn` (round robin), waiting up
    /// to `read_your_writes_wait` for one to reach it; `None`: read from the primary.
    pub(crate) fn pick(&self, min_lsn: u64) -> Option<(usize, r2d2::PooledConnection<Manager>)> {
        let n = self.nodes.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for k in 0..n {
            let i = (start + k) % n;
            let node = &self.nodes[i];
            if !node.usable.load(Ordering::Acquire)
                || node.replay_lsn.load(Ordering::Acquire) < min_lsn
            {
                continue;
            }
            match node.pool.get_timeout(self.options.connect_timeout) {
                Ok(conn) => return Some((i, conn)),
                Err(e) => node.mark_down(&e.to_string()),
            }
        }
        if min_lsn == 0 {
            return None;
        }
        // Read your writes: ask the usable replicas where they are until one has replayed the
        // write, or the wait is over.
        let deadline = Instant::now() + self.options.read_your_writes_wait;
        let mut pause = Duration::from_millis(1);
        loop {
            let mut any = false;
            for k in 0..n {
                let i = (start + k) % n;
                let node = &self.nodes[i];
                if !node.usable.load(Ordering::Acquire) {
                    continue;
                }
                any = true;
                let mut conn = match node.pool.get_timeout(self.options.connect_timeout) {
                    Ok(conn) => conn,
                    Err(e) => {
                        node.mark_down(&e.to_string());
                        continue;
                    }
                };
                match conn.query("SELECT pg_last_wal_replay_lsn()", &[]) {
                    Ok(rows) => {
                        let lsn = rows
                            .first()
                            .and_then(|r| r.try_get::<_, Option<PgLsn>>(0).ok().flatten())
                            .map_or(0, u64::from);
                        node.raise_replay(lsn);
                        if lsn >= min_lsn {
                            return Some((i, conn));
                        }
                    }
                    Err(e) => {
                        if e.is_node_failure() {
                            node.mark_down(&e.to_string());
                        }
                    }
                }
            }
            let now = Instant::now();
            if !any || now >= deadline {
                tracing::debug!(
                    "no replica has replayed the thread's last write; reading from the primary"
                );
                return None;
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// One round of checks: samples the primary's position, then checks every replica.
    pub(crate) fn check_all(&self) {
        let now = Instant::now();
        let primary_lsn = self
            .primary
            .get_timeout(self.options.connect_timeout)
            .ok()
            .and_then(|mut c| {
                let rows = c
                    .query(
                        "SELECT pg_current_wal_lsn() WHERE NOT pg_is_in_recovery()",
                        &[],
                    )
                    .ok()?;
                rows.first()
                    .and_then(|r| r.try_get::<_, PgLsn>(0).ok())
                    .map(u64::from)
            });
        let samples = {
            let Ok(mut samples) = self.samples.lock() else {
                return;
            };
            if let Some(lsn) = primary_lsn {
                samples.push_back((now, lsn));
            }
            let keep = self.options.max_lag + self.options.recheck_after * 2;
            while samples.len() > 1 && samples.front().is_some_and(|(t, _)| now - *t > keep) {
                samples.pop_front();
            }
            samples.clone()
        };
        for node in &self.nodes {
            self.check(node, primary_lsn, &samples);
        }
    }

    fn check(&self, node: &Node, primary_lsn: Option<u64>, samples: &VecDeque<(Instant, u64)>) {
        let answer = node
            .pool
            .get_timeout(self.options.connect_timeout)
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                c.query("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()", &[])
                    .map_err(|e| e.to_string())
                    .and_then(|rows| {
                        let row = rows.first().ok_or("no row")?;
                        let in_recovery: bool = row.try_get(0).map_err(|e| e.to_string())?;
                        let lsn: Option<PgLsn> = row.try_get(1).map_err(|e| e.to_string())?;
                        Ok((in_recovery, lsn.map(u64::from)))
                    })
            });
        let mut status = ReplicaStatus {
            addr: node.addr.clone(),
            usable: false,
            checked: true,
            replay_lsn: None,
            lag_bytes: None,
            lag: None,
            reason: None,
        };
        match answer {
            Err(e) => status.reason = Some(e),
            Ok((false, _)) => status.reason = Some("not in recovery (no longer a standby)".into()),
            Ok((true, None)) => status.reason = Some("no WAL replayed yet".into()),
            Ok((true, Some(replay))) => {
                node.raise_replay(replay);
                let now = Instant::now();
                let lag = samples
                    .iter()
                    .find(|(_, lsn)| *lsn > replay)
                    .map_or(Duration::ZERO, |(t, _)| now - *t);
                let lag_bytes = primary_lsn.map(|p| p.saturating_sub(replay));
                status.replay_lsn = Some(replay);
                status.lag = Some(lag);
                status.lag_bytes = lag_bytes;
                if lag > self.options.max_lag {
                    status.reason =
                        Some(format!("lags {lag:?} (bound {:?})", self.options.max_lag));
                } else if let (Some(bytes), Some(max)) = (lag_bytes, self.options.max_lag_bytes) {
                    if bytes > max {
                        status.reason = Some(format!("lags {bytes} bytes (bound {max})"));
                    }
                }
                status.usable = status.reason.is_none();
            }
        }
        let was = node.usable.swap(status.usable, Ordering::AcqRel);
        if was != status.usable {
            match &status.reason {
                None => tracing::info!(replica = %node.addr, "read replica usable"),
                Some(reason) => {
                    tracing::warn!(replica = %node.addr, reason, "read replica unusable")
                }
            }
        }
        if let Ok(mut s) = node.status.lock() {
            *s = status;
        }
    }

    /// The status of every replica, in configuration order.
    pub(crate) fn status(&self) -> Vec<ReplicaStatus> {
        self.nodes
            .iter()
            .map(|n| match n.status.lock() {
                Ok(s) => s.clone(),
                Err(p) => p.into_inner().clone(),
            })
            .collect()
    }
}

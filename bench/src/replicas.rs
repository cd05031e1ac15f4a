//! Workload 11: find by id with read replicas, on a topology the harness starts itself.
//!
//! Through `ignis-cluster` ([`Topology`]) the case starts a primary and two streaming hot
//! standbys (`pg_basebackup -R`, asynchronous replication) in a directory under
//! `target/ignis-topology/`, loads the benchmark's users on the primary, waits until both
//! standbys have replayed them, and measures `DefaultCrudRepository<TypedUser>::find_by_id`
//! two ways, interleaved per sample as every workload is (see [`workload::measure`]):
//!
//! - **8 threads**: workload 7's loop (8 rayon threads sharing one repository over a pool of 8,
//!   20,000 random ids; 2,000 with `--quick`), once on a datasource with no replica (every read
//!   on the primary) and once with both standbys as read replicas
//!   (`DataSourceConfig::with_read_replicas`, default `ReplicaOptions`: reads round robin over
//!   the healthy standbys, each with a pool of 8 of its own);
//! - **1 thread**: workload 1's loop (one thread, pools of 1, 5,000 ids; 500 with `--quick`),
//!   the same two ways, so the cost of routing a read shows per call. As in workload 1, the
//!   client thread and every server backend it talks to (the primary's and both standbys') are
//!   pinned to one CPU unless `--pin off`, and each sample gets new datasources.
//!
//! Each variant reads its own database (two databases with the same rows), so each node's
//! `pg_stat_user_tables` counters for `users` (index plus sequential scans) tell how many of
//! that variant's lookups the node served. Counters are read once every connection to the
//! database has closed: a backend flushes its counters when it exits, but while it lives at
//! most once a second, and an idle one up to 10 s later.
//!
//! When the topology cannot start (no `pg_basebackup`, no server binaries, ...) the case is
//! skipped with the reason, on stderr and in the report.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ignis_cluster::{Topology, TopologyOptions};
use ignis_repo::DefaultCrudRepository;
use ignis_schema::Schema;
use ignis_tx::{DataSource, DataSourceConfig, Executor};
use nix::sched::{sched_getaffinity, CpuSet};
use nix::unistd::Pid;

use crate::ignis_impl::{self, TypedUser};
use crate::load::{self, BenchDb, DataSize};
use crate::pin::{PinMode, Pinner};
use crate::report::median;
use crate::workload::{self, Kind, Measured, Outcome, Role, Spec, Unit, Variant};
use crate::BoxError;

/// The workload number of this case (`--only 11`).
pub const NUMBER: u8 = 11;

/// Standbys in the topology.
const STANDBYS: usize = 2;

/// How long to wait for the standbys to replay the load, and for them to be usable.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// What the case produced: its measurements, or why it did not run.
#[derive(Debug, Clone)]
pub enum ReplicaCase {
    /// The topology could not start: one line for the report saying why.
    Skipped(String),
    /// Both measurements.
    Ran(ReplicaResult),
}

/// The measurements of workload 11.
#[derive(Debug, Clone)]
pub struct ReplicaResult {
    /// The 8-thread case, then the single-thread case.
    cases: Vec<CaseResult>,
    /// Samples per case.
    samples: usize,
    /// Logical cores of the machine (servers and client share them).
    cores: usize,
    /// `server_version` of the topology.
    postgres: String,
    /// Seconds to start the topology (initdb, two base backups, streaming).
    start_secs: f64,
    /// Whether the single-thread case ran with client thread and backends pinned to one CPU.
    pinned: bool,
}

/// One case: what ran, its samples, and which node served the lookups of each variant.
#[derive(Debug, Clone)]
struct CaseResult {
    spec: Spec,
    measured: Vec<Measured>,
    /// One per variant, in the order of `measured`.
    served: Vec<Served>,
}

/// The lookups one variant made and the scans of `users` each node counted meanwhile.
#[derive(Debug, Clone)]
struct Served {
    lookups: usize,
    /// Primary, standby 1, standby 2.
    nodes: Vec<i64>,
}

/// The two databases of the case (one per variant) on the topology, with their node URLs.
struct Dbs<'a> {
    topology: &'a Topology,
    primary_only: BenchDb,
    with_replicas: BenchDb,
}

impl Dbs<'_> {
    /// The URLs of `db` on the primary, then on each standby.
    fn node_urls(&self, db: &BenchDb) -> Vec<String> {
        let mut urls = vec![self.topology.primary_url(&db.name)];
        urls.extend(self.topology.replica_urls(&db.name));
        urls
    }

    /// The configuration of the replica variant's database with `max_size` pooled connections
    /// per server and both standbys as read replicas.
    fn replica_config(&self, max_size: u32) -> Result<DataSourceConfig, BoxError> {
        Ok(self
            .with_replicas
            .config(max_size)
            .with_read_replicas(self.topology.replica_urls(&self.with_replicas.name))?)
    }
}

/// Starts the topology, loads it and runs both cases: `samples` samples each (default 7, or 3
/// with `quick`), the single-thread case placed as `pin` says.
///
/// # Errors
/// A step after the topology started failed (loading, replay, a lookup, the counters). A
/// topology that cannot start is no error: the result is [`ReplicaCase::Skipped`].
pub fn run(quick: bool, samples: Option<usize>, pin: PinMode) -> Result<ReplicaCase, BoxError> {
    let samples = samples.unwrap_or(if quick { 3 } else { 7 });
    // A directory per process, so two runs on one machine never stop each other's servers.
    let dir = Topology::dir_in_target(&format!("{DIR_PREFIX}{}", std::process::id()));
    if let Some(parent) = dir.parent() {
        clear_stale(parent);
    }
    let options = TopologyOptions {
        replicas: STANDBYS,
        ..TopologyOptions::default()
    };
    let started = Instant::now();
    // Declared before the databases, so it is dropped (servers stopped, directory removed)
    // after them.
    let topology = match Topology::start(&dir, &options) {
        Ok(t) => t,
        Err(e) => {
            let full = e.to_string();
            eprintln!("workload {NUMBER} skipped: the topology could not start:\n{full}");
            return Ok(ReplicaCase::Skipped(format!(
                "Skipped: a primary with two standbys could not be started ({})",
                one_line(&full, 300)
            )));
        }
    };
    let start_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "workload {NUMBER}: primary and {STANDBYS} standbys started in {start_secs:.1} s ({})",
        topology.home().display()
    );
    let admin = DataSourceConfig::from_url(&topology.primary_url("postgres"))?;
    let schema = crate::model::schema()?;
    let dbs = Dbs {
        topology: &topology,
        primary_only: BenchDb::create(&admin)?,
        with_replicas: BenchDb::create(&admin)?,
    };
    // The users only: the table every lookup reads (the same rows as the main data set).
    let users_only = DataSize {
        users: crate::DATA_SIZE.users,
        orders: 0,
        items_per_order: 0,
    };
    for db in [&dbs.primary_only, &dbs.with_replicas] {
        load::migrate(db, &schema)?;
        load::load(db, users_only)?;
        let mut client = postgres::Client::connect(&db.url(), postgres::NoTls)?;
        client.batch_execute("VACUUM ANALYZE users")?;
    }
    topology.wait_for_replay(READY_TIMEOUT)?;
    let postgres: String = postgres::Client::connect(&dbs.with_replicas.url(), postgres::NoTls)?
        .query_one("SHOW server_version", &[])?
        .try_get(0)?;

    let n = |full: usize, q: usize| if quick { q } else { full };
    let parallel = Spec {
        kind: Kind::ParallelFindById,
        number: NUMBER,
        title: format!(
            "find by id from 8 rayon threads, pools of 8 per server, {} random ids",
            n(20_000, 2_000)
        ),
        ops: n(20_000, 2_000),
        chunks: 10,
        unit: Unit::OpsPerSec,
    };
    let single = Spec {
        kind: Kind::FindById,
        number: NUMBER,
        title: format!(
            "find by id from one thread, pools of 1 per server, {} random ids",
            n(5_000, 500)
        ),
        ops: n(5_000, 500),
        chunks: 10,
        unit: Unit::OpsPerSec,
    };
    let mut cases = Vec::new();
    eprint!("workload {NUMBER}: {} ", parallel.title);
    cases.push(parallel_case(&dbs, &schema, &parallel, samples)?);
    eprintln!(" done");
    let pinner = Pinner::new(pin);
    pinner.pin_client();
    eprint!("workload {NUMBER}: {} ", single.title);
    let single_result = single_case(&dbs, &schema, &single, samples, &pinner);
    // Pinning failures give the thread its CPUs back: one CPU left means it held throughout.
    let pinned = pin == PinMode::Same && client_on_one_cpu();
    pinner.unpin_client();
    cases.push(single_result?);
    eprintln!(" done");
    Ok(ReplicaCase::Ran(ReplicaResult {
        cases,
        samples,
        cores: std::thread::available_parallelism().map_or(0, |c| c.get()),
        postgres,
        start_secs,
        pinned,
    }))
}

/// The name of a run's topology directory, before the process id.
const DIR_PREFIX: &str = "bench-replicas-";

/// Stops and removes what runs that were killed before they could clean up left in `parent`:
/// each `bench-replicas-<pid>` whose process is gone. [`Topology::start`] in such a directory
/// stops the servers it finds there and empties it; the primary it then makes is removed
/// again at once. Failures are warnings.
fn clear_stale(parent: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let path = entry.path();
        eprintln!(
            "workload {NUMBER}: removing the topology of an earlier run that did not finish ({})",
            path.display()
        );
        if let Err(e) = Topology::start(&path, &TopologyOptions::default()) {
            eprintln!(
                "warning: could not remove {}: {}",
                path.display(),
                one_line(&e.to_string(), 300)
            );
        }
    }
}

/// Labels of the two variants of each case.
const PRIMARY_ONLY: &str = "primary only (no read replica configured)";
const WITH_REPLICAS: &str = "primary + 2 read replicas (reads round robin over the standbys)";

/// The 8-thread case: workload 7's loop on each datasource.
fn parallel_case(
    dbs: &Dbs<'_>,
    schema: &Arc<Schema>,
    spec: &Spec,
    samples: usize,
) -> Result<CaseResult, BoxError> {
    let before = counters(dbs)?;
    let threads = rayon::ThreadPoolBuilder::new().num_threads(8).build()?;
    let plain = users(DataSource::new(dbs.primary_only.config(8))?, schema)?;
    let routed_ds = DataSource::new(dbs.replica_config(8)?)?;
    wait_usable(&routed_ds)?;
    let routed = users(routed_ds, schema)?;
    let lookups = [Cell::new(0usize), Cell::new(0usize)];
    let measured = {
        let (threads, plain, routed, lookups) = (&threads, &plain, &routed, &lookups);
        let mut variants = vec![
            Variant::new(PRIMARY_ONLY, Role::Info, move |i| {
                counted(
                    &lookups[0],
                    ignis_impl::parallel_find_by_id_on(plain, threads, i),
                )
            }),
            Variant::new(WITH_REPLICAS, Role::Info, move |i| {
                counted(
                    &lookups[1],
                    ignis_impl::parallel_find_by_id_on(routed, threads, i),
                )
            }),
        ];
        measure(spec, samples, &mut variants)?
    };
    // Every connection closed, so the backends exit and flush their counters.
    drop((plain, routed));
    let after = counters(dbs)?;
    Ok(CaseResult {
        spec: spec.clone(),
        measured,
        served: served(&lookups, &before, &after),
    })
}

/// The single-thread case: workload 1's loop on one-connection datasources, new ones (pinned
/// again) before each sample.
fn single_case(
    dbs: &Dbs<'_>,
    schema: &Arc<Schema>,
    spec: &Spec,
    samples: usize,
    pinner: &Pinner,
) -> Result<CaseResult, BoxError> {
    let before = counters(dbs)?;
    let open_plain = || -> Result<ignis_impl::Single, BoxError> {
        let s = ignis_impl::Single::over(dbs.primary_only.config(1), schema)?;
        pinner.pin_backend(backend_pid(&mut s.ds1.connection()?)?);
        Ok(s)
    };
    let open_routed = || -> Result<ignis_impl::Single, BoxError> {
        let s = ignis_impl::Single::over(dbs.replica_config(1)?, schema)?;
        wait_usable(&s.ds1)?;
        pinner.pin_backend(backend_pid(&mut s.ds1.connection()?)?);
        for pid in replica_backends(&s.ds1)? {
            pinner.pin_backend(pid);
        }
        Ok(s)
    };
    let plain = RefCell::new(open_plain()?);
    let routed = RefCell::new(open_routed()?);
    let lookups = [Cell::new(0usize), Cell::new(0usize)];
    let measured = {
        let (plain, routed, lookups) = (&plain, &routed, &lookups);
        let (open_plain, open_routed) = (&open_plain, &open_routed);
        let mut variants = vec![
            Variant::new(PRIMARY_ONLY, Role::Info, move |i| {
                counted(
                    &lookups[0],
                    ignis_impl::find_by_id_from_row(&plain.borrow(), i),
                )
            })
            .with_reset(move || {
                *plain.borrow_mut() = open_plain()?;
                Ok(())
            }),
            Variant::new(WITH_REPLICAS, Role::Info, move |i| {
                counted(
                    &lookups[1],
                    ignis_impl::find_by_id_from_row(&routed.borrow(), i),
                )
            })
            .with_reset(move || {
                *routed.borrow_mut() = open_routed()?;
                Ok(())
            }),
        ];
        measure(spec, samples, &mut variants)?
    };
    drop((plain, routed));
    let after = counters(dbs)?;
    Ok(CaseResult {
        spec: spec.clone(),
        measured,
        served: served(&lookups, &before, &after),
    })
}

/// `workload::measure` with the warm-up the main workloads use (a tenth of a sample).
fn measure(
    spec: &Spec,
    samples: usize,
    variants: &mut [Variant<'_>],
) -> Result<Vec<Measured>, BoxError> {
    let warmup = (spec.ops / 10).max(10);
    let users = crate::DATA_SIZE.users;
    workload::measure(
        spec,
        samples,
        warmup,
        |ops, seed| workload::inputs(spec.kind, ops, seed, users, 0),
        variants,
    )
}

/// Adds the operations of `outcome` to `count`.
fn counted(count: &Cell<usize>, outcome: Result<Outcome, BoxError>) -> Result<Outcome, BoxError> {
    let outcome = outcome?;
    count.set(count.get() + outcome.ops);
    Ok(outcome)
}

/// `User` on `ds`, rows read as [`TypedUser`] (the headline repository of workloads 1 and 7).
fn users(
    ds: DataSource,
    schema: &Arc<Schema>,
) -> Result<DefaultCrudRepository<TypedUser>, BoxError> {
    Ok(DefaultCrudRepository::new(ds, schema.clone(), "User")?.typed())
}

/// Waits until every read replica of `ds` is usable (checked now, then again until
/// [`READY_TIMEOUT`]): before the first check a datasource sends its reads to the primary.
fn wait_usable(ds: &DataSource) -> Result<(), BoxError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let status = ds.check_replicas();
        if status.iter().all(|s| s.usable) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let why: Vec<String> = status
                .iter()
                .filter(|s| !s.usable)
                .map(|s| format!("{}: {}", s.addr, s.reason.as_deref().unwrap_or("unknown")))
                .collect();
            return Err(format!("read replicas not usable: {}", why.join("; ")).into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The server process of `conn`.
fn backend_pid(conn: &mut ignis_tx::PooledConnection) -> Result<i32, BoxError> {
    Ok(conn.query_one("SELECT pg_backend_pid()", &[])?.try_get(0)?)
}

/// The server processes of the replica connections of `ds` (a pool of 1 per standby): read
/// connections taken one after the other until each standby has given one.
fn replica_backends(ds: &DataSource) -> Result<Vec<i32>, BoxError> {
    let mut seen: Vec<(ignis_tx::HostPort, i32)> = Vec::new();
    for _ in 0..4 * STANDBYS {
        let mut conn = ds.read_connection()?;
        let Some(addr) = conn.replica().cloned() else {
            continue;
        };
        if !seen.iter().any(|(a, _)| *a == addr) {
            seen.push((addr, backend_pid(&mut conn)?));
        }
        if seen.len() == STANDBYS {
            return Ok(seen.into_iter().map(|(_, pid)| pid).collect());
        }
    }
    Err(format!(
        "read connections reached {} of the {STANDBYS} standbys",
        seen.len()
    )
    .into())
}

/// Whether the calling thread may run on exactly one CPU.
fn client_on_one_cpu() -> bool {
    sched_getaffinity(Pid::from_raw(0)).is_ok_and(|set| {
        (0..CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap_or(false))
            .count()
            == 1
    })
}

/// Scans of `users` per node (primary, standby 1, standby 2) for each variant's database:
/// `[primary_only, with_replicas]`.
fn counters(dbs: &Dbs<'_>) -> Result<[Vec<i64>; 2], BoxError> {
    let mut out = [Vec::new(), Vec::new()];
    for (slot, db) in out.iter_mut().zip([&dbs.primary_only, &dbs.with_replicas]) {
        for url in dbs.node_urls(db) {
            slot.push(users_scans(&url)?);
        }
    }
    Ok(out)
}

/// Index plus sequential scans of `users` that the server at `url` counted, read once no other
/// client is connected to the database (a backend flushes its counters when it exits).
fn users_scans(url: &str) -> Result<i64, BoxError> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let others: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                &[],
            )?
            .try_get(0)?;
        if others == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{others} connection(s) to the database stayed open: cannot read final counters"
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // A fresh snapshot of the statistics (the earlier queries of this transaction-less
    // session each took their own).
    Ok(client
        .query_one(
            "SELECT COALESCE(sum(COALESCE(idx_scan, 0) + seq_scan), 0)::int8 \
             FROM pg_stat_user_tables WHERE relname = 'users'",
            &[],
        )?
        .try_get(0)?)
}

/// Per variant: its lookups and each node's counter deltas in its database.
fn served(
    lookups: &[Cell<usize>; 2],
    before: &[Vec<i64>; 2],
    after: &[Vec<i64>; 2],
) -> Vec<Served> {
    lookups
        .iter()
        .zip(before.iter().zip(after))
        .map(|(n, (b, a))| Served {
            lookups: n.get(),
            nodes: a.iter().zip(b).map(|(a, b)| a - b).collect(),
        })
        .collect()
}

/// `text` on one line (runs of whitespace as one space), cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() <= max {
        joined
    } else {
        let cut: String = joined.chars().take(max).collect();
        format!("{cut}...")
    }
}

/// Thousands separators.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The read replica section of the report.
pub fn markdown(case: &ReplicaCase) -> String {
    let r = match case {
        ReplicaCase::Skipped(why) => {
            return format!("\n## Read replicas (workload {NUMBER})\n\n{why}.\n");
        }
        ReplicaCase::Ran(r) => r,
    };
    let mut s = format!(
        "\n## Read replicas (workload {NUMBER}): find by id, primary only against primary + 2 standbys\n\n\
         A topology of its own, started by the harness through `ignis-cluster` in {:.1} s: a \
         primary and two hot standbys streaming from it (asynchronous, `fsync` off), PostgreSQL \
         {}, on this machine's {} cores. Each variant reads its own copy of the 10,000 users \
         (loaded on the primary, replayed by both standbys before timing). \"primary + 2 read \
         replicas\" is `DataSourceConfig::with_read_replicas` with default `ReplicaOptions`: each \
         read goes to the next healthy standby. Median (min-max) of {} samples; client CPU is \
         the benchmark process's CPU time per lookup; the last columns are the scans of `users` \
         each server counted in the variant's database (`pg_stat_user_tables`, read after every \
         connection closed).\n",
        r.start_secs, r.postgres, r.cores, r.samples
    );
    let mut overhead = Vec::new();
    for case in &r.cases {
        s.push_str(&format!(
            "\n### {}\n\n| variant | ops/s | vs primary only | client CPU µs/op | lookups | primary | standby 1 | standby 2 |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|\n",
            case.spec.title
        ));
        let base = case.measured.first().map_or(0.0, |m| median(&m.values));
        for (m, served) in case.measured.iter().zip(&case.served) {
            let ops = median(&m.values);
            let (lo, hi) = m
                .values
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            let ratio = if base > 0.0 {
                format!("{:.2}x", ops / base)
            } else {
                "-".to_string()
            };
            let nodes: Vec<String> = served.nodes.iter().map(|&n| grouped(n)).collect();
            s.push_str(&format!(
                "| {} | {} ({}-{}) | {ratio} | {:.1} | {} | {} |\n",
                m.label,
                grouped(ops.round() as i64),
                grouped(lo.round() as i64),
                grouped(hi.round() as i64),
                median(&m.cpu),
                grouped(i64::try_from(served.lookups).unwrap_or(i64::MAX)),
                nodes.join(" | "),
            ));
        }
        if let [plain, routed] = case.measured.as_slice() {
            let (p, q) = (median(&plain.values), median(&routed.values));
            if p > 0.0 && q > 0.0 {
                overhead.push(format!(
                    "{}: {:+.1} µs per lookup of wall time and {:+.1} µs of client CPU",
                    if case.spec.kind == Kind::FindById {
                        "one thread"
                    } else {
                        "8 threads"
                    },
                    1e6 / q - 1e6 / p,
                    median(&routed.cpu) - median(&plain.cpu),
                ));
            }
        }
    }
    s.push_str(&format!(
        "\nWith replicas against without: {}. The client CPU difference is what routing costs \
         the client per call (choosing a standby, checking a connection out of its pool); the \
         wall-time difference adds the servers' side, which moves from run to run with how the \
         scheduler runs three servers and the client on the same cores. The single-thread case \
         ran {}.\n",
        overhead.join("; "),
        if r.pinned {
            "with the client thread and the backend of every connection (primary and both \
             standbys) pinned to one CPU, as workload 1"
        } else {
            "unpinned (the scheduler placed the client thread and the backends)"
        }
    ));
    s.push_str(&format!(
        "\n**What the numbers mean.** The primary and both standbys run on the same {} cores as \
         each other and as the client, so a replica adds no CPU: every lookup costs the same \
         server work wherever it runs, and the 8-thread ratio cannot show a scale-out gain. \
         What it shows is what routing costs (picking a standby, a pool per server, the \
         background health check) and whether the reads spread: the primary-only variant's \
         lookups all land on the primary, the replica variant's split between the two \
         standbys with none on the primary. On separate machines each standby brings its own \
         CPUs and the primary keeps only the writes; that gain is not measured here.\n",
        r.cores
    ));
    s
}

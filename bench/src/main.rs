//! # ignis-bench: ignis-rs side by side with the raw `postgres` client and Diesel
//!
//! Run it with `cargo xtask bench [--quick] [--database-url URL]`, which builds this binary in
//! release mode and runs it with `DATABASE_URL` set. It creates a fresh database
//! `ignis_bench_<uuid>` on that server (dropped at the end, also on failure), migrates the
//! users / orders / order_items models with ignis-migrate, bulk-loads 10k users, 100k orders and
//! 300k items once (`COPY`), runs `ANALYZE`, and measures eight workloads (see
//! [`workload::Kind`]) for three implementations, interleaved per sample:
//!
//! - **ignis-rs** through its public repository API ([`ignis_impl`]);
//! - **raw**: the `postgres` crate, statements prepared once, rows decoded by index ([`raw`]);
//! - **Diesel**: sync, its r2d2 pool, typed queries ([`diesel_impl`]).
//!
//! The report (Markdown: a summary, one table per workload, the targets met or missed, the
//! machine, Postgres version, date and peak memory) goes to stdout and to
//! `target/bench/report.md`.
//!
//! Options: `--quick` (3 samples of small batches: a smoke test for CI), `--samples N`,
//! `--only 1,6` (some workloads only; 9 is the migrator case: plan 1,000 tables, see
//! [`migrator`]; 10 the export of 1,000,000 rows, streamed and in full, see [`export`]; 11 find by id with
//! and without read replicas on a primary with two standbys, see [`replicas`]), `--impl ignis|raw|diesel` (one implementation only, for profiling; no ratios
//! then), `--pin same|off` (where workloads 1-6 run: client thread and server backends on one
//! CPU, the default, or wherever the scheduler puts them; see [`pin`]).
//!
//! `--instructions` (what `cargo xtask bench --instructions` runs under callgrind) measures no
//! time: it runs workloads 1, 2 and 6 once per implementation and row route, for a fixed number
//! of operations, inside a region that callgrind counts alone; `--only`, `--impl`,
//! `--route json,serde,from-row,raw,diesel`, `--ops N` and `--repeat N` (counts per case,
//! default 5) tune it (see [`instructions`]).
//!
//! `bench/README.md` describes the method and the findings in full.

mod diesel_impl;
mod export;
mod ignis_impl;
mod instructions;
mod load;
mod migrator;
mod model;
mod pin;
mod raw;
mod replicas;
mod report;
mod workload;

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use ignis_tx::{DataSourceConfig, Executor};

use crate::instructions::Route;
use crate::load::{BenchDb, DataSize};
use crate::pin::{PinMode, Pinner};
use crate::report::{RunInfo, WorkloadResult};
use crate::workload::{Kind, Role, Spec, Unit, Variant};

/// The error type of the harness.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Command-line options.
#[derive(Debug, Clone, Default)]
struct Args {
    quick: bool,
    samples: Option<usize>,
    only: Option<Vec<u8>>,
    implementation: Option<Role>,
    pin: PinMode,
    /// `--instructions`: count, do not time (see [`instructions`]).
    instructions: bool,
    /// `--route`: the routes `--instructions` runs (default: all).
    routes: Option<Vec<Route>>,
    /// `--ops`: operations per counted region (default: the workload's `--quick` size).
    ops: Option<usize>,
    /// `--repeat`: counted regions per workload and route (default 5).
    repeat: Option<usize>,
}

const USAGE: &str =
    "usage: ignis-bench [--quick] [--samples N] [--only 1,2,..] [--impl ignis|raw|diesel] [--pin same|off]
       ignis-bench --instructions [--only 1,2,6] [--impl ignis|raw|diesel]
                   [--route json,serde,from-row,raw,diesel] [--ops N] [--repeat N] [--pin same|off]
  (DATABASE_URL names the server; run it with `cargo xtask bench [--instructions]`)";

/// The data set every run loads.
pub const DATA_SIZE: DataSize = DataSize {
    users: 10_000,
    orders: 100_000,
    items_per_order: 3,
};

impl Args {
    fn parse(mut argv: impl Iterator<Item = String>) -> Result<Self, BoxError> {
        let mut a = Args::default();
        while let Some(arg) = argv.next() {
            let mut value = |name: &str| {
                argv.next()
                    .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
            };
            match arg.as_str() {
                "--quick" => a.quick = true,
                "--samples" => a.samples = Some(value("--samples")?.parse()?),
                "--only" => {
                    a.only = Some(
                        value("--only")?
                            .split(',')
                            .map(u8::from_str)
                            .collect::<Result<_, _>>()?,
                    )
                }
                "--impl" => {
                    a.implementation = Some(match value("--impl")?.as_str() {
                        "ignis" => Role::Ignis,
                        "raw" => Role::Raw,
                        "diesel" => Role::Diesel,
                        other => {
                            return Err(format!("unknown implementation {other}\n{USAGE}").into())
                        }
                    })
                }
                "--pin" => {
                    a.pin = match value("--pin")?.as_str() {
                        "same" => PinMode::Same,
                        "off" => PinMode::Off,
                        other => return Err(format!("unknown --pin {other}\n{USAGE}").into()),
                    }
                }
                "--instructions" => a.instructions = true,
                "--route" => {
                    a.routes = Some(
                        value("--route")?
                            .split(',')
                            .map(|name| {
                                Route::parse(name)
                                    .ok_or_else(|| format!("unknown route {name}\n{USAGE}"))
                            })
                            .collect::<Result<_, _>>()?,
                    )
                }
                "--ops" => {
                    let n: usize = value("--ops")?.parse()?;
                    if n == 0 {
                        return Err(format!("--ops needs at least 1\n{USAGE}").into());
                    }
                    a.ops = Some(n);
                }
                "--repeat" => {
                    let n: usize = value("--repeat")?.parse()?;
                    if n == 0 {
                        return Err(format!("--repeat needs at least 1\n{USAGE}").into());
                    }
                    a.repeat = Some(n);
                }
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
            }
        }
        if !a.instructions && (a.routes.is_some() || a.ops.is_some() || a.repeat.is_some()) {
            return Err(
                format!("--route, --ops and --repeat go with --instructions\n{USAGE}").into(),
            );
        }
        Ok(a)
    }

    /// What `--instructions` counts: the workloads of `--only` (default 1, 2 and 6), the
    /// routes of `--route` (default all) that `--impl` keeps, `--ops`, `--repeat` (default 5)
    /// and `--pin`.
    fn instruction_plan(&self) -> instructions::Plan {
        let routes = self.routes.clone().unwrap_or_else(|| Route::ALL.to_vec());
        instructions::Plan {
            workloads: self
                .only
                .clone()
                .unwrap_or_else(|| instructions::WORKLOADS.to_vec()),
            routes: routes
                .into_iter()
                .filter(|r| self.implementation.is_none_or(|i| i == r.role()))
                .collect(),
            ops: self.ops,
            repeat: self.repeat.unwrap_or(5),
            pin: self.pin,
        }
    }
}

fn main() -> ExitCode {
    // A child of the export workload: one way of reading the table, measured alone.
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, mode] = argv.as_slice() {
        if flag == "--export-child" {
            return match export::child(mode) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BoxError> {
    let started = Instant::now();
    let args = Args::parse(std::env::args().skip(1))?;
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| "DATABASE_URL is not set: run the benchmark with `cargo xtask bench`")?;
    let admin = DataSourceConfig::from_url(&url)?;
    // Declared first, so it is dropped last: after every pool below is gone.
    let db = BenchDb::create(&admin)?;
    eprintln!("created database {} on {}", db.name, admin.redacted());
    if args.instructions {
        let schema = model::schema()?;
        load::migrate(&db, &schema)?;
        load::load(&db, DATA_SIZE)?;
        return instructions::run(&db, &schema, &args.instruction_plan());
    }
    // PgBouncer rows of workloads 1 and 4 (see `pgbouncer`), or the reason they are left out.
    let bouncer = if args
        .only
        .as_ref()
        .is_none_or(|o| o.contains(&1) || o.contains(&4))
    {
        pgbouncer(&admin)
    } else {
        Err("workloads 1 and 4 not selected".to_string())
    };
    let bouncer_note = match &bouncer {
        Ok(b) => format!(
            "\n**PgBouncer** (workloads 1 and 4): the rows \"unnamed statements\" run ignis-rs with \
             `StatementMode::Unnamed` (`pgbouncer=true`: every statement parsed and planned again \
             in one round trip, no named prepared statement), once directly against the server \
             and once through PgBouncer in transaction pooling mode at {}:{} (one more network \
             hop and PgBouncer's own work per statement). The first shows the cost of unnamed \
             statements, the second adds the cost of the pooler.\n",
            b.host, b.port
        ),
        Err(why) => format!("\n**PgBouncer** rows left out: {why}.\n"),
    };
    eprintln!("{}", bouncer_note.trim());
    let (info_base, results) = bench(&db, &args, bouncer.as_ref().ok())?;
    // The migrator case, "workload 9" for --only, in its own database.
    let migrator = if args.only.as_ref().is_none_or(|o| o.contains(&9)) {
        let mdb = BenchDb::create(&admin)?;
        let tables = if args.quick { 200 } else { 1000 };
        eprintln!("migrator: {tables} tables");
        Some(migrator::run(&mdb, tables, if args.quick { 2 } else { 5 })?)
    } else {
        None
    };
    // The export case, "workload 10" for --only, in its own database.
    let export = if args.only.as_ref().is_none_or(|o| o.contains(&10)) {
        let edb = BenchDb::create(&admin)?;
        let rows = if args.quick { 50_000 } else { 1_000_000 };
        eprintln!("export: {rows} rows");
        Some(export::run(&edb, rows, if args.quick { 1 } else { 3 })?)
    } else {
        None
    };
    // The read replica case, "workload 11" for --only, on a topology of its own.
    let replicas = if args.only.as_ref().is_none_or(|o| o.contains(&11)) {
        Some(replicas::run(args.quick, args.samples, args.pin)?)
    } else {
        None
    };
    let info = RunInfo {
        peak_kb: report::peak_memory_kb(),
        seconds: started.elapsed().as_secs_f64(),
        ..info_base
    };
    let mut text = report::markdown(&info, &results);
    text.push_str(&bouncer_note);
    if let Some(m) = &migrator {
        text.push_str(&migrator::markdown(m));
    }
    if let Some(e) = &export {
        text.push_str(&export::markdown(e));
    }
    if let Some(r) = &replicas {
        text.push_str(&replicas::markdown(r));
    }
    println!("{text}");
    let path = report_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

/// `<target dir>/bench/report.md`: the target directory is the one this binary was built into
/// (`target/release/ignis-bench` → `target`), else `target` under the workspace.
fn report_path() -> PathBuf {
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let profile_dir = exe.parent()?;
        let target = profile_dir.parent()?;
        Some(target.to_path_buf())
    });
    let target = from_exe.unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
    });
    target.join("bench").join("report.md")
}

/// How many times the samples of a full run a workload gets whose sample is one piece
/// (workloads 4 and 5).
pub const SINGLE_PIECE_FACTOR: usize = 3;

/// Operations per sample of each workload, full or quick.
fn specs(quick: bool) -> Vec<Spec> {
    let n = |full: usize, q: usize| if quick { q } else { full };
    let spec = |kind, number, title: &str, ops, unit| Spec {
        kind,
        number,
        title: title.to_string(),
        ops,
        // One transaction (4) and one call (5) stay whole; the rest is interleaved in tenths.
        chunks: if matches!(kind, Kind::CreateInTransaction | Kind::CreateAll) {
            1
        } else {
            10
        },
        unit,
    };
    let (f1, f2, f3, f4, f5, f6, f7, f8) = (
        n(5000, 500),
        n(2000, 200),
        n(2000, 100),
        n(2000, 200),
        n(10_000, 1000),
        n(1000, 50),
        n(20_000, 1000),
        n(2000, 100),
    );
    vec![
        spec(Kind::FindById, 1, &format!("find by id, {f1} random ids, one connection"), f1, Unit::OpsPerSec),
        spec(
            Kind::FindFiltered,
            2,
            &format!("find, where (2 conditions) + order (2 keys) + limit 20, {f2} times, one connection"),
            f2,
            Unit::OpsPerSec,
        ),
        spec(Kind::Create, 3, &format!("create one row, autocommit, {f3} times, one connection"), f3, Unit::OpsPerSec),
        spec(
            Kind::CreateInTransaction,
            4,
            &format!("create {f4} rows one by one inside one transaction"),
            f4,
            Unit::OpsPerSec,
        ),
        spec(Kind::CreateAll, 5, &format!("create_all of {f5} rows in one call"), f5, Unit::Millis),
        spec(
            Kind::Include,
            6,
            &format!("find 10 users including orders including items, {f6} times, one connection"),
            f6,
            Unit::OpsPerSec,
        ),
        spec(
            Kind::ParallelFindById,
            7,
            &format!("find by id from 8 rayon threads through one pool of 8, {f7} ids"),
            f7,
            Unit::OpsPerSec,
        ),
        spec(
            Kind::SerializableRmw,
            8,
            &format!("serializable read-modify-write with retries, 4 threads, pool of 4, {f8} total"),
            f8,
            Unit::OpsPerSec,
        ),
    ]
}

/// PgBouncer in transaction pooling mode in front of the server of `admin`: `PGBOUNCER_URL`
/// when set, else the local cluster's PgBouncer (started now through `ignis-cluster`, as
/// `cargo xtask db start --pgbouncer` does) when `admin` is the local cluster. The result has
/// PgBouncer's host and port and `admin`'s user and password.
///
/// # Errors
/// Why there is none, as a sentence for the report.
fn pgbouncer(admin: &DataSourceConfig) -> Result<DataSourceConfig, String> {
    if let Some(url) = std::env::var("PGBOUNCER_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let b = DataSourceConfig::from_url(&url).map_err(|e| format!("PGBOUNCER_URL: {e}"))?;
        let mut c = admin.clone();
        c.host = b.host;
        c.port = b.port;
        return Ok(c);
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .ok_or("no workspace root")?;
    let mut cluster =
        ignis_cluster::LocalCluster::open(&root).map_err(|e| format!("no local cluster ({e})"))?;
    let local = cluster.running_port().ok().flatten();
    let is_local =
        matches!(admin.host.as_str(), "127.0.0.1" | "localhost") && local == Some(admin.port);
    if !is_local {
        return Err(format!(
            "the benchmark's database {admin} is not the local cluster, and PGBOUNCER_URL is not set"
        ));
    }
    let (port, _) = cluster
        .start_pgbouncer()
        .map_err(|e| format!("PgBouncer could not be started ({e})"))?;
    let mut c = admin.clone();
    c.host = "127.0.0.1".into();
    c.port = port;
    Ok(c)
}

fn bench(
    db: &BenchDb,
    args: &Args,
    bouncer: Option<&DataSourceConfig>,
) -> Result<(RunInfo, Vec<WorkloadResult>), BoxError> {
    let size = DATA_SIZE;
    let schema = model::schema()?;
    let steps = load::migrate(db, &schema)?;
    eprintln!("migrated: {steps} step(s)");
    load::load(db, size)?;

    let samples = args.samples.unwrap_or(if args.quick { 3 } else { 7 });
    let single_piece_samples = if args.samples.is_none() && !args.quick {
        samples * SINGLE_PIECE_FACTOR
    } else {
        samples
    };
    let pg_config = postgres::Config::from_str(&db.url())?;

    // ignis-rs
    let ig = ignis_impl::Ignis::new(db, &schema)?;
    let single = RefCell::new(ignis_impl::Single::new(db, &schema)?);
    // The other ignis-rs routes of workloads 1-6 (serde and JSON rows, held connection): a
    // connection of their own, so the headline route's connection serves it alone, as raw's
    // and Diesel's serve theirs.
    let single_info = RefCell::new(ignis_impl::Single::new(db, &schema)?);
    // ignis-rs with unnamed statements, directly and through PgBouncer (workloads 1 and 4).
    let unnamed_config = |server: Option<&DataSourceConfig>| {
        let mut c = db.config(1);
        if let Some(s) = server {
            c.host.clone_from(&s.host);
            c.port = s.port;
        }
        c.statement_mode = ignis_tx::StatementMode::Unnamed;
        c
    };
    let unnamed = RefCell::new(ignis_impl::Single::over(unnamed_config(None), &schema)?);
    let via_bouncer = match bouncer {
        Some(b) => Some(RefCell::new(ignis_impl::Single::over(
            unnamed_config(Some(b)),
            &schema,
        )?)),
        None => None,
    };
    // raw
    let raw1 = RefCell::new(raw::RawConn::connect(&pg_config)?);
    let postgres_version: String = raw1
        .borrow_mut()
        .client
        .query_one("SELECT version()", &[])?
        .try_get(0)?;
    let raw8 = raw::pool(&pg_config, 8)?;
    let raw4 = raw::pool(&pg_config, 4)?;
    // Diesel
    let dconn = RefCell::new(diesel_impl::pool(&db.url(), 1)?.get()?);
    let dpool8 = diesel_impl::pool(&db.url(), 8)?;
    let dpool4 = diesel_impl::pool(&db.url(), 4)?;
    // Placement of the single-connection workloads (see `pin`).
    let pinner = Pinner::new(args.pin);
    pinner.pin_backend(ignis_backend(&single.borrow())?);
    pinner.pin_backend(ignis_backend(&single_info.borrow())?);
    pinner.pin_backend(ignis_backend(&unnamed.borrow())?);
    pinner.pin_backend(raw_backend(&mut raw1.borrow_mut())?);
    pinner.pin_backend(diesel_backend(&mut dconn.borrow_mut())?);
    // Threads
    let threads8 = rayon::ThreadPoolBuilder::new().num_threads(8).build()?;
    let threads4 = rayon::ThreadPoolBuilder::new().num_threads(4).build()?;

    let wanted = |role: Role| {
        args.implementation
            .is_none_or(|r| r == role || (r == Role::Ignis && role == Role::Info))
    };
    let all_specs = specs(args.quick);
    // Reads first, on the data set as loaded; then the writes (which add users), then the
    // updates of workload 8.
    let order = [1u8, 2, 6, 7, 3, 4, 5, 8];
    let mut results: Vec<WorkloadResult> = Vec::new();
    for number in order {
        if args.only.as_ref().is_some_and(|o| !o.contains(&number)) {
            continue;
        }
        let Some(spec) = all_specs.iter().find(|s| s.number == number) else {
            continue;
        };
        eprint!("workload {number}: {} ", spec.title);
        let kind = spec.kind;
        if matches!(kind, Kind::ParallelFindById | Kind::SerializableRmw) {
            pinner.unpin_client();
        } else {
            pinner.pin_client();
        }
        let make =
            |ops: usize, seed: u64| workload::inputs(kind, ops, seed, size.users, size.orders);
        {
            let mut variants: Vec<Variant<'_>> = Vec::new();
            let (ig, single, single_info, raw1, dconn) =
                (&ig, &single, &single_info, &raw1, &dconn);
            let (unnamed, via_bouncer) = (&unnamed, via_bouncer.as_ref());
            let (raw8, raw4, dpool8, dpool4) = (&raw8, &raw4, &dpool8, &dpool4);
            let (t8, t4) = (&threads8, &threads4);
            let (schema, pg_config, pinner) = (&schema, &pg_config, &pinner);
            // New connections before each sample (see workload::measure).
            let reset_ignis = move || -> Result<(), BoxError> {
                *single.borrow_mut() = ignis_impl::Single::new(db, schema)?;
                pinner.pin_backend(ignis_backend(&single.borrow())?);
                *single_info.borrow_mut() = ignis_impl::Single::new(db, schema)?;
                pinner.pin_backend(ignis_backend(&single_info.borrow())?);
                Ok(())
            };
            let reset_raw = move || -> Result<(), BoxError> {
                *raw1.borrow_mut() = raw::RawConn::connect(pg_config)?;
                pinner.pin_backend(raw_backend(&mut raw1.borrow_mut())?);
                Ok(())
            };
            let url = db.url();
            let reset_diesel = move || -> Result<(), BoxError> {
                *dconn.borrow_mut() = diesel_impl::pool(&url, 1)?.get()?;
                pinner.pin_backend(diesel_backend(&mut dconn.borrow_mut())?);
                Ok(())
            };
            // The three single-connection implementations of a workload.
            macro_rules! single {
                ($ignis:expr, $raw:expr, $diesel:expr) => {{
                    let (ignis_label, ignis_run) = $ignis;
                    variants.push(
                        Variant::new(ignis_label, Role::Ignis, move |i| {
                            ignis_run(&single.borrow(), i)
                        })
                        .with_reset(reset_ignis.clone()),
                    );
                    let (raw_label, raw_run) = $raw;
                    variants.push(
                        Variant::new(raw_label, Role::Raw, move |i| {
                            raw_run(&mut raw1.borrow_mut(), i)
                        })
                        .with_reset(reset_raw.clone()),
                    );
                    let (diesel_label, diesel_run) = $diesel;
                    variants.push(
                        Variant::new(diesel_label, Role::Diesel, move |i| {
                            diesel_run(&mut dconn.borrow_mut(), i)
                        })
                        .with_reset(reset_diesel.clone()),
                    );
                }};
            }
            match kind {
                Kind::FindById => {
                    single!(
                        (
                            "ignis-rs (DefaultCrudRepository<TypedUser>::find_by_id, derived FromRow, pool of 1)",
                            ignis_impl::find_by_id_from_row
                        ),
                        ("raw postgres", raw::find_by_id),
                        ("Diesel", diesel_impl::find_by_id)
                    );
                    variants.insert(
                        1,
                        Variant::new(
                            "ignis-rs (find_by_id_as::<TypedUser>, serde typed rows, pool of 1)",
                            Role::Info,
                            move |i| ignis_impl::find_by_id_typed(&single_info.borrow(), i),
                        ),
                    );
                    variants.insert(
                        2,
                        Variant::new(
                            "ignis-rs (find_by_id, dynamic JSON rows, pool of 1)",
                            Role::Info,
                            move |i| ignis_impl::find_by_id(&single_info.borrow(), i),
                        ),
                    );
                    variants.insert(
                        3,
                        Variant::new(
                            "ignis-rs (find_by_id, JSON rows, on a held connection: .on(&mut conn))",
                            Role::Info,
                            move |i| ignis_impl::find_by_id_held(&single_info.borrow(), i),
                        ),
                    );
                    variants.push(Variant::new(
                        "ignis-rs (DefaultCrudRepository<TypedUser>::find_by_id, unnamed statements, direct, pool of 1)",
                        Role::Info,
                        move |i| ignis_impl::find_by_id_from_row(&unnamed.borrow(), i),
                    ));
                    if let Some(b) = via_bouncer {
                        variants.push(Variant::new(
                            "ignis-rs (DefaultCrudRepository<TypedUser>::find_by_id, unnamed statements, through PgBouncer, pool of 1)",
                            Role::Info,
                            move |i| ignis_impl::find_by_id_from_row(&b.borrow(), i),
                        ));
                    }
                }
                Kind::FindFiltered => {
                    single!(
                        (
                            "ignis-rs (DefaultCrudRepository<TypedOrder>::find, derived FromRow, pool of 1)",
                            ignis_impl::find_filtered_from_row
                        ),
                        ("raw postgres", raw::find_filtered),
                        ("Diesel", diesel_impl::find_filtered)
                    );
                    variants.insert(
                        1,
                        Variant::new(
                            "ignis-rs (find_as::<TypedOrder>, serde typed rows, pool of 1)",
                            Role::Info,
                            move |i| ignis_impl::find_filtered_typed(&single_info.borrow(), i),
                        ),
                    );
                    variants.insert(
                        2,
                        Variant::new(
                            "ignis-rs (find, dynamic JSON rows, pool of 1)",
                            Role::Info,
                            move |i| ignis_impl::find_filtered(&single_info.borrow(), i),
                        ),
                    );
                }
                Kind::Create => {
                    single!(
                        (
                            "ignis-rs (DefaultCrudRepository<TypedUser>::create(&NewTypedUser), derived Writable, pool of 1)",
                            ignis_impl::create_typed
                        ),
                        ("raw postgres", raw::create),
                        ("Diesel", diesel_impl::create)
                    );
                    variants.insert(
                        1,
                        Variant::new(
                            "ignis-rs (create, JSON data and rows, pool of 1)",
                            Role::Info,
                            move |i| ignis_impl::create(&single_info.borrow(), i),
                        ),
                    );
                }
                Kind::CreateInTransaction => {
                    single!(
                        (
                            "ignis-rs (DefaultCrudRepository<TypedUser>::create(&NewTypedUser) on .on(&mut tx))",
                            ignis_impl::create_in_transaction_typed
                        ),
                        ("raw postgres", raw::create_in_transaction),
                        ("Diesel", diesel_impl::create_in_transaction)
                    );
                    variants.insert(
                        1,
                        Variant::new(
                            "ignis-rs (create on .on(&mut tx), JSON data and rows)",
                            Role::Info,
                            move |i| ignis_impl::create_in_transaction(&single_info.borrow(), i),
                        ),
                    );
                    variants.push(Variant::new(
                        "ignis-rs (create on .on(&mut tx), unnamed statements, direct)",
                        Role::Info,
                        move |i| ignis_impl::create_in_transaction(&unnamed.borrow(), i),
                    ));
                    if let Some(b) = via_bouncer {
                        variants.push(Variant::new(
                            "ignis-rs (create on .on(&mut tx), unnamed statements, through PgBouncer)",
                            Role::Info,
                            move |i| ignis_impl::create_in_transaction(&b.borrow(), i),
                        ));
                    }
                }
                Kind::CreateAll => {
                    single!(
                        (
                            "ignis-rs (create_all, should_return(false))",
                            |s: &ignis_impl::Single, i: &workload::Inputs| {
                                ignis_impl::create_all(s, i, false)
                            }
                        ),
                        ("raw postgres (multi-row INSERT)", raw::create_all_insert),
                        ("Diesel (batch insert)", diesel_impl::create_all)
                    );
                    variants.insert(
                        1,
                        Variant::new(
                            "ignis-rs (create_all, rows returned: the default)",
                            Role::Info,
                            move |i| ignis_impl::create_all(&single_info.borrow(), i, true),
                        ),
                    );
                    variants.insert(
                        3,
                        Variant::new("raw postgres (binary COPY)", Role::Raw, move |i| {
                            raw::create_all_copy(&mut raw1.borrow_mut(), i)
                        }),
                    );
                }
                Kind::Include => {
                    single!(
                        (
                            "ignis-rs (DefaultCrudRepository<TypedUserWithOrders>::find + include, derived FromRow, pool of 1)",
                            ignis_impl::include_from_row
                        ),
                        ("raw postgres (3 queries, = ANY($1))", raw::include),
                        ("Diesel (belonging_to + grouped_by)", diesel_impl::include)
                    );
                    variants.insert(
                        1,
                        Variant::new(
                            "ignis-rs (find_as + include, serde typed rows, pool of 1)",
                            Role::Info,
                            move |i| ignis_impl::include_typed(&single_info.borrow(), i),
                        ),
                    );
                    variants.insert(
                        2,
                        Variant::new(
                            "ignis-rs (find + include, dynamic JSON rows, pool of 1)",
                            Role::Info,
                            move |i| ignis_impl::include(&single_info.borrow(), i),
                        ),
                    );
                }
                Kind::ParallelFindById => {
                    variants.push(Variant::new(
                        "ignis-rs (DefaultCrudRepository<TypedUser>::find_by_id, derived FromRow, pool of 8)",
                        Role::Ignis,
                        move |i| ignis_impl::parallel_find_by_id_from_row(ig, t8, i),
                    ));
                    variants.push(Variant::new(
                        "ignis-rs (find_by_id_as::<TypedUser>, serde typed rows, pool of 8)",
                        Role::Info,
                        move |i| ignis_impl::parallel_find_by_id_typed(ig, t8, i),
                    ));
                    variants.push(Variant::new(
                        "ignis-rs (find_by_id, dynamic JSON rows, pool of 8)",
                        Role::Info,
                        move |i| ignis_impl::parallel_find_by_id(ig, t8, i),
                    ));
                    variants.push(Variant::new(
                        "raw postgres (r2d2 pool of 8)",
                        Role::Raw,
                        move |i| raw::parallel_find_by_id(raw8, t8, i),
                    ));
                    variants.push(Variant::new(
                        "Diesel (r2d2 pool of 8)",
                        Role::Diesel,
                        move |i| diesel_impl::parallel_find_by_id(dpool8, t8, i),
                    ));
                }
                Kind::SerializableRmw => {
                    variants.push(Variant::new(
                        "ignis-rs (DataSource::transaction, serializable, retries; typed find_by_id_with and update_by_id with TypedOrderPatch)",
                        Role::Ignis,
                        move |i| ignis_impl::serializable_rmw_typed(ig, t4, i),
                    ));
                    variants.push(Variant::new(
                        "ignis-rs (the same with JSON rows and JSON data)",
                        Role::Info,
                        move |i| ignis_impl::serializable_rmw(ig, t4, i),
                    ));
                    variants.push(Variant::new(
                        "raw postgres (retry by hand)",
                        Role::Raw,
                        move |i| raw::serializable_rmw(raw4, t4, i),
                    ));
                    variants.push(Variant::new(
                        "Diesel (build_transaction().serializable(), retry by hand)",
                        Role::Diesel,
                        move |i| diesel_impl::serializable_rmw(dpool4, t4, i),
                    ));
                }
            }
            variants.retain(|v| wanted(v.role));
            let warmup = match kind {
                Kind::CreateAll => spec.ops,
                _ => (spec.ops / 10).max(10),
            };
            // A sample of workloads 4 and 5 is one timed piece per implementation, where the
            // others' are ten: without a `--samples` of the caller's, they get three times the
            // samples, so that a slow phase of the machine moves their median no more than it
            // moves the others'.
            let samples = if spec.chunks == 1 {
                single_piece_samples
            } else {
                samples
            };
            let measured = workload::measure(spec, samples, warmup, make, &mut variants)?;
            drop(variants);
            eprintln!(" done");
            results.push(WorkloadResult {
                spec: spec.clone(),
                measured,
            });
        }
    }
    results.sort_by_key(|r| r.spec.number);
    // Before `available_parallelism`, which counts only the CPUs this thread may use.
    pinner.unpin_client();

    let info = RunInfo {
        mode: if args.quick { "quick" } else { "full" },
        samples,
        single_piece_samples,
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        cpu: report::cpu_model(),
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        postgres: postgres_version,
        data: format!(
            "{} users, {} orders, {} order items (bulk-loaded with COPY, then ANALYZE), in a fresh database",
            size.users,
            size.orders,
            size.orders * size.items_per_order
        ),
        placement: pinner.describe(),
        peak_kb: None,
        seconds: 0.0,
    };
    Ok((info, results))
}

/// The server process of ignis-rs's one-connection datasource.
fn ignis_backend(single: &ignis_impl::Single) -> Result<i32, BoxError> {
    let mut conn = single.ds1.connection()?;
    Ok(conn.query_one("SELECT pg_backend_pid()", &[])?.try_get(0)?)
}

/// The server process of the raw client's connection.
fn raw_backend(conn: &mut raw::RawConn) -> Result<i32, BoxError> {
    Ok(conn
        .client
        .query_one("SELECT pg_backend_pid()", &[])?
        .try_get(0)?)
}

/// The server process of Diesel's single connection.
fn diesel_backend(conn: &mut diesel::PgConnection) -> Result<i32, BoxError> {
    use diesel::RunQueryDsl;
    Ok(
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
            "pg_backend_pid()",
        ))
        .get_result::<i32>(conn)?,
    )
}

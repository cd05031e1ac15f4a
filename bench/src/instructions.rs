//! Instruction counts per operation (`--instructions`): the read workloads 1, 2 and 6, one
//! implementation and row route at a time, each run once for a fixed number of operations
//! inside [`counted_region`], so that callgrind can count that region alone.
//!
//! `cargo xtask bench --instructions` runs this binary under `valgrind --tool=callgrind
//! --collect-atstart=no --dump-after=`[`DUMP_AFTER`]` --toggle-collect=`[`COLLECT_IN`]:
//! collection is on only while the calling thread runs the batch, and every return from the
//! region writes one callgrind dump holding exactly that batch's costs. Setup (database, load, connections, warm-up, building the inputs) happens outside
//! the region and is never counted. For each region, in the order the dumps are written, one
//! line goes to stdout:
//!
//! ```text
//! counted <workload> <route> <operations> <checksum>
//! ```
//!
//! Without valgrind the mode still runs (a quick check that every case works), and prints the
//! same lines.

use std::sync::Arc;

use ignis_schema::Schema;

use crate::load::BenchDb;
use crate::pin::{PinMode, Pinner};
use crate::workload::{self, Inputs, Kind, Outcome, Role};
use crate::{diesel_impl, ignis_impl, raw, BoxError, DATA_SIZE};

/// The workloads that `--instructions` counts: the single-connection reads, which leave the
/// data set as loaded.
pub const WORKLOADS: [u8; 3] = [1, 2, 6];

/// The function after whose every return callgrind writes a dump (`--dump-after`), by the
/// name callgrind gives it (demangled, without the hash).
pub const DUMP_AFTER: &str = "ignis_bench::instructions::counted_region";

/// The function inside which callgrind collects (`--toggle-collect`, with
/// `--collect-atstart=no`). A function of its own: callgrind 3.19 applies only one of
/// `--dump-after` and `--toggle-collect` to a function named by both.
pub const COLLECT_IN: &str = "ignis_bench::instructions::counted_work";

/// The first word of the line printed for each counted region.
pub const LINE_TAG: &str = "counted";

/// One implementation and row route, as the "Instructions per operation" table of
/// `bench/README.md` has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// ignis-rs, dynamic JSON rows (`find`, `find_by_id`).
    Json,
    /// ignis-rs, serde typed rows (`find_as`, `find_by_id_as`).
    Serde,
    /// ignis-rs, typed repositories over `#[derive(FromRow)]` structs (`find`, `find_by_id`).
    FromRow,
    /// The raw `postgres` client.
    Raw,
    /// Diesel.
    Diesel,
}

impl Route {
    /// Every route, in the table's column order.
    pub const ALL: [Route; 5] = [
        Route::Json,
        Route::Serde,
        Route::FromRow,
        Route::Raw,
        Route::Diesel,
    ];

    /// The name used by `--route` and in the printed lines.
    pub fn name(self) -> &'static str {
        match self {
            Route::Json => "json",
            Route::Serde => "serde",
            Route::FromRow => "from-row",
            Route::Raw => "raw",
            Route::Diesel => "diesel",
        }
    }

    /// The route called `name` ([`Route::name`]), if any.
    pub fn parse(name: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The implementation behind the route (what `--impl` selects).
    pub fn role(self) -> Role {
        match self {
            Route::Json | Route::Serde | Route::FromRow => Role::Ignis,
            Route::Raw => Role::Raw,
            Route::Diesel => Role::Diesel,
        }
    }
}

/// What to count: workloads (a subset of [`WORKLOADS`]), routes, and operations per region
/// (default: the `--quick` size of each workload).
#[derive(Debug, Clone)]
pub struct Plan {
    /// Workload numbers, each one of [`WORKLOADS`].
    pub workloads: Vec<u8>,
    /// Routes, in the order they run.
    pub routes: Vec<Route>,
    /// Operations per counted region; `None`: the workload's `--quick` size.
    pub ops: Option<usize>,
    /// Counted regions per workload and route, one after the other on the same inputs (the
    /// counts of a batch that reads 20 rows or more move by about 1% between runs, with how
    /// the server's answers arrive; several counts give a median).
    pub repeat: usize,
    /// Where the client thread and the three backends run (see [`crate::pin`]): on one CPU by
    /// default, as in a timed run, so that every answer is complete when the client reads it.
    pub pin: PinMode,
}

/// The connections of every route, opened once (pool of one for ignis-rs, one connection for
/// the raw client and Diesel, as in workloads 1-6 of a timed run).
struct Connections {
    ignis: ignis_impl::Single,
    raw: raw::RawConn,
    diesel: r2d2::PooledConnection<diesel::r2d2::ConnectionManager<diesel::PgConnection>>,
}

impl Connections {
    /// Runs one batch of workload `kind` through `route`.
    fn run(&mut self, kind: Kind, route: Route, inp: &Inputs) -> Result<Outcome, BoxError> {
        let c = self;
        match (kind, route) {
            (Kind::FindById, Route::Json) => ignis_impl::find_by_id(&c.ignis, inp),
            (Kind::FindById, Route::Serde) => ignis_impl::find_by_id_typed(&c.ignis, inp),
            (Kind::FindById, Route::FromRow) => ignis_impl::find_by_id_from_row(&c.ignis, inp),
            (Kind::FindById, Route::Raw) => raw::find_by_id(&mut c.raw, inp),
            (Kind::FindById, Route::Diesel) => diesel_impl::find_by_id(&mut c.diesel, inp),
            (Kind::FindFiltered, Route::Json) => ignis_impl::find_filtered(&c.ignis, inp),
            (Kind::FindFiltered, Route::Serde) => ignis_impl::find_filtered_typed(&c.ignis, inp),
            (Kind::FindFiltered, Route::FromRow) => {
                ignis_impl::find_filtered_from_row(&c.ignis, inp)
            }
            (Kind::FindFiltered, Route::Raw) => raw::find_filtered(&mut c.raw, inp),
            (Kind::FindFiltered, Route::Diesel) => diesel_impl::find_filtered(&mut c.diesel, inp),
            (Kind::Include, Route::Json) => ignis_impl::include(&c.ignis, inp),
            (Kind::Include, Route::Serde) => ignis_impl::include_typed(&c.ignis, inp),
            (Kind::Include, Route::FromRow) => ignis_impl::include_from_row(&c.ignis, inp),
            (Kind::Include, Route::Raw) => raw::include(&mut c.raw, inp),
            (Kind::Include, Route::Diesel) => diesel_impl::include(&mut c.diesel, inp),
            (other, _) => Err(format!("no instruction count for workload {other:?}").into()),
        }
    }
}

/// The region of one count (see the module documentation): runs one batch through
/// [`counted_work`]. Callgrind writes a dump when this function returns ([`DUMP_AFTER`]),
/// after collection has stopped at the end of [`counted_work`]: each dump holds one batch.
/// Never inlined, and no tail call, so that both functions are entered and left as such.
///
/// # Errors
/// Whatever the batch returns.
#[inline(never)]
fn counted_region(
    run: &mut dyn FnMut(&Inputs) -> Result<Outcome, BoxError>,
    inputs: &Inputs,
) -> Result<Outcome, BoxError> {
    let outcome = counted_work(run, inputs);
    std::hint::black_box(&outcome);
    outcome
}

/// The batch whose instructions callgrind collects: collection is on from entry to exit
/// ([`COLLECT_IN`]).
///
/// # Errors
/// Whatever the batch returns.
#[inline(never)]
fn counted_work(
    run: &mut dyn FnMut(&Inputs) -> Result<Outcome, BoxError>,
    inputs: &Inputs,
) -> Result<Outcome, BoxError> {
    let outcome = run(std::hint::black_box(inputs));
    std::hint::black_box(&outcome);
    outcome
}

/// Counts `plan` on the loaded benchmark database `db`: opens one connection per
/// implementation (placed as `plan.pin` says), then for each workload builds one batch of
/// inputs (the same for every route), and for each route runs a warm-up batch (statements
/// prepared, caches filled), then the batch `plan.repeat` times inside [`counted_region`],
/// printing a line after each. The routes of a workload
/// must return the same checksum.
///
/// # Errors
/// No route to count, a workload outside [`WORKLOADS`], connection or query errors, or routes that disagree.
pub fn run(db: &BenchDb, schema: &Arc<Schema>, plan: &Plan) -> Result<(), BoxError> {
    if plan.routes.is_empty() {
        return Err("--instructions: no route left to count (see --impl and --route)".into());
    }
    eprintln!("counting inside {COLLECT_IN}, one dump after each {DUMP_AFTER}");
    let pg_config: postgres::Config = db.url().parse()?;
    let mut conns = Connections {
        ignis: ignis_impl::Single::new(db, schema)?,
        raw: raw::RawConn::connect(&pg_config)?,
        diesel: diesel_impl::pool(&db.url(), 1)?.get()?,
    };
    let pinner = Pinner::new(plan.pin);
    pinner.pin_client();
    pinner.pin_backend(crate::ignis_backend(&conns.ignis)?);
    pinner.pin_backend(crate::raw_backend(&mut conns.raw)?);
    pinner.pin_backend(crate::diesel_backend(&mut conns.diesel)?);
    let quick = crate::specs(true);
    for &number in &plan.workloads {
        let spec = quick
            .iter()
            .find(|s| s.number == number)
            .filter(|_| WORKLOADS.contains(&number))
            .ok_or_else(|| {
                format!("--instructions counts workloads 1, 2 and 6, not workload {number}")
            })?;
        let ops = plan.ops.unwrap_or(spec.ops).max(1);
        let make = |ops: usize, seed: u64| {
            workload::inputs(spec.kind, ops, seed, DATA_SIZE.users, DATA_SIZE.orders)
        };
        let warm = make((ops / 10).max(10), 1000 + u64::from(number));
        let counted = make(ops, 5000 + u64::from(number));
        let mut first: Option<(Route, i64)> = None;
        for &route in &plan.routes {
            conns
                .run(spec.kind, route, &warm)
                .map_err(|e| format!("workload {number} ({}) warm-up: {e}", route.name()))?;
            let mut batch = |inp: &Inputs| conns.run(spec.kind, route, inp);
            let mut outcome = Outcome::default();
            for _ in 0..plan.repeat.max(1) {
                outcome = counted_region(&mut batch, &counted)
                    .map_err(|e| format!("workload {number} ({}): {e}", route.name()))?;
                println!(
                    "{LINE_TAG} {number} {} {} {}",
                    route.name(),
                    outcome.ops,
                    outcome.check
                );
            }
            match first {
                None => first = Some((route, outcome.check)),
                Some((r, check)) if check != outcome.check => {
                    return Err(format!(
                        "workload {number}: routes disagree: {} returned checksum {check}, {} {}",
                        r.name(),
                        route.name(),
                        outcome.check
                    )
                    .into())
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_names_round_trip() {
        for route in Route::ALL {
            assert_eq!(Route::parse(route.name()), Some(route));
        }
        assert_eq!(Route::parse("fromrow"), None);
    }

    #[test]
    fn callgrind_names_are_the_functions() {
        assert_eq!(std::any::type_name_of_val(&counted_region), DUMP_AFTER);
        assert_eq!(std::any::type_name_of_val(&counted_work), COLLECT_IN);
    }
}

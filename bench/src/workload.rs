//! The workloads, their inputs, and the measuring loop: per sample, every implementation runs the
//! same batch of operations, piece by piece, each piece in a shuffled order (B A C, C B A, ...),
//! after one warm-up batch each.

use std::time::Instant;

use cpu_time::ProcessTime;

use serde_json::{json, Value};

use crate::model::{NewUser, STATUSES};
use crate::BoxError;

/// Which workload, numbered as in the report and `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1. find by id.
    FindById,
    /// 2. find with where + order + limit 20.
    FindFiltered,
    /// 3. create one row, autocommit.
    Create,
    /// 4. create rows one by one inside one transaction.
    CreateInTransaction,
    /// 5. create_all of many rows in one call.
    CreateAll,
    /// 6. users including orders including items.
    Include,
    /// 7. find by id from 8 threads through a pool of 8.
    ParallelFindById,
    /// 8. serializable read-modify-write with retries, 4 threads.
    SerializableRmw,
}

/// How a workload's numbers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Operations per second (higher is better).
    OpsPerSec,
    /// Milliseconds per call (lower is better).
    Millis,
}

/// A workload and its size in this run.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Which one.
    pub kind: Kind,
    /// Its number in the report and for `--only` (1-8).
    pub number: u8,
    /// Title for the report.
    pub title: String,
    /// Operations per sample (rows for create_all).
    pub ops: usize,
    /// Pieces each sample's batch is cut into, interleaved across implementations (1 where the
    /// batch is one unit: one transaction, one create_all call).
    pub chunks: usize,
    /// How the numbers read.
    pub unit: Unit,
}

/// The role an implementation plays in the ratios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// ignis-rs, the subject.
    Ignis,
    /// The raw `postgres` client (the fastest raw variant is the floor).
    Raw,
    /// Diesel.
    Diesel,
    /// Shown for information, not used in ratios.
    Info,
}

/// What one batch did: operations, a checksum the implementations must agree on (so they did
/// the same work and really decoded the rows), and retried transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Operations done.
    pub ops: usize,
    /// Checksum over the rows returned (e.g. sum of ages).
    pub check: i64,
    /// Transactions re-run after a serialization failure.
    pub retries: u64,
}

impl Outcome {
    /// Adds another outcome (for parallel reductions).
    pub fn merge(self, other: Outcome) -> Outcome {
        Outcome {
            ops: self.ops + other.ops,
            check: self.check + other.check,
            retries: self.retries + other.retries,
        }
    }
}

/// The inputs of one batch, in the native form of each implementation (built outside the timed
/// region): plain values for the raw client and Diesel, JSON for ignis-rs (what an Ignis API
/// receives).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Ids to look up (workloads 1, 7, 8).
    pub ids: Vec<i32>,
    /// The same ids as JSON.
    pub ids_json: Vec<Value>,
    /// (status, minimum total) of workload 2.
    pub searches: Vec<(String, f64)>,
    /// The same searches as Ignis filters.
    pub search_filters: Vec<Value>,
    /// Users to create (workloads 3, 4, 5).
    pub new_users: Vec<NewUser>,
    /// The same users as JSON.
    pub new_users_json: Vec<Value>,
    /// The same users as ignis-rs's typed inserts (`#[derive(Writable)]`).
    pub new_users_typed: Vec<crate::ignis_impl::NewTypedUser>,
    /// Groups of 10 user ids (workload 6).
    pub groups: Vec<Vec<i32>>,
    /// The same groups as Ignis filters with includes.
    pub group_filters: Vec<Value>,
}

/// The Ignis filter of workload 2.
pub fn search_filter(status: &str, min_total: f64) -> Value {
    json!({
        "where": {"status": status, "total": {"gt": min_total}},
        "order": ["createdAt DESC", "id"],
        "limit": 20
    })
}

/// The Ignis filter of workload 6.
pub fn include_filter(ids: &[i32]) -> Value {
    json!({
        "where": {"id": {"inq": ids}},
        "include": [{"relation": "orders", "scope": {"include": ["items"]}}]
    })
}

/// Builds the inputs of `ops` operations of workload `kind` from a seeded generator.
pub fn inputs(kind: Kind, ops: usize, seed: u64, users: i32, orders: i32) -> Inputs {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut inp = Inputs::default();
    match kind {
        Kind::FindById | Kind::ParallelFindById => {
            inp.ids = (0..ops).map(|_| rng.i32(1..=users)).collect();
        }
        Kind::SerializableRmw => {
            inp.ids = (0..ops).map(|_| rng.i32(1..=orders)).collect();
        }
        Kind::FindFiltered => {
            inp.searches = (0..ops)
                .map(|_| {
                    (
                        STATUSES[rng.usize(0..STATUSES.len())].to_string(),
                        f64::from(rng.u32(0..900)),
                    )
                })
                .collect();
            inp.search_filters = inp
                .searches
                .iter()
                .map(|(s, t)| search_filter(s, *t))
                .collect();
        }
        Kind::Create | Kind::CreateInTransaction | Kind::CreateAll => {
            inp.new_users = (0..ops)
                .map(|_| {
                    let n = rng.u32(..);
                    NewUser {
                        name: format!("new user {n}"),
                        email: format!("new{n}@example.com"),
                        age: rng.i32(18..80),
                    }
                })
                .collect();
            inp.new_users_json = inp.new_users.iter().map(NewUser::to_json).collect();
            inp.new_users_typed = inp
                .new_users
                .iter()
                .map(|u| crate::ignis_impl::NewTypedUser {
                    id: None,
                    name: u.name.clone(),
                    email: u.email.clone(),
                    age: u.age,
                    created_at: None,
                })
                .collect();
        }
        Kind::Include => {
            inp.groups = (0..ops)
                .map(|_| (0..10).map(|_| rng.i32(1..=users)).collect())
                .collect();
            inp.group_filters = inp.groups.iter().map(|g| include_filter(g)).collect();
        }
    }
    inp.ids_json = inp.ids.iter().map(|&i| Value::from(i)).collect();
    inp
}

/// Runs one batch of a workload.
pub type Batch<'a> = Box<dyn FnMut(&Inputs) -> Result<Outcome, BoxError> + 'a>;

/// Replaces an implementation's connection with a new one (untimed, before each sample).
pub type Reset<'a> = Box<dyn FnMut() -> Result<(), BoxError> + 'a>;

/// One implementation of a workload: a label, its role, the batch it runs, and how to give it a
/// new connection.
pub struct Variant<'a> {
    /// Shown in the report.
    pub label: String,
    /// Its role in the ratios.
    pub role: Role,
    /// Runs one batch.
    pub run: Batch<'a>,
    /// Opens a new connection for the next sample (single-connection workloads).
    pub reset: Option<Reset<'a>>,
}

impl<'a> Variant<'a> {
    /// A variant.
    pub fn new(
        label: impl Into<String>,
        role: Role,
        run: impl FnMut(&Inputs) -> Result<Outcome, BoxError> + 'a,
    ) -> Self {
        Variant {
            label: label.into(),
            role,
            run: Box::new(run),
            reset: None,
        }
    }

    /// The same variant, reconnected before each sample by `reset`.
    pub fn with_reset(mut self, reset: impl FnMut() -> Result<(), BoxError> + 'a) -> Self {
        self.reset = Some(Box::new(reset));
        self
    }
}

/// The samples of one variant.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Label.
    pub label: String,
    /// Role.
    pub role: Role,
    /// One value per sample, in the workload's unit.
    pub values: Vec<f64>,
    /// Client CPU time (all threads of this process) per sample, in µs per operation (ms per
    /// call for ms workloads): what the library itself costs, whatever the scheduler does.
    pub cpu: Vec<f64>,
    /// Retried transactions over all samples.
    pub retries: u64,
}

/// Runs a workload: one warm-up batch per variant (`warmup_ops` operations), then `samples`
/// rounds in which every variant runs the same batch of `spec.ops` operations in turn. Checks
/// that all variants report the same checksum for a batch.
///
/// # Errors
/// A variant failed, or the variants disagree on what they returned.
pub fn measure(
    spec: &Spec,
    samples: usize,
    warmup_ops: usize,
    make_inputs: impl Fn(usize, u64) -> Inputs,
    variants: &mut [Variant<'_>],
) -> Result<Vec<Measured>, BoxError> {
    let warm = make_inputs(warmup_ops, 1000 + u64::from(spec.number));
    for v in variants.iter_mut() {
        (v.run)(&warm)
            .map_err(|e| format!("workload {} ({}) warm-up: {e}", spec.number, v.label))?;
    }
    let mut out: Vec<Measured> = variants
        .iter()
        .map(|v| Measured {
            label: v.label.clone(),
            role: v.role,
            values: Vec::with_capacity(samples),
            cpu: Vec::with_capacity(samples),
            retries: 0,
        })
        .collect();
    // Each sample's batch is cut into `spec.chunks` pieces run by every variant (B A C, C B A,
    // ...), so slow and fast phases of a noisy machine fall on all of them alike; a variant's
    // sample is its operations over its summed time.
    let chunks = spec.chunks.clamp(1, spec.ops.max(1));
    // How fast a round trip is on a small VM depends on where the scheduler puts the server
    // process of a connection relative to the client (seen here: ~30 us against ~80 us per
    // lookup), and that holds for a connection's life. Single-connection implementations
    // therefore get a new connection before each sample (untimed, then a short warm-up), so
    // no implementation keeps a lucky or unlucky one for the whole run.
    // (create_all re-warms at full size: the raw multi-row INSERT is prepared per size.)
    let rewarm_ops = if spec.kind == Kind::CreateAll {
        warmup_ops
    } else {
        (warmup_ops / 10).max(5)
    };
    let rewarm = make_inputs(rewarm_ops, 2000 + u64::from(spec.number));
    for sample in 0..samples {
        if variants.iter().any(|v| v.reset.is_some()) {
            for v in variants.iter_mut() {
                if let Some(reset) = v.reset.as_mut() {
                    reset().map_err(|e| {
                        format!("workload {} ({}) reconnect: {e}", spec.number, v.label)
                    })?;
                }
            }
            for v in variants.iter_mut() {
                (v.run)(&rewarm)
                    .map_err(|e| format!("workload {} ({}) warm-up: {e}", spec.number, v.label))?;
            }
        }
        let mut totals = vec![(0.0f64, 0usize, 0.0f64); variants.len()];
        for chunk in 0..chunks {
            let ops = spec.ops / chunks + usize::from(chunk < spec.ops % chunks);
            let seed = (u64::from(spec.number) * 100 + sample as u64) * 1000 + chunk as u64;
            let inp = make_inputs(ops, seed);
            let mut checks: Vec<(&str, i64)> = Vec::new();
            // Each piece runs the variants in an order of its own (shuffled with the piece's
            // seed): the first variant of a piece meets the server's caches cold for the
            // piece's rows, and each variant finds in the CPU's caches what the one before it
            // left there (the same client library, or another). A fixed order would give every
            // variant the same place and the same predecessor in every piece.
            let mut order: Vec<_> = variants
                .iter_mut()
                .zip(out.iter_mut())
                .zip(totals.iter_mut())
                .collect();
            fastrand::Rng::with_seed(seed).shuffle(&mut order);
            for ((v, m), total) in order {
                let cpu = ProcessTime::try_now()?;
                let started = Instant::now();
                let outcome = (v.run)(&inp)
                    .map_err(|e| format!("workload {} ({}): {e}", spec.number, v.label))?;
                total.0 += started.elapsed().as_secs_f64();
                total.2 += cpu.try_elapsed()?.as_secs_f64();
                total.1 += outcome.ops;
                m.retries += outcome.retries;
                checks.push((&m.label, outcome.check));
            }
            if let Some((first, c)) = checks.first() {
                if let Some((other, d)) = checks.iter().find(|(_, d)| d != c) {
                    return Err(format!(
                        "workload {}: implementations disagree: {first} returned checksum {c}, {other} {d}",
                        spec.number
                    )
                    .into());
                }
            }
        }
        for (m, (secs, ops, cpu)) in out.iter_mut().zip(totals) {
            m.values.push(match spec.unit {
                Unit::OpsPerSec => ops as f64 / secs,
                Unit::Millis => secs * 1000.0 / chunks as f64,
            });
            m.cpu.push(match spec.unit {
                Unit::OpsPerSec => cpu * 1e6 / ops.max(1) as f64,
                Unit::Millis => cpu * 1000.0 / chunks as f64,
            });
        }
        eprint!(".");
    }
    Ok(out)
}

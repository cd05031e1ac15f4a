//! The workloads, their inputs, and the measuring loop: per sample, every implementation runs the
//! same batch of operations in turn (A B C, A B C, ...), after one warm-up batch each.

use std::time::Instant;

use serde_json::{json, Value};

use crate::model::{NewUser, STATUSES};
use crate::BoxError;

/// Which workload (the numbering of issue 5).
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
    /// Its number in the issue (1-8).
    pub number: u8,
    /// Title for the report.
    pub title: String,
    /// Operations per sample (rows for create_all).
    pub ops: usize,
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

/// One implementation of a workload: a label, its role, and the batch it runs.
pub struct Variant<'a> {
    /// Shown in the report.
    pub label: String,
    /// Its role in the ratios.
    pub role: Role,
    /// Runs one batch.
    pub run: Batch<'a>,
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
        }
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
            retries: 0,
        })
        .collect();
    for sample in 0..samples {
        let inp = make_inputs(spec.ops, u64::from(spec.number) * 100 + sample as u64);
        let mut checks: Vec<(String, i64)> = Vec::new();
        for (v, m) in variants.iter_mut().zip(out.iter_mut()) {
            let started = Instant::now();
            let outcome = (v.run)(&inp)
                .map_err(|e| format!("workload {} ({}): {e}", spec.number, v.label))?;
            let secs = started.elapsed().as_secs_f64();
            m.values.push(match spec.unit {
                Unit::OpsPerSec => outcome.ops as f64 / secs,
                Unit::Millis => secs * 1000.0,
            });
            m.retries += outcome.retries;
            checks.push((v.label.clone(), outcome.check));
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
        eprint!(".");
    }
    Ok(out)
}

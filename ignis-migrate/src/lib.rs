//! # ignis-migrate: the database follows the models
//!
//! The migrator of ignis-rs. A run:
//! 1. begins one transaction (READ COMMITTED) and takes a Postgres advisory lock
//!    (`pg_advisory_xact_lock`, key [`ADVISORY_LOCK_KEY`]) held until it ends, so two migrators
//!    never interleave: the second waits, then sees what the first committed and plans nothing;
//! 2. normalises the models through Postgres: their DDL is created in a scratch schema inside a
//!    savepoint, read back with the same whole-schema catalog queries as the live database
//!    ([`catalog::introspect`]), and rolled back. Types, defaults and definitions then compare as
//!    Postgres prints them, so a diff never comes from spelling alone;
//! 3. introspects the live schemas and diffs ([`plan::diff`]): missing schemas, tables, columns,
//!    unique constraints, indexes and foreign keys become ordered [`Step`]s; every other
//!    difference becomes a [`Note`] ("not handled yet"), never a silent no-op;
//! 4. applies the steps with `lock_timeout` and `statement_timeout` set for the transaction, and
//!    commits; any failure rolls the whole plan back.
//!
//! `skip_migrate` models are never created or altered.
//!
//! ```no_run
//! # fn demo(schema: &ignis_schema::Schema) -> Result<(), ignis_migrate::MigrateError> {
//! let ds = ignis_tx::DataSource::from_env()?;
//! let migrator = ignis_migrate::Migrator::new(ds);
//! let plan = migrator.plan(schema)?;           // changes nothing
//! print!("{plan}");
//! migrator.migrate(schema, |step| println!("{step}"))?;
//! assert!(migrator.plan(schema)?.is_empty());  // a second run has nothing to do
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod catalog;
pub mod error;
pub mod plan;
pub mod pull;
pub mod versioned;

use std::collections::BTreeMap;
use std::time::Duration;

use ignis_schema::{Model, Schema};
use ignis_tx::{DataSource, Executor, TransactionOptions};
use sea_query::PostgresQueryBuilder;

pub use catalog::{introspect, Catalog};
pub use error::MigrateError;
pub use plan::{DiffOptions, Hazard, Note, Plan, Probe, Safety, Step, StepKind};
pub use pull::{pull, Pulled};
pub use versioned::VersionedMigration;

/// The advisory lock key every ignis-rs migrator takes (Postgres manual, 9.27.10 "Advisory Lock
/// Functions"): the bytes of `ignis-mg` as a big-endian `i64`.
pub const ADVISORY_LOCK_KEY: i64 = i64::from_be_bytes(*b"ignis-mg");

/// Options of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateOptions {
    /// `lock_timeout` for each step: how long a step may wait for a table lock before the run
    /// fails (so a busy table fails fast instead of stalling traffic behind the migration).
    /// Default 10 s. The advisory lock itself is waited for without this limit.
    pub lock_timeout: Duration,
    /// `statement_timeout` for each step. Default 5 min.
    pub statement_timeout: Duration,
    /// Apply steps that lose data (drop table / column, narrowing type change, set not null over
    /// nulls, unique over duplicates, enum values removed). Default `false`: such a plan is
    /// refused with [`MigrateError::DataLossRefused`] and nothing is applied.
    pub allow_data_loss: bool,
    /// Drop tables that no model names (`--drop-unknown`). Default `false`: they are listed in
    /// [`Plan::notes`] and left alone.
    pub drop_unknown: bool,
    /// Create new indexes on existing tables with `CREATE INDEX CONCURRENTLY`
    /// (`--concurrent-indexes`): writes to the table go on while the index builds. Postgres
    /// cannot build concurrently inside a transaction, so these steps run after the rest of the
    /// plan commits, one by one, under a session-level advisory lock; an index that fails to
    /// build is dropped again (no INVALID index is left behind) and the run returns the error,
    /// with the transactional part already applied. Default `false`.
    pub concurrent_indexes: bool,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            lock_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(300),
            allow_data_loss: false,
            drop_unknown: false,
            concurrent_indexes: false,
        }
    }
}
/// Plans and applies the difference between a [`Schema`] and a database.
#[derive(Clone)]
pub struct Migrator {
    ds: DataSource,
    options: MigrateOptions,
}

impl Migrator {
    /// A migrator over a datasource, with default timeouts.
    pub fn new(ds: DataSource) -> Self {
        Migrator {
            ds,
            options: MigrateOptions::default(),
        }
    }

    /// Replaces the timeouts.
    pub fn with_options(mut self, options: MigrateOptions) -> Self {
        self.options = options;
        self
    }

    /// Plans without changing anything (the `--dry-run` of `cargo xtask migrate`). Takes the
    /// advisory lock like a real run, so it reports what a run would do at that moment.
    ///
    /// # Errors
    /// [`MigrateError::InvalidModelDdl`] when Postgres rejects a model's DDL, or a database error.
    pub fn plan(&self, schema: &Schema) -> Result<Plan, MigrateError> {
        self.run(schema, false, &mut |_| {})
    }

    /// Plans and applies in one transaction; calls `on_step` before each step runs. Returns the
    /// plan that was applied (empty when the database already matched).
    ///
    /// # Errors
    /// [`MigrateError::StepFailed`] names the step that failed; the database is left unchanged.
    pub fn migrate(
        &self,
        schema: &Schema,
        mut on_step: impl FnMut(&Step),
    ) -> Result<Plan, MigrateError> {
        self.run(schema, true, &mut on_step)
    }

    fn run(
        &self,
        schema: &Schema,
        apply: bool,
        on_step: &mut dyn FnMut(&Step),
    ) -> Result<Plan, MigrateError> {
        let mut tx = self.ds.begin(TransactionOptions::default())?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ADVISORY_LOCK_KEY])?;
        let desired = {
            let mut sp = tx.savepoint()?;
            let desired = normalise(&mut sp, schema)?;
            sp.rollback()?;
            desired
        };
        let mut schemas: Vec<String> = schema.models().iter().map(|m| m.schema.clone()).collect();
        schemas.sort();
        schemas.dedup();
        if schemas.is_empty() {
            schemas.push("public".into());
        }
        let live = introspect(&mut tx, &schemas)?;
        let mut plan = plan::diff(
            schema,
            &desired,
            &live,
            DiffOptions {
                drop_unknown: self.options.drop_unknown,
            },
        );
        evaluate_probes(&mut tx, &mut plan)?;
        if self.options.concurrent_indexes {
            concurrently(schema, &live, &mut plan);
        }
        if !apply || plan.is_empty() {
            tx.rollback()?;
            return Ok(plan);
        }
        let refused: Vec<String> = plan
            .steps
            .iter()
            .filter_map(|s| match &s.safety {
                Safety::DataLoss(why) if !self.options.allow_data_loss => {
                    Some(format!("{} {}: {why}", s.kind.as_str(), s.object))
                }
                _ => None,
            })
            .collect();
        if !refused.is_empty() {
            tx.rollback()?;
            return Err(MigrateError::DataLossRefused { steps: refused });
        }
        tx.batch_execute(&format!(
            "SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}",
            self.options.lock_timeout.as_millis(),
            self.options.statement_timeout.as_millis()
        ))?;
        let total = plan.steps.len();
        for (i, step) in plan.steps.iter().enumerate().filter(|(_, s)| !s.concurrent) {
            on_step(step);
            let started = std::time::Instant::now();
            tx.batch_execute(&step.sql)
                .map_err(|source| MigrateError::StepFailed {
                    number: i + 1,
                    total,
                    description: format!("{} {}", step.kind.as_str(), step.object),
                    sql: step.sql.clone(),
                    source,
                })?;
            tracing::debug!(step = %step.object, elapsed = ?started.elapsed(), "applied");
        }
        tx.commit()?;
        if plan.steps.iter().any(|s| s.concurrent) {
            self.apply_concurrent(&plan, on_step)?;
        }
        Ok(plan)
    }

    /// The concurrent phase: each `CREATE INDEX CONCURRENTLY` on its own, autocommitted, under
    /// a session-level advisory lock; an index that already exists (another migrator built it
    /// meanwhile) is skipped; one that fails is dropped again.
    fn apply_concurrent(
        &self,
        plan: &Plan,
        on_step: &mut dyn FnMut(&Step),
    ) -> Result<(), MigrateError> {
        let mut conn = self.ds.connection()?;
        conn.execute("SELECT pg_advisory_lock($1)", &[&ADVISORY_LOCK_KEY])?;
        let total = plan.steps.len();
        let result = (|| {
            conn.batch_execute(&format!(
                "SET statement_timeout = {}; SET lock_timeout = {}",
                self.options.statement_timeout.as_millis(),
                self.options.lock_timeout.as_millis()
            ))?;
            for (i, step) in plan.steps.iter().enumerate().filter(|(_, s)| s.concurrent) {
                let schema_name = plan_index_schema(step);
                let qualified = format!(
                    "{}.{}",
                    ignis_schema::quote_ident(&schema_name),
                    ignis_schema::quote_ident(&step.object)
                );
                let exists: bool = conn
                    .query_one("SELECT to_regclass($1) IS NOT NULL", &[&qualified])?
                    .try_get(0)
                    .map_err(|e| MigrateError::Introspect(e.to_string()))?;
                if exists {
                    continue;
                }
                on_step(step);
                if let Err(source) = conn.batch_execute(&step.sql) {
                    let _ = conn
                        .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {qualified}"));
                    return Err(MigrateError::StepFailed {
                        number: i + 1,
                        total,
                        description: format!("{} {} (concurrently; the transactional steps before it were committed)", step.kind.as_str(), step.object),
                        sql: step.sql.clone(),
                        source,
                    });
                }
            }
            Ok(())
        })();
        let _ = conn.batch_execute("RESET statement_timeout; RESET lock_timeout");
        conn.execute("SELECT pg_advisory_unlock($1)", &[&ADVISORY_LOCK_KEY])?;
        result
    }
}

/// The schema of the table a CreateIndex step's definition names (`CREATE INDEX x ON schema.t`).
fn plan_index_schema(step: &Step) -> String {
    step.sql
        .split(" ON ")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .map(|s| s.trim().trim_matches('"').replace("\"\"", "\""))
        .unwrap_or_else(|| "public".into())
}

/// Marks new indexes on tables that already exist as concurrent steps (`CREATE INDEX
/// CONCURRENTLY`), moved after the transactional ones. Indexes of tables created by this plan
/// stay in the transaction: the table is empty and invisible to others until commit anyway.
fn concurrently(schema: &Schema, live: &Catalog, plan: &mut Plan) {
    for step in &mut plan.steps {
        if step.kind != StepKind::CreateIndex {
            continue;
        }
        let Some(model) = schema.model(&step.model) else {
            continue;
        };
        if !live
            .tables
            .contains_key(&(model.schema.clone(), model.table.clone()))
        {
            continue;
        }
        for (plain, concurrent) in [
            ("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX CONCURRENTLY "),
            ("CREATE INDEX ", "CREATE INDEX CONCURRENTLY "),
        ] {
            if let Some(rest) = step.sql.strip_prefix(plain) {
                step.sql = format!("{concurrent}{rest}");
                step.concurrent = true;
                break;
            }
        }
    }
    let (tx, conc): (Vec<Step>, Vec<Step>) = std::mem::take(&mut plan.steps)
        .into_iter()
        .partition(|s| !s.concurrent);
    plan.steps = tx;
    plan.steps.extend(conc);
}

/// Runs each step's plan-time probe: a positive count makes it data loss with the count in the
/// reason; zero makes a probe-only step safe (e.g. SET NOT NULL on a column without nulls).
fn evaluate_probes(exec: &mut ignis_tx::Transaction, plan: &mut Plan) -> Result<(), MigrateError> {
    for step in &mut plan.steps {
        if let Some((from, to, fallback, reason)) = step.no_cast_fallback.take() {
            // Types come from the catalog (format_type), never from input. A failed check is
            // rolled back to its savepoint, so the transaction goes on.
            let mut sp = exec.savepoint()?;
            let castable = sp
                .batch_execute(&format!("SELECT NULL::{from}::{to}"))
                .is_ok();
            sp.rollback()?;
            if !castable {
                step.sql = fallback;
                step.safety = Safety::DataLoss(reason);
                step.probe = None;
                continue;
            }
        }
        let Some(probe) = step.probe.take() else {
            continue;
        };
        let n: i64 = exec
            .query_one(&probe.sql, &[])?
            .try_get(0)
            .map_err(|e| MigrateError::Introspect(format!("{}: {e}", probe.sql)))?;
        if n > 0 {
            step.safety = Safety::DataLoss(probe.reason.replace("{n}", &n.to_string()));
        } else if matches!(
            step.kind,
            StepKind::SetNotNull
                | StepKind::AddUnique
                | StepKind::AddPrimaryKey
                | StepKind::AddColumn
        ) {
            step.safety = Safety::Safe;
        } else if let Safety::DataLoss(_) = step.safety {
            step.safety = Safety::DataLoss(probe.reason.replace("{n}", "0"));
        }
    }
    Ok(())
}

/// Creates the migrated models (and the schema's enum types) in scratch schemas (one per real
/// schema, named after the backend pid so concurrent sessions never collide), reads them back
/// with names mapped to the real schemas, and returns that catalog. The caller rolls back to
/// discard the scratch schemas.
fn normalise<E: Executor + ?Sized>(exec: &mut E, schema: &Schema) -> Result<Catalog, MigrateError> {
    let pid: i32 = exec
        .query_one("SELECT pg_backend_pid()", &[])?
        .try_get(0)
        .map_err(|e| MigrateError::Introspect(e.to_string()))?;
    let managed: Vec<&Model> = schema.models().iter().filter(|m| !m.skip_migrate).collect();
    let mut scratch: BTreeMap<String, String> = BTreeMap::new();
    let real_schemas = managed
        .iter()
        .map(|m| m.schema.clone())
        .chain(schema.enums().iter().map(|e| e.schema.clone()));
    for real in real_schemas {
        let n = scratch.len();
        scratch
            .entry(real)
            .or_insert_with(|| format!("ignis_scratch_{pid}_{n}"));
    }
    for name in scratch.values() {
        exec.batch_execute(&format!(
            "CREATE SCHEMA {}",
            ignis_schema::quote_ident(name)
        ))?;
    }
    // Unqualified type names in the models (enum columns) resolve to the scratch copies first.
    let path: Vec<String> = scratch
        .values()
        .map(|s| ignis_schema::quote_ident(s))
        .chain(["public".to_string()])
        .collect();
    exec.execute(
        "SELECT set_config('search_path', $1, true)",
        &[&path.join(", ")],
    )?;
    for e in schema.enums() {
        let mut e = e.clone();
        e.schema = scratch[&e.schema].clone();
        exec.batch_execute(&e.create_sql())
            .map_err(|source| MigrateError::InvalidModelDdl {
                model: format!("enum {}", e.name),
                sql: e.create_sql(),
                source,
            })?;
    }
    let moved: Vec<Model> = managed
        .iter()
        .map(|m| {
            let mut m = (*m).clone();
            m.schema = scratch[&m.schema].clone();
            for fk in &mut m.foreign_keys {
                let target_migrated = managed
                    .iter()
                    .any(|t| t.schema == fk.ref_schema && t.table == fk.ref_table);
                if target_migrated {
                    fk.ref_schema = scratch[&fk.ref_schema].clone();
                }
            }
            m
        })
        .collect();
    let run = |exec: &mut E, model: &Model, sql: String| {
        exec.batch_execute(&sql)
            .map_err(|source| MigrateError::InvalidModelDdl {
                model: model.name.clone(),
                sql,
                source,
            })
    };
    for m in &moved {
        run(
            exec,
            m,
            m.create_table_statement().to_string(PostgresQueryBuilder),
        )?;
    }
    for m in &moved {
        for s in m.create_index_statements() {
            run(exec, m, s.to_string(PostgresQueryBuilder))?;
        }
        for c in &m.checks {
            run(exec, m, m.add_check_sql(c))?;
        }
    }
    for m in &moved {
        for s in m.create_foreign_key_statements() {
            run(exec, m, s.to_string(PostgresQueryBuilder))?;
        }
    }
    exec.batch_execute("RESET search_path")?;
    let names: Vec<String> = scratch.values().cloned().collect();
    let mut catalog = introspect(exec, &names)?;
    let mut mapping = Vec::new();
    for (real, s) in &scratch {
        let quoted: String = exec
            .query_one("SELECT quote_ident($1)", &[real])?
            .try_get(0)
            .map_err(|e| MigrateError::Introspect(e.to_string()))?;
        mapping.push((s.clone(), real.clone(), quoted));
    }
    catalog.rename_schemas(&mapping);
    Ok(catalog)
}

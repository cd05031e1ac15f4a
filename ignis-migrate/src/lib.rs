//! # ignis-migrate: the database follows the models
//!
//! The migrator of ignis-rs. A run ([`Migrator::plan`], [`Migrator::migrate`]):
//! 1. begins one transaction (READ COMMITTED) and takes a Postgres advisory lock
//!    (`pg_advisory_xact_lock`, key [`ADVISORY_LOCK_KEY`]) held until it ends, so two migrators
//!    never interleave: the second waits, then sees what the first committed and plans nothing;
//! 2. builds the models' side as a [`Catalog`], the same shape the live database is read into.
//!    Only what Postgres alone can normalise goes through Postgres: each distinct column type
//!    (with its collation) and default becomes a column of a few shared scratch tables, and
//!    only models with check constraints, exclusion constraints, serial columns or indexes with
//!    a predicate, an expression key, an operator class, a collation or storage parameters get
//!    a bare scratch table of their own (with the schema's enum types, and those indexes), all
//!    in scratch schemas inside a savepoint that is rolled back. Read back with the catalog queries, types, column collations, defaults, check
//!    expressions, exclusion constraints, index expressions and predicates compare as Postgres
//!    prints them (and a
//!    default operator class or collation as none), so a difference never comes from spelling alone. Primary keys,
//!    unique constraints, the other indexes and foreign keys are built from the models'
//!    structure (columns, uniqueness, method, sort order, `INCLUDE`, `NULLS NOT DISTINCT`,
//!    referenced table, actions, `MATCH FULL`, `DEFERRABLE`, `INITIALLY DEFERRED`) and compared
//!    structurally ([`catalog::TableInfo::canonicalise`]). A thousand models cost a handful of
//!    statements, not a `CREATE` each;
//! 3. reads the live schemas with a fixed handful of whole-schema `pg_catalog` queries
//!    ([`catalog::introspect`]) and diffs catalog against catalog ([`plan::diff`]). Every
//!    difference becomes an ordered [`Step`] or a [`Note`], never a silent no-op: schemas
//!    created; tables and columns created, renamed (only when the model names the old name in
//!    `renamed_from`, never guessed) and dropped; column types changed (`USING` a cast, or
//!    `USING NULL` when Postgres has none), collations (`TYPE .. COLLATE`, which rebuilds the
//!    column's indexes), nullability, defaults and identity; statistics targets and table and
//!    column comments (metadata only, steps of their own); primary keys,
//!    unique constraints, indexes, checks, exclusion constraints and foreign keys created,
//!    renamed or replaced; enum
//!    types created, extended in place or recreated. Tables that no model names (dropped only
//!    with [`MigrateOptions::drop_unknown`]), a view where a model wants a table, and functions,
//!    triggers and other objects the migrator does not manage are notes, left alone. What a
//!    managed table has that the catalog shape does not hold (an index or constraint definition
//!    beyond the structure compared, column and table attributes: see
//!    [`Catalog::unexpressed`]) is a [`NoteKind::Unexpressed`] note, so [`Plan::matches`] is
//!    false and `migrate check` fails, instead of a silent "nothing to do";
//! 4. measures the steps that can lose data against the live rows ([`Probe`]: nulls under a new
//!    `NOT NULL`, duplicates under a new unique constraint, rows in a dropped table or column,
//!    values a narrowing type change or a removed enum value would lose) and refuses the plan
//!    with [`MigrateError::DataLossRefused`] unless [`MigrateOptions::allow_data_loss`];
//! 5. applies the steps with `lock_timeout` and `statement_timeout` set for the transaction, and
//!    commits; any failure rolls the whole plan back. Foreign keys and checks on existing tables
//!    are added `NOT VALID` and then validated. With [`MigrateOptions::concurrent_indexes`], new
//!    indexes on existing tables are built `CONCURRENTLY` after the commit.
//!
//! [`Plan::matches`] is true exactly when the two catalogs agree and nothing outside them
//! differs, so a second run plans nothing.
//! `skip_migrate` models are never created, altered or dropped. [`pull()`] writes the schema that
//! reproduces an existing database, and [`versioned`] runs reviewed SQL files (refinery) under the
//! same advisory lock.
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
pub mod pull_rust;
pub mod versioned;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ignis_schema::{Model, Schema};
use ignis_tx::{DataSource, Executor, TransactionOptions};
use sea_query::PostgresQueryBuilder;

pub use catalog::{introspect, Catalog, Unexpressed};
use catalog::{ColumnInfo, ConstraintInfo, ForeignKeyInfo, IndexInfo, RelationKind, TableInfo};
pub use error::MigrateError;
pub use plan::{DiffOptions, Hazard, Note, NoteKind, Plan, Probe, Safety, Step, StepKind};
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
        let mut live = introspect(&mut tx, &schemas)?;
        live.canonicalise();
        reparse_live_checks(&mut tx, schema, &desired, &mut live)?;
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
            self.apply_concurrent(schema, &plan, on_step)?;
        }
        Ok(plan)
    }

    /// The concurrent phase: each `CREATE INDEX CONCURRENTLY` on its own, autocommitted, under
    /// a session-level advisory lock; an index that already exists (another migrator built it
    /// meanwhile) is skipped; one that fails is dropped again.
    fn apply_concurrent(
        &self,
        schema: &Schema,
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
                // Concurrent steps are CreateIndex steps of models (see `concurrently`).
                let table_schema = schema.model(&step.model).map_or("public", |m| &m.schema);
                let qualified = ignis_schema::quote_qualified(table_schema, &step.object);
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

/// True when an index of a model is created on the model's scratch table and read back (see
/// [`normalise`]): it has a predicate, an expression key, an operator class, a collation or
/// storage parameters, which Postgres normalises (or checks) better than a comparison of text.
fn normalised_by_postgres(index: &ignis_schema::Index) -> bool {
    index.predicate.is_some()
        || !index.storage_parameters.is_empty()
        || index
            .keys
            .iter()
            .any(|k| k.expression.is_some() || k.opclass.is_some() || k.collation.is_some())
}

/// The catalog shape of index `i` of model `m` when it is not read back from a scratch table:
/// columns (the SQL names of its properties), uniqueness, method, sort order, `INCLUDE` and
/// `NULLS NOT DISTINCT` as the model gives them.
fn index_info(m: &Model, i: &ignis_schema::Index) -> IndexInfo {
    let keys = i.keys();
    let mut info = IndexInfo {
        name: i.name.clone(),
        columns: keys
            .iter()
            .map(|k| {
                k.property
                    .as_deref()
                    .and_then(|p| m.key_column(p))
                    .map(|c| c.column.clone())
                    .unwrap_or_default()
            })
            .collect(),
        unique: i.unique,
        method: i
            .method
            .clone()
            .unwrap_or_else(|| "btree".into())
            .to_ascii_lowercase(),
        predicate: None,
        definition: String::new(),
        keys: keys
            .iter()
            .map(|k| catalog::IndexKeyInfo {
                expression: false,
                opclass: None,
                collation: None,
                descending: k.is_desc(),
                nulls_first: k.nulls_first(),
            })
            .collect(),
        include: m.key_columns(&i.include),
        nulls_not_distinct: i.nulls_not_distinct,
        storage_parameters: i.storage_parameters.clone(),
    };
    info.simplify_keys();
    info
}

/// Builds the catalog the migrated models describe. In scratch schemas (one per real schema,
/// named after the backend pid so concurrent sessions never collide) it creates the schema's
/// enum types, a few shared tables with one column per distinct (type, default) pair, and a bare
/// table for each model with checks, partial indexes or serial columns; reads them back with
/// names mapped to the real schemas, so types, defaults, checks and predicates read as Postgres
/// prints them; and adds keys, unique constraints, indexes and foreign keys from the models'
/// structure. The caller rolls back to discard the scratch schemas.
/// Gives each live check constraint whose definition differs from the model's the text Postgres
/// prints after parsing that definition once more, when that text is the model's. Postgres does
/// not always print a check it can read back as it stored it: `c IN ('a', 'b')` on a varchar
/// column is stored and printed as `(c)::text = ANY ((ARRAY['a'::character varying,
/// ..])::text[])`, which parses to `ANY (ARRAY[('a'::character varying)::text, ..])`. A schema
/// pulled from such a database holds the first text, whose normalised form is the second, so
/// without this step every such check would be dropped and added again on every run.
///
/// The definitions are parsed on copies of the live tables (`CREATE TEMP TABLE .. (LIKE ..)`,
/// the same columns and types) inside a savepoint of `tx` that is rolled back. Only tables with
/// differing checks cost anything (a plan without any sends nothing): one batch for all of them,
/// one query to read back.
///
/// # Errors
/// A database error; a definition Postgres does not take back is left as it is (the diff then
/// replaces the constraint).
fn reparse_live_checks(
    tx: &mut ignis_tx::Transaction,
    schema: &Schema,
    desired: &Catalog,
    live: &mut Catalog,
) -> Result<(), MigrateError> {
    let mut probes: Vec<(catalog::TableKey, String, String)> = Vec::new(); // (table, check, probe)
    let mut sql = String::new();
    for m in schema.models().iter().filter(|m| !m.skip_migrate) {
        let key = (m.schema.clone(), m.table.clone());
        let (Some(want), Some(have)) = (desired.tables.get(&key), live.tables.get(&key)) else {
            continue;
        };
        let differing: Vec<(&String, &String)> = have
            .checks
            .iter()
            .filter(|(name, def)| want.checks.get(*name).is_some_and(|w| w != *def))
            .collect();
        if differing.is_empty() {
            continue;
        }
        let copy = format!("ignis_check_copy_{}", probes.len());
        sql.push_str(&format!(
            "CREATE TEMP TABLE {copy} (LIKE {});\n",
            ignis_schema::quote_qualified(&m.schema, &m.table)
        ));
        for (name, def) in differing {
            let probe = format!("ignis_check_{}", probes.len());
            // A definition that does not parse on the copy is skipped, not an error.
            sql.push_str(&format!(
                "DO $ignis$ BEGIN ALTER TABLE {copy} ADD CONSTRAINT {probe} {def}; \
                 EXCEPTION WHEN others THEN NULL; END $ignis$;\n"
            ));
            probes.push((key.clone(), name.clone(), probe));
        }
    }
    if probes.is_empty() {
        return Ok(());
    }
    // Printed as introspection prints (every name schema-qualified).
    sql.push_str("SET LOCAL search_path = pg_catalog");
    let mut exec = tx.savepoint()?;
    exec.batch_execute(&sql)?;
    let names: Vec<String> = probes.iter().map(|(_, _, p)| p.clone()).collect();
    let rows = exec.query(
        "SELECT con.conname::text, pg_get_constraintdef(con.oid) FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         WHERE c.relnamespace = pg_my_temp_schema() AND con.conname = ANY($1)",
        &[&names],
    )?;
    exec.rollback()?;
    for row in rows {
        let probe: String = row
            .try_get(0)
            .map_err(|e| MigrateError::Introspect(e.to_string()))?;
        let reparsed: String = row
            .try_get(1)
            .map_err(|e| MigrateError::Introspect(e.to_string()))?;
        let Some((key, name, _)) = probes.iter().find(|(_, _, p)| *p == probe) else {
            continue;
        };
        let matches = desired
            .tables
            .get(key)
            .and_then(|t| t.checks.get(name))
            .is_some_and(|w| *w == reparsed);
        if matches {
            if let Some(def) = live
                .tables
                .get_mut(key)
                .and_then(|t| t.checks.get_mut(name))
            {
                *def = reparsed;
            }
        }
    }
    Ok(())
}

fn normalise(exec: &mut ignis_tx::Savepoint<'_>, schema: &Schema) -> Result<Catalog, MigrateError> {
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
    // What only Postgres can normalise (types, defaults, check expressions, partial index
    // predicates) goes through scratch objects; keys, indexes and foreign keys are compared
    // structurally, so no table of the model needs to be created: each distinct (type,
    // default) pair becomes one column of a few shared scratch tables, and only models with
    // serial columns, checks, exclusion constraints or partial indexes get a (bare) scratch
    // table of their own.
    // 1,000 models cost a handful of statements instead of thousands of CREATEs.
    let first_scratch = scratch
        .values()
        .next()
        .cloned()
        .unwrap_or_else(|| format!("ignis_scratch_{pid}_0"));
    if scratch.is_empty() {
        exec.batch_execute(&format!(
            "CREATE SCHEMA {}",
            ignis_schema::quote_ident(&first_scratch)
        ))?;
    }
    let mut specs: Vec<(String, Option<String>, String)> = Vec::new(); // (type, default, model)
    let mut spec_of: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut own_tables: Vec<Model> = Vec::new();
    for m in &managed {
        let needs_own = !m.checks.is_empty()
            || !m.exclusions.is_empty()
            || m.indexes.iter().any(normalised_by_postgres)
            || m.columns.iter().any(|c| c.pg_type.is_serial());
        if needs_own {
            let mut bare = (*m).clone();
            bare.schema = scratch[&m.schema].clone();
            for c in &mut bare.columns {
                c.default = None;
                c.identity = None;
                // serial implies NOT NULL; an explicit NULL would conflict with it.
                c.nullable = !c.pg_type.is_serial();
                c.primary_key = false;
            }
            bare.uniques.clear();
            bare.foreign_keys.clear();
            bare.indexes.retain(normalised_by_postgres);
            own_tables.push(bare);
        }
        for c in &m.columns {
            if c.pg_type.is_serial() {
                continue;
            }
            let key = (
                c.type_sql(),
                if c.identity.is_some() {
                    None
                } else {
                    c.default.clone()
                },
            );
            spec_of.entry(key.clone()).or_insert_with(|| {
                specs.push((key.0, key.1, m.name.clone()));
                specs.len() - 1
            });
        }
    }
    // Enum types named with their schema (`app.mood`) must resolve to the scratch copies too
    // (unqualified names already do, through the search path).
    let redirect = |text: &str| -> String {
        let mut out = text.to_string();
        for e in schema.enums() {
            let target = format!(
                "{}.{}",
                ignis_schema::quote_ident(&scratch[&e.schema]),
                ignis_schema::quote_ident(&e.name)
            );
            for spelled in [
                format!("{}.{}", e.schema, e.name),
                format!("{}.{}", ignis_schema::quote_ident(&e.schema), e.name),
                format!(
                    "{}.{}",
                    ignis_schema::quote_ident(&e.schema),
                    ignis_schema::quote_ident(&e.name)
                ),
            ] {
                out = out.replace(&spelled, &target);
            }
        }
        out
    };
    for bare in &mut own_tables {
        for c in &mut bare.columns {
            let t = redirect(&c.pg_type.to_string());
            if let Ok(t) = t.parse() {
                c.pg_type = t;
            }
        }
    }
    const PER_TABLE: usize = 1000;
    let spec_table = |k: usize| format!("ignis_norm_{k}");
    let mut statements: Vec<(String, String)> = Vec::new(); // (model, sql)
    for (k, chunk) in specs.chunks(PER_TABLE).enumerate() {
        let cols: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, (ty, default, _))| match default {
                Some(d) => format!("c{i} {} DEFAULT {}", redirect(ty), redirect(d)),
                None => format!("c{i} {}", redirect(ty)),
            })
            .collect();
        statements.push((
            String::new(),
            format!(
                "CREATE TABLE {}.{} ({})",
                ignis_schema::quote_ident(&first_scratch),
                spec_table(k),
                cols.join(", ")
            ),
        ));
    }
    for bare in &own_tables {
        statements.push((
            bare.name.clone(),
            bare.create_table_statement()
                .to_string(PostgresQueryBuilder),
        ));
        for s in bare.create_index_statements() {
            statements.push((bare.name.clone(), s));
        }
        for c in &bare.checks {
            statements.push((bare.name.clone(), bare.add_check_sql(c)));
        }
        for x in &bare.exclusions {
            statements.push((bare.name.clone(), bare.add_exclusion_sql(x)));
        }
        // Serial sequence options, read back from the scratch sequence (Postgres checks them).
        let quoted_table = format!(
            "{}.{}",
            ignis_schema::quote_ident(&bare.schema),
            ignis_schema::quote_ident(&bare.table)
        );
        for c in &bare.columns {
            if let Some(o) = c.serial_sequence.as_ref().filter(|_| c.pg_type.is_serial()) {
                let sql = o.alter_serial_sql(&quoted_table, &c.column, &c.pg_type.to_string());
                statements.push((bare.name.clone(), sql));
            }
            if let Some(name) = c.sequence_name.as_ref().filter(|_| c.pg_type.is_serial()) {
                let sql = ignis_schema::rename_serial_sequence_sql(&quoted_table, &c.column, name);
                statements.push((bare.name.clone(), sql));
            }
        }
    }
    // One round trip; when it fails, find the culprit statement by statement.
    let batch: Vec<&str> = statements.iter().map(|(_, s)| s.as_str()).collect();
    let mut attempt = exec.savepoint()?;
    match attempt.batch_execute(&batch.join(";\n")) {
        Ok(()) => attempt.release()?,
        Err(_) => {
            attempt.rollback()?;
            // Spec columns one by one name the model whose type or default is rejected.
            for (i, (ty, default, model)) in specs.iter().enumerate() {
                let sql = match default {
                    Some(d) => format!("{ty} DEFAULT {d}"),
                    None => ty.clone(),
                };
                let sql = format!(
                    "CREATE TABLE {}.ignis_probe_{i} (c {sql})",
                    ignis_schema::quote_ident(&first_scratch)
                );
                exec.batch_execute(&sql)
                    .map_err(|source| MigrateError::InvalidModelDdl {
                        model: model.clone(),
                        sql,
                        source,
                    })?;
            }
            for (model, sql) in statements.into_iter().filter(|(m, _)| !m.is_empty()) {
                exec.batch_execute(&sql)
                    .map_err(|source| MigrateError::InvalidModelDdl { model, sql, source })?;
            }
        }
    }
    exec.batch_execute("RESET search_path")?;
    let names: Vec<String> = scratch
        .values()
        .cloned()
        .chain([first_scratch.clone()])
        .collect();
    let mut read = catalog::introspect_modelled(exec, &names)?;
    let mut mapping = Vec::new();
    for (real, s) in &scratch {
        let quoted: String = exec
            .query_one("SELECT quote_ident($1)", &[real])?
            .try_get(0)
            .map_err(|e| MigrateError::Introspect(e.to_string()))?;
        mapping.push((s.clone(), real.clone(), quoted));
    }
    // The spec tables live in the first scratch schema: read them before renaming it.
    // (type, default, collation) of each spec column.
    let mut normalised: Vec<(String, Option<String>, Option<String>)> =
        Vec::with_capacity(specs.len());
    for k in 0..specs.len().div_ceil(PER_TABLE) {
        let info = read
            .tables
            .remove(&(first_scratch.clone(), spec_table(k)))
            .ok_or_else(|| {
                MigrateError::Introspect(format!("scratch table {} missing", spec_table(k)))
            })?;
        normalised.extend(
            info.columns
                .into_iter()
                .map(|c| (c.data_type, c.default, c.collation)),
        );
    }
    read.rename_schemas(&mapping);
    let fix = |mut s: String| {
        catalog::rename_schema_refs(&mut s, &mapping);
        s
    };
    let normalised: Vec<(String, Option<String>, Option<String>)> = normalised
        .into_iter()
        .map(|(t, d, coll)| (fix(t), d.map(fix), coll))
        .collect();

    let mut catalog = Catalog {
        schemas: scratch.keys().cloned().collect(),
        tables: BTreeMap::new(),
        enums: read.enums.clone(),
        unmanaged: Vec::new(),
        unexpressed: BTreeMap::new(),
    };
    for m in &managed {
        let key = (m.schema.clone(), m.table.clone());
        let own = read.tables.get(&key);
        let mut t = TableInfo::new(RelationKind::Table);
        for c in &m.columns {
            let mut serial_sequence = None;
            let (data_type, default, collation) = if c.pg_type.is_serial() {
                let col = own.and_then(|o| o.column(&c.column)).ok_or_else(|| {
                    MigrateError::Introspect(format!(
                        "serial column {}.{} missing",
                        m.name, c.column
                    ))
                })?;
                serial_sequence = col.serial_sequence.clone();
                (
                    col.data_type.clone(),
                    col.default.clone(),
                    col.collation.clone(),
                )
            } else {
                let key = (
                    c.type_sql(),
                    if c.identity.is_some() {
                        None
                    } else {
                        c.default.clone()
                    },
                );
                normalised[spec_of[&key]].clone()
            };
            let serial = c.pg_type.is_serial();
            if let Some(identity) = &c.identity {
                // Compared in the form the catalog is read in: only what differs from the
                // defaults of a sequence of the column's type.
                let o = &identity.sequence;
                let increment = o.increment.unwrap_or(1);
                let (min, max) = o.range(&data_type);
                serial_sequence = Some(ignis_schema::SequenceOptions::from_catalog(
                    &data_type,
                    o.start.unwrap_or(if increment > 0 { min } else { max }),
                    increment,
                    min,
                    max,
                    o.cache.unwrap_or(1),
                    o.cycle,
                ));
            }
            t.columns.push(ColumnInfo {
                name: c.column.clone(),
                data_type,
                nullable: c.nullable && !c.primary_key && c.identity.is_none() && !serial,
                default,
                identity: c.identity.as_ref().map(|i| match i.generation {
                    ignis_schema::IdentityGeneration::Always => 'a',
                    ignis_schema::IdentityGeneration::ByDefault => 'd',
                }),
                generated: None,
                collation,
                statistics: c.statistics,
                comment: c.comment.clone(),
                serial_sequence,
            });
        }
        t.comment = m.comment.clone();
        let pk = m.primary_key();
        if !pk.is_empty() {
            t.primary_key = Some(ConstraintInfo {
                name: m.primary_key_name(),
                columns: pk.iter().map(|c| c.to_string()).collect(),
                definition: String::new(),
                deferrable: m.primary_key_deferrable,
                initially_deferred: m.primary_key_initially_deferred,
                nulls_not_distinct: false,
            });
        }
        for u in &m.uniques {
            t.uniques.insert(
                u.name.clone(),
                ConstraintInfo {
                    name: u.name.clone(),
                    columns: m.key_columns(&u.properties),
                    definition: String::new(),
                    deferrable: u.deferrable,
                    initially_deferred: u.initially_deferred,
                    nulls_not_distinct: u.nulls_not_distinct,
                },
            );
        }
        for fk in &m.foreign_keys {
            let referenced = fk.referenced();
            t.foreign_keys.insert(
                fk.name.clone(),
                ForeignKeyInfo {
                    name: fk.name.clone(),
                    columns: m.foreign_key_columns(fk),
                    ref_schema: referenced.schema,
                    ref_table: referenced.table,
                    ref_columns: referenced.columns,
                    on_delete: fk.on_delete.pg_code(),
                    on_update: fk.on_update.pg_code(),
                    match_full: fk.match_full,
                    deferrable: fk.deferrable,
                    initially_deferred: fk.initially_deferred,
                    definition: String::new(),
                },
            );
        }
        if let Some(own) = own {
            t.checks = own.checks.clone();
            t.exclusions = own.exclusions.clone();
        }
        for i in &m.indexes {
            // An index created on the scratch table is read back as Postgres keeps it
            // (expressions, predicate, operator classes and collations normalised); the others
            // are built from the model.
            let read_back = if normalised_by_postgres(i) {
                own.and_then(|o| o.indexes.get(&i.name)).cloned()
            } else {
                None
            };
            let info = match read_back {
                Some(info) => info,
                None => index_info(m, i),
            };
            t.indexes.insert(i.name.clone(), info);
        }
        catalog.tables.insert(key, t);
    }
    catalog.canonicalise();
    Ok(catalog)
}

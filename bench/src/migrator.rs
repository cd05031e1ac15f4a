//! The migrator case: introspection and planning of many tables (10 columns, 2
//! indexes, 1 foreign key each), measured on a database that already matches the models, so
//! the time is the whole cost of `cargo xtask migrate` finding nothing to do.

use std::time::Instant;

use ignis_migrate::Migrator;
use ignis_schema::enrich::IdOptions;
use ignis_schema::{Column, Enricher, ForeignKey, Index, Model, PgType, Schema};
use ignis_tx::DataSource;

use crate::load::BenchDb;
use crate::BoxError;

/// What the migrator case measured.
#[derive(Debug, Clone)]
pub struct MigratorResult {
    /// Tables in the schema.
    pub tables: usize,
    /// Creating them all from an empty database, seconds (one run).
    pub migrate_from_empty_s: f64,
    /// Planning against the up-to-date database, ms per run.
    pub plan_ms: Vec<f64>,
}

/// `n` models `T0..Tn`, each with 8 text columns, a reference column, 2 indexes and a foreign key
/// to the previous table.
pub fn schema(n: usize) -> Result<Schema, BoxError> {
    let mut models = Vec::with_capacity(n);
    for i in 0..n {
        let mut m = Model::new(format!("T{i}")).enrich(Enricher::Id(IdOptions::number()));
        for c in 0..8 {
            m = m.column(Column::new(format!("c{c}"), PgType::Text));
        }
        m = m
            .column(Column::new("refId", PgType::Integer))
            .index(Index::new(format!("IDX_T{i}_c0"), ["c0"]))
            .index(Index::new(format!("IDX_T{i}_c1_c2"), ["c1", "c2"]));
        if i > 0 {
            m = m.foreign_key(ForeignKey::new(
                format!("FK_T{i}_ref"),
                ["refId"],
                format!("T{}", i - 1),
                ["id"],
            ));
        }
        models.push(m);
    }
    Ok(Schema::new(models)?)
}

/// Migrates `tables` tables into `db`, then plans `samples` times.
///
/// # Errors
/// Connection or migration errors.
pub fn run(db: &BenchDb, tables: usize, samples: usize) -> Result<MigratorResult, BoxError> {
    let schema = schema(tables)?;
    let migrator = Migrator::new(DataSource::new(db.config(2))?);
    let started = Instant::now();
    migrator.migrate(&schema, |_| {})?;
    let migrate_from_empty_s = started.elapsed().as_secs_f64();
    let mut plan_ms = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let plan = migrator.plan(&schema)?;
        plan_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        if !plan.is_empty() {
            return Err(format!("the plan after migrating is not empty:\n{plan}").into());
        }
    }
    Ok(MigratorResult {
        tables,
        migrate_from_empty_s,
        plan_ms,
    })
}

/// The Markdown section of the report.
pub fn markdown(r: &MigratorResult) -> String {
    let mut sorted = r.plan_ms.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = crate::report::median(&sorted);
    let (min, max) = (
        sorted.first().copied().unwrap_or(0.0),
        sorted.last().copied().unwrap_or(0.0),
    );
    format!(
        "\n## Migrator: introspect and plan {} tables (10 columns, 2 indexes, 1 foreign key each)\n\n\
         | measure | value |\n|---|---:|\n\
         | plan against an up-to-date database (normalise + introspect + diff), median of {} | {median:.0} ms (min {min:.0}, max {max:.0}) |\n\
         | target | < 1000 ms: {} |\n\
         | migrate from empty (creates every table, index and key), one run | {:.1} s |\n",
        r.tables,
        sorted.len(),
        if median < 1000.0 { "met" } else { "MISSED" },
        r.migrate_from_empty_s
    )
}

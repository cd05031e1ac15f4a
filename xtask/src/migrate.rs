//! `cargo xtask migrate`: make the database match the models.

use std::error::Error;
use std::path::PathBuf;

use ignis_migrate::Migrator;
use ignis_schema::Schema;
use ignis_tx::{DataSource, DataSourceConfig};

/// Options of `cargo xtask migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A schema file (JSON, the `ignis_schema::Schema` format) to migrate instead of the example
    /// application's models.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// The database to migrate; default: DATABASE_URL, else POSTGRES_HOST/PORT/DATABASE/USER/
    /// PASSWORD, else the local cluster (started if needed).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Loads the schema to migrate: the file given, or the example application.
///
/// # Errors
/// The file cannot be read, or is not a valid schema (the message names the model and field).
pub fn load_schema(path: Option<&PathBuf>) -> Result<Schema, Box<dyn Error>> {
    match path {
        None => Ok(ignis_tests::example::schema()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read schema file {}: {e}", path.display()))?;
            Schema::from_json(&text).map_err(|e| format!("{}: {e}", path.display()).into())
        }
    }
}

/// Runs `migrate` against `url`: prints each step's SQL as it is applied (or the plan, with
/// `--dry-run`), the differences left alone, and a one-line summary.
///
/// # Errors
/// Connection, schema or migration errors; a failed migration leaves the database unchanged.
pub fn run(args: &MigrateArgs, url: &str) -> Result<(), Box<dyn Error>> {
    let schema = load_schema(args.schema.as_ref())?;
    let config = DataSourceConfig::from_url(url)?;
    let migrator = Migrator::new(DataSource::new(config)?);
    let plan = if args.dry_run {
        let plan = migrator.plan(&schema)?;
        for step in &plan.steps {
            println!("{step}");
        }
        plan
    } else {
        migrator.migrate(&schema, |step| println!("{step}"))?
    };
    for note in &plan.notes {
        println!("-- not handled yet: {note}");
    }
    let n = plan.steps.len();
    if n == 0 {
        println!("nothing to do: the database matches the models");
    } else if args.dry_run {
        println!("dry run: {n} step(s) planned, nothing applied");
    } else {
        println!("applied {n} step(s) in one transaction");
    }
    Ok(())
}

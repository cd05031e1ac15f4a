//! `cargo xtask migrate`: make the database match the models; `check`, `generate`, `pull`.
//!
//! - `migrate`: runs the pending versioned files of the migrations directory (refinery, under
//!   the migrator's advisory lock), then plans what still differs from the models and applies it
//!   in one transaction ("push"), unless `--versioned-only`;
//! - `migrate check`: prints the plan and exits 1 when the database differs from the models (or
//!   versioned files are pending), exits 0 when it matches; changes nothing;
//! - `migrate generate NAME`: writes the plan as the next `V{n}__{NAME}.sql` for review;
//! - `migrate pull`: prints the schema file (JSON) that reproduces the database, or with
//!   `--rust` the same models as `#[derive(Model, FromRow)]` structs (`--out FILE` writes either
//!   to a file); refuses (exit 1, the list of what would be lost on stderr) when it cannot
//!   reproduce it exactly, unless `--lossy`.
//!
//! Plans print as [`ignis_migrate::Plan`] displays them: a `-- kind object [safety] (hazards)`
//! line per step, then its SQL; then the differences left alone, then a summary line.

use std::error::Error;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use ignis_migrate::{versioned, MigrateError, MigrateOptions, Migrator, Plan, Step};
use ignis_schema::Schema;
use ignis_tx::{DataSource, DataSourceConfig};

/// Options of `cargo xtask migrate` (given before or after the subcommand).
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// `check`, `generate NAME` or `pull`; none: run versioned files, then push the models.
    #[command(subcommand)]
    pub command: Option<MigrateCommand>,
    /// Print what would run and change nothing (migrate: pending versioned files and the plan;
    /// generate: the file's content).
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// A schema file (JSON, the `ignis_schema::Schema` format) to migrate instead of the example
    /// application's models.
    #[arg(long, global = true, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// The database; default: DATABASE_URL, else POSTGRES_HOST/PORT/DATABASE/USER/PASSWORD,
    /// else the local cluster (started if needed).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Apply (or generate) steps that lose data: drop table / column, narrowing type change,
    /// set not null over nulls, unique over duplicates, enum values removed.
    #[arg(long, global = true)]
    pub allow_data_loss: bool,
    /// Drop tables that no model names (otherwise they are listed and left alone).
    #[arg(long, global = true)]
    pub drop_unknown: bool,
    /// Create new indexes on existing tables with CREATE INDEX CONCURRENTLY, after the rest of
    /// the plan commits (writes go on while they build).
    #[arg(long, global = true)]
    pub concurrent_indexes: bool,
    /// The versioned migrations directory (`V{n}__{name}.sql` files); default: `migrations/`
    /// at the workspace root, skipped when it does not exist.
    #[arg(long, global = true, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// Run the pending versioned files only; plan and push nothing.
    #[arg(long)]
    pub versioned_only: bool,
}

/// The subcommands of `cargo xtask migrate`.
#[derive(Debug, clap::Subcommand)]
pub enum MigrateCommand {
    /// Exit 1 and print the plan when the database differs from the models (or versioned files
    /// are pending), 0 when it matches. Changes nothing.
    Check,
    /// Write the plan as the next versioned file, `V{n}__{NAME}.sql` in the migrations
    /// directory, for review and commit.
    Generate {
        /// The migration's name: ASCII letters, digits and underscores.
        name: String,
    },
    /// Print the schema file (JSON) that reproduces the database's tables, keys, indexes and
    /// enum types, or with `--rust` the same models as typed Rust structs. When the output
    /// cannot reproduce the database exactly (an attribute the format or the derive cannot
    /// express, an object it does not manage), nothing is written and the command exits 1 with
    /// the list of what would be lost, unless `--lossy`.
    Pull {
        /// A Postgres schema (namespace) to pull; repeat for several. Default: public.
        #[arg(long = "schema-name", value_name = "NAME", num_args = 1..)]
        schema_names: Vec<String>,
        /// Print the schema file even though it loses what it cannot express (listed on
        /// stderr).
        #[arg(long)]
        lossy: bool,
        /// Write Rust source instead of JSON: one `#[derive(Model, FromRow)]` struct per model
        /// (`ignis_migrate::pull_rust`), plus `models()`, `enums()` and `schema()`. What the
        /// derive cannot express counts as lost, as for the JSON form.
        #[arg(long)]
        rust: bool,
        /// Write the output to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Loads the schema to migrate: the file given, or the example application.
///
/// # Errors
/// The file cannot be read, or is not a valid schema (the message names the model and field).
pub fn load_schema(path: Option<&PathBuf>) -> Result<Schema, Box<dyn Error>> {
    match path {
        None => Ok(ignis_example::schema()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read schema file {}: {e}", path.display()))?;
            Schema::from_json(&text).map_err(|e| format!("{}: {e}", path.display()).into())
        }
    }
}

/// Runs `migrate` (or its subcommand) against `url` and returns the exit code: 0, or 1 for a
/// refused data-loss plan and for `check` finding a difference.
///
/// # Errors
/// Connection, schema, versioned-file or migration errors; a failed push leaves the database
/// unchanged.
pub fn run(args: &MigrateArgs, url: &str) -> Result<u8, Box<dyn Error>> {
    let ds = DataSource::new(DataSourceConfig::from_url(url)?)?;
    match &args.command {
        None => push(args, &ds),
        Some(MigrateCommand::Check) => check(args, &ds),
        Some(MigrateCommand::Generate { name }) => generate(args, &ds, name),
        Some(MigrateCommand::Pull {
            schema_names,
            lossy,
            rust,
            out,
        }) => pull(&ds, schema_names, *lossy, *rust, out.as_deref()),
    }
}

fn migrator(args: &MigrateArgs, ds: &DataSource) -> Migrator {
    Migrator::new(ds.clone()).with_options(MigrateOptions {
        allow_data_loss: args.allow_data_loss,
        drop_unknown: args.drop_unknown,
        concurrent_indexes: args.concurrent_indexes,
        ..MigrateOptions::default()
    })
}

/// The migrations directory to use, or `None` when the default one does not exist.
///
/// # Errors
/// `--migrations DIR` names a directory that does not exist.
fn migrations_dir(args: &MigrateArgs) -> Result<Option<PathBuf>, Box<dyn Error>> {
    match &args.migrations {
        Some(dir) if dir.is_dir() => Ok(Some(dir.clone())),
        Some(dir) => Err(format!("migrations directory {} does not exist", dir.display()).into()),
        None => {
            let dir = crate::db::workspace_root().join("migrations");
            Ok(dir.is_dir().then_some(dir))
        }
    }
}

/// Prints the plan: each step (class, hazards, SQL) and the differences left alone.
fn print_plan(plan: &Plan) {
    if !plan.steps.is_empty() || !plan.notes.is_empty() {
        print!("{plan}");
    }
}

/// `3 step(s), 1 losing data`.
fn count(plan: &Plan) -> String {
    let loss = plan.data_loss().len();
    if loss == 0 {
        format!("{} step(s)", plan.steps.len())
    } else {
        format!("{} step(s) ({loss} losing data)", plan.steps.len())
    }
}

/// Prints the data-loss steps a run refuses (the plan itself was printed before).
fn print_refusal(steps: &[String]) {
    println!(
        "refused: {} step(s) lose data; nothing was applied (pass --allow-data-loss to apply them):",
        steps.len()
    );
    for s in steps {
        println!("  {s}");
    }
}

fn refused(plan: &Plan) -> Vec<String> {
    plan.data_loss()
        .iter()
        .map(|s| match &s.safety {
            ignis_migrate::Safety::DataLoss(why) => {
                format!("{} {}: {why}", s.kind.as_str(), s.object)
            }
            ignis_migrate::Safety::Safe => format!("{} {}", s.kind.as_str(), s.object),
        })
        .collect()
}

/// `migrate`: versioned files, then push.
fn push(args: &MigrateArgs, ds: &DataSource) -> Result<u8, Box<dyn Error>> {
    let schema = load_schema(args.schema.as_ref())?;
    let mut pending = 0;
    if let Some(dir) = migrations_dir(args)? {
        if args.dry_run {
            let list = versioned::pending(ds, &dir)?;
            for m in &list {
                println!("-- pending versioned migration {m} (not run: dry run)");
            }
            pending = list.len();
        } else {
            let applied = versioned::run_pending(ds, &dir)?;
            for m in &applied {
                println!("applied versioned migration {m}");
            }
            if applied.is_empty() {
                println!("versioned migrations: none pending in {}", dir.display());
            }
        }
    }
    if args.versioned_only {
        return Ok(0);
    }
    let migrator = migrator(args, ds);
    let plan = migrator.plan(&schema)?;
    print_plan(&plan);
    if plan.is_empty() {
        if plan.matches() {
            println!("nothing to do: the database matches the models");
        } else {
            println!(
                "nothing to apply, but the database differs from the models in {} way(s) the \
                 models cannot express (listed above as `-- differs:`)",
                plan.unexpressed().len()
            );
        }
        return Ok(0);
    }
    if args.dry_run {
        let mut line = format!("dry run: {} planned, nothing applied", count(&plan));
        if pending > 0 {
            line.push_str(&format!(
                " (the plan does not include the {pending} pending versioned migration(s))"
            ));
        }
        if !args.allow_data_loss && !plan.data_loss().is_empty() {
            line.push_str("; a real run refuses the data-loss steps without --allow-data-loss");
        }
        println!("{line}");
        return Ok(0);
    }
    if !args.allow_data_loss && !plan.data_loss().is_empty() {
        print_refusal(&refused(&plan));
        return Ok(1);
    }
    let applied = match apply(&migrator, &schema, plan.steps.len()) {
        Ok(applied) => applied,
        Err(MigrateError::DataLossRefused { steps }) => {
            print_refusal(&steps);
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    let concurrent = applied.steps.iter().filter(|s| s.concurrent).count();
    if applied.is_empty() {
        println!("nothing to do: the database matches the models");
    } else if concurrent == 0 {
        println!("applied {} in one transaction", count(&applied));
    } else {
        println!(
            "applied {}: {} in one transaction, then {concurrent} index(es) built concurrently",
            count(&applied),
            applied.steps.len() - concurrent
        );
    }
    Ok(0)
}

/// Applies the plan with a progress bar on a terminal, one line per step otherwise.
fn apply(migrator: &Migrator, schema: &Schema, expected: usize) -> Result<Plan, MigrateError> {
    let describe = |step: &Step| format!("{} {}", step.kind.as_str(), step.object);
    let mut n = 0u64;
    if std::io::stdout().is_terminal() {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(expected as u64),
            indicatif::ProgressDrawTarget::stdout(),
        );
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
        {
            bar.set_style(style);
        }
        let result = migrator.migrate(schema, |step| {
            if n > 0 {
                bar.inc(1);
            }
            n += 1;
            if n > bar.length().unwrap_or(0) {
                bar.set_length(n);
            }
            bar.set_message(describe(step));
        });
        match &result {
            Ok(_) => {
                bar.inc(1);
                bar.finish_and_clear();
            }
            Err(_) => bar.abandon(),
        }
        result
    } else {
        migrator.migrate(schema, |step| {
            n += 1;
            println!(
                "-- applying step {n}/{}: {}",
                expected.max(n as usize),
                describe(step)
            );
        })
    }
}

/// What `migrate check` found.
#[derive(Debug)]
pub enum CheckOutcome {
    /// The database matches the models and no versioned file is pending.
    Matches,
    /// The plan is not empty, or versioned files are pending.
    Differs {
        /// The plan of what differs.
        plan: Plan,
        /// Versioned files not yet applied.
        pending: Vec<versioned::VersionedMigration>,
    },
}

/// Compares the database with the models (and the migrations directory) without changing it.
///
/// # Errors
/// Connection, schema or planning errors.
pub fn check_outcome(args: &MigrateArgs, ds: &DataSource) -> Result<CheckOutcome, Box<dyn Error>> {
    let schema = load_schema(args.schema.as_ref())?;
    let pending = match migrations_dir(args)? {
        Some(dir) => versioned::pending(ds, &dir)?,
        None => Vec::new(),
    };
    let plan = migrator(args, ds).plan(&schema)?;
    if plan.matches() && pending.is_empty() {
        Ok(CheckOutcome::Matches)
    } else {
        Ok(CheckOutcome::Differs { plan, pending })
    }
}

/// `migrate check`: 0 when the database matches, 1 (with the plan) when it differs.
fn check(args: &MigrateArgs, ds: &DataSource) -> Result<u8, Box<dyn Error>> {
    match check_outcome(args, ds)? {
        CheckOutcome::Matches => {
            println!("the database matches the models");
            Ok(0)
        }
        CheckOutcome::Differs { plan, pending } => {
            for m in &pending {
                println!("-- pending versioned migration {m}");
            }
            print_plan(&plan);
            println!(
                "the database differs from the models: {} to apply, {} difference(s) the models \
                 cannot express, {} pending versioned migration(s)",
                count(&plan),
                plan.unexpressed().len(),
                pending.len()
            );
            Ok(1)
        }
    }
}

/// `migrate generate NAME`.
fn generate(args: &MigrateArgs, ds: &DataSource, name: &str) -> Result<u8, Box<dyn Error>> {
    versioned::check_name(name)?;
    let schema = load_schema(args.schema.as_ref())?;
    let dir = args
        .migrations
        .clone()
        .unwrap_or_else(|| crate::db::workspace_root().join("migrations"));
    if dir.is_dir() {
        let pending = versioned::pending(ds, &dir)?;
        if !pending.is_empty() {
            let names: Vec<String> = pending.iter().map(ToString::to_string).collect();
            return Err(format!(
                "{} versioned migration(s) in {} are not applied yet ({}): run them first \
                 (`cargo xtask migrate --versioned-only`), or the new file would repeat them",
                pending.len(),
                dir.display(),
                names.join(", ")
            )
            .into());
        }
    }
    let plan = migrator(args, ds).plan(&schema)?;
    if plan.is_empty() {
        print_plan(&plan);
        println!("nothing to generate: the database matches the models");
        return Ok(0);
    }
    print_plan(&plan);
    if !args.allow_data_loss && !plan.data_loss().is_empty() {
        print_refusal(&refused(&plan));
        return Ok(1);
    }
    if args.dry_run {
        let next = versioned::VersionedMigration {
            version: versioned::next_version(&dir)?,
            name: name.to_string(),
        };
        println!(
            "dry run: would write {} ({}), nothing written",
            file_in(&dir, &next).display(),
            count(&plan)
        );
        return Ok(0);
    }
    match versioned::generate(&plan, &dir, name)? {
        Some(path) => println!("wrote {} ({})", path.display(), count(&plan)),
        None => println!("nothing to generate: the database matches the models"),
    }
    Ok(0)
}

fn file_in(dir: &Path, m: &versioned::VersionedMigration) -> PathBuf {
    dir.join(format!("{m}.sql"))
}

/// `migrate pull`: the schema file (or with `rust`, the typed models' Rust source) on stdout
/// or in `out`, when it reproduces the database exactly or `lossy` is given; otherwise nothing
/// is written and the exit code is 1. What the output does not reproduce goes to stderr either
/// way, one line per object ([`lost_in_pull`], then what the derive cannot express).
fn pull(
    ds: &DataSource,
    schema_names: &[String],
    lossy: bool,
    rust: bool,
    out: Option<&Path>,
) -> Result<u8, Box<dyn Error>> {
    let schemas = if schema_names.is_empty() {
        vec!["public".to_string()]
    } else {
        schema_names.to_vec()
    };
    let pulled = ignis_migrate::pull::pull_with_notes(ds, &schemas)?;
    let mut lost = lost_in_pull(ds, &pulled);
    let text = if rust {
        let source = ignis_migrate::pull_rust::to_rust_noting(&pulled.schema, &lost);
        lost.extend(source.lost);
        source.source
    } else {
        format!("{}\n", pulled.schema.to_json())
    };
    let what = if rust { "Rust source" } else { "schema file" };
    if !lost.is_empty() && !lossy {
        eprintln!(
            "refused: the {what} would not reproduce the database; {} thing(s) would be lost \
             (pass --lossy to write it anyway):",
            lost.len()
        );
        for l in &lost {
            eprintln!("  lost: {l}");
        }
        return Ok(1);
    }
    match out {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    for l in &lost {
        eprintln!("lost: {l}");
    }
    Ok(0)
}

/// What migrating with a pulled schema would not reproduce of the database: pull's notes, then
/// the steps and the differences the models cannot express of the plan of the pulled schema
/// against the database it came from (each line names the object).
pub fn lost_in_pull(ds: &DataSource, pulled: &ignis_migrate::Pulled) -> Vec<String> {
    let mut lost = pulled.notes.clone();
    match Migrator::new(ds.clone()).plan(&pulled.schema) {
        Ok(plan) => {
            for step in &plan.steps {
                lost.push(format!(
                    "migrating this database with the pulled schema would {} {}",
                    step.kind.as_str(),
                    step.object
                ));
            }
            for note in &plan.notes {
                lost.push(note.message.clone());
            }
        }
        Err(e) => lost.push(format!(
            "the pulled schema cannot be planned against this database: {e}"
        )),
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `cargo xtask migrate ARGS` as clap parses them.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: MigrateArgs,
    }

    fn parse(argv: &[&str]) -> MigrateArgs {
        Cli::try_parse_from(std::iter::once("migrate").chain(argv.iter().copied()))
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
            .args
    }

    #[test]
    fn flags_parse_before_and_after_subcommands() {
        let a = parse(&[
            "--dry-run",
            "--allow-data-loss",
            "--drop-unknown",
            "--concurrent-indexes",
        ]);
        assert!(a.dry_run && a.allow_data_loss && a.drop_unknown && a.concurrent_indexes);
        assert!(a.command.is_none());
        let a = parse(&[
            "check",
            "--schema",
            "s.json",
            "--database-url",
            "postgres://x/y",
        ]);
        assert!(matches!(a.command, Some(MigrateCommand::Check)));
        assert_eq!(a.schema.as_deref(), Some(Path::new("s.json")));
        assert_eq!(a.database_url.as_deref(), Some("postgres://x/y"));
        let a = parse(&[
            "--migrations",
            "m",
            "generate",
            "add_tags",
            "--allow-data-loss",
        ]);
        assert!(
            matches!(&a.command, Some(MigrateCommand::Generate { name }) if name == "add_tags")
        );
        assert!(a.allow_data_loss);
        assert_eq!(a.migrations.as_deref(), Some(Path::new("m")));
        let a = parse(&["pull", "--schema-name", "public", "audit"]);
        match a.command {
            Some(MigrateCommand::Pull {
                schema_names,
                lossy,
                rust,
                out,
            }) => {
                assert_eq!(schema_names, ["public", "audit"]);
                assert!(!lossy && !rust && out.is_none());
            }
            other => panic!("not pull: {other:?}"),
        }
        let a = parse(&["pull", "--rust", "--out", "models.rs"]);
        assert!(matches!(
            a.command,
            Some(MigrateCommand::Pull { rust: true, out: Some(ref f), .. }) if f == Path::new("models.rs")
        ));
        let a = parse(&["--versioned-only"]);
        assert!(a.versioned_only);
    }

    /// `pull` prints the schema of a database it reproduces exactly, and refuses (exit 1) one
    /// it cannot reproduce, unless `--lossy`; `check` fails on what the models cannot express.
    #[test]
    fn pull_refuses_to_lose_information_unless_lossy() {
        let db = ignis_tests::TestDb::new();
        let run_args = |argv: &[&str]| run(&parse(argv), &db.url).unwrap();
        assert_eq!(run_args(&[]), 0, "migrate the example models");
        let ds = db.datasource();
        let pulled = ignis_migrate::pull::pull_with_notes(&ds, &["public".into()]).unwrap();
        assert!(lost_in_pull(&ds, &pulled).is_empty());
        assert_eq!(run_args(&["pull"]), 0);
        assert_eq!(run_args(&["check"]), 0);

        db.client()
            .batch_execute(
                "CREATE INDEX recordorder ON \"Configuration\" USING gist \
                 (to_tsvector('english'::regconfig, code) tsvector_ops (siglen = 100))",
            )
            .unwrap();
        let pulled = ignis_migrate::pull::pull_with_notes(&ds, &["public".into()]).unwrap();
        let lost = lost_in_pull(&ds, &pulled);
        assert!(
            lost.iter()
                .any(|l| l.contains("recordorder") && l.contains("siglen")),
            "{lost:#?}"
        );
        assert_eq!(run_args(&["pull"]), 1);
        assert_eq!(run_args(&["pull", "--lossy"]), 0);
        // The example models have no such index: check plans to drop it.
        assert_eq!(run_args(&["check"]), 1);
    }

    /// `check`, `generate`, versioned runs, push and refusal, as the commands run them, against
    /// a fresh database (needs DATABASE_URL, as every database test: `cargo xtask test`).
    #[test]
    fn check_generate_versioned_and_push_commands() {
        let db = ignis_tests::TestDb::new();
        let dir = std::env::temp_dir().join(format!("ignis-xtask-mig-{}", db.name));
        std::fs::create_dir_all(&dir).unwrap();
        let m = dir.to_str().unwrap();
        let run_args = |argv: &[&str]| run(&parse(argv), &db.url).unwrap();
        let ds = db.datasource();
        let outcome = |argv: &[&str]| check_outcome(&parse(argv), &ds).unwrap();

        // An empty database differs from the example models.
        assert!(matches!(
            outcome(&["check", "--migrations", m]),
            CheckOutcome::Differs { ref pending, .. } if pending.is_empty()
        ));
        assert_eq!(run_args(&["check", "--migrations", m]), 1);

        // generate writes V1__x.sql with the plan and changes nothing else.
        assert_eq!(
            run_args(&["generate", "x", "--migrations", m, "--dry-run"]),
            0
        );
        assert!(!dir.join("V1__x.sql").exists(), "a dry run writes nothing");
        assert_eq!(run_args(&["generate", "x", "--migrations", m]), 0);
        let sql = std::fs::read_to_string(dir.join("V1__x.sql")).unwrap();
        assert!(
            sql.contains("-- create table public.Configuration [safe]"),
            "{sql}"
        );
        match outcome(&["check", "--migrations", m]) {
            CheckOutcome::Differs { plan, pending } => {
                assert!(!plan.is_empty());
                assert_eq!(pending.len(), 1);
            }
            CheckOutcome::Matches => panic!("V1 is not applied yet"),
        }
        // With a file pending, generate refuses (the new file would repeat it).
        assert!(run(&parse(&["generate", "y", "--migrations", m]), &db.url).is_err());

        // migrate --versioned-only runs V1 (recorded by refinery) and pushes nothing.
        assert_eq!(run_args(&["--versioned-only", "--migrations", m]), 0);
        let rows: Vec<(i32, String)> = db
            .client()
            .query("SELECT version, name FROM refinery_schema_history", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(rows, [(1, "x".to_string())]);
        assert!(matches!(
            outcome(&["check", "--migrations", m]),
            CheckOutcome::Matches
        ));
        assert_eq!(run_args(&["check", "--migrations", m]), 0);
        assert_eq!(
            run_args(&["--migrations", m]),
            0,
            "a second run applies nothing"
        );

        // A data-loss step is refused (exit 1, nothing applied) unless allowed.
        db.client()
            .batch_execute(
                r#"ALTER TABLE "User" ADD COLUMN extra text;
                   INSERT INTO "User" (name, email, extra) VALUES ('a', 'b', 'c')"#,
            )
            .unwrap();
        assert_eq!(run_args(&["check", "--migrations", m]), 1);
        assert_eq!(run_args(&["--migrations", m]), 1);
        assert_eq!(run_args(&["generate", "drop_extra", "--migrations", m]), 1);
        assert!(!dir.join("V2__drop_extra.sql").exists());
        let extra: i64 = db
            .client()
            .query_one(r#"SELECT count(extra) FROM "User""#, &[])
            .unwrap()
            .get(0);
        assert_eq!(extra, 1, "the refused step did not run");
        assert_eq!(run_args(&["--migrations", m, "--allow-data-loss"]), 0);
        assert_eq!(run_args(&["check", "--migrations", m]), 0);

        // pull prints the schema file of the database (no failure on a migrated database).
        assert_eq!(run_args(&["pull"]), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

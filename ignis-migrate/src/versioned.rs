//! Versioned migrations: SQL files `V{n}__{name}.sql` run by refinery, with its history table.
//!
//! A project that reviews its schema changes commits them as files: [`generate`] writes the
//! migrator's current [`Plan`] as the next `V{n}__{name}.sql` (each step with its
//! `-- kind object [safety] (hazards)` line, as [`crate::Step`] prints it), and
//! [`run_pending`] applies the files not yet recorded in refinery's history table
//! ([`HISTORY_TABLE`]), in version order, each in its own transaction. refinery refuses to run
//! when an applied file was edited afterwards (its checksum differs) or removed.
//!
//! refinery has no lock of its own: [`run_pending`] holds the migrator's advisory lock
//! ([`crate::ADVISORY_LOCK_KEY`], session-level `pg_advisory_lock`) on the very connection
//! refinery uses, so versioned runs and plan-and-apply runs ([`crate::Migrator::migrate`], which
//! takes the same key transaction-level) never interleave. The lock is released when the files
//! have run, before any push phase begins.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ignis_tx::{DataSource, Executor};

use crate::error::MigrateError;
use crate::plan::Plan;
use crate::ADVISORY_LOCK_KEY;

/// refinery's history table (in the first schema of the search path, `public` by default).
pub const HISTORY_TABLE: &str = "refinery_schema_history";

/// One versioned migration: `V{version}__{name}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VersionedMigration {
    /// The version number (`1` in `V1__init.sql`).
    pub version: i32,
    /// The name (`init` in `V1__init.sql`).
    pub name: String,
}

impl fmt::Display for VersionedMigration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "V{}__{}", self.version, self.name)
    }
}

impl From<&refinery::Migration> for VersionedMigration {
    fn from(m: &refinery::Migration) -> Self {
        VersionedMigration {
            version: m.version(),
            name: m.name().to_string(),
        }
    }
}

/// Reads the `V{n}__{name}.sql` files of a directory (and its subdirectories), in version order.
///
/// # Errors
/// [`MigrateError::Versioned`] when the directory cannot be read, a file is not UTF-8, or two
/// files have the same version.
pub fn load(dir: &Path) -> Result<Vec<refinery::Migration>, MigrateError> {
    let migrations = refinery::load_sql_migrations(dir).map_err(MigrateError::Versioned)?;
    for pair in migrations.windows(2) {
        if pair[0].version() == pair[1].version() {
            return Err(MigrateError::InvalidMigration(format!(
                "{} and {} in {} have the same version",
                pair[0],
                pair[1],
                dir.display()
            )));
        }
    }
    Ok(migrations)
}

/// The migrations recorded in the history table, in version order (none when it does not
/// exist yet). Changes nothing.
///
/// # Errors
/// A database error.
pub fn applied(ds: &DataSource) -> Result<Vec<VersionedMigration>, MigrateError> {
    let mut conn = ds.connection()?;
    applied_on(&mut conn)
}

fn applied_on<E: Executor + ?Sized>(exec: &mut E) -> Result<Vec<VersionedMigration>, MigrateError> {
    let exists: bool = exec
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&HISTORY_TABLE])?
        .try_get(0)
        .map_err(|e| MigrateError::Introspect(e.to_string()))?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for row in exec.query(
        &format!("SELECT version, name FROM {HISTORY_TABLE} ORDER BY version"),
        &[],
    )? {
        out.push(VersionedMigration {
            version: row
                .try_get(0)
                .map_err(|e| MigrateError::Introspect(format!("{HISTORY_TABLE}: {e}")))?,
            name: row
                .try_get::<_, Option<String>>(1)
                .map_err(|e| MigrateError::Introspect(format!("{HISTORY_TABLE}: {e}")))?
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The files of `dir` whose version the history table does not record, in version order.
/// Changes nothing (the history table is not created).
///
/// # Errors
/// As [`load`] and [`applied`].
pub fn pending(ds: &DataSource, dir: &Path) -> Result<Vec<VersionedMigration>, MigrateError> {
    let files = load(dir)?;
    let done = applied(ds)?;
    Ok(files
        .iter()
        .filter(|f| !done.iter().any(|a| a.version == f.version()))
        .map(VersionedMigration::from)
        .collect())
}

/// Runs the pending files of `dir` with refinery (creating its history table if needed), under
/// the migrator's advisory lock, and returns the ones applied (empty when none was pending).
/// Each file runs in its own transaction and is recorded in [`HISTORY_TABLE`] with it; when one
/// fails, the files before it stay applied and it does not.
///
/// # Errors
/// [`MigrateError::Versioned`] for a failing file (refinery's message names it and carries the
/// server's error), an applied file that was changed or removed, or an unreadable directory; a
/// database error for the lock.
pub fn run_pending(ds: &DataSource, dir: &Path) -> Result<Vec<VersionedMigration>, MigrateError> {
    let migrations = load(dir)?;
    let mut conn = ds.connection()?;
    conn.execute("SELECT pg_advisory_lock($1)", &[&ADVISORY_LOCK_KEY])?;
    let result = match conn.client() {
        Ok(client) => refinery::Runner::new(&migrations)
            .run(client)
            .map_err(MigrateError::Versioned),
        Err(e) => Err(e.into()),
    };
    let unlocked = conn.execute("SELECT pg_advisory_unlock($1)", &[&ADVISORY_LOCK_KEY]);
    let report = result?;
    unlocked?;
    let applied: Vec<VersionedMigration> = report
        .applied_migrations()
        .iter()
        .map(VersionedMigration::from)
        .collect();
    for m in &applied {
        tracing::info!(migration = %m, "applied versioned migration");
    }
    Ok(applied)
}

/// The version the next file of `dir` gets: one more than the highest `V{n}__` / `U{n}__` file
/// there, 1 for an empty or missing directory.
///
/// # Errors
/// [`MigrateError::Io`] when the directory exists but cannot be read.
pub fn next_version(dir: &Path) -> Result<i32, MigrateError> {
    if !dir.exists() {
        return Ok(1);
    }
    let io = |source| MigrateError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut max = 0;
    for entry in fs::read_dir(dir).map_err(io)? {
        let name = entry.map_err(io)?.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let version = name
            .strip_prefix('V')
            .or_else(|| name.strip_prefix('U'))
            .and_then(|rest| rest.split_once("__"))
            .and_then(|(v, _)| v.parse::<i32>().ok());
        if let Some(v) = version {
            max = max.max(v);
        }
    }
    Ok(max + 1)
}

/// The SQL file for a plan: a header, then each step as [`crate::Step`] prints it (its
/// `-- kind object [safety] (hazards)` line and its statement), then the differences the plan
/// leaves alone as comments.
pub fn render(plan: &Plan, migration: &VersionedMigration) -> String {
    let mut out = format!(
        "-- {migration}: generated by `cargo xtask migrate generate` from the migrator's plan.\n\
         -- {} step(s), {} of them losing data. Review before committing.\n",
        plan.steps.len(),
        plan.data_loss().len()
    );
    for step in &plan.steps {
        out.push('\n');
        out.push_str(&step.to_string());
        out.push('\n');
    }
    if !plan.notes.is_empty() {
        out.push('\n');
        for note in &plan.notes {
            out.push_str(&format!("-- left as is: {note}\n"));
        }
    }
    out
}

/// Checks a migration name for refinery: ASCII letters, digits and underscores, not empty.
///
/// # Errors
/// [`MigrateError::InvalidMigration`].
pub fn check_name(name: &str) -> Result<(), MigrateError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(MigrateError::InvalidMigration(format!(
            "`{name}`: a migration name is ASCII letters, digits and underscores (refinery's \
             V{{n}}__{{name}}.sql)"
        )));
    }
    Ok(())
}

/// Writes the plan as the next versioned file of `dir` (`V{n}__{name}.sql`, see [`render`]),
/// creating the directory if needed, and returns its path; `None`, writing nothing, when the
/// plan has no step. Never overwrites a file.
///
/// ```no_run
/// # fn demo(migrator: &ignis_migrate::Migrator, schema: &ignis_schema::Schema) -> Result<(), ignis_migrate::MigrateError> {
/// let plan = migrator.plan(schema)?;
/// if let Some(path) = ignis_migrate::versioned::generate(&plan, "migrations".as_ref(), "add_tags")? {
///     println!("wrote {}", path.display()); // migrations/V1__add_tags.sql
/// }
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`MigrateError::InvalidMigration`], or [`MigrateError::Io`] when the directory or file
/// cannot be written.
pub fn generate(plan: &Plan, dir: &Path, name: &str) -> Result<Option<PathBuf>, MigrateError> {
    check_name(name)?;
    if plan.is_empty() {
        return Ok(None);
    }
    fs::create_dir_all(dir).map_err(|source| MigrateError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let migration = VersionedMigration {
        version: next_version(dir)?,
        name: name.to_string(),
    };
    let path = dir.join(format!("{migration}.sql"));
    let io = |source| MigrateError::Io {
        path: path.clone(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io)?;
    file.write_all(render(plan, &migration).as_bytes())
        .map_err(io)?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert!(check_name("add_tags_2").is_ok());
        assert!(check_name("add-tags").is_err());
        assert!(check_name("").is_err());
        let dir = std::env::temp_dir().join(format!("ignis-versioned-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(next_version(&dir).ok(), Some(1));
        fs::create_dir_all(&dir).ok();
        for f in ["V1__a.sql", "V7__b.sql", "README.md", "Vx__c.sql"] {
            fs::write(dir.join(f), "").ok();
        }
        assert_eq!(next_version(&dir).ok(), Some(8));
        assert!(generate(&Plan::default(), &dir, "empty")
            .ok()
            .flatten()
            .is_none());
        let _ = fs::remove_dir_all(&dir);
    }
}

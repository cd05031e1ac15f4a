//! Versioned migrations against a real Postgres: `generate` writes the plan as `V1__x.sql`,
//! `run_pending` applies it with refinery under the migrator's advisory lock and records it in
//! refinery's history table, a second run applies nothing, and edited or failing files are
//! refused without leaving the lock behind.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::path::PathBuf;
use std::time::Duration;

use ignis_migrate::versioned::{self, VersionedMigration, HISTORY_TABLE};
use ignis_migrate::{MigrateError, Migrator, ADVISORY_LOCK_KEY};
use ignis_tests::{example, TestDb};

/// A fresh, empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("ignis-versioned-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn history(db: &TestDb) -> Vec<(i32, String)> {
    db.client()
        .query(
            &format!("SELECT version, name FROM {HISTORY_TABLE} ORDER BY version"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn advisory_locks(db: &TestDb) -> i64 {
    db.client()
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = \
             (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .unwrap()
        .get(0)
}

fn v(version: i32, name: &str) -> VersionedMigration {
    VersionedMigration {
        version,
        name: name.into(),
    }
}

#[test]
fn generated_file_runs_once_and_is_recorded() {
    let db = TestDb::new();
    let dir = TempDir::new();
    let ds = db.datasource();
    let schema = example::schema();
    let migrator = Migrator::new(ds.clone());

    let plan = migrator.plan(&schema).unwrap();
    assert!(!plan.is_empty());
    let path = versioned::generate(&plan, &dir.0, "x")
        .unwrap()
        .expect("a file for a non-empty plan");
    assert_eq!(path, dir.0.join("V1__x.sql"));
    let sql = std::fs::read_to_string(&path).unwrap();
    for step in &plan.steps {
        assert!(
            sql.contains(&step.to_string()),
            "{step} missing from\n{sql}"
        );
    }
    assert!(sql.contains("-- create table public.User [safe]"), "{sql}");

    // Generating does not touch the database; the file is pending.
    assert!(!migrator.plan(&schema).unwrap().is_empty());
    assert_eq!(versioned::pending(&ds, &dir.0).unwrap(), [v(1, "x")]);

    let applied = versioned::run_pending(&ds, &dir.0).unwrap();
    assert_eq!(applied, [v(1, "x")]);
    assert_eq!(history(&db), [(1, "x".to_string())]);
    assert_eq!(versioned::applied(&ds).unwrap(), [v(1, "x")]);
    assert_eq!(advisory_locks(&db), 0, "the lock is released");

    // The file made the database match the models; a second run applies nothing.
    let after = migrator.plan(&schema).unwrap();
    assert!(after.is_empty(), "{after}");
    assert!(
        after
            .notes
            .iter()
            .all(|n| !n.message.contains(HISTORY_TABLE)),
        "the history table is not an unknown table: {after}"
    );
    assert!(versioned::run_pending(&ds, &dir.0).unwrap().is_empty());
    assert!(versioned::pending(&ds, &dir.0).unwrap().is_empty());
    assert_eq!(history(&db), [(1, "x".to_string())]);

    // Nothing left to generate; the next file would be V2.
    assert_eq!(versioned::generate(&after, &dir.0, "y").unwrap(), None);
    assert_eq!(versioned::next_version(&dir.0).unwrap(), 2);
}

#[test]
fn edited_applied_file_and_failing_file_are_refused() {
    let db = TestDb::new();
    let dir = TempDir::new();
    let ds = db.datasource();
    std::fs::write(
        dir.0.join("V1__tags.sql"),
        "CREATE TABLE tag (id int PRIMARY KEY);",
    )
    .unwrap();
    assert_eq!(versioned::run_pending(&ds, &dir.0).unwrap(), [v(1, "tags")]);

    // A failing file is rolled back and not recorded; the one before stays.
    std::fs::write(
        dir.0.join("V2__bad.sql"),
        "CREATE TABLE half (id int);\nSELECT no_such_function();",
    )
    .unwrap();
    let err = versioned::run_pending(&ds, &dir.0).unwrap_err();
    assert!(matches!(err, MigrateError::Versioned(_)), "{err:?}");
    assert_eq!(history(&db), [(1, "tags".to_string())]);
    let half: Option<String> = db
        .client()
        .query_one("SELECT to_regclass('half')::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(half, None, "the failing file was rolled back");
    assert_eq!(
        advisory_locks(&db),
        0,
        "the lock is released after a failure"
    );
    std::fs::remove_file(dir.0.join("V2__bad.sql")).unwrap();

    // An applied file that was edited afterwards is refused (refinery's checksum).
    std::fs::write(
        dir.0.join("V1__tags.sql"),
        "CREATE TABLE tag (id bigint PRIMARY KEY);",
    )
    .unwrap();
    let err = versioned::run_pending(&ds, &dir.0).unwrap_err();
    assert!(err.to_string().contains("V1__tags"), "{err}");

    // Two files with one version are refused before anything runs.
    std::fs::write(
        dir.0.join("V1__tags.sql"),
        "CREATE TABLE tag (id int PRIMARY KEY);",
    )
    .unwrap();
    std::fs::write(dir.0.join("V3__a.sql"), "SELECT 1;").unwrap();
    std::fs::write(dir.0.join("V3__b.sql"), "SELECT 1;").unwrap();
    let err = versioned::run_pending(&ds, &dir.0).unwrap_err();
    assert!(matches!(err, MigrateError::InvalidMigration(_)), "{err:?}");
    assert_eq!(history(&db), [(1, "tags".to_string())]);
}

#[test]
fn versioned_run_waits_for_the_migrator_lock() {
    let db = TestDb::new();
    let dir = TempDir::new();
    std::fs::write(dir.0.join("V1__t.sql"), "CREATE TABLE t (id int);").unwrap();
    let mut holder = db.client();
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&ADVISORY_LOCK_KEY])
        .unwrap();
    let ds = db.datasource();
    let path = dir.0.clone();
    let runner = std::thread::spawn(move || versioned::run_pending(&ds, &path));
    std::thread::sleep(Duration::from_millis(500));
    assert!(!runner.is_finished(), "the run must wait for the lock");
    assert!(history_missing(&db), "nothing ran while the lock was held");
    holder
        .execute("SELECT pg_advisory_unlock($1)", &[&ADVISORY_LOCK_KEY])
        .unwrap();
    let applied = runner.join().unwrap().unwrap();
    assert_eq!(applied, [v(1, "t")]);
    assert_eq!(advisory_locks(&db), 0);
}

fn history_missing(db: &TestDb) -> bool {
    let found: Option<String> = db
        .client()
        .query_one("SELECT to_regclass($1)::text", &[&HISTORY_TABLE])
        .unwrap()
        .get(0);
    found.is_none()
}

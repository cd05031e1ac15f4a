//! Real application schemas round-tripped through the migrator.
//!
//! For each open-source application below, its own PostgreSQL schema SQL is taken from its Debian
//! package at test time (see `ignis_tests::debian`; nothing of it is committed) and:
//!
//! 1. loaded into a fresh database A, whose functions (and with them triggers) are then dropped:
//!    the migrator does not model them;
//! 2. pulled (`ignis_migrate::pull::pull_with_notes`) into a schema;
//! 3. planned against A, and an empty database B migrated to it (a second plan on B is empty);
//! 4. `pg_dump --schema-only` of A and B compared, after removing what is not schema (comments,
//!    `SET` lines, the database name).
//!
//! The invariant every package must hold is "never an empty plan with a silent difference": when
//! the dumps differ, pull's notes or the plan against A (steps or notes) say so. A package marked
//! [`Expect::Exact`] must also round-trip exactly (identical dumps, empty plan); the others are
//! marked [`Expect::Reported`] with what differs today. A package that cannot be downloaded is
//! skipped with a `skipping <package>: <why>` line.
//!
//! The dumps of the last run are kept in `target/debian-schemas/<package>/{source,copy}.dump.sql`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::collections::{BTreeSet, HashMap};

use ignis_migrate::pull::pull_with_notes;
use ignis_migrate::Migrator;
use ignis_tests::{debian, TestDb};
use ignis_tx::{DataSource, PoolOptions};

/// What a package's round trip must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Identical dumps and an empty plan against the source.
    Exact,
    /// The dumps differ, and pull's notes or the plan against the source say so (for a package
    /// that does not round-trip exactly; every package listed here does).
    #[allow(dead_code)]
    Reported,
}

/// What a package's round trip gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Exact,
    Reported,
}

/// The statements of a dump (split at `;` ending a line), each with its whitespace collapsed,
/// so that two dumps compare as sets whatever order pg_dump prints equal objects in.
fn statements(dump: &str) -> BTreeSet<String> {
    dump.split(";\n")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// The statements only the source's dump has (`-`) and only the copy's has (`+`); the dumps are
/// saved as `source.dump.sql` and `copy.dump.sql` in the package's cache folder for `diff -u`.
fn statement_diff(package: &str, a: &str, b: &str) -> (Vec<String>, Vec<String>) {
    let dir = debian::cache_dir().join(package);
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("source.dump.sql"), a);
        let _ = std::fs::write(dir.join("copy.dump.sql"), b);
    }
    let (sa, sb) = (statements(a), statements(b));
    (
        sa.difference(&sb).cloned().collect(),
        sb.difference(&sa).cloned().collect(),
    )
}

/// At most `lines` lines of a statement diff, each statement cut at 300 characters.
fn show(only_source: &[String], only_copy: &[String], lines: usize) -> String {
    let all: Vec<String> = only_source
        .iter()
        .map(|s| format!("- {s}"))
        .chain(only_copy.iter().map(|s| format!("+ {s}")))
        .map(|s| s.chars().take(300).collect())
        .collect();
    let mut text = all
        .iter()
        .take(lines)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    if all.len() > lines {
        text.push_str(&format!("\n... and {} more", all.len() - lines));
    }
    text
}

/// The identifiers of a text: runs of letters, digits and `_` (quotes and qualifiers dropped).
fn identifiers(text: &str) -> BTreeSet<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// An object name of a dump statement without its schema qualifier and quotes
/// (`public."Account"` -> `Account`, `public.t.c` -> `t`).
fn unqualified(word: &str, schemas: &[String]) -> String {
    let parts: Vec<&str> = word.split('.').map(|p| p.trim_matches('"')).collect();
    match parts.as_slice() {
        [schema, name, ..] if schemas.iter().any(|s| s == schema) => name.to_string(),
        _ => word.trim_matches('"').to_string(),
    }
}

/// What a dump statement is about, as alternatives: the statement counts as reported when every
/// name of one alternative is named by the plan.
///
/// - `CREATE INDEX i ...`: the index;
/// - `ALTER TABLE t ADD CONSTRAINT k ...`: the constraint;
/// - `ALTER TABLE t ALTER COLUMN c ...`: the table and the column together;
/// - `CREATE TABLE t (...)`: the table, or one of its constraints;
/// - `CREATE / ALTER SEQUENCE s`: the sequence, or the table owning it (`owners`);
/// - anything else: one of the schema-qualified names it holds.
fn alternatives(
    statement: &str,
    schemas: &[String],
    owners: &HashMap<String, String>,
) -> Vec<Vec<String>> {
    let words: Vec<&str> = statement
        .split([' ', '(', ')', ','])
        .filter(|w| !w.is_empty())
        .collect();
    let after = |keyword: &str| -> Vec<String> {
        words
            .windows(2)
            .filter(|w| w[0] == keyword)
            .map(|w| unqualified(w[1], schemas))
            .collect()
    };
    let one = |names: Vec<String>| names.into_iter().map(|n| vec![n]).collect::<Vec<_>>();
    match words.as_slice() {
        ["CREATE", "INDEX" | "UNIQUE", ..] => one(after("INDEX")),
        ["CREATE", "TABLE", table, ..] => {
            let mut alts = one(after("CONSTRAINT"));
            alts.push(vec![unqualified(table, schemas)]);
            alts
        }
        ["ALTER", "TABLE", rest @ ..] => {
            let table = match rest {
                ["ONLY", table, ..] | [table, ..] => unqualified(table, schemas),
                [] => return Vec::new(),
            };
            let constraints = after("CONSTRAINT");
            if !constraints.is_empty() {
                return one(constraints);
            }
            match after("COLUMN").into_iter().next() {
                Some(column) => vec![vec![table, column]],
                None => vec![vec![table]],
            }
        }
        ["CREATE" | "ALTER", "SEQUENCE", sequence, ..] => {
            let sequence = unqualified(sequence, schemas);
            let mut alts = vec![vec![sequence.clone()]];
            if let Some(table) = owners.get(&sequence) {
                alts.push(vec![table.clone()]);
            }
            alts
        }
        _ => one(words
            .iter()
            .filter(|w| w.contains('.'))
            .map(|w| unqualified(w, schemas))
            .filter(|n| !n.contains('.'))
            .collect()),
    }
}

/// The table owning each sequence of a database (serial `OWNED BY` and identity sequences).
fn sequence_owners(db: &TestDb) -> HashMap<String, String> {
    db.client()
        .query(
            "SELECT s.relname::text, t.relname::text FROM pg_class s
               JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
               JOIN pg_class t ON t.oid = d.refobjid
              WHERE s.relkind = 'S'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// A datasource of at most two connections (the tests of this file run side by side with
/// others on one server: default pools of ten would crowd its `max_connections`).
fn small_pool(db: &TestDb) -> DataSource {
    db.datasource_with(PoolOptions {
        max_size: 2,
        min_idle: Some(1),
        ..PoolOptions::default()
    })
}

/// The schemas the application's SQL created objects in (every non-system schema of A).
fn user_schemas(db: &TestDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT nspname::text FROM pg_namespace
              WHERE nspname NOT IN ('information_schema') AND nspname NOT LIKE 'pg\\_%'
              ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Drops every function and procedure of the given schemas (with `CASCADE`, so the triggers
/// that call them go too), except those an extension owns. Returns how many were dropped.
fn drop_routines(db: &TestDb, schemas: &[String]) -> usize {
    let mut client = db.client();
    let routines: Vec<String> = client
        .query(
            "SELECT p.oid::regprocedure::text FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = ANY($1) AND p.prokind IN ('f', 'p')
                AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                 WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                   AND d.deptype = 'e')",
            &[&schemas],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for routine in &routines {
        // `regprocedure` prints a qualified, quoted signature: safe to splice.
        client
            .batch_execute(&format!("DROP ROUTINE IF EXISTS {routine} CASCADE"))
            .unwrap_or_else(|e| panic!("DROP ROUTINE {routine}: {e}"));
    }
    routines.len()
}

/// Loads `package`'s schema SQL at `path`, pulls it, migrates an empty database to it and
/// compares the two dumps (see the module documentation); panics on a silent difference or
/// when an [`Expect::Exact`] package no longer round-trips exactly.
fn round_trip(package: &str, path: &str, expect: Expect) {
    let sql = match debian::fetch_sql(package, path) {
        Ok(sql) => sql,
        Err(e) => {
            println!("skipping {package}: {}", e.reason);
            return;
        }
    };
    let source = TestDb::new();
    source
        .client()
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("{package}: {path} does not load: {e}"));
    let schemas = user_schemas(&source);
    let dropped = drop_routines(&source, &schemas);

    let source_ds = small_pool(&source);
    let pulled =
        pull_with_notes(&source_ds, &schemas).unwrap_or_else(|e| panic!("{package}: pull: {e}"));
    let plan = Migrator::new(source_ds)
        .plan(&pulled.schema)
        .unwrap_or_else(|e| panic!("{package}: plan against the source: {e}"));

    let copy = TestDb::new();
    let migrator = Migrator::new(small_pool(&copy));
    migrator
        .migrate(&pulled.schema, |_| {})
        .unwrap_or_else(|e| panic!("{package}: migrate an empty database: {e}"));
    let again = migrator
        .plan(&pulled.schema)
        .unwrap_or_else(|e| panic!("{package}: plan the copy again: {e}"));
    assert!(
        again.is_empty(),
        "{package}: a second run on the copy plans again:\n{again}"
    );

    let (a, b) = (source.schema_dump(), copy.schema_dump());
    assert!(
        a.contains("CREATE TABLE"),
        "{package}: the source dump holds tables"
    );
    let plan_empty = plan.steps.is_empty() && plan.notes.is_empty();
    let (only_source, only_copy) = statement_diff(package, &a, &b);
    println!(
        "{package}: {} models, {dropped} routines dropped; {} pull notes, {} plan steps, {} plan \
         notes; dumps {} ({} statements only in the source's, {} only in the copy's)",
        pulled.schema.models().len(),
        pulled.notes.len(),
        plan.steps.len(),
        plan.notes.len(),
        if a == b { "identical" } else { "differ" },
        only_source.len(),
        only_copy.len(),
    );
    for note in &pulled.notes {
        println!("  {package}: pull note: {note}");
    }
    let mut said = String::new();
    for step in &plan.steps {
        let step = step.to_string();
        println!("  {package}: plan step: {}", step.replace('\n', " "));
        said.push_str(&step);
        said.push('\n');
    }
    for note in &plan.notes {
        println!("  {package}: plan note: {note}");
        said.push_str(&note.message);
        said.push('\n');
    }

    let outcome = if a == b {
        assert!(
            plan_empty,
            "{package}: the dumps are identical but the plan against the source is not \
             empty:\n{plan}"
        );
        Outcome::Exact
    } else {
        // Every differing statement must be about an object that the plan against the source
        // names, in a step or a note: pull's notes are read once, while `migrate` and
        // `migrate check` answer from the plan. A difference the plan does not name is silent.
        let said = identifiers(&said);
        let mut owners = sequence_owners(&source);
        owners.extend(sequence_owners(&copy));
        let silent = |statements: &[String]| -> Vec<String> {
            statements
                .iter()
                .filter(|s| {
                    !alternatives(s, &schemas, &owners)
                        .iter()
                        .any(|names| names.iter().all(|n| said.contains(n.as_str())))
                })
                .cloned()
                .collect()
        };
        let (silent_source, silent_copy) = (silent(&only_source), silent(&only_copy));
        let order_only = only_source.is_empty() && only_copy.is_empty();
        assert!(
            silent_source.is_empty() && silent_copy.is_empty() && !(order_only && plan_empty),
            "{package}: the dumps differ and the plan against the source does not name these \
             objects (a silent difference; pull noted {} things; dumps in {}):\n{}",
            pulled.notes.len(),
            debian::cache_dir().join(package).display(),
            show(&silent_source, &silent_copy, 40)
        );
        println!(
            "  {package}: dump statements that differ (first 40):\n{}",
            show(&only_source, &only_copy, 40)
        );
        Outcome::Reported
    };
    match (expect, outcome) {
        (Expect::Exact, Outcome::Reported) => panic!(
            "{package} round-tripped exactly and no longer does:\n{}",
            show(&only_source, &only_copy, 40)
        ),
        (Expect::Reported, Outcome::Exact) => println!(
            "  {package} now round-trips exactly: mark it Expect::Exact in migrate_real.rs"
        ),
        _ => {}
    }
}

// PowerDNS authoritative server, PostgreSQL backend; holds an index operator class
// (`recordorder` on `ordername text_pattern_ops`).
#[test]
fn powerdns_round_trips() {
    round_trip(
        "pdns-backend-pgsql",
        "/usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql",
        Expect::Exact,
    );
}

// Icinga 2 IDO (monitoring), PostgreSQL schema; its three functions are dropped before the pull.
// Holds 61 primary keys named otherwise than `{table}_pkey` (`pk_command_id`) and five bigserial
// columns whose sequence names Postgres truncated at 63 bytes, and an index sort order
// (`sla_idx_sthist` on `state_time DESC`).
#[test]
fn icinga2_ido_round_trips() {
    round_trip(
        "icinga2-ido-pgsql",
        "/usr/share/icinga2-ido-pgsql/schema/pgsql.sql",
        Expect::Exact,
    );
}

// Bacula backup director catalog.
// Holds eight indexes on `text_pattern_ops` and a primary key not in column order
// (`pathvisibility (jobid, pathid)`), and column statistics targets (`SET STATISTICS 1000`).
#[test]
fn bacula_catalog_round_trips() {
    round_trip(
        "bacula-director-pgsql",
        "/usr/share/dbconfig-common/data/bacula-director-pgsql/install/pgsql",
        Expect::Exact,
    );
}

// Prelude SIEM event database (libpreludedb "classic" format): 16 primary keys not in column
// order, 33 `varchar IN (...)` checks (which Postgres prints as text it parses differently).
#[test]
fn preludedb_round_trips() {
    round_trip(
        "libpreludedb7-pgsql",
        "/usr/share/libpreludedb/classic/pgsql.sql",
        Expect::Exact,
    );
}

// gnokii SMS daemon storage: serial keys, defaults, varchar, time columns.
#[test]
fn gnokii_smsd_round_trips() {
    round_trip(
        "gnokii-smsd-pgsql",
        "/usr/share/doc/gnokii-smsd-pgsql/sms.tables.pq.sql",
        Expect::Exact,
    );
}

// OAR batch scheduler (its schema ships in oar-server; oar-server-pgsql only depends on it):
// 29 `varchar IN (...)` checks.
#[test]
fn oar_scheduler_round_trips() {
    round_trip(
        "oar-server",
        "/usr/lib/oar/database/pg_structure.sql",
        Expect::Exact,
    );
}

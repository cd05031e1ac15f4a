//! The test server folds non-ASCII letters: `ilike`, `upper` and `lower` treat `É` and `é` as
//! the same letter, as a Debian or Ubuntu server (a UTF-8 `LC_CTYPE`) does.
//!
//! A cluster created with `LC_CTYPE` `C` folds ASCII letters only, so an Ignis filter
//! `{"name": {"ilike": "émile%"}}` misses `Émile` there while it finds it in production.
//! `cargo xtask db start` creates its cluster with the `C.UTF-8` locale; these tests run on the
//! server of `DATABASE_URL` and fail, naming its `lc_ctype` and how to recreate the local
//! cluster, on one that does not fold.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use ignis_repo::DefaultCrudRepository;
use ignis_tests::TestDb;
use serde_json::json;

/// How to get a cluster that folds, for the assertion messages.
const RECREATE: &str = "a cluster created with LC_CTYPE C folds ASCII letters only; recreate \
    the local cluster with a UTF-8 locale: `cargo xtask db stop`, delete target/ignis-pg (and \
    the folder named in target/ignis-pg/cluster-dir, if that file exists), `cargo xtask db start`";

/// The test database's `lc_ctype` and `lc_collate`.
fn locale(db: &TestDb) -> (String, String) {
    let row = db
        .client()
        .query_one(
            "SELECT current_setting('lc_ctype'), current_setting('lc_collate')",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn the_server_folds_non_ascii_letters() {
    let db = TestDb::new();
    let (ctype, collate) = locale(&db);
    let row = db
        .client()
        .query_one(
            "SELECT 'Émile' ILIKE 'émile%', upper('émile'), lower('ÉMILE'), 'ÀÉÎÕÜ' ILIKE 'àéîõü'",
            &[],
        )
        .unwrap();
    let (ilike, upper, lower, accents): (bool, String, String, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let context = format!("server lc_ctype {ctype:?}, lc_collate {collate:?}: {RECREATE}");
    assert!(ilike, "'Émile' ILIKE 'émile%' is false; {context}");
    assert_eq!(upper, "ÉMILE", "upper('émile'); {context}");
    assert_eq!(lower, "émile", "lower('ÉMILE'); {context}");
    assert!(accents, "'ÀÉÎÕÜ' ILIKE 'àéîõü' is false; {context}");
}

#[test]
fn an_ilike_filter_finds_names_that_differ_in_the_case_of_accented_letters() {
    let db = TestDb::new();
    let (ctype, collate) = locale(&db);
    let schema = Arc::new(ignis_tests::example::schema());
    let ds = db.migrated(&schema);
    let users = DefaultCrudRepository::new(ds, schema, "User").unwrap();
    for (name, email) in [
        ("Émile Zola", "emile@example.com"),
        ("Ève Curie", "eve@example.com"),
        ("Emma Bovary", "emma@example.com"),
    ] {
        users
            .create(&json!({"name": name, "email": email}))
            .unwrap();
    }
    let names = |filter: serde_json::Value| -> Vec<String> {
        let mut names: Vec<String> = users
            .find(&filter)
            .unwrap()
            .iter()
            .filter_map(|row| row["name"].as_str().map(str::to_string))
            .collect();
        names.sort();
        names
    };
    let context = format!("server lc_ctype {ctype:?}, lc_collate {collate:?}: {RECREATE}");
    assert_eq!(
        names(json!({"where": {"name": {"ilike": "émile%"}}})),
        vec!["Émile Zola"],
        "{context}"
    );
    assert_eq!(
        names(json!({"where": {"name": {"ilike": "%ÈVE%"}}})),
        vec!["Ève Curie"],
        "{context}"
    );
    // `nilike` is the complement: everything but the folded match.
    assert_eq!(
        names(json!({"where": {"name": {"nilike": "ÉMILE%"}}})),
        vec!["Emma Bovary", "Ève Curie"],
        "{context}"
    );
}

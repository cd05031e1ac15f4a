//! `pull --rust` against a real Postgres: databases are pulled, their schemas written as Rust
//! (`ignis_migrate::pull_rust`), and the Rust is built and run in a cargo crate of its own that
//! depends on the workspace's crates by path: it compiles as written, and the models its
//! `#[derive(Model)]` structs give are the pulled schema's models.
//!
//! The crate is written to `target/pull-rust-check/<database>/` and built with
//! `CARGO_TARGET_DIR=target/pull-rust` (so its dependencies build once and are reused); the
//! workspace's `Cargo.lock` is copied in, so it builds with the versions the workspace uses.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use ignis_migrate::pull::pull_with_notes;
use ignis_migrate::pull_rust::{to_rust, to_rust_lossy};
use ignis_migrate::Migrator;
use ignis_tests::{debian, example, TestDb};
use serde_json::Value;

/// Types with and without an exact Rust type, an enum, arrays, a keyword and mixed-case
/// column names, constraints and a foreign key with names the derive does not default to, a
/// view.
const VARIED_SQL: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE "Owner" (
    id bigint PRIMARY KEY,
    "type" text NOT NULL DEFAULT 'x',
    "displayName" varchar(80),
    CONSTRAINT owner_type_key UNIQUE ("type")
);
CREATE TABLE item (
    code char(3) PRIMARY KEY,
    owner bigint NOT NULL,
    price numeric(12,2) NOT NULL DEFAULT 0,
    ratio real,
    tags text[],
    scores integer[] NOT NULL DEFAULT '{}',
    feeling mood,
    ip inet,
    span interval,
    doc json,
    at_time time(3),
    stamped timestamp(0) with time zone,
    born date,
    uid uuid,
    "Weird Name" text,
    CONSTRAINT item_owner_fk FOREIGN KEY (owner) REFERENCES "Owner" (id)
);
CREATE INDEX item_born ON item (born);
CREATE VIEW owner_names AS SELECT id, "displayName" FROM "Owner";
"#;

/// The example application's view (the migrator never creates `skip_migrate` models).
const EXAMPLE_VIEW_SQL: &str = r#"CREATE VIEW configuration_report AS
    SELECT "group", count(*) AS total FROM "Configuration" GROUP BY "group""#;

/// One pulled database: its name in the check crate, its schema as JSON, its Rust source, and
/// whether the source is exact (else only columns are compared).
struct Case {
    name: &'static str,
    pulled: Value,
    source: String,
    exact: bool,
}

fn pulled(db: &TestDb, name: &'static str) -> (ignis_schema::Schema, Case) {
    let pulled = pull_with_notes(&db.datasource(), &["public".to_string()])
        .unwrap_or_else(|e| panic!("{name}: pull: {e}"));
    let schema = pulled.schema;
    let case = Case {
        name,
        pulled: serde_json::from_str(&schema.to_json()).unwrap(),
        source: String::new(),
        exact: true,
    };
    (schema, case)
}

/// Each model's unique constraints, indexes, foreign keys and hidden properties sorted by
/// name: the derive writes them in field order, which means nothing to the migrator.
fn canonical(mut schema: Value) -> Value {
    if let Some(models) = schema.get_mut("models").and_then(Value::as_array_mut) {
        for m in models {
            for key in ["uniques", "indexes", "foreignKeys", "hidden"] {
                if let Some(list) = m.get_mut(key).and_then(Value::as_array_mut) {
                    list.sort_by_key(|v| v.get("name").unwrap_or(v).to_string());
                }
            }
        }
    }
    schema
}

/// `(model name, columns)` of each model.
fn columns(schema: &Value) -> Vec<(Value, Value)> {
    schema["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].clone(), m["columns"].clone()))
        .collect()
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Writes the check crate (one module per case, a `main` printing each case's schema as JSON
/// after a `=== name` line), builds and runs it; returns what it printed per case.
fn build_and_run(dir: &Path, cases: &[Case]) -> Vec<(String, Value)> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let ws = workspace().canonicalize().unwrap();
    let manifest = format!(
        r#"[package]
name = "ignis-pull-rust-check"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
ignis-schema = {{ path = {:?} }}
ignis-repo = {{ path = {:?} }}
chrono = {{ version = "0.4", default-features = false, features = ["std", "clock", "serde"] }}
serde_json = "1"
uuid = "1"
"#,
        ws.join("ignis-schema"),
        ws.join("ignis-repo"),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let mut main = String::from("#![deny(warnings)]\n\n");
    for c in cases {
        std::fs::write(dir.join("src").join(format!("{}.rs", c.name)), &c.source).unwrap();
        main.push_str(&format!(
            "#[allow(dead_code)] // models only: never read\nmod {};\n",
            c.name
        ));
    }
    main.push_str("\nfn main() {\n");
    for c in cases {
        main.push_str(&format!(
            "    println!(\"=== {0}\");\n    println!(\"{{}}\", {0}::schema().unwrap().to_json());\n",
            c.name
        ));
    }
    main.push_str("}\n");
    std::fs::write(dir.join("src/main.rs"), main).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["run", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", ws.join("target").join("pull-rust"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the generated crate in {} does not build or run:\n{}\n{stdout}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .split("=== ")
        .filter(|s| !s.trim().is_empty())
        .map(|part| {
            let (name, json) = part.split_once('\n').unwrap();
            (name.to_string(), serde_json::from_str(json).unwrap())
        })
        .collect()
}

/// The example application's database (with its view), a database of varied types and
/// constraints, and two Debian packages' schemas (gnokii-smsd: exact; PowerDNS: what the derive
/// cannot express listed, the rest compiled and compared column by column).
#[test]
fn pulled_schemas_become_rust_that_derives_the_same_models() {
    let mut cases = Vec::new();

    let db = TestDb::new();
    Migrator::new(db.datasource())
        .migrate(&example::schema(), |_| {})
        .unwrap();
    db.client().batch_execute(EXAMPLE_VIEW_SQL).unwrap();
    let (schema, mut case) = pulled(&db, "example");
    assert_eq!(schema.models().len(), 3, "User, Configuration, the view");
    case.source = to_rust(&schema).unwrap_or_else(|e| panic!("example: {e}"));
    for expected in [
        "#[ignis(name = \"configuration_report\", skip_migrate)]\npub struct ConfigurationReport {",
        "    #[ignis(foreign_key(model = \"User\"))]\n    pub created_by: Option<String>,",
        "    #[ignis(unique)]\n    pub code: String,",
        "    pub r#type: String,",
    ] {
        assert!(
            case.source.contains(expected),
            "{expected}\n{}",
            case.source
        );
    }
    cases.push(case);
    let _keep_example = db;

    let db = TestDb::new();
    db.client().batch_execute(VARIED_SQL).unwrap();
    let (schema, mut case) = pulled(&db, "varied");
    case.source = to_rust(&schema).unwrap_or_else(|e| panic!("varied: {e}"));
    for expected in [
        "#[ignis(pg_type = \"numeric(12,2)\", default = \"0\")]\n    pub price: String,",
        "    pub tags: Option<Vec<Option<String>>>,",
        "#[ignis(pg_type = \"inet\")]\n    pub ip: Option<std::net::IpAddr>,",
        "#[ignis(property = \"Weird Name\", column = \"Weird Name\")]\n    pub weird_name: Option<String>,",
        "unique = \"owner_type_key\")]\n    pub r#type: String,",
        "#[ignis(foreign_key(model = \"Owner\", name = \"item_owner_fk\"))]\n    pub owner: i64,",
        "#[ignis(index = \"item_born\")]",
        "name: \"mood\".to_string(),",
    ] {
        assert!(case.source.contains(expected), "{expected}\n{}", case.source);
    }
    cases.push(case);
    let _keep_varied = db;

    let packages = [
        (
            "gnokii",
            "gnokii-smsd-pgsql",
            "/usr/share/doc/gnokii-smsd-pgsql/sms.tables.pq.sql",
        ),
        (
            "pdns",
            "pdns-backend-pgsql",
            "/usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql",
        ),
    ];
    let mut debian_dbs = Vec::new();
    for (name, package, path) in packages {
        let sql = match debian::fetch_sql(package, path) {
            Ok(sql) => sql,
            Err(e) => {
                println!("skipping {package}: {}", e.reason);
                continue;
            }
        };
        let db = TestDb::new();
        db.client()
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{package}: {e}"));
        let (schema, mut case) = pulled(&db, name);
        match to_rust(&schema) {
            Ok(source) => case.source = source,
            Err(e) => {
                assert_eq!(name, "pdns", "{package} should be exact: {e}");
                // An index with an operator class has no derive attribute: listed, by model.
                assert!(
                    e.lost
                        .iter()
                        .any(|l| l.starts_with("model records: index recordorder")),
                    "{e}"
                );
                assert!(
                    !e.lost.iter().any(|l| l.contains(": column ")),
                    "every column is expressed: {e}"
                );
                let lossy = to_rust_lossy(&schema);
                assert_eq!(lossy.lost, e.lost);
                case.source = lossy.source;
                case.exact = false;
            }
        }
        cases.push(case);
        debian_dbs.push(db);
    }

    let dir = workspace()
        .join("target")
        .join("pull-rust-check")
        .join(&_keep_example.name);
    let printed = build_and_run(&dir, &cases);
    assert_eq!(printed.len(), cases.len(), "one schema printed per case");
    for (case, (name, derived)) in cases.iter().zip(printed) {
        assert_eq!(name, case.name);
        if case.exact {
            assert_eq!(
                canonical(derived),
                canonical(case.pulled.clone()),
                "{name}: the derived schema differs from the pulled one"
            );
        } else {
            assert_eq!(
                columns(&derived),
                columns(&case.pulled),
                "{name}: the derived columns differ from the pulled ones"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

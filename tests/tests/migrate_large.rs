//! A large schema round trip: 250 tables (a generated, application-like schema with ~900
//! indexes and constraints: identity keys, varied types and defaults, multi-column, unique,
//! partial and gin indexes, foreign keys with actions, checks, enums, two schemas) is loaded
//! from SQL, pulled into a schema file, and an empty database is migrated with it. The two
//! databases' `pg_dump --schema-only` outputs are identical, and the migrator plans nothing
//! against the original.
//!
//! The schema is generated here, deterministically, with the kinds of objects real application
//! schemas have.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::fmt::Write as _;

use ignis_migrate::pull::pull_with_notes;
use ignis_migrate::Migrator;
use ignis_tests::TestDb;

const TYPES: &[(&str, &str)] = &[
    ("integer", "0"),
    ("bigint", "1"),
    ("smallint", "2"),
    ("numeric(12,2)", "0.00"),
    ("double precision", "1.5"),
    ("text", "''"),
    ("varchar(120)", "'n/a'"),
    ("boolean", "false"),
    ("timestamptz", "now()"),
    ("timestamp(3)", "LOCALTIMESTAMP"),
    ("date", "CURRENT_DATE"),
    ("uuid", "gen_random_uuid()"),
    ("jsonb", "'{}'::jsonb"),
    ("text[]", "'{}'::text[]"),
    ("inet", "'127.0.0.1'::inet"),
    ("interval", "'1 day'::interval"),
    ("status", "'active'::status"),
];

/// A deterministic pseudo-random sequence (xorshift), so the schema is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn schema_sql(tables: usize) -> String {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut sql = String::from(
        "CREATE TYPE status AS ENUM ('active', 'blocked', 'deleted');\nCREATE SCHEMA billing;\n",
    );
    for t in 0..tables {
        let schema = if t % 5 == 4 { "billing" } else { "public" };
        let name = format!("{schema}.t{t:03}");
        let ncols = 4 + rng.next(8);
        let mut cols = vec!["id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY".to_string()];
        let mut typed: Vec<(String, &str)> = Vec::new();
        for c in 0..ncols {
            let (ty, default) = TYPES[rng.next(TYPES.len())];
            let mut col = format!("c{c} {ty}");
            if rng.next(3) == 0 {
                let _ = write!(col, " DEFAULT {default}");
            }
            if rng.next(3) == 0 {
                col.push_str(" NOT NULL");
            }
            cols.push(col);
            typed.push((format!("c{c}"), ty));
        }
        let parents: Vec<usize> = if t == 0 {
            Vec::new()
        } else {
            (0..rng.next(3)).map(|_| rng.next(t)).collect()
        };
        for (k, _) in parents.iter().enumerate() {
            cols.push(format!("ref{k} bigint"));
        }
        let _ = writeln!(sql, "CREATE TABLE {name} (\n  {}\n);", cols.join(",\n  "));
        for (k, p) in parents.iter().enumerate() {
            let pschema = if p % 5 == 4 { "billing" } else { "public" };
            let action = ["NO ACTION", "CASCADE", "SET NULL", "RESTRICT"][rng.next(4)];
            let _ = writeln!(
                sql,
                "ALTER TABLE {name} ADD CONSTRAINT fk_t{t:03}_{k} FOREIGN KEY (ref{k}) REFERENCES {pschema}.t{p:03} (id) ON DELETE {action};"
            );
            let _ = writeln!(sql, "CREATE INDEX ix_t{t:03}_ref{k} ON {name} (ref{k});");
        }
        // Indexes of several kinds on the typed columns.
        for (c, ty) in typed.iter().take(3) {
            match (*ty, rng.next(4)) {
                ("jsonb" | "text[]", _) => {
                    let _ = writeln!(
                        sql,
                        "CREATE INDEX ix_t{t:03}_{c} ON {name} USING gin ({c});"
                    );
                }
                (_, 0) => {
                    let _ = writeln!(sql, "CREATE INDEX ix_t{t:03}_{c} ON {name} ({c});");
                }
                (_, 1) if typed.len() > 1 => {
                    let other = &typed[typed.len() - 1].0;
                    if other != c {
                        let _ = writeln!(
                            sql,
                            "CREATE INDEX ix_t{t:03}_{c}_{other} ON {name} ({c}, {other});"
                        );
                    }
                }
                ("integer" | "bigint" | "smallint", 2) => {
                    let _ = writeln!(
                        sql,
                        "CREATE INDEX ix_t{t:03}_{c}_pos ON {name} ({c}) WHERE {c} > 0;"
                    );
                    let _ = writeln!(
                        sql,
                        "ALTER TABLE {name} ADD CONSTRAINT ck_t{t:03}_{c} CHECK ({c} >= -1000);"
                    );
                }
                ("text" | "varchar(120)" | "uuid", 3) => {
                    let _ = writeln!(
                        sql,
                        "ALTER TABLE {name} ADD CONSTRAINT uq_t{t:03}_{c} UNIQUE ({c});"
                    );
                }
                _ => {}
            }
        }
    }
    sql
}

#[test]
fn a_large_schema_pulls_migrates_and_dumps_identically() {
    let source = TestDb::new();
    let sql = schema_sql(250);
    source
        .client()
        .batch_execute(&sql)
        .expect("load the schema");
    let objects: i64 = source
        .client()
        .query_one(
            "SELECT (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'billing'))
                  + (SELECT count(*) FROM pg_constraint WHERE contype IN ('f', 'c'))",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(
        objects > 600,
        "the schema is large: {objects} indexes and constraints"
    );

    let schemas = vec!["public".to_string(), "billing".to_string()];
    let pulled = pull_with_notes(&source.datasource(), &schemas).expect("pull");
    assert!(pulled.notes.is_empty(), "{:?}", pulled.notes);
    assert_eq!(pulled.schema.models().len(), 250);

    let plan = Migrator::new(source.datasource())
        .plan(&pulled.schema)
        .expect("plan against the source");
    assert!(plan.is_empty() && plan.notes.is_empty(), "{plan}");

    let target = TestDb::new();
    let m = Migrator::new(target.datasource());
    m.migrate(&pulled.schema, |_| {}).expect("migrate the copy");
    assert!(m.plan(&pulled.schema).unwrap().is_empty());

    let (a, b) = (source.schema_dump(), target.schema_dump());
    assert!(
        a.contains("CREATE TABLE billing.t004"),
        "the dump holds the tables"
    );
    assert!(
        a.matches("CREATE INDEX").count() > 300,
        "the dump holds the indexes"
    );
    if a != b {
        let first = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        let context = |s: &str| {
            s.lines()
                .skip(first.saturating_sub(3))
                .take(8)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "pg_dump differs at line {first}:\n--- source\n{}\n--- copy\n{}",
            context(&a),
            context(&b)
        );
    }
    let pulled_again = pull_with_notes(&target.datasource(), &schemas).expect("pull the copy");
    assert_eq!(pulled_again.schema.to_json(), pulled.schema.to_json());
}

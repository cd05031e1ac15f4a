//! Property test of the migrator: random schema A, migrate; random schema B (columns added,
//! dropped, retyped, nullability and defaults changed, indexes and keys changed), migrate with
//! data loss allowed; the next plan is empty (the catalog equals B, compared catalog to
//! catalog); then back to A, and again the next plan is empty.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use ignis_migrate::{MigrateOptions, Migrator};
use ignis_schema::enrich::IdOptions;
use ignis_schema::{Column, Enricher, ForeignKey, ForeignKeyAction, Index, Model, PgType, Schema};
use ignis_tests::TestDb;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Column types the generator picks from, with a default that fits each.
const TYPES: &[(&str, &str)] = &[
    ("smallint", "1"),
    ("integer", "0"),
    ("bigint", "42"),
    ("numeric(10,2)", "0.5"),
    ("double precision", "1.5"),
    ("text", "'x'"),
    ("varchar(20)", "'y'"),
    ("boolean", "true"),
    ("timestamptz", "now()"),
    ("jsonb", "'{}'::jsonb"),
    ("text[]", "'{}'"),
    ("date", "CURRENT_DATE"),
];

/// One generated column: name index, type index, nullable, has default.
#[derive(Debug, Clone)]
struct Col {
    name: usize,
    ty: usize,
    nullable: bool,
    default: bool,
}

#[derive(Debug, Clone)]
struct Shape {
    columns: Vec<Col>,
    /// Index on the first column (by position), unique or not, with method.
    index: Option<(bool, bool)>,
    /// Unique constraint on the second column.
    unique: bool,
    /// Foreign key from `Child.parent_id` to this table.
    fk: Option<ForeignKeyAction>,
    check: bool,
}

fn col() -> impl Strategy<Value = Col> {
    (0..6usize, 0..TYPES.len(), any::<bool>(), any::<bool>()).prop_map(
        |(name, ty, nullable, default)| Col {
            name,
            ty,
            nullable,
            default,
        },
    )
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::collection::vec(col(), 1..6),
        prop::option::of((any::<bool>(), any::<bool>())),
        any::<bool>(),
        prop::option::of(prop_oneof![
            Just(ForeignKeyAction::NoAction),
            Just(ForeignKeyAction::Cascade),
            Just(ForeignKeyAction::SetNull),
        ]),
        any::<bool>(),
    )
        .prop_map(|(mut columns, index, unique, fk, check)| {
            // One column per name.
            let mut seen = std::collections::BTreeSet::new();
            columns.retain(|c| seen.insert(c.name));
            Shape {
                columns,
                index,
                unique,
                fk,
                check,
            }
        })
}

fn build(shape: &Shape) -> Schema {
    let mut parent = Model::new("Parent").enrich(Enricher::Id(IdOptions::number()));
    for c in &shape.columns {
        let (ty, default) = TYPES[c.ty];
        let mut column = Column::new(format!("c{}", c.name), ty.parse::<PgType>().unwrap());
        column.nullable = c.nullable;
        if c.default {
            column = column.default_sql(default);
        }
        parent = parent.column(column);
    }
    let first = format!("c{}", shape.columns[0].name);
    let first_ty = TYPES[shape.columns[0].ty].0;
    if let Some((unique, other_method)) = shape.index {
        let mut index = Index::new("IDX_Parent_first", [first.clone()]);
        if unique {
            index = index.unique();
        }
        if other_method && (first_ty == "jsonb" || first_ty == "text[]") {
            index = Index::new("IDX_Parent_first", [first.clone()]).method("gin");
        }
        parent = parent.index(index);
    }
    if shape.unique {
        if let Some(second) = shape.columns.get(1) {
            let (ty, _) = TYPES[second.ty];
            if ty != "jsonb" {
                parent = parent.unique("UQ_Parent_second", [format!("c{}", second.name)]);
            }
        }
    }
    if shape.check {
        parent = parent.check("CK_Parent_id", "id > 0");
    }
    let mut child = Model::new("Child")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("parentId", PgType::Integer));
    if let Some(action) = shape.fk {
        child = child.foreign_key(
            ForeignKey::new("FK_Child_parent", ["parentId"], "Parent", ["id"]).on_delete(action),
        );
    }
    Schema::new(vec![parent, child]).unwrap()
}

#[test]
fn any_schema_migrates_to_any_other_and_back_with_an_empty_next_plan() {
    let db = TestDb::new();
    let m = Migrator::new(db.datasource()).with_options(MigrateOptions {
        allow_data_loss: true,
        drop_unknown: true,
        ..MigrateOptions::default()
    });
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(shape(), shape()), |(a, b)| {
            let (a, b) = (build(&a), build(&b));
            // Start each case from scratch.
            db.client()
                .batch_execute(r#"DROP TABLE IF EXISTS "Child", "Parent" CASCADE"#)
                .unwrap();
            for (from, to) in [(None, &a), (Some(&a), &b), (Some(&b), &a)] {
                let applied = m
                    .migrate(to, |_| {})
                    .map_err(|e| TestCaseError::fail(format!("{from:?} -> {to:?}: {e}")))?;
                let next = m.plan(to).unwrap();
                prop_assert!(
                    next.matches(),
                    "plan not empty after applying\n{applied}\nnext:\n{next}"
                );
            }
            Ok(())
        })
        .unwrap();
}

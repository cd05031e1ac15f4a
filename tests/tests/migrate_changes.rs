//! Every kind of schema change, table-driven in four phases (sqldef's way), on a real Postgres:
//! 1. `current` migrates from empty and is idempotent (its next plan is empty);
//! 2. `current -> desired` plans exactly the expected steps and applies;
//! 3. `desired` is idempotent;
//! 4. `desired -> current` plans the expected reverse steps, applies, and is idempotent.
//!
//! Plus: data kept across changes, data-loss refusal naming the column and the count, a failing
//! cast rolling back the whole plan, and identifiers at Postgres's 63-byte limit.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use ignis_migrate::{MigrateError, MigrateOptions, Migrator, StepKind};
use ignis_schema::enrich::IdOptions;
use ignis_schema::{
    Column, Enricher, EnumType, ForeignKey, ForeignKeyAction, Index, Model, PgType, Schema,
};
use ignis_tests::{migrator_for_changes, step_kinds, TestDb};
use StepKind::*;

fn ty(s: &str) -> PgType {
    s.parse().unwrap()
}

/// `Owner` (referenced) and `Item` with a few columns; `f` changes `Item`.
fn schema_with(f: impl Fn(Model) -> Model) -> Schema {
    let owner = Model::new("Owner")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("code", PgType::Text).not_null());
    let item = Model::new("Item")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("ownerId", PgType::Integer))
        .column(Column::new("name", PgType::Text).not_null())
        .column(Column::new("qty", PgType::Integer));
    Schema::new(vec![owner, f(item)]).unwrap()
}

/// [`schema_with`] where `f` changes the `Item` column named `column`.
fn alter(column: &str, f: impl Fn(&mut Column)) -> Schema {
    schema_with(|m| {
        let mut m = m;
        if let Some(c) = m.columns.iter_mut().find(|c| c.column == column) {
            f(c);
        }
        m
    })
}

struct Case {
    name: &'static str,
    current: Schema,
    desired: Schema,
    forward: Vec<StepKind>,
    backward: Vec<StepKind>,
}

fn case(
    name: &'static str,
    current: Schema,
    desired: Schema,
    forward: &[StepKind],
    backward: &[StepKind],
) -> Case {
    Case {
        name,
        current,
        desired,
        forward: forward.to_vec(),
        backward: backward.to_vec(),
    }
}

fn run(c: &Case) {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    let name = c.name;
    m.migrate(&c.current, |_| {})
        .unwrap_or_else(|e| panic!("{name}: current: {e}"));
    let p = m.plan(&c.current).unwrap();
    assert!(p.matches(), "{name}: current is not idempotent:\n{p}");
    // Some data, so type changes and constraints meet real rows.
    db.client()
        .batch_execute(
            r#"INSERT INTO "Owner" (code) VALUES ('a'), ('b');
               INSERT INTO "Item" (owner_id, name, qty) VALUES (1, 'x', 1), (2, 'y', 2);"#,
        )
        .unwrap_or_else(|e| panic!("{name}: seed: {e}"));

    let p = m.plan(&c.desired).unwrap();
    assert_eq!(step_kinds(&p), c.forward, "{name}: forward plan:\n{p}");
    m.migrate(&c.desired, |_| {})
        .unwrap_or_else(|e| panic!("{name}: forward: {e}\n{p}"));
    let p = m.plan(&c.desired).unwrap();
    assert!(p.matches(), "{name}: desired is not idempotent:\n{p}");

    let p = m.plan(&c.current).unwrap();
    assert_eq!(step_kinds(&p), c.backward, "{name}: backward plan:\n{p}");
    m.migrate(&c.current, |_| {})
        .unwrap_or_else(|e| panic!("{name}: backward: {e}\n{p}"));
    let p = m.plan(&c.current).unwrap();
    assert!(
        p.matches(),
        "{name}: current is not idempotent after the round trip:\n{p}"
    );
    let rows: i64 = db
        .client()
        .query_one(r#"SELECT count(*) FROM "Item""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 2, "{name}: rows lost");
}

#[test]
fn columns_add_drop_retype_nullability_defaults_identity() {
    let base = || schema_with(|m| m);
    let cases = vec![
        case(
            "add / drop column",
            base(),
            schema_with(|m| m.column(Column::new("note", PgType::Text))),
            &[AddColumn],
            &[DropColumn],
        ),
        case(
            "add NOT NULL column with default",
            base(),
            schema_with(|m| {
                m.column(
                    Column::new("status", PgType::Text)
                        .not_null()
                        .default_sql("'new'"),
                )
            }),
            &[AddColumn],
            &[DropColumn],
        ),
        case(
            "widen and narrow a type",
            base(),
            schema_with(|m| {
                let mut m = m;
                m.columns
                    .iter_mut()
                    .find(|c| c.column == "qty")
                    .unwrap()
                    .pg_type = PgType::BigInt;
                m
            }),
            &[AlterColumnType],
            &[AlterColumnType],
        ),
        case(
            "text to varchar(20) and back",
            base(),
            schema_with(|m| {
                let mut m = m;
                m.columns
                    .iter_mut()
                    .find(|c| c.column == "name")
                    .unwrap()
                    .pg_type = ty("varchar(20)");
                m
            }),
            &[AlterColumnType],
            &[AlterColumnType],
        ),
        case(
            "nullability both ways",
            base(),
            alter("qty", |c| {
                c.nullable = false;
            }),
            &[SetNotNull],
            &[DropNotNull],
        ),
        case(
            "default set / drop",
            base(),
            schema_with(|m| {
                let mut m = m;
                m.columns
                    .iter_mut()
                    .find(|c| c.column == "qty")
                    .unwrap()
                    .default = Some("0".into());
                m
            }),
            &[SetDefault],
            &[DropDefault],
        ),
        case(
            "default change, spelled differently than Postgres prints it",
            schema_with(|m| {
                let mut m = m;
                m.columns
                    .iter_mut()
                    .find(|c| c.column == "name")
                    .unwrap()
                    .default = Some("'a'".into());
                m
            }),
            schema_with(|m| {
                let mut m = m;
                m.columns
                    .iter_mut()
                    .find(|c| c.column == "name")
                    .unwrap()
                    .default = Some("'b'::text".into());
                m
            }),
            &[DropDefault, SetDefault],
            &[DropDefault, SetDefault],
        ),
        case(
            "type change with a default",
            schema_with(|m| {
                let mut m = m;
                m.columns
                    .iter_mut()
                    .find(|c| c.column == "qty")
                    .unwrap()
                    .default = Some("1".into());
                m
            }),
            alter("qty", |c| {
                c.default = Some("1".into());
                c.pg_type = ty("numeric(10,2)");
            }),
            &[DropDefault, AlterColumnType, SetDefault],
            &[DropDefault, AlterColumnType, SetDefault],
        ),
        case(
            "identity add / drop",
            base(),
            alter("qty", |c| {
                c.identity = Some(ignis_schema::Identity::by_default());
                c.nullable = false;
            }),
            &[SetNotNull, AddIdentity],
            &[DropIdentity, DropNotNull],
        ),
    ];
    for c in &cases {
        run(c);
    }
}

#[test]
fn keys_indexes_checks() {
    let base = || schema_with(|m| m);
    let cases = vec![
        case(
            "unique add / drop",
            base(),
            schema_with(|m| m.unique("UQ_Item_name", ["name"])),
            &[AddUnique],
            &[DropUnique],
        ),
        case(
            "unique columns change",
            schema_with(|m| m.unique("UQ_Item_name", ["name"])),
            schema_with(|m| m.unique("UQ_Item_name", ["name", "ownerId"])),
            &[DropUnique, AddUnique],
            &[DropUnique, AddUnique],
        ),
        case(
            "unique renamed",
            schema_with(|m| m.unique("UQ_Item_name", ["name"])),
            schema_with(|m| m.unique("UQ_Item_name_v2", ["name"])),
            &[RenameConstraint],
            &[RenameConstraint],
        ),
        case(
            "index add / drop: multi-column, unique, partial, gin",
            base(),
            schema_with(|m| {
                m.column(Column::new("tags", ty("text[]")))
                    .index(Index::new("IDX_Item_owner_name", ["ownerId", "name"]))
                    .index(Index::new("IDX_Item_name_u", ["name"]).unique())
                    .index(Index::new("IDX_Item_qty_pos", ["qty"]).where_sql("qty > 0"))
                    .index(Index::new("IDX_Item_tags", ["tags"]).method("gin"))
            }),
            &[
                AddColumn,
                CreateIndex,
                CreateIndex,
                CreateIndex,
                CreateIndex,
            ],
            &[DropIndex, DropIndex, DropIndex, DropIndex, DropColumn],
        ),
        case(
            "partial index predicate change",
            schema_with(|m| m.index(Index::new("IDX_Item_qty", ["qty"]).where_sql("qty > 0"))),
            schema_with(|m| m.index(Index::new("IDX_Item_qty", ["qty"]).where_sql("qty > 1"))),
            &[DropIndex, CreateIndex],
            &[DropIndex, CreateIndex],
        ),
        case(
            "index renamed",
            schema_with(|m| m.index(Index::new("IDX_a", ["qty"]))),
            schema_with(|m| m.index(Index::new("IDX_b", ["qty"]))),
            &[RenameConstraint],
            &[RenameConstraint],
        ),
        case(
            "foreign key add / drop",
            base(),
            schema_with(|m| {
                m.foreign_key(ForeignKey::new(
                    "FK_Item_owner",
                    ["ownerId"],
                    "Owner",
                    ["id"],
                ))
            }),
            &[AddForeignKey, ValidateConstraint],
            &[DropForeignKey],
        ),
        case(
            "foreign key action change",
            schema_with(|m| {
                m.foreign_key(ForeignKey::new(
                    "FK_Item_owner",
                    ["ownerId"],
                    "Owner",
                    ["id"],
                ))
            }),
            schema_with(|m| {
                m.foreign_key(
                    ForeignKey::new("FK_Item_owner", ["ownerId"], "Owner", ["id"])
                        .on_delete(ForeignKeyAction::Cascade),
                )
            }),
            &[DropForeignKey, AddForeignKey, ValidateConstraint],
            &[DropForeignKey, AddForeignKey, ValidateConstraint],
        ),
        case(
            "check add / change / drop",
            schema_with(|m| m.check("CK_Item_qty", "qty >= 0")),
            schema_with(|m| m.check("CK_Item_qty", "qty >= -1")),
            &[DropCheck, AddCheck, ValidateConstraint],
            &[DropCheck, AddCheck, ValidateConstraint],
        ),
        case(
            "check spelled differently than Postgres prints it is no change",
            schema_with(|m| m.check("CK_Item_qty", "qty >= 0")),
            schema_with(|m| m.check("CK_Item_qty", "(qty>=0)")),
            &[],
            &[],
        ),
        case(
            "primary key change",
            base(),
            schema_with(|m| {
                let mut m = m;
                for c in &mut m.columns {
                    c.primary_key = c.column == "id" || c.column == "name";
                }
                m
            }),
            &[DropPrimaryKey, AddPrimaryKey],
            &[DropPrimaryKey, AddPrimaryKey],
        ),
    ];
    for c in &cases {
        run(c);
    }
}

#[test]
fn renames_tables_and_enums() {
    let renamed_col = alter("qty", |c| {
        c.property = "amount".into();
        c.column = "amount".into();
        c.renamed_from = Some("qty".into());
    });
    let back_col = schema_with(|m| {
        let mut m = m;
        m.columns
            .iter_mut()
            .find(|c| c.column == "name")
            .unwrap()
            .renamed_from = Some("title".into());
        m
    });
    let cases = vec![
        case(
            "rename column (declared, never guessed)",
            schema_with(|m| m),
            renamed_col,
            &[RenameColumn],
            // back without a declared rename: a drop and an add, never a guess
            &[AddColumn, DropColumn],
        ),
        case(
            "new table / dropped table (drop-unknown)",
            schema_with(|m| m),
            {
                let mut models = schema_with(|m| m).models().to_vec();
                models.push(
                    Model::new("Extra")
                        .enrich(Enricher::Id(IdOptions::number()))
                        .column(Column::new("x", PgType::Integer)),
                );
                Schema::new(models).unwrap()
            },
            &[CreateTable],
            &[DropTable],
        ),
        case(
            "enum: create, add value in place, remove value by recreating",
            schema_with(|m| m.column(Column::new("mood", PgType::Custom("mood".into()))))
                .with_enums(vec![EnumType::new("mood", ["sad", "ok"])])
                .unwrap(),
            schema_with(|m| m.column(Column::new("mood", PgType::Custom("mood".into()))))
                .with_enums(vec![EnumType::new("mood", ["sad", "ok", "happy"])])
                .unwrap(),
            &[AddEnumValue],
            &[RecreateEnum],
        ),
    ];
    for c in &cases {
        run(c);
    }
    // The reverse of the column rename, declared the other way.
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    m.migrate(&schema_with(|m| m), |_| {}).unwrap();
    db.client()
        .batch_execute(r#"INSERT INTO "Item" (name) VALUES ('kept')"#)
        .unwrap();
    let renamed = alter("name", |c| {
        c.column = "title".into();
        c.renamed_from = Some("name".into());
    });
    assert_eq!(step_kinds(&m.plan(&renamed).unwrap()), vec![RenameColumn]);
    m.migrate(&renamed, |_| {}).unwrap();
    assert_eq!(step_kinds(&m.plan(&back_col).unwrap()), vec![RenameColumn]);
    m.migrate(&back_col, |_| {}).unwrap();
    let name: String = db
        .client()
        .query_one(r#"SELECT name FROM "Item""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(name, "kept", "a rename keeps the data");

    // Table rename.
    let mut models = schema_with(|m| m).models().to_vec();
    models[1] = models[1].clone().table("Article").renamed_from("Item");
    let renamed_table = Schema::new(models).unwrap();
    // The primary key follows the table's name (`Item_pkey` -> `Article_pkey`).
    assert_eq!(
        step_kinds(&m.plan(&renamed_table).unwrap()),
        vec![RenameTable, RenameConstraint]
    );
    m.migrate(&renamed_table, |_| {}).unwrap();
    let n: i64 = db
        .client()
        .query_one(r#"SELECT count(*) FROM "Article""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let p = m.plan(&renamed_table).unwrap();
    assert!(p.matches(), "{p}");
}

#[test]
fn data_loss_is_refused_with_the_column_and_count_and_a_failed_cast_rolls_back_everything() {
    let db = TestDb::new();
    let strict = Migrator::new(db.datasource());
    let current = schema_with(|m| m.column(Column::new("note", PgType::Text)));
    strict.migrate(&current, |_| {}).unwrap();
    db.client()
        .batch_execute(
            r#"INSERT INTO "Item" (name, qty, note) VALUES ('a', NULL, 'n1'), ('b', 2, 'n2'), ('c', NULL, 'zz');"#,
        )
        .unwrap();
    // Drop `note` (3 values) and make qty NOT NULL (2 nulls): both refused, named, counted.
    let desired = schema_with(|m| {
        let mut m = m;
        m.columns
            .iter_mut()
            .find(|c| c.column == "qty")
            .unwrap()
            .nullable = false;
        m
    });
    let err = strict.migrate(&desired, |_| {}).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, MigrateError::DataLossRefused { .. }),
        "{text}"
    );
    assert!(
        text.contains("public.Item.note: 3 rows have a value"),
        "{text}"
    );
    assert!(
        text.contains("public.Item.qty NOT NULL: 2 rows are null"),
        "{text}"
    );
    let notes: i64 = db
        .client()
        .query_one(r#"SELECT count(note) FROM "Item""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(notes, 3, "refusal changed nothing");

    // A cast that fails on stored data (text 'zz' to integer) mid-plan rolls back every step,
    // including the ones before it.
    let bad_cast = schema_with(|m| {
        let mut m = m
            .column(Column::new("note", PgType::Integer))
            .column(Column::new("added", PgType::Text));
        m.columns
            .retain(|c| c.column != "note" || c.pg_type == PgType::Integer);
        m
    });
    let err = migrator_for_changes(&db)
        .migrate(&bad_cast, |_| {})
        .unwrap_err();
    assert!(matches!(err, MigrateError::StepFailed { .. }), "{err}");
    assert_eq!(err.sqlstate(), Some("22P02"), "{err}");
    let cols: Vec<String> = db
        .client()
        .query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'Item' ORDER BY ordinal_position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(cols, vec!["id", "owner_id", "name", "qty", "note"]);
}

#[test]
fn identifiers_at_the_63_byte_limit_plan_nothing_twice() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    let long_table = "t".repeat(63);
    let long_index = "i".repeat(63);
    let long_column = "c".repeat(63);
    let model = Model::new("Long")
        .table(long_table)
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("x", PgType::Integer).column_name(long_column.clone()))
        .index(Index::new(long_index, [long_column]));
    let schema = Schema::new(vec![model]).unwrap();
    m.migrate(&schema, |_| {}).unwrap();
    let p = m.plan(&schema).unwrap();
    assert!(p.matches(), "{p}");
    let too_long = Model::new("TooLong").table("t".repeat(64));
    assert!(Schema::new(vec![too_long]).is_err());
}

#[test]
fn concurrent_indexes_build_outside_the_transaction_and_never_leave_an_invalid_index() {
    let db = TestDb::new();
    let options = MigrateOptions {
        allow_data_loss: true,
        concurrent_indexes: true,
        ..MigrateOptions::default()
    };
    let m = Migrator::new(db.datasource()).with_options(options);
    m.migrate(&schema_with(|m| m), |_| {}).unwrap();
    db.client()
        .batch_execute(r#"INSERT INTO "Item" (name, qty) VALUES ('a', 1), ('a', 2)"#)
        .unwrap();

    let with_index = schema_with(|m| {
        m.column(Column::new("note", PgType::Text))
            .index(Index::new("IDX_Item_qty", ["qty"]))
    });
    let plan = m.plan(&with_index).unwrap();
    assert_eq!(step_kinds(&plan), vec![AddColumn, CreateIndex]);
    assert!(plan.steps[1].concurrent);
    assert!(
        plan.steps[1].sql.starts_with("CREATE INDEX CONCURRENTLY"),
        "{plan}"
    );
    assert!(plan
        .to_string()
        .contains("concurrently, after the transaction commits"));
    m.migrate(&with_index, |_| {}).unwrap();
    let valid: bool = db
        .client()
        .query_one(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.\"IDX_Item_qty\"'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(valid);
    assert!(m.plan(&with_index).unwrap().matches());

    // A unique index over duplicates fails to build: it is dropped again (no INVALID index),
    // and the error says the transactional part was committed.
    let with_unique = schema_with(|m| {
        m.column(Column::new("note", PgType::Text))
            .column(Column::new("extra", PgType::Text))
            .index(Index::new("IDX_Item_qty", ["qty"]))
            .index(Index::new("IDX_Item_name_u", ["name"]).unique())
    });
    let err = m.migrate(&with_unique, |_| {}).unwrap_err();
    assert_eq!(err.sqlstate(), Some("23505"), "{err}");
    assert!(err.to_string().contains("concurrently"), "{err}");
    let leftovers: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname = 'IDX_Item_name_u'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0, "an INVALID index was left behind");
    let extra: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'Item' AND column_name = 'extra'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(extra, 1, "the transactional part was committed");
}

#[test]
fn enums_in_another_schema_serial_columns_and_generated_columns() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    // An enum in schema `app`, used qualified by a column in `app`.
    let t = Model::new("T")
        .schema("app")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("m", PgType::Custom("app.mood".into())).default_sql("'a'::app.mood"));
    let schema = Schema::new(vec![t.clone()])
        .unwrap()
        .with_enums(vec![EnumType {
            name: "mood".into(),
            schema: "app".into(),
            values: vec!["a".into(), "b".into()],
        }])
        .unwrap();
    m.migrate(&schema, |_| {}).unwrap();
    let p = m.plan(&schema).unwrap();
    assert!(p.matches(), "{p}");

    // Adding a serial column to an existing table creates its sequence.
    db.client()
        .batch_execute(r#"INSERT INTO app."T" DEFAULT VALUES; INSERT INTO app."T" DEFAULT VALUES"#)
        .unwrap();
    let with_serial = Schema::new(vec![
        t.column(Column::new("n", "serial".parse().unwrap()).not_null())
    ])
    .unwrap()
    .with_enums(schema.enums().to_vec())
    .unwrap();
    m.migrate(&with_serial, |_| {}).unwrap();
    let ns: Vec<i32> = db
        .client()
        .query(r#"SELECT n FROM app."T" ORDER BY n"#, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ns, vec![1, 2]);
    let p = m.plan(&with_serial).unwrap();
    assert!(p.matches(), "{p}");

    // A generated column the model declares as plain: its values stay, generation stops.
    db.client()
        .batch_execute(r#"CREATE TABLE public."G" (id int PRIMARY KEY, a int, total int GENERATED ALWAYS AS (a * 2) STORED); INSERT INTO public."G" VALUES (1, 21)"#)
        .unwrap();
    let g = Model::new("G")
        .column(Column::new("id", PgType::Integer).primary_key())
        .column(Column::new("a", PgType::Integer))
        .column(Column::new("total", PgType::Integer));
    let mut models = with_serial.models().to_vec();
    models.push(g);
    let with_g = Schema::new(models)
        .unwrap()
        .with_enums(schema.enums().to_vec())
        .unwrap();
    let p = m.plan(&with_g).unwrap();
    assert_eq!(step_kinds(&p), vec![DropDefault], "{p}");
    assert!(p.steps[0].sql.ends_with("DROP EXPRESSION"), "{p}");
    m.migrate(&with_g, |_| {}).unwrap();
    let total: i32 = db
        .client()
        .query_one(r#"SELECT total FROM public."G""#, &[])
        .unwrap()
        .get(0);
    assert_eq!(total, 42);
    assert!(m.plan(&with_g).unwrap().matches());
}

#[test]
fn functions_triggers_and_views_are_listed_as_unmanaged_and_never_dropped() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db); // drop_unknown and allow_data_loss on
    let schema = schema_with(|m| m);
    m.migrate(&schema, |_| {}).unwrap();
    db.client()
        .batch_execute(
            r#"CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
               CREATE TRIGGER item_touch BEFORE UPDATE ON "Item" FOR EACH ROW EXECUTE FUNCTION touch();
               CREATE VIEW item_names AS SELECT name FROM "Item";"#,
        )
        .unwrap();
    let plan = m.plan(&schema).unwrap();
    assert!(plan.steps.is_empty(), "{plan}");
    let notes: Vec<&str> = plan.notes.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        notes,
        vec![
            "view public.item_names is in the database but in no model; not managed by the migrator, left as is",
            "function public.touch() is not managed by the migrator; left as is",
            "trigger item_touch on public.Item is not managed by the migrator; left as is",
        ]
    );
    m.migrate(&schema, |_| {}).unwrap();
    let left: i64 = db
        .client()
        .query_one(
            "SELECT (SELECT count(*) FROM pg_proc WHERE proname = 'touch')
                  + (SELECT count(*) FROM pg_trigger WHERE tgname = 'item_touch')
                  + (SELECT count(*) FROM pg_views WHERE viewname = 'item_names')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 3);
}

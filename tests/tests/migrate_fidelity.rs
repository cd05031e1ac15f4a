//! The safety net of the migrator: whatever a managed table has that the model format cannot
//! express (a `NOT VALID` foreign key, a collation outside
//! `pg_catalog`, a column's storage or compression, a table storage parameter...) is reported
//! as a difference, so a plan is never "nothing to do" while the catalog differs, and `migrate
//! check` fails on it. A database the migrator created itself has no such difference.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use ignis_migrate::{Migrator, NoteKind};
use ignis_schema::enrich::IdOptions;
use ignis_schema::{Column, Enricher, ForeignKey, Index, Model, PgType, Schema};
use ignis_tests::TestDb;

/// `Owner` and `Item` (index on `name`, unique on `code`, foreign key to `Owner`).
fn schema() -> Schema {
    let owner = Model::new("Owner")
        .table("owner")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("code", PgType::Text).not_null());
    let item = Model::new("Item")
        .table("item")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("ownerId", PgType::Integer))
        .column(Column::new("name", PgType::Text).not_null())
        .column(Column::new("code", PgType::Text))
        .index(Index::new("idx_item_name", ["name"]))
        .unique("uq_item_code", ["code"])
        .foreign_key(ForeignKey::new(
            "fk_item_owner",
            ["ownerId"],
            "Owner",
            ["id"],
        ));
    Schema::new(vec![owner, item]).unwrap()
}

/// Each change made by hand to a migrated database, and what the note must name. (An index's
/// attributes the model cannot express, such as operator class parameters, are in
/// `migrate_indexes.rs`; the constraint attributes a model expresses, such as `DEFERRABLE`,
/// `MATCH FULL` and `NULLS NOT DISTINCT`, in `migrate_constraints.rs`.)
const CHANGES: &[(&str, &str)] = &[
    (
        "ALTER TABLE item DROP CONSTRAINT fk_item_owner, ADD CONSTRAINT fk_item_owner \
         FOREIGN KEY (owner_id) REFERENCES owner (id) NOT VALID",
        "NOT VALID",
    ),
    (
        "CREATE COLLATION public.nocase (provider = icu, locale = 'und-u-ks-level2', \
         deterministic = false); ALTER TABLE item ALTER COLUMN code TYPE text COLLATE public.nocase",
        "collation nocase",
    ),
    (
        "ALTER TABLE item ALTER COLUMN code SET STORAGE EXTERNAL",
        "storage EXTERNAL",
    ),
    (
        "ALTER TABLE item ALTER COLUMN code SET COMPRESSION lz4",
        "compression lz4",
    ),
    (
        "ALTER TABLE item ALTER COLUMN code SET (n_distinct = 100)",
        "n_distinct=100",
    ),
    ("ALTER TABLE item SET (fillfactor = 70)", "fillfactor=70"),
    (
        "ALTER TABLE item ENABLE ROW LEVEL SECURITY",
        "row-level security",
    ),
    (
        "ALTER TABLE item ADD COLUMN serial_no serial; ALTER SEQUENCE item_serial_no_seq \
         AS smallint",
        "is smallint, not the column's type",
    ),
];

#[test]
fn what_the_model_cannot_express_is_reported_never_silent() {
    let schema = schema();
    for (sql, named) in CHANGES {
        let db = TestDb::new();
        let ds = db.migrated(&schema);
        let m = Migrator::new(ds.clone());
        let clean = m.plan(&schema).unwrap();
        assert!(clean.matches(), "a migrated database matches:\n{clean}");
        assert!(clean.unexpressed().is_empty(), "{clean}");

        db.client().batch_execute(sql).unwrap();
        let mut schema = schema.clone();
        if sql.contains("serial_no") {
            // The model gets the serial column, so only the sequence's type differs.
            let item = schema
                .models()
                .iter()
                .position(|m| m.name == "Item")
                .unwrap();
            let mut models = schema.models().to_vec();
            models[item] = models[item]
                .clone()
                .column(Column::new("serialNo", "serial".parse().unwrap()));
            schema = Schema::new(models).unwrap();
        }
        let plan = m.plan(&schema).unwrap();
        assert!(
            !plan.matches(),
            "{sql}: the plan says the database matches:\n{plan}"
        );
        let notes = plan.unexpressed();
        assert!(
            notes
                .iter()
                .any(|n| n.kind == NoteKind::Unexpressed && n.message.contains(named)),
            "{sql}: no note names `{named}`:\n{plan}"
        );
        assert!(
            plan.to_string().contains("-- differs:"),
            "{sql}: the printed plan shows the difference:\n{plan}"
        );
    }
}

/// `Counter` with its `id` as given and a `label`.
fn counter(id: Column) -> Schema {
    Schema::new(vec![Model::new("Counter")
        .table("counter")
        .column(id.primary_key())
        .column(Column::new("label", PgType::Text))])
    .unwrap()
}

#[test]
fn serial_and_identity_are_told_apart_and_changed_keeping_the_sequence_value() {
    use ignis_schema::{Identity, IdentityGeneration};
    let serial = counter(Column::new("id", "bigserial".parse().unwrap()));
    let identity = |generation| {
        let mut c = Column::new("id", PgType::BigInt);
        c.identity = Some(Identity {
            generation,
            ..Identity::default()
        });
        counter(c)
    };
    let db = TestDb::new();
    let ds = db.migrated(&serial);
    let m = Migrator::new(ds.clone());
    let mut c = db.client();
    let insert = |c: &mut postgres::Client| -> i64 {
        c.query_one("INSERT INTO counter (label) VALUES ('x') RETURNING id", &[])
            .unwrap()
            .get(0)
    };
    for _ in 0..5 {
        insert(&mut c);
    }
    for (to, name) in [
        (
            identity(IdentityGeneration::ByDefault),
            "identity by default",
        ),
        (identity(IdentityGeneration::Always), "identity always"),
        (serial.clone(), "bigserial"),
        (
            identity(IdentityGeneration::Always),
            "identity always again",
        ),
        (counter(Column::new("id", PgType::BigInt)), "plain bigint"),
        (serial.clone(), "bigserial again"),
        (counter(Column::new("id", PgType::BigInt)), "plain bigint"),
        (serial.clone(), "bigserial again"),
    ] {
        let plan = m.plan(&to).unwrap();
        assert!(!plan.is_empty(), "{name}: no step:\n{plan}");
        m.migrate(&to, |_| {}).unwrap();
        let again = m.plan(&to).unwrap();
        assert!(again.matches(), "{name}: not idempotent:\n{again}");
        let before: i64 = c
            .query_one("SELECT max(id) FROM counter", &[])
            .unwrap()
            .get(0);
        let sequences: i64 = c
            .query_one("SELECT count(*) FROM pg_class WHERE relkind = 'S'", &[])
            .unwrap()
            .get(0);
        if name == "plain bigint" {
            assert_eq!(sequences, 0, "{name}: no sequence is left behind");
            c.execute(
                "INSERT INTO counter (id, label) VALUES ($1, 'y')",
                &[&(before + 1)],
            )
            .unwrap();
            continue;
        }
        assert_eq!(sequences, 1, "{name}: one sequence, the column's");
        assert_eq!(insert(&mut c), before + 1, "{name}: the sequence went back");
    }
}

#[test]
fn primary_key_names_and_truncated_serial_sequences_round_trip() {
    let source = TestDb::new();
    source
        .client()
        .batch_execute(
            "CREATE TABLE icinga_contactnotificationmethods (
                 contactnotificationmethod_id bigserial,
                 contact_notificationcommand_id bigserial,
                 CONSTRAINT pk_contactnotificationmethod_id
                     PRIMARY KEY (contactnotificationmethod_id)
             );
             CREATE TABLE pathvisibility (
                 pathid integer NOT NULL,
                 jobid integer NOT NULL,
                 size bigint,
                 CONSTRAINT pathvisibility_pkey PRIMARY KEY (jobid, pathid)
             )",
        )
        .unwrap();
    let ds = source.datasource();
    let pulled = ignis_migrate::pull::pull_with_notes(&ds, &["public".into()]).unwrap();
    assert!(pulled.notes.is_empty(), "{:#?}", pulled.notes);
    let model = pulled
        .schema
        .model("icinga_contactnotificationmethods")
        .unwrap();
    assert_eq!(
        model.primary_key_constraint.as_deref(),
        Some("pk_contactnotificationmethod_id")
    );
    let visibility = pulled.schema.model("pathvisibility").unwrap();
    assert_eq!(visibility.primary_key(), ["jobid", "pathid"]);
    let ty = |c: &str| model.column_by_name(c).unwrap().pg_type.to_string();
    assert_eq!(ty("contact_notificationcommand_id"), "bigserial");
    assert!(Migrator::new(ds).plan(&pulled.schema).unwrap().matches());

    // Re-created from the pulled file: the same names.
    let copy = TestDb::new();
    copy.migrated(&pulled.schema);
    let names = |db: &TestDb| -> Vec<String> {
        db.client()
            .query(
                "SELECT relname::text FROM pg_class WHERE relkind IN ('S', 'i') \
                 AND relnamespace = 'public'::regnamespace ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(names(&copy), names(&source));
    assert!(names(&source)
        .contains(&"icinga_contactnotificationmet_contact_notificationcommand_i_seq".into()));

    let keys = |db: &TestDb| -> Vec<String> {
        db.client()
            .query(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'p' \
                 ORDER BY conname",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(keys(&copy), keys(&source));

    // Renaming the constraint in the model renames it in the database.
    let mut models = pulled.schema.models().to_vec();
    let icinga = models
        .iter()
        .position(|m| m.name == "icinga_contactnotificationmethods")
        .unwrap();
    models[icinga].primary_key_constraint = Some("pk_renamed".into());
    let renamed = Schema::new(models).unwrap();
    let m = Migrator::new(copy.datasource());
    let plan = m.plan(&renamed).unwrap();
    assert_eq!(
        plan.steps.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [ignis_migrate::StepKind::RenameConstraint],
        "{plan}"
    );
    m.migrate(&renamed, |_| {}).unwrap();
    assert!(m.plan(&renamed).unwrap().matches());
}

#[test]
fn checks_postgres_prints_differently_from_what_it_reads_back_round_trip() {
    let source = TestDb::new();
    source
        .client()
        .batch_execute(
            "CREATE TABLE impact (
                 id integer PRIMARY KEY,
                 severity varchar(32) CHECK (severity IN ('info', 'low', 'medium', 'high')),
                 kind varchar(32) NOT NULL,
                 CONSTRAINT impact_kind CHECK (kind IN ('admin', 'dos') AND id > 0)
             )",
        )
        .unwrap();
    let ds = source.datasource();
    let pulled = ignis_migrate::pull::pull_with_notes(&ds, &["public".into()]).unwrap();
    assert!(pulled.notes.is_empty(), "{:#?}", pulled.notes);
    let plan = Migrator::new(ds).plan(&pulled.schema).unwrap();
    assert!(plan.matches(), "{plan}");
    // The copy made from the pulled file matches it too, and a real change is still seen.
    let copy = TestDb::new();
    let m = Migrator::new(copy.migrated(&pulled.schema));
    let again = m.plan(&pulled.schema).unwrap();
    assert!(again.matches(), "{again}");
    let mut models = pulled.schema.models().to_vec();
    models[0].checks[0].expression = "(kind)::text = ANY (ARRAY['admin'::text])".into();
    let changed = Schema::new(models).unwrap();
    let kinds: Vec<_> = m
        .plan(&changed)
        .unwrap()
        .steps
        .iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            ignis_migrate::StepKind::DropCheck,
            ignis_migrate::StepKind::AddCheck,
            ignis_migrate::StepKind::ValidateConstraint
        ]
    );
}

#[test]
fn objects_the_migrator_does_not_manage_are_listed_not_silent() {
    let schema = schema();
    let db = TestDb::new();
    let m = Migrator::new(db.migrated(&schema));
    db.client()
        .batch_execute(
            "CREATE SEQUENCE invoice_no;
             CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
             CREATE TYPE pair AS (a integer, b integer);
             CREATE POLICY own_items ON item USING (true);",
        )
        .unwrap();
    let plan = m.plan(&schema).unwrap();
    for named in [
        "sequence public.invoice_no",
        "domain public.positive",
        "composite type public.pair",
        "policy own_items on public.item",
    ] {
        assert!(
            plan.notes
                .iter()
                .any(|n| n.kind == NoteKind::LeftAlone && n.message.contains(named)),
            "{named} not listed:\n{plan}"
        );
    }
    // Listed, never changed: nothing to apply for them.
    assert!(plan.is_empty(), "{plan}");
}

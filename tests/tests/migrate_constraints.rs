//! Constraint attributes in the model, end to end, on a real Postgres: `DEFERRABLE` /
//! `INITIALLY DEFERRED` on primary keys, unique constraints and foreign keys, foreign key `MATCH
//! FULL` and unique `NULLS NOT DISTINCT`.
//!
//! Table-driven in four phases (create A, migrate to B, plan matches, migrate back to A, plan
//! matches) with rows in the tables, checking the steps planned each way; a deferred foreign key
//! is deferred once migrated; then a pull round trip: SQL with such constraints is loaded,
//! pulled without a note, re-created from the pulled file, and both databases'
//! `pg_dump --schema-only` are identical.
//!
//! Exclusion constraints the same way: four phases with rows (added, predicate, method and
//! deferral changed, expression elements and operator classes, renamed), a pull round trip,
//! and rows that conflict with a new one make the whole plan roll back.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use ignis_migrate::plan::Hazard;
use ignis_migrate::pull::pull_with_notes;
use ignis_migrate::StepKind;
use ignis_schema::{
    Column, Exclusion, ExclusionElement, ForeignKey, Model, PgType, Schema, SchemaError,
    UniqueConstraint,
};
use ignis_tests::{migrator_for_changes, step_kinds, TestDb};
use StepKind::*;

/// `Owner` (`id`, `a`, `b`, unique over `(a, b)`) and `Item` (`id`, `owner_id`, `a`, `b`,
/// `code`), with `Item`'s primary key deferral, unique constraints and foreign keys as given.
fn schema(
    pk_deferral: Option<bool>,
    uniques: Vec<UniqueConstraint>,
    foreign_keys: Vec<ForeignKey>,
) -> Schema {
    let owner = Model::new("Owner")
        .table("owner")
        .column(Column::new("id", PgType::Integer).primary_key())
        .column(Column::new("a", PgType::Integer))
        .column(Column::new("b", PgType::Integer))
        .unique("uq_owner_ab", ["a", "b"]);
    let mut item = Model::new("Item")
        .table("item")
        .column(Column::new("id", PgType::Integer).primary_key())
        .column(Column::new("ownerId", PgType::Integer))
        .column(Column::new("a", PgType::Integer))
        .column(Column::new("b", PgType::Integer))
        .column(Column::new("code", PgType::Text));
    if let Some(initially_deferred) = pk_deferral {
        item = item.primary_key_deferrable(initially_deferred);
    }
    for u in uniques {
        item = item.unique_constraint(u);
    }
    for fk in foreign_keys {
        item = item.foreign_key(fk);
    }
    Schema::new(vec![owner, item]).unwrap()
}

fn code() -> UniqueConstraint {
    UniqueConstraint::new("uq_item_code", ["code"])
}

fn owner_fk() -> ForeignKey {
    ForeignKey::new("fk_item_owner", ["ownerId"], "Owner", ["id"])
}

fn ab_fk() -> ForeignKey {
    ForeignKey::new("fk_item_ab", ["a", "b"], "Owner", ["a", "b"])
}

struct Case {
    name: &'static str,
    current: Schema,
    desired: Schema,
    forward: &'static [StepKind],
    backward: &'static [StepKind],
}

/// What Postgres has for each constraint of `item`: `name: definition`.
fn constraints(db: &TestDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = 'item'::regclass ORDER BY conname",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn run(c: &Case) {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    let name = c.name;
    m.migrate(&c.current, |_| {})
        .unwrap_or_else(|e| panic!("{name}: current: {e}"));
    let p = m.plan(&c.current).unwrap();
    assert!(p.matches(), "{name}: current is not idempotent:\n{p}");
    let before = constraints(&db);
    db.client()
        .batch_execute(
            "INSERT INTO owner (id, a, b) VALUES (1, 1, 1), (2, 2, NULL); \
             INSERT INTO item (id, owner_id, a, b, code) VALUES (1, 1, 1, 1, 'a'), \
             (2, NULL, NULL, NULL, NULL), (3, 2, 1, 1, 'c')",
        )
        .unwrap();

    let p = m.plan(&c.desired).unwrap();
    assert_eq!(step_kinds(&p), c.forward, "{name}: forward plan:\n{p}");
    for s in &p.steps {
        match s.kind {
            AddUnique | AddPrimaryKey => assert!(
                s.hazards.contains(&Hazard::BuildsIndex),
                "{name}: {s:?} builds an index"
            ),
            DropPrimaryKey => assert!(
                s.hazards.contains(&Hazard::AccessExclusiveLock),
                "{name}: {s:?} locks the table"
            ),
            _ => {}
        }
    }
    m.migrate(&c.desired, |_| {})
        .unwrap_or_else(|e| panic!("{name}: forward: {e}\n{p}"));
    let p = m.plan(&c.desired).unwrap();
    assert!(p.matches(), "{name}: desired is not idempotent:\n{p}");
    assert_ne!(constraints(&db), before, "{name}: nothing changed");

    let p = m.plan(&c.current).unwrap();
    assert_eq!(step_kinds(&p), c.backward, "{name}: backward plan:\n{p}");
    m.migrate(&c.current, |_| {})
        .unwrap_or_else(|e| panic!("{name}: backward: {e}\n{p}"));
    let p = m.plan(&c.current).unwrap();
    assert!(p.matches(), "{name}: current is not idempotent again:\n{p}");
    assert_eq!(constraints(&db), before, "{name}: not back to the start");
    let rows: i64 = db
        .client()
        .query_one("SELECT count(*) FROM item", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 3, "{name}: rows lost");
}

const REPLACE_UNIQUE: &[StepKind] = &[DropUnique, AddUnique];
const REPLACE_PK: &[StepKind] = &[DropPrimaryKey, AddPrimaryKey];
const REPLACE_FK: &[StepKind] = &[DropForeignKey, AddForeignKey, ValidateConstraint];

#[test]
fn each_constraint_attribute_is_created_compared_and_reverted() {
    let cases = vec![
        Case {
            name: "unique DEFERRABLE",
            current: schema(None, vec![code()], vec![]),
            desired: schema(None, vec![code().deferrable()], vec![]),
            forward: REPLACE_UNIQUE,
            backward: REPLACE_UNIQUE,
        },
        Case {
            name: "unique DEFERRABLE to INITIALLY DEFERRED",
            current: schema(None, vec![code().deferrable()], vec![]),
            desired: schema(None, vec![code().initially_deferred()], vec![]),
            forward: REPLACE_UNIQUE,
            backward: REPLACE_UNIQUE,
        },
        Case {
            name: "unique NULLS NOT DISTINCT",
            current: schema(None, vec![code()], vec![]),
            desired: schema(None, vec![code().nulls_not_distinct()], vec![]),
            forward: REPLACE_UNIQUE,
            backward: REPLACE_UNIQUE,
        },
        Case {
            name: "unique with every attribute added",
            current: schema(None, vec![], vec![]),
            desired: schema(
                None,
                vec![code().nulls_not_distinct().initially_deferred()],
                vec![],
            ),
            forward: &[AddUnique],
            backward: &[DropUnique],
        },
        Case {
            name: "primary key DEFERRABLE",
            current: schema(None, vec![], vec![]),
            desired: schema(Some(false), vec![], vec![]),
            forward: REPLACE_PK,
            backward: REPLACE_PK,
        },
        Case {
            name: "primary key INITIALLY DEFERRED",
            current: schema(Some(false), vec![], vec![]),
            desired: schema(Some(true), vec![], vec![]),
            forward: REPLACE_PK,
            backward: REPLACE_PK,
        },
        Case {
            name: "foreign key MATCH FULL",
            current: schema(None, vec![], vec![ab_fk()]),
            desired: schema(None, vec![], vec![ab_fk().match_full()]),
            forward: REPLACE_FK,
            backward: REPLACE_FK,
        },
        Case {
            name: "foreign key DEFERRABLE",
            current: schema(None, vec![], vec![owner_fk()]),
            desired: schema(None, vec![], vec![owner_fk().deferrable()]),
            forward: REPLACE_FK,
            backward: REPLACE_FK,
        },
        Case {
            name: "foreign key INITIALLY DEFERRED",
            current: schema(None, vec![], vec![owner_fk().deferrable()]),
            desired: schema(None, vec![], vec![owner_fk().initially_deferred()]),
            forward: REPLACE_FK,
            backward: REPLACE_FK,
        },
        Case {
            name: "renamed with their attributes",
            current: schema(
                None,
                vec![code().nulls_not_distinct().deferrable()],
                vec![ab_fk().match_full().initially_deferred()],
            ),
            desired: schema(
                None,
                vec![UniqueConstraint::new("uq_item_code2", ["code"])
                    .nulls_not_distinct()
                    .deferrable()],
                vec![
                    ForeignKey::new("fk_item_ab2", ["a", "b"], "owner", ["a", "b"])
                        .match_full()
                        .initially_deferred(),
                ],
            ),
            forward: &[RenameConstraint, RenameConstraint],
            backward: &[RenameConstraint, RenameConstraint],
        },
    ];
    for c in &cases {
        run(c);
    }
}

/// Inserts an item whose owner does not exist yet, then the owner, in one transaction.
fn child_before_parent(db: &TestDb) -> Result<(), postgres::Error> {
    let mut c = db.client();
    let mut tx = c.transaction()?;
    tx.execute("INSERT INTO item (id, owner_id) VALUES (10, 99)", &[])?;
    tx.execute("INSERT INTO owner (id) VALUES (99)", &[])?;
    tx.commit()
}

/// A foreign key made `INITIALLY DEFERRED` by a migration is checked at commit: a child row
/// inserted before its parent in one transaction commits; before the migration it fails.
#[test]
fn a_deferred_foreign_key_is_deferred_after_migrating() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    let immediate = schema(None, vec![], vec![owner_fk()]);
    m.migrate(&immediate, |_| {}).unwrap();
    assert!(child_before_parent(&db).is_err(), "checked immediately");

    let deferred = schema(None, vec![], vec![owner_fk().initially_deferred()]);
    m.migrate(&deferred, |_| {}).unwrap();
    assert!(m.plan(&deferred).unwrap().matches());
    child_before_parent(&db).expect("checked at commit");
}

/// Tables created with these attributes have them, and a deferred primary key and unique
/// constraint are checked at commit.
#[test]
fn new_tables_are_created_with_their_constraint_attributes() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    let s = schema(
        Some(true),
        vec![code().nulls_not_distinct().initially_deferred()],
        vec![owner_fk().initially_deferred(), ab_fk().match_full()],
    );
    let plan = m.plan(&s).unwrap();
    assert_eq!(
        step_kinds(&plan),
        [
            CreateTable,
            CreateTable,
            AddPrimaryKey,
            AddUnique,
            AddForeignKey,
            AddForeignKey
        ],
        "{plan}"
    );
    m.migrate(&s, |_| {}).unwrap();
    let again = m.plan(&s).unwrap();
    assert!(again.is_empty() && again.notes.is_empty(), "{again}");
    assert_eq!(
        constraints(&db),
        [
            "fk_item_ab: FOREIGN KEY (a, b) REFERENCES owner(a, b) MATCH FULL",
            "fk_item_owner: FOREIGN KEY (owner_id) REFERENCES owner(id) DEFERRABLE INITIALLY DEFERRED",
            "item_pkey: PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED",
            "uq_item_code: UNIQUE NULLS NOT DISTINCT (code) DEFERRABLE INITIALLY DEFERRED",
        ]
    );
    child_before_parent(&db).expect("checked at commit");
    // A duplicate key and a second null code (item 10's is null) exist for a moment inside one
    // transaction; at commit they are gone.
    let mut c = db.client();
    let mut tx = c.transaction().unwrap();
    tx.batch_execute(
        "INSERT INTO item (id, code) VALUES (10, NULL); \
         UPDATE item SET id = 11, code = 'x' WHERE id = 10 AND owner_id IS NULL",
    )
    .expect("not checked before commit");
    tx.commit().expect("checked at commit");
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("INSERT INTO item (id, code) VALUES (10, 'y')")
        .expect("not checked before commit");
    assert!(tx.commit().is_err(), "a duplicate key fails at commit");
    // MATCH FULL refuses a partly null key.
    let err = db
        .client()
        .batch_execute("INSERT INTO item (id, a, b) VALUES (30, 1, NULL)")
        .unwrap_err();
    assert_eq!(
        err.as_db_error().and_then(|e| e.constraint()),
        Some("fk_item_ab"),
        "{err:?}"
    );
}

/// The JSON format: `deferrable`, `initiallyDeferred`, `nullsNotDistinct`, `matchFull` and
/// `primaryKeyDeferrable` read and write back; a file without them loads with none of them; an
/// `INITIALLY DEFERRED` constraint that is not `DEFERRABLE` is refused naming model and
/// constraint.
#[test]
fn constraint_attributes_in_json() {
    let model = |extra: &str, unique: &str, fk: &str| {
        format!(
            r#"{{"models": [{{"name": "Item", {extra} "columns": [
              {{"property": "id", "type": "integer", "primaryKey": true}},
              {{"property": "code", "type": "text"}}],
              "uniques": [{{"name": "uq_code", "properties": ["code"] {unique}}}],
              "foreignKeys": [{{"name": "fk_self", "properties": ["id"], "refModel": "Item",
                               "refProperties": ["id"] {fk}}}]}}]}}"#
        )
    };
    let json = model(
        r#""primaryKeyDeferrable": true, "primaryKeyInitiallyDeferred": true,"#,
        r#", "deferrable": true, "nullsNotDistinct": true"#,
        r#", "matchFull": true, "deferrable": true, "initiallyDeferred": true"#,
    );
    let schema = Schema::from_json(&json).unwrap();
    let m = &schema.models()[0];
    assert!(m.primary_key_deferrable && m.primary_key_initially_deferred);
    assert_eq!(
        m.uniques[0],
        UniqueConstraint::new("uq_code", ["code"])
            .deferrable()
            .nulls_not_distinct()
    );
    let fk = &m.foreign_keys[0];
    assert!(fk.match_full && fk.deferrable && fk.initially_deferred);
    let again = Schema::from_json(&schema.to_json()).unwrap();
    assert_eq!(again, schema);

    let plain = Schema::from_json(&model("", "", "")).unwrap();
    let p = &plain.models()[0];
    assert!(!p.primary_key_deferrable && p.uniques[0].is_plain() && !p.foreign_keys[0].match_full);
    let written = plain.to_json();
    for absent in ["deferrable", "Deferr", "nullsNotDistinct", "matchFull"] {
        assert!(!written.contains(absent), "{written}");
    }

    for (json, says) in [
        (
            model("", r#", "initiallyDeferred": true"#, ""),
            "unique constraint `uq_code`",
        ),
        (
            model("", "", r#", "initiallyDeferred": true"#),
            "foreign key `fk_self`",
        ),
        (
            model(r#""primaryKeyInitiallyDeferred": true,"#, "", ""),
            "primary key",
        ),
        (model("", r#", "deferred": true"#, ""), "deferred"),
        (model("", "", r#", "matchFull": "yes""#), "boolean"),
    ] {
        let err = Schema::from_json(&json).unwrap_err().to_string();
        assert!(err.contains(says), "{json}: {err}");
    }
    let direct = Model::new("M")
        .column(Column::new("a", PgType::Text))
        .primary_key_deferrable(false)
        .validate();
    assert!(
        matches!(&direct, Err(SchemaError::InvalidModel { model, .. }) if model == "M"),
        "{direct:?}"
    );
}

const SOURCE_SQL: &str = r#"
CREATE TABLE parent (
    id integer PRIMARY KEY, a integer, b integer, code text,
    CONSTRAINT parent_ab UNIQUE (a, b),
    CONSTRAINT parent_code UNIQUE NULLS NOT DISTINCT (code) DEFERRABLE
);
CREATE TABLE child (
    id integer, parent_id integer, a integer, b integer, tag text, slot integer,
    CONSTRAINT child_pk PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT child_tag UNIQUE (tag) DEFERRABLE INITIALLY IMMEDIATE,
    CONSTRAINT child_slot UNIQUE NULLS NOT DISTINCT (slot, tag),
    CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT child_ab FOREIGN KEY (a, b) REFERENCES parent (a, b) MATCH FULL ON UPDATE CASCADE,
    CONSTRAINT child_self FOREIGN KEY (slot) REFERENCES parent (id) MATCH SIMPLE DEFERRABLE
);
"#;

#[test]
fn constraints_with_every_attribute_pull_and_recreate_identically() {
    let rt = ignis_tests::pull_round_trip(SOURCE_SQL);
    for attribute in ["INITIALLY DEFERRED", "MATCH FULL", "NULLS NOT DISTINCT"] {
        assert!(rt.dump.contains(attribute), "{attribute} in\n{}", rt.dump);
    }
}

/// What a constraint has beyond the model's attributes is still reported, by the plan and by
/// pull: here a `NOT VALID` foreign key.
#[test]
fn a_constraint_attribute_the_model_cannot_express_is_reported() {
    let db = TestDb::new();
    let s = schema(None, vec![], vec![owner_fk().deferrable()]);
    let m = migrator_for_changes(&db);
    m.migrate(&s, |_| {}).unwrap();
    assert!(m.plan(&s).unwrap().matches());
    db.client()
        .batch_execute(
            "ALTER TABLE item DROP CONSTRAINT fk_item_owner, ADD CONSTRAINT fk_item_owner \
             FOREIGN KEY (owner_id) REFERENCES owner (id) DEFERRABLE NOT VALID",
        )
        .unwrap();
    let plan = m.plan(&s).unwrap();
    assert!(!plan.matches(), "{plan}");
    assert!(
        plan.unexpressed()
            .iter()
            .any(|n| n.message.contains("fk_item_owner") && n.message.contains("NOT VALID")),
        "{plan}"
    );
    let pulled = pull_with_notes(&db.datasource(), &["public".to_string()]).unwrap();
    assert!(
        pulled
            .notes
            .iter()
            .any(|n| n.contains("fk_item_owner") && n.contains("NOT VALID")),
        "{:#?}",
        pulled.notes
    );
    let item = pulled.schema.model("item").unwrap();
    assert!(item.foreign_keys[0].deferrable, "the rest is still pulled");

    // The column list of `ON DELETE SET NULL (..)`.
    let set_null = schema(
        None,
        vec![],
        vec![owner_fk().on_delete(ignis_schema::ForeignKeyAction::SetNull)],
    );
    m.migrate(&set_null, |_| {}).unwrap();
    assert!(m.plan(&set_null).unwrap().matches());
    db.client()
        .batch_execute(
            "ALTER TABLE item DROP CONSTRAINT fk_item_owner, ADD CONSTRAINT fk_item_owner \
             FOREIGN KEY (owner_id) REFERENCES owner (id) ON DELETE SET NULL (owner_id)",
        )
        .unwrap();
    let plan = m.plan(&set_null).unwrap();
    assert!(
        plan.unexpressed()
            .iter()
            .any(|n| n.message.contains("SET NULL (owner_id)")),
        "{plan}"
    );
}

/// `Booking` (`id`, `room`, `code`, `during int4range`, `cancelled`) with the given exclusion
/// constraints.
fn booking(exclusions: Vec<Exclusion>) -> Schema {
    let mut m = Model::new("Booking")
        .table("booking")
        .column(Column::new("id", PgType::Integer).primary_key())
        .column(Column::new("room", PgType::Integer))
        .column(Column::new("code", PgType::Text))
        .column(Column::new("during", "int4range".parse().unwrap()))
        .column(
            Column::new("cancelled", PgType::Boolean)
                .not_null()
                .default_sql("false"),
        );
    for x in exclusions {
        m = m.exclusion(x);
    }
    Schema::new(vec![m]).unwrap()
}

/// `EXCLUDE USING gist (during WITH &&)`.
fn during() -> Exclusion {
    Exclusion::new(
        "ex_booking_during",
        "gist",
        [ExclusionElement::property("during", "&&")],
    )
}

/// `EXCLUDE USING btree (code WITH =)`.
fn code_ex() -> Exclusion {
    Exclusion::new(
        "ex_booking_code",
        "btree",
        [ExclusionElement::property("code", "=")],
    )
}

/// What Postgres has for each constraint of `booking`: `name: definition`.
fn booking_constraints(db: &TestDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = 'booking'::regclass ORDER BY conname",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Rows 1 and 3 overlap in `during` and share `code`, but row 3 is cancelled and in another
/// room.
const BOOKINGS: &str = "INSERT INTO booking (id, room, code, during, cancelled) VALUES \
    (1, 1, 'a', '[1,5)', false), (2, 1, 'b', '[5,9)', false), (3, 2, 'A', '[1,5)', true)";

const REPLACE_EXCLUSION: &[StepKind] = &[DropExclusion, AddExclusion];

#[test]
fn each_exclusion_change_is_planned_applied_and_reverted_with_rows() {
    let cases = [
        (
            "added, with a predicate",
            vec![],
            vec![during().where_sql("NOT cancelled")],
            &[AddExclusion][..],
            &[DropExclusion][..],
        ),
        (
            "predicate changed",
            vec![during().where_sql("NOT cancelled")],
            vec![during().where_sql("room = 1")],
            REPLACE_EXCLUSION,
            REPLACE_EXCLUSION,
        ),
        (
            "method changed",
            vec![code_ex()],
            vec![Exclusion {
                method: Some("hash".into()),
                ..code_ex()
            }],
            REPLACE_EXCLUSION,
            REPLACE_EXCLUSION,
        ),
        (
            "DEFERRABLE, then INITIALLY DEFERRED",
            vec![code_ex().deferrable()],
            vec![code_ex().initially_deferred()],
            REPLACE_EXCLUSION,
            REPLACE_EXCLUSION,
        ),
        (
            "expression element and an operator class",
            vec![code_ex()],
            vec![Exclusion::new(
                "ex_booking_code",
                "btree",
                [
                    ExclusionElement::expression("lower(code)", "="),
                    ExclusionElement::property("code", "pg_catalog.=").opclass("text_pattern_ops"),
                ],
            )],
            REPLACE_EXCLUSION,
            REPLACE_EXCLUSION,
        ),
        (
            "renamed",
            vec![code_ex().where_sql("room = 1")],
            vec![Exclusion {
                name: "ex_booking_code2".into(),
                ..code_ex().where_sql("room = 1")
            }],
            &[RenameConstraint][..],
            &[RenameConstraint][..],
        ),
    ];
    for (name, current, desired, forward, backward) in cases {
        let (current, desired) = (booking(current), booking(desired));
        let db = TestDb::new();
        let m = migrator_for_changes(&db);
        m.migrate(&current, |_| {})
            .unwrap_or_else(|e| panic!("{name}: current: {e}"));
        let p = m.plan(&current).unwrap();
        assert!(p.matches(), "{name}: current is not idempotent:\n{p}");
        let before = booking_constraints(&db);
        db.client().batch_execute(BOOKINGS).unwrap();

        let p = m.plan(&desired).unwrap();
        assert_eq!(step_kinds(&p), forward, "{name}: forward plan:\n{p}");
        for s in &p.steps {
            match s.kind {
                AddExclusion => {
                    for h in [
                        Hazard::BuildsIndex,
                        Hazard::AccessExclusiveLock,
                        Hazard::FailsOnConflictingRows,
                    ] {
                        assert!(s.hazards.contains(&h), "{name}: {s:?} has {h:?}");
                    }
                }
                DropExclusion => assert!(
                    s.hazards.contains(&Hazard::AccessExclusiveLock),
                    "{name}: {s:?} locks the table"
                ),
                _ => {}
            }
        }
        m.migrate(&desired, |_| {})
            .unwrap_or_else(|e| panic!("{name}: forward: {e}\n{p}"));
        let p = m.plan(&desired).unwrap();
        assert!(p.matches(), "{name}: desired is not idempotent:\n{p}");
        assert_ne!(booking_constraints(&db), before, "{name}: nothing changed");

        let p = m.plan(&current).unwrap();
        assert_eq!(step_kinds(&p), backward, "{name}: backward plan:\n{p}");
        m.migrate(&current, |_| {})
            .unwrap_or_else(|e| panic!("{name}: backward: {e}\n{p}"));
        let p = m.plan(&current).unwrap();
        assert!(p.matches(), "{name}: current is not idempotent again:\n{p}");
        assert_eq!(
            booking_constraints(&db),
            before,
            "{name}: not back to the start"
        );
        let rows: i64 = db
            .client()
            .query_one("SELECT count(*) FROM booking", &[])
            .unwrap()
            .get(0);
        assert_eq!(rows, 3, "{name}: rows lost");
    }
}

/// Spellings Postgres normalises to the same constraint plan nothing: a default operator class,
/// the method's case, extra parentheses in the predicate, a `pg_catalog` operator.
#[test]
fn an_exclusion_written_differently_but_equal_plans_nothing() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    m.migrate(&booking(vec![during().where_sql("NOT cancelled")]), |_| {})
        .unwrap();
    let same = booking(vec![Exclusion::new(
        "ex_booking_during",
        "GIST",
        [ExclusionElement::property("during", "pg_catalog.&&").opclass("range_ops")],
    )
    .where_sql("((NOT (cancelled)))")]);
    let p = m.plan(&same).unwrap();
    assert!(p.matches(), "{p}");
}

/// A new exclusion constraint over rows that conflict fails when applied, and nothing of the
/// plan stays (here a new column planned with it).
#[test]
fn conflicting_rows_make_a_new_exclusion_roll_the_whole_plan_back() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    m.migrate(&booking(vec![]), |_| {}).unwrap();
    db.client().batch_execute(BOOKINGS).unwrap();
    let before = db.schema_dump();
    let mut models = booking(vec![during()]).models().to_vec();
    models[0] = models[0].clone().column(Column::new("note", PgType::Text));
    let desired = Schema::new(models).unwrap();
    let plan = m.plan(&desired).unwrap();
    assert_eq!(step_kinds(&plan), [AddColumn, AddExclusion], "{plan}");
    let err = m.migrate(&desired, |_| {}).unwrap_err();
    assert!(
        matches!(&err, ignis_migrate::MigrateError::StepFailed { description, .. }
            if description.contains("ex_booking_during")),
        "{err}"
    );
    assert!(err.to_string().contains("ex_booking_during"), "{err}");
    assert_eq!(db.schema_dump(), before, "the plan was not rolled back");
    let rows: i64 = db
        .client()
        .query_one("SELECT count(*) FROM booking", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 3);
    // Without the conflict it applies.
    db.client()
        .batch_execute("UPDATE booking SET during = '[20,30)' WHERE id = 3")
        .unwrap();
    m.migrate(&desired, |_| {}).unwrap();
    assert!(m.plan(&desired).unwrap().matches());
}

#[test]
fn exclusions_in_json() {
    let json = r#"{"models": [{"name": "Booking", "table": "booking",
        "columns": [{"property": "id", "type": "integer", "primaryKey": true},
                    {"property": "during", "type": "int4range"},
                    {"property": "code", "type": "text"}],
        "exclusions": [{"name": "ex_b", "method": "gist",
                        "elements": [{"property": "during", "operator": "&&"}],
                        "where": "id > 0", "deferrable": true, "initiallyDeferred": true},
                       {"name": "ex_c", "elements": [{"expression": "lower(code)",
                        "opclass": "text_pattern_ops", "operator": "pg_catalog.="}]}]}]}"#;
    let schema = Schema::from_json(json).unwrap();
    let m = schema.model("Booking").unwrap();
    assert_eq!(m.exclusions.len(), 2);
    assert!(m.exclusions[0].initially_deferred);
    assert_eq!(m.exclusions[1].method_name(), "btree");
    let back = Schema::from_json(&schema.to_json()).unwrap();
    assert_eq!(back.model("Booking"), schema.model("Booking"));

    let db = TestDb::new();
    let mig = migrator_for_changes(&db);
    mig.migrate(&schema, |_| {}).unwrap();
    assert!(mig.plan(&schema).unwrap().matches());

    for bad in [
        r#""operator": "=; DROP TABLE booking""#,
        r#""operator": "= --""#,
        r#""operator": """#,
    ] {
        let bad_json = json.replace(r#""operator": "&&""#, bad);
        let err = Schema::from_json(&bad_json).unwrap_err().to_string();
        assert!(err.contains("ex_b") && err.contains("operator"), "{err}");
    }
    let unknown = json.replace(
        r#""property": "during", "operator""#,
        r#""property": "nope", "operator""#,
    );
    let err = Schema::from_json(&unknown).unwrap_err().to_string();
    assert!(
        err.contains("exclusion constraint `ex_b` names unknown property `nope`"),
        "{err}"
    );
    let predicate_only = json.replace(r#""where": "id > 0""#, r#""where": " ""#);
    assert!(Schema::from_json(&predicate_only).is_err());
}

const EXCLUSION_SQL: &str = r#"
CREATE TABLE booking (
    id integer PRIMARY KEY, room integer, code text, during int4range,
    cancelled boolean NOT NULL DEFAULT false,
    CONSTRAINT booking_during EXCLUDE USING gist (during WITH &&) WHERE (NOT cancelled)
        DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT booking_code EXCLUDE USING btree (lower(code) WITH =, room WITH =),
    CONSTRAINT booking_hash EXCLUDE USING hash (code WITH =) WHERE (room > 0),
    CONSTRAINT booking_pattern EXCLUDE (code text_pattern_ops WITH =, (room + 1) WITH =)
);
"#;

#[test]
fn exclusions_pull_and_recreate_identically() {
    let rt = ignis_tests::pull_round_trip(EXCLUSION_SQL);
    assert_eq!(rt.pulled.model("booking").unwrap().exclusions.len(), 4);
    assert!(rt.dump.contains("EXCLUDE USING gist"), "{}", rt.dump);
}

/// What an exclusion constraint has beyond the model's attributes (storage parameters,
/// `INCLUDE`, a sort order) makes the plan differ, and pull says what it loses.
#[test]
fn an_exclusion_attribute_the_model_cannot_express_is_reported() {
    for (sql, named) in [
        (
            "ALTER TABLE booking ADD CONSTRAINT ex_booking_code EXCLUDE USING btree \
             (code WITH =) WITH (fillfactor = 70)",
            "fillfactor",
        ),
        (
            "ALTER TABLE booking ADD CONSTRAINT ex_booking_code EXCLUDE USING btree \
             (code WITH =) INCLUDE (room)",
            "INCLUDE (room)",
        ),
        (
            "ALTER TABLE booking ADD CONSTRAINT ex_booking_code EXCLUDE USING btree \
             (code DESC WITH =)",
            "code DESC",
        ),
    ] {
        let db = TestDb::new();
        let m = migrator_for_changes(&db);
        let s = booking(vec![code_ex()]);
        m.migrate(&s, |_| {}).unwrap();
        assert!(m.plan(&s).unwrap().matches());
        db.client()
            .batch_execute(&format!(
                "ALTER TABLE booking DROP CONSTRAINT ex_booking_code; {sql}"
            ))
            .unwrap();
        let plan = m.plan(&s).unwrap();
        assert!(!plan.matches(), "{sql}:\n{plan}");
        let pulled = pull_with_notes(&db.datasource(), &["public".to_string()]).unwrap();
        assert!(
            pulled
                .notes
                .iter()
                .any(|n| n.contains("ex_booking_code") && n.contains(named)),
            "{sql}: {:#?}",
            pulled.notes
        );
        // The definitions differ, so the pulled model's constraint replaces the live one.
        let plan = m.plan(&pulled.schema).unwrap();
        assert_eq!(step_kinds(&plan), REPLACE_EXCLUSION, "{sql}:\n{plan}");
        m.migrate(&pulled.schema, |_| {}).unwrap();
        assert!(m.plan(&pulled.schema).unwrap().matches());
    }
}

//! The safety net of the migrator: whatever a managed table has that the model format cannot
//! express (an index operator class or storage parameter, a deferrable constraint, a column
//! collation or comment, a table storage parameter...) is reported as a difference, so a plan is
//! never "nothing to do" while the catalog differs, and `migrate check` fails on it. A database
//! the migrator created itself has no such difference.

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
            ["owner_id"],
            "owner",
            ["id"],
        ));
    Schema::new(vec![owner, item]).unwrap()
}

/// Each change made by hand to a migrated database, and what the note must name.
const CHANGES: &[(&str, &str)] = &[
    (
        "DROP INDEX idx_item_name; CREATE INDEX idx_item_name ON item (name text_pattern_ops)",
        "text_pattern_ops",
    ),
    (
        "DROP INDEX idx_item_name; CREATE INDEX idx_item_name ON item (name) WITH (fillfactor = 50)",
        "fillfactor",
    ),
    (
        "DROP INDEX idx_item_name; CREATE INDEX idx_item_name ON item (name DESC)",
        "DESC",
    ),
    (
        "DROP INDEX idx_item_name; CREATE INDEX idx_item_name ON item (name) INCLUDE (code)",
        "INCLUDE",
    ),
    (
        "DROP INDEX idx_item_name; CREATE INDEX idx_item_name ON item (name COLLATE \"C\")",
        "COLLATE",
    ),
    (
        "ALTER TABLE item DROP CONSTRAINT fk_item_owner, ADD CONSTRAINT fk_item_owner \
         FOREIGN KEY (owner_id) REFERENCES owner (id) DEFERRABLE INITIALLY DEFERRED",
        "DEFERRABLE",
    ),
    (
        "ALTER TABLE item DROP CONSTRAINT fk_item_owner, ADD CONSTRAINT fk_item_owner \
         FOREIGN KEY (owner_id) REFERENCES owner (id) MATCH FULL",
        "MATCH FULL",
    ),
    (
        "ALTER TABLE item DROP CONSTRAINT uq_item_code, ADD CONSTRAINT uq_item_code \
         UNIQUE NULLS NOT DISTINCT (code)",
        "NULLS NOT DISTINCT",
    ),
    ("ALTER TABLE item ALTER COLUMN code TYPE text COLLATE \"C\"", "collation"),
    ("ALTER TABLE item ALTER COLUMN code SET STORAGE EXTERNAL", "storage EXTERNAL"),
    ("ALTER TABLE item ALTER COLUMN code SET STATISTICS 500", "statistics target 500"),
    ("COMMENT ON COLUMN item.code IS 'the code'", "comment"),
    ("COMMENT ON TABLE item IS 'items'", "comment"),
    ("ALTER TABLE item SET (fillfactor = 70)", "fillfactor=70"),
    ("ALTER TABLE item ENABLE ROW LEVEL SECURITY", "row-level security"),
    (
        "ALTER TABLE item ADD CONSTRAINT ex_item_name EXCLUDE USING btree (name WITH =)",
        "EXCLUDE",
    ),
    (
        "ALTER TABLE item ADD COLUMN serial_no serial; ALTER SEQUENCE item_serial_no_seq \
         INCREMENT BY 10",
        "INCREMENT 10",
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
            // The model gets the serial column, so only the sequence's options differ.
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

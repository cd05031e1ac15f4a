//! Index attributes in the model, end to end, on a real Postgres: per-key operator class,
//! collation, `DESC`, `NULLS FIRST` / `NULLS LAST`, expression keys, `INCLUDE`, `NULLS NOT
//! DISTINCT` and storage parameters.
//!
//! Table-driven in four phases (create A, migrate to B, plan matches, migrate back to A, plan
//! matches) with rows in the table, checking the steps planned each way; then a pull round trip:
//! SQL with such indexes is loaded, pulled without a note, re-created from the pulled file, and
//! both databases' `pg_dump --schema-only` are identical.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use ignis_migrate::plan::Hazard;
use ignis_migrate::pull::pull_with_notes;
use ignis_migrate::StepKind;
use ignis_schema::enrich::IdOptions;
use ignis_schema::{
    Column, Enricher, Index, IndexKey, Model, NullsOrder, PgType, Schema, SchemaError,
};
use ignis_tests::{migrator_for_changes, step_kinds, TestDb};
use StepKind::*;

/// `Item` (`id`, `name`, `code`, `qty`) with the given indexes.
fn item(indexes: Vec<Index>) -> Schema {
    let mut m = Model::new("Item")
        .table("item")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("name", PgType::Text).not_null())
        .column(Column::new("code", PgType::Text))
        .column(Column::new("qty", PgType::Integer));
    for i in indexes {
        m = m.index(i);
    }
    Schema::new(vec![m]).unwrap()
}

fn key(property: &str) -> IndexKey {
    IndexKey::property(property)
}

fn plain() -> Index {
    Index::new("idx_item", ["name"])
}

struct Case {
    name: &'static str,
    current: Schema,
    desired: Schema,
    forward: &'static [StepKind],
    backward: &'static [StepKind],
}

fn run(c: &Case) {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    let name = c.name;
    m.migrate(&c.current, |_| {})
        .unwrap_or_else(|e| panic!("{name}: current: {e}"));
    let p = m.plan(&c.current).unwrap();
    assert!(p.matches(), "{name}: current is not idempotent:\n{p}");
    db.client()
        .batch_execute(
            "INSERT INTO item (name, code, qty) VALUES ('Apple', 'a', 1), ('berry', NULL, 2), \
             ('cherry', 'c', NULL)",
        )
        .unwrap();

    let p = m.plan(&c.desired).unwrap();
    assert_eq!(step_kinds(&p), c.forward, "{name}: forward plan:\n{p}");
    for s in p.steps.iter().filter(|s| s.kind == CreateIndex) {
        assert!(
            s.hazards.contains(&Hazard::BuildsIndex),
            "{name}: {s:?} builds an index"
        );
    }
    m.migrate(&c.desired, |_| {})
        .unwrap_or_else(|e| panic!("{name}: forward: {e}\n{p}"));
    let p = m.plan(&c.desired).unwrap();
    assert!(p.matches(), "{name}: desired is not idempotent:\n{p}");

    let p = m.plan(&c.current).unwrap();
    assert_eq!(step_kinds(&p), c.backward, "{name}: backward plan:\n{p}");
    m.migrate(&c.current, |_| {})
        .unwrap_or_else(|e| panic!("{name}: backward: {e}\n{p}"));
    let p = m.plan(&c.current).unwrap();
    assert!(p.matches(), "{name}: current is not idempotent again:\n{p}");
    let rows: i64 = db
        .client()
        .query_one("SELECT count(*) FROM item", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 3, "{name}: rows lost");
}

const REPLACE: &[StepKind] = &[DropIndex, CreateIndex];

#[test]
fn each_index_attribute_is_created_compared_and_reverted() {
    let cases = vec![
        Case {
            name: "operator class on an existing index",
            current: item(vec![plain()]),
            desired: item(vec![Index::with_keys(
                "idx_item",
                [key("name").opclass("text_pattern_ops")],
            )]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "operator class changed",
            current: item(vec![Index::with_keys(
                "idx_item",
                [key("name").opclass("text_pattern_ops")],
            )]),
            desired: item(vec![Index::with_keys(
                "idx_item",
                [key("name").opclass("text_pattern_ops").collate("C")],
            )]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "collation",
            current: item(vec![plain()]),
            desired: item(vec![Index::with_keys(
                "idx_item",
                [key("name").collate("C")],
            )]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "DESC",
            current: item(vec![Index::new("idx_item", ["qty", "name"])]),
            desired: item(vec![Index::with_keys(
                "idx_item",
                [key("qty").desc(), key("name")],
            )]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "NULLS FIRST",
            current: item(vec![Index::new("idx_item", ["qty"])]),
            desired: item(vec![Index::with_keys(
                "idx_item",
                [key("qty").nulls(NullsOrder::First)],
            )]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "DESC NULLS LAST",
            current: item(vec![Index::with_keys("idx_item", [key("qty").desc()])]),
            desired: item(vec![Index::with_keys(
                "idx_item",
                [key("qty").desc().nulls(NullsOrder::Last)],
            )]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "INCLUDE",
            current: item(vec![plain()]),
            desired: item(vec![plain().include(["qty", "code"])]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "NULLS NOT DISTINCT",
            current: item(vec![Index::new("idx_item", ["code"]).unique()]),
            desired: item(vec![Index::new("idx_item", ["code"])
                .unique()
                .nulls_not_distinct()]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "fillfactor",
            current: item(vec![plain()]),
            desired: item(vec![plain().storage_parameter("fillfactor", "50")]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "expression key added",
            current: item(vec![]),
            desired: item(vec![Index::with_keys(
                "idx_item_lower",
                [IndexKey::expression("lower(name)")],
            )
            .unique()]),
            forward: &[CreateIndex],
            backward: &[DropIndex],
        },
        Case {
            name: "column key to expression key",
            current: item(vec![plain()]),
            desired: item(vec![Index::with_keys(
                "idx_item",
                [IndexKey::expression("lower(name)")],
            )]),
            forward: REPLACE,
            backward: REPLACE,
        },
        Case {
            name: "renamed with its attributes",
            current: item(vec![Index::with_keys(
                "idx_item",
                [key("name").opclass("text_pattern_ops").desc()],
            )
            .include(["qty"])
            .storage_parameter("fillfactor", "70")]),
            desired: item(vec![Index::with_keys(
                "idx_item_renamed",
                [key("name").opclass("text_pattern_ops").desc()],
            )
            .include(["qty"])
            .storage_parameter("fillfactor", "70")]),
            forward: &[RenameConstraint],
            backward: &[RenameConstraint],
        },
    ];
    for c in &cases {
        run(c);
    }
}

/// An option written as Postgres's default (the type's default operator class, `ASC`, `NULLS
/// LAST` on an ascending key, `NULLS FIRST` on a descending one) is the same index as one
/// written without it: nothing is planned.
#[test]
fn default_options_compare_equal_to_none() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    m.migrate(&item(vec![Index::new("idx_item", ["name", "qty"])]), |_| {})
        .unwrap();
    let explicit = item(vec![Index::with_keys(
        "idx_item",
        [
            key("name").opclass("text_ops").nulls(NullsOrder::Last),
            IndexKey {
                order: Some(ignis_schema::SortOrder::Asc),
                ..key("qty")
            },
        ],
    )]);
    let p = m.plan(&explicit).unwrap();
    assert!(p.matches(), "{p}");
    let desc = item(vec![Index::with_keys("idx_item", [key("qty").desc()])]);
    m.migrate(&desc, |_| {}).unwrap();
    let p = m
        .plan(&item(vec![Index::with_keys(
            "idx_item",
            [key("qty").desc().nulls(NullsOrder::First)],
        )]))
        .unwrap();
    assert!(p.matches(), "{p}");
}

/// The JSON format: `keys`, `include`, `nullsNotDistinct` and `with` read and write back; a
/// file with plain `columns` loads as plain column keys; bad keys are refused naming model and index.
#[test]
fn index_attributes_in_json() {
    let json = r#"{"models": [{"name": "Item", "columns": [
        {"property": "id", "type": "integer", "primaryKey": true},
        {"property": "name", "type": "text"}, {"property": "qty", "type": "integer"}],
      "indexes": [
        {"name": "a", "properties": ["name"]},
        {"name": "b", "keys": [{"property": "name", "opclass": "text_pattern_ops", "collation": "C",
                                "order": "desc", "nulls": "last"},
                               {"expression": "lower(name)"}],
         "include": ["qty"], "unique": true, "nullsNotDistinct": true,
         "with": {"fillfactor": 50, "deduplicate_items": false}}]}]}"#;
    let schema = Schema::from_json(json).unwrap();
    let b = &schema.models()[0].indexes[1];
    assert_eq!(b.keys[0].opclass.as_deref(), Some("text_pattern_ops"));
    assert_eq!(b.keys[1].expression.as_deref(), Some("lower(name)"));
    assert_eq!(
        b.storage_parameters,
        vec![
            ("fillfactor".to_string(), "50".to_string()),
            ("deduplicate_items".to_string(), "false".to_string())
        ]
    );
    let again = Schema::from_json(&schema.to_json()).unwrap();
    assert_eq!(again, schema);

    let bad = |index: &str| {
        let json = format!(
            r#"{{"models": [{{"name": "Item", "columns": [
              {{"property": "id", "type": "integer", "primaryKey": true}},
              {{"property": "name", "type": "text"}}], "indexes": [{index}]}}]}}"#
        );
        Schema::from_json(&json).unwrap_err().to_string()
    };
    for (index, says) in [
        (r#"{"name": "i", "keys": [{"property": "nope"}]}"#, "nope"),
        (r#"{"name": "i", "keys": [{}]}"#, "exactly one"),
        (
            r#"{"name": "i", "keys": [{"property": "name", "expression": "lower(name)"}]}"#,
            "exactly one",
        ),
        (
            r#"{"name": "i", "properties": ["name"], "keys": [{"property": "name"}]}"#,
            "both",
        ),
        (
            r#"{"name": "i", "properties": ["name"], "include": ["nope"]}"#,
            "nope",
        ),
        (
            r#"{"name": "i", "properties": ["name"], "with": {"fillfactor": "50); DROP TABLE x"}}"#,
            "storage parameter",
        ),
        (
            r#"{"name": "i", "keys": [{"property": "name", "opclass": "a\"b"}]}"#,
            "operator class",
        ),
        (
            r#"{"name": "i", "keys": [{"property": "name", "order": "up"}]}"#,
            "up",
        ),
        (
            r#"{"name": "i", "properties": ["name"], "with": {"fillfactor": 50, "fillfactor": 60}}"#,
            "twice",
        ),
    ] {
        let err = bad(index);
        assert!(err.contains(says), "{index}: {err}");
        if says != "up" {
            assert!(err.contains("Item"), "{index}: {err}");
        }
    }
    let direct = Model::new("M")
        .column(Column::new("a", PgType::Text))
        .index(Index::with_keys("i", [IndexKey::default()]))
        .validate();
    assert!(matches!(direct, Err(SchemaError::InvalidModel { .. })));
}

const SOURCE_SQL: &str = r#"
CREATE TYPE kind AS ENUM ('a', 'b');
CREATE TABLE records (
    id serial PRIMARY KEY, domain_id integer, name text, ordername text,
    code varchar(20), n integer, email text, k kind, tags text[]
);
CREATE INDEX recordorder ON records (domain_id, ordername text_pattern_ops);
CREATE INDEX rec_vpo ON records (code varchar_pattern_ops);
CREATE INDEX rec_c ON records (name COLLATE "C");
CREATE INDEX rec_desc ON records (n DESC, name NULLS FIRST);
CREATE INDEX rec_desc_last ON records (n DESC NULLS LAST);
CREATE INDEX rec_incl ON records (domain_id) INCLUDE (name, n);
CREATE UNIQUE INDEX rec_nnd ON records (code) NULLS NOT DISTINCT;
CREATE INDEX rec_ff ON records (name) WITH (fillfactor = 50, deduplicate_items = off);
CREATE UNIQUE INDEX rec_lower ON records (lower(email));
CREATE INDEX rec_expr ON records ((n + 1), lower(name) text_pattern_ops DESC) WHERE n > 0;
CREATE INDEX rec_enum ON records ((k = 'a'::kind));
CREATE INDEX rec_gin ON records USING gin (to_tsvector('english'::regconfig, name));
CREATE INDEX rec_hash ON records USING hash (name);
CREATE INDEX rec_tags ON records USING gin (tags) WITH (fastupdate = off);
"#;

#[test]
fn indexes_with_every_attribute_pull_and_recreate_identically() {
    let rt = ignis_tests::pull_round_trip(SOURCE_SQL);
    assert!(rt.dump.contains("text_pattern_ops") && rt.dump.contains("NULLS NOT DISTINCT"));
}

/// What an index has beyond the model's attributes is still reported, by the plan and by pull:
/// here an operator class parameter.
#[test]
fn an_index_attribute_the_model_cannot_express_is_reported() {
    let db = TestDb::new();
    let schema = Schema::new(vec![Model::new("Doc")
        .table("doc")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("body", "tsvector".parse().unwrap()))
        .index(Index::new("idx_doc_body", ["body"]).method("gist"))])
    .unwrap();
    let m = migrator_for_changes(&db);
    m.migrate(&schema, |_| {}).unwrap();
    assert!(m.plan(&schema).unwrap().matches());
    db.client()
        .batch_execute(
            "DROP INDEX idx_doc_body; \
             CREATE INDEX idx_doc_body ON doc USING gist (body tsvector_ops (siglen = 100))",
        )
        .unwrap();
    let plan = m.plan(&schema).unwrap();
    assert!(!plan.matches(), "{plan}");
    assert!(
        plan.unexpressed()
            .iter()
            .any(|n| n.message.contains("idx_doc_body") && n.message.contains("siglen")),
        "{plan}"
    );
    let pulled = pull_with_notes(&db.datasource(), &["public".to_string()]).unwrap();
    assert!(
        pulled.notes.iter().any(|n| n.contains("siglen")),
        "{:#?}",
        pulled.notes
    );
}

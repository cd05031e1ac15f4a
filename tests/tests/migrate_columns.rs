//! Column and table attributes in the model, end to end, on a real Postgres: a column's
//! collation, its statistics target, and table and column comments.
//!
//! Table-driven in four phases (create A, migrate to B, plan matches, migrate back to A, plan
//! matches) with rows in the table, checking the steps planned each way; a pull round trip (SQL
//! with these attributes is loaded, pulled without a note, re-created from the pulled file, and
//! both databases' `pg_dump --schema-only` are identical); and a collation change seen in query
//! results.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use ignis_migrate::plan::Hazard;
use ignis_migrate::{MigrateError, Safety, StepKind};
use ignis_schema::enrich::IdOptions;
use ignis_schema::{Column, Enricher, Index, Model, PgType, Schema, SchemaError};
use ignis_tests::{migrator_for_changes, step_kinds, TestDb};
use StepKind::*;

fn name() -> Column {
    Column::new("name", PgType::Text).not_null()
}

fn code() -> Column {
    Column::new("code", PgType::Text)
}

/// `Item` (`id`, `name`, `code`, `qty`, an index on `name`) with the given `name` and `code`
/// columns, extra columns and table comment.
fn item(name: Column, code: Column, extra: Vec<Column>, comment: Option<&str>) -> Schema {
    let mut m = Model::new("Item")
        .table("item")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(name)
        .column(code)
        .column(Column::new("qty", PgType::Integer))
        .index(Index::new("idx_item_name", ["name"]));
    for c in extra {
        m = m.column(c);
    }
    if let Some(c) = comment {
        m = m.comment(c);
    }
    Schema::new(vec![m]).unwrap()
}

fn plain() -> Schema {
    item(name(), code(), vec![], None)
}

struct Case {
    name: &'static str,
    current: Schema,
    desired: Schema,
    forward: &'static [StepKind],
    backward: &'static [StepKind],
}

/// The rows of `item` as text, in `id` order: nothing is lost or changed by a plan.
fn rows(db: &TestDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT concat_ws('|', name, code, qty) FROM item ORDER BY id",
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
    db.client()
        .batch_execute(
            "INSERT INTO item (name, code, qty) VALUES ('apple', 'a', 1), ('Banana', NULL, 2), \
             ('cherry', 'c', NULL)",
        )
        .unwrap();
    let before = rows(&db);

    let p = m.plan(&c.desired).unwrap();
    assert_eq!(step_kinds(&p), c.forward, "{name}: forward plan:\n{p}");
    for s in &p.steps {
        if matches!(s.kind, SetStatistics | SetComment | AlterCollation) {
            assert_eq!(s.safety, Safety::Safe, "{name}: {s}");
        }
        if matches!(s.kind, SetStatistics | SetComment) {
            assert!(s.hazards.is_empty(), "{name}: metadata only: {s}");
        }
        if s.kind == AlterCollation {
            assert!(
                s.hazards.contains(&Hazard::BuildsIndex),
                "{name}: a collation change rebuilds the column's indexes: {s}"
            );
        }
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
    assert_eq!(rows(&db), before, "{name}: rows changed");
}

#[test]
fn each_column_and_table_attribute_is_created_compared_and_reverted() {
    let cases = vec![
        Case {
            name: "collation added",
            current: plain(),
            desired: item(name().collate("C"), code(), vec![], None),
            forward: &[AlterCollation],
            backward: &[AlterCollation],
        },
        Case {
            name: "collation changed",
            current: item(name().collate("C"), code(), vec![], None),
            desired: item(name().collate("und-x-icu"), code(), vec![], None),
            forward: &[AlterCollation],
            backward: &[AlterCollation],
        },
        Case {
            name: "type changed, collation kept",
            current: item(name(), code().collate("C"), vec![], None),
            desired: item(
                name(),
                Column::new("code", "varchar(20)".parse().unwrap()).collate("C"),
                vec![],
                None,
            ),
            forward: &[AlterColumnType],
            backward: &[AlterColumnType],
        },
        Case {
            name: "type and collation changed together",
            current: item(name(), code(), vec![], None),
            desired: item(
                name(),
                Column::new("code", "varchar(20)".parse().unwrap()).collate("POSIX"),
                vec![],
                None,
            ),
            forward: &[AlterColumnType],
            backward: &[AlterColumnType],
        },
        Case {
            name: "statistics target set",
            current: plain(),
            desired: item(name().statistics(1000), code(), vec![], None),
            forward: &[SetStatistics],
            backward: &[SetStatistics],
        },
        Case {
            name: "statistics target changed, and zero",
            current: item(name().statistics(100), code(), vec![], None),
            desired: item(name().statistics(0), code(), vec![], None),
            forward: &[SetStatistics],
            backward: &[SetStatistics],
        },
        Case {
            name: "column comment",
            current: plain(),
            desired: item(name(), code().comment("the code"), vec![], None),
            forward: &[SetComment],
            backward: &[SetComment],
        },
        Case {
            name: "column comment changed, with quotes, a backslash and a newline",
            current: item(name(), code().comment("the code"), vec![], None),
            desired: item(
                name(),
                code().comment("it's the \"code\" \\ see\nthe docs"),
                vec![],
                None,
            ),
            forward: &[SetComment],
            backward: &[SetComment],
        },
        Case {
            name: "table comment",
            current: plain(),
            desired: item(name(), code(), vec![], Some("Items: l'inventaire")),
            forward: &[SetComment],
            backward: &[SetComment],
        },
        Case {
            name: "every attribute at once",
            current: plain(),
            desired: item(
                name().collate("C").statistics(500).comment("the name"),
                code(),
                vec![],
                Some("items"),
            ),
            forward: &[AlterCollation, SetStatistics, SetComment, SetComment],
            backward: &[AlterCollation, SetStatistics, SetComment, SetComment],
        },
        Case {
            name: "new column with its attributes",
            current: plain(),
            desired: item(
                name(),
                code(),
                vec![Column::new("note", PgType::Text)
                    .collate("C")
                    .statistics(50)
                    .comment("a note")],
                None,
            ),
            forward: &[AddColumn, SetStatistics, SetComment],
            backward: &[DropColumn],
        },
        Case {
            name: "renamed column keeps its attributes",
            current: item(
                name(),
                code()
                    .collate("C")
                    .statistics(200)
                    .comment("the code")
                    .renamed_from("ref"),
                vec![],
                None,
            ),
            desired: item(
                name(),
                Column::new("ref", PgType::Text)
                    .collate("C")
                    .statistics(200)
                    .comment("the code")
                    .renamed_from("code"),
                vec![],
                None,
            ),
            forward: &[RenameColumn],
            backward: &[RenameColumn],
        },
    ];
    for c in &cases {
        run(c);
    }
}

/// A new table gets its comment, statistics targets and comments as steps of their own after
/// `CREATE TABLE` (which holds the collations); then the plan matches.
#[test]
fn a_new_table_is_created_with_its_attributes() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    let schema = item(
        name().collate("C").statistics(300).comment("the name"),
        code().comment("the code"),
        vec![],
        Some("items"),
    );
    let p = m.plan(&schema).unwrap();
    assert_eq!(
        step_kinds(&p),
        [
            CreateTable,
            CreateIndex,
            SetStatistics,
            SetComment,
            SetComment,
            SetComment
        ],
        "{p}"
    );
    assert!(p.steps[0].sql.contains(r#""name" text COLLATE "C""#), "{p}");
    m.migrate(&schema, |_| {}).unwrap();
    let p = m.plan(&schema).unwrap();
    assert!(p.matches(), "{p}");
    let row = db
        .client()
        .query_one(
            "SELECT obj_description('item'::regclass, 'pg_class'), \
                    col_description('item'::regclass, 2), \
                    (SELECT attstattarget::int4 FROM pg_attribute \
                     WHERE attrelid = 'item'::regclass AND attname = 'name'), \
                    (SELECT collname::text FROM pg_attribute a JOIN pg_collation c \
                     ON c.oid = a.attcollation \
                     WHERE attrelid = 'item'::regclass AND attname = 'name')",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some("items"));
    assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some("the name"));
    assert_eq!(row.get::<_, i32>(2), 300);
    assert_eq!(row.get::<_, String>(3), "C");
}

/// The type's default collation, named, is the same as none: nothing is planned.
#[test]
fn the_default_collation_named_is_no_collation() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    m.migrate(&plain(), |_| {}).unwrap();
    let p = m
        .plan(&item(name().collate("default"), code(), vec![], None))
        .unwrap();
    assert!(p.matches(), "{p}");
}

/// A collation Postgres does not know is refused naming the model, before anything is applied.
#[test]
fn an_unknown_collation_is_refused_naming_the_model() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    let err = m
        .plan(&item(
            name().collate("no-such-collation"),
            code(),
            vec![],
            None,
        ))
        .unwrap_err();
    assert!(
        matches!(&err, MigrateError::InvalidModelDdl { model, .. } if model == "Item"),
        "{err}"
    );
}

/// Migrating a column from the default collation to an ICU one and to "C" changes what
/// `ORDER BY` returns, and the index on the column is rebuilt (still used, still valid).
#[test]
fn a_collation_change_changes_query_results() {
    let db = TestDb::new();
    let m = migrator_for_changes(&db);
    m.migrate(&plain(), |_| {}).unwrap();
    db.client()
        .batch_execute(
            "INSERT INTO item (name) VALUES ('apple'), ('Banana'), ('cherry'), ('Apple')",
        )
        .unwrap();
    let ordered = |db: &TestDb| -> Vec<String> {
        db.client()
            .query("SELECT name FROM item ORDER BY name, id", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    m.migrate(&item(name().collate("C"), code(), vec![], None), |_| {})
        .unwrap();
    assert_eq!(ordered(&db), ["Apple", "Banana", "apple", "cherry"]);
    m.migrate(
        &item(name().collate("und-x-icu"), code(), vec![], None),
        |_| {},
    )
    .unwrap();
    assert_eq!(ordered(&db), ["apple", "Apple", "Banana", "cherry"]);
    let valid: bool = db
        .client()
        .query_one(
            "SELECT indisvalid AND (SELECT collname = 'und-x-icu' FROM pg_collation \
             WHERE oid = indcollation[0]) FROM pg_index \
             WHERE indexrelid = 'idx_item_name'::regclass",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(valid, "the index follows the column's new collation");
}

/// The JSON format: `collation`, `statistics` and `comment` of a column and `comment` of a
/// model read and write back; a file without them loads with none of them; bad values are refused
/// naming the model.
#[test]
fn column_and_table_attributes_in_json() {
    let json = r#"{"models": [{"name": "Item", "comment": "items", "columns": [
        {"property": "id", "type": "integer", "primaryKey": true},
        {"property": "name", "type": "text", "collation": "C", "statistics": 1000,
         "comment": "the name"}]}]}"#;
    let schema = Schema::from_json(json).unwrap();
    let model = &schema.models()[0];
    assert_eq!(model.comment.as_deref(), Some("items"));
    let c = &model.columns[1];
    assert_eq!(c.collation.as_deref(), Some("C"));
    assert_eq!(c.statistics, Some(1000));
    assert_eq!(c.comment.as_deref(), Some("the name"));
    let again = Schema::from_json(&schema.to_json()).unwrap();
    assert_eq!(again, schema);
    let bare = Schema::from_json(
        r#"{"models": [{"name": "Item", "columns": [{"property": "id", "type": "integer"}]}]}"#,
    )
    .unwrap();
    assert!(!bare.to_json().contains("comment") && !bare.to_json().contains("collation"));

    let bad = |model: &str, column: &str| {
        let json = format!(
            r#"{{"models": [{{"name": "Item", {model} "columns": [
              {{"property": "id", "type": "integer", "primaryKey": true}},
              {{"property": "name", "type": "text", {column}}}]}}]}}"#
        );
        Schema::from_json(&json).unwrap_err().to_string()
    };
    for (model, column, says) in [
        ("", r#""collation": "C\"; DROP TABLE x""#, "collation"),
        ("", r#""collation": """#, "collation"),
        ("", r#""statistics": 20000"#, "statistics"),
        ("", r#""statistics": -1"#, "statistics"),
        ("", r#""comment": """#, "comment"),
        ("", r#""comment": "a\u0000b""#, "comment"),
        (r#""comment": "","#, r#""comment": "x""#, "comment"),
    ] {
        let err = bad(model, column);
        assert!(err.contains(says), "{column}: {err}");
        assert!(err.contains("Item"), "{column}: {err}");
    }
    let direct = Model::new("M")
        .column(Column::new("a", PgType::Text).statistics(-5))
        .validate();
    assert!(matches!(direct, Err(SchemaError::InvalidModel { .. })));
}

const SOURCE_SQL: &str = r#"
CREATE TABLE doc (
    id serial PRIMARY KEY,
    title text COLLATE "C" NOT NULL,
    body text COLLATE "und-x-icu",
    code varchar(20) COLLATE "POSIX" DEFAULT 'x',
    n integer,
    plain text
);
CREATE INDEX doc_title ON doc (title);
ALTER TABLE doc ALTER COLUMN title SET STATISTICS 1000;
ALTER TABLE doc ALTER COLUMN n SET STATISTICS 0;
COMMENT ON TABLE doc IS 'Documents: it''s a "table"';
COMMENT ON COLUMN doc.title IS E'The title \\ with a backslash';
COMMENT ON COLUMN doc.n IS 'two
lines';
CREATE TABLE tag (id integer PRIMARY KEY, label text COLLATE "C");
COMMENT ON COLUMN tag.id IS 'the key';
"#;

#[test]
fn column_and_table_attributes_pull_and_recreate_identically() {
    let rt = ignis_tests::pull_round_trip(SOURCE_SQL);
    let doc = rt.pulled.model("doc").unwrap();
    assert_eq!(doc.comment.as_deref(), Some(r#"Documents: it's a "table""#));
    let title = doc.column_by_name("title").unwrap();
    assert_eq!(title.collation.as_deref(), Some("C"));
    assert_eq!(title.statistics, Some(1000));
    assert_eq!(
        title.comment.as_deref(),
        Some(r"The title \ with a backslash")
    );
    let plain = doc.column_by_name("plain").unwrap();
    assert_eq!(
        (&plain.collation, plain.statistics, &plain.comment),
        (&None, None, &None)
    );
    assert!(rt.dump.contains("SET STATISTICS 1000") && rt.dump.contains("COMMENT ON TABLE"));
}

//! The first migrator against a real Postgres: enricher columns as Postgres stores them, the
//! example application's catalog, idempotence, dry runs, `skip_migrate`, concurrency under the
//! advisory lock, and atomicity when a step fails.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use ignis_migrate::{MigrateError, MigrateOptions, Migrator, StepKind};
use ignis_schema::enrich::{
    self, DataTypeOptions, IdOptions, PrincipalOptions, RefIdType, TzOptions, UserAuditOptions,
    UserColumnsOptions,
};
use ignis_schema::{Column, Enricher, Index, Model, PgType, Schema};
use ignis_tests::{example, TestDb};
use ignis_tx::{DataSource, DataSourceConfig};

fn migrator(db: &TestDb) -> Migrator {
    let config = DataSourceConfig::from_url(&db.url).expect("test database URL");
    Migrator::new(DataSource::new(config).expect("datasource"))
}

/// `(column, type, nullable, default, identity)` of a table, as the catalog has them.
fn columns(db: &TestDb, table: &str) -> Vec<(String, String, bool, Option<String>, String)> {
    db.client()
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                    pg_get_expr(d.adbin, d.adrelid), a.attidentity::text
             FROM pg_attribute a
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = format('public.%I', $1::text)::regclass
               AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
            &[&table],
        )
        .expect("catalog query")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

fn col(
    name: &str,
    ty: &str,
    nullable: bool,
    default: Option<&str>,
    identity: &str,
) -> (String, String, bool, Option<String>, String) {
    (
        name.into(),
        ty.into(),
        nullable,
        default.map(String::from),
        identity.into(),
    )
}

fn tables(db: &TestDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND relkind IN ('r', 'v') ORDER BY 1",
            &[],
        )
        .expect("catalog query")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Constraint and index names of a table with their kind (`p`, `u`, `f`, `i`).
fn constraints(db: &TestDb, table: &str) -> Vec<(String, String)> {
    db.client()
        .query(
            "SELECT conname::text, contype::text FROM pg_constraint
             WHERE conrelid = format('public.%I', $1::text)::regclass
             UNION ALL
             SELECT i.relname::text, 'i' FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
             WHERE ix.indrelid = format('public.%I', $1::text)::regclass
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)
             ORDER BY 1",
            &[&table],
        )
        .expect("catalog query")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn migrate(m: &Migrator, schema: &Schema) -> Vec<(StepKind, String)> {
    m.migrate(schema, |_| {})
        .expect("migrate")
        .steps
        .into_iter()
        .map(|s| (s.kind, s.object))
        .collect()
}

#[test]
fn each_enricher_creates_the_ignis_columns() {
    let db = TestDb::new();
    let models = vec![
        Model::new("IdString").enrich(Enricher::Id(IdOptions::string())),
        Model::new("IdNumber").enrich(Enricher::Id(IdOptions::number())),
        Model::new("IdBig").enrich(Enricher::Id(enrich::IdOptions {
            column_name: Some("pk".into()),
            ..IdOptions::big_number()
        })),
        Model::new("Tz").enrich(Enricher::Tz(TzOptions::with_deleted())),
        Model::new("Audit").enrich(Enricher::UserAudit(UserAuditOptions::default())),
        Model::new("AuditText").enrich(Enricher::UserAudit(UserAuditOptions::string())),
        Model::new("DataType").enrich(Enricher::DataType(DataTypeOptions::default())),
        Model::new("Principal").enrich(Enricher::Principal(PrincipalOptions::default())),
        Model::new("Owner").enrich(Enricher::Principal(PrincipalOptions {
            discriminator: "owner".into(),
            default_polymorphic: "User".into(),
            polymorphic_id_type: RefIdType::String,
        })),
        Model::new("UserCols").enrich(Enricher::UserColumns(UserColumnsOptions::default())),
    ];
    let schema = Schema::new(models).expect("valid schema");
    migrate(&migrator(&db), &schema);

    let tstz = "timestamp with time zone";
    assert_eq!(
        columns(&db, "IdString"),
        vec![col(
            "id",
            "text",
            false,
            Some("(gen_random_uuid())::text"),
            ""
        )]
    );
    assert_eq!(
        columns(&db, "IdNumber"),
        vec![col("id", "integer", false, None, "a")]
    );
    assert_eq!(
        columns(&db, "IdBig"),
        vec![col("pk", "bigint", false, None, "a")]
    );
    assert_eq!(
        columns(&db, "Tz"),
        vec![
            col("created_at", tstz, false, Some("now()"), ""),
            col("modified_at", tstz, false, Some("now()"), ""),
            col("deleted_at", tstz, true, None, ""),
        ]
    );
    assert_eq!(
        columns(&db, "Audit"),
        vec![
            col("created_by", "integer", true, None, ""),
            col("modified_by", "integer", true, None, ""),
        ]
    );
    assert_eq!(
        columns(&db, "AuditText"),
        vec![
            col("created_by", "text", true, None, ""),
            col("modified_by", "text", true, None, ""),
        ]
    );
    assert_eq!(
        columns(&db, "DataType"),
        vec![
            col("data_type", "text", true, None, ""),
            col("n_value", "double precision", true, None, ""),
            col("t_value", "text", true, None, ""),
            col("b_value", "bytea", true, None, ""),
            col("j_value", "jsonb", true, None, ""),
            col("bo_value", "boolean", true, None, ""),
        ]
    );
    assert_eq!(
        columns(&db, "Principal"),
        vec![
            col("principal_type", "text", true, Some("''::text"), ""),
            col("principal_id", "integer", false, None, ""),
        ]
    );
    assert_eq!(
        columns(&db, "Owner"),
        vec![
            col("owner_type", "text", true, Some("'User'::text"), ""),
            col("owner_id", "text", false, None, ""),
        ]
    );
    assert_eq!(
        columns(&db, "UserCols"),
        vec![
            col("realm", "text", true, Some("''::text"), ""),
            col("status", "text", false, Some("'000_UNKNOWN'::text"), ""),
            col("type", "text", false, Some("'SYSTEM'::text"), ""),
            col("activated_at", tstz, true, None, ""),
            col("last_login_at", tstz, true, None, ""),
            col("parent_id", "text", true, None, ""),
        ]
    );
    // The primary keys are where the id enricher put them.
    assert!(constraints(&db, "IdBig").contains(&("IdBig_pkey".into(), "p".into())));
}

#[test]
fn example_app_migrates_to_the_expected_catalog_and_then_has_nothing_to_do() {
    let db = TestDb::new();
    let m = migrator(&db);
    let schema = example::schema();

    let steps = migrate(&m, &schema);
    assert_eq!(
        steps,
        vec![
            (StepKind::CreateTable, "public.User".to_string()),
            (StepKind::CreateTable, "public.Configuration".to_string()),
            (StepKind::CreateIndex, "IDX_Configuration_group".to_string()),
            (
                StepKind::AddForeignKey,
                "FK_Configuration_createdBy_User_id".to_string()
            ),
        ]
    );
    assert_eq!(tables(&db), vec!["Configuration", "User"]);
    let names: Vec<String> = columns(&db, "Configuration")
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "created_at",
            "modified_at",
            "data_type",
            "n_value",
            "t_value",
            "b_value",
            "j_value",
            "bo_value",
            "created_by",
            "modified_by",
            "code",
            "description",
            "group"
        ]
    );
    assert_eq!(
        constraints(&db, "Configuration"),
        vec![
            ("Configuration_pkey".to_string(), "p".to_string()),
            ("FK_Configuration_createdBy_User_id".into(), "f".into()),
            ("IDX_Configuration_group".into(), "i".into()),
            ("UQ_Configuration_code".into(), "u".into()),
        ]
    );
    let user_columns: Vec<String> = columns(&db, "User").into_iter().map(|c| c.0).collect();
    assert_eq!(
        user_columns,
        [
            "id",
            "created_at",
            "modified_at",
            "realm",
            "status",
            "type",
            "activated_at",
            "last_login_at",
            "parent_id",
            "name",
            "email"
        ]
    );

    // The foreign key really references User(id).
    let fk: String = db
        .client()
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conname = 'FK_Configuration_createdBy_User_id'",
            &[],
        )
        .expect("fk")
        .get(0);
    assert_eq!(fk, r#"FOREIGN KEY (created_by) REFERENCES "User"(id)"#);

    let again = m.plan(&schema).expect("second plan");
    assert!(again.is_empty(), "second plan should be empty:\n{again}");
    assert!(again.notes.is_empty(), "no differences expected:\n{again}");
    assert!(m.migrate(&schema, |_| {}).expect("second run").is_empty());
}

#[test]
fn dry_run_changes_nothing() {
    let db = TestDb::new();
    let m = migrator(&db);
    let plan = m.plan(&example::schema()).expect("plan");
    assert_eq!(plan.steps.len(), 4);
    assert!(plan.to_string().contains(r#"CREATE TABLE "public"."User""#));
    assert!(tables(&db).is_empty(), "a dry run must not create tables");
    // And the scratch schemas used to normalise the models are gone too.
    let schemas: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ignis_scratch%'",
            &[],
        )
        .expect("count")
        .get(0);
    assert_eq!(schemas, 0);
}

#[test]
fn skip_migrate_model_is_never_created_or_altered() {
    let db = TestDb::new();
    let m = migrator(&db);
    let schema = example::schema();
    migrate(&m, &schema);
    assert!(!tables(&db).contains(&"configuration_report".to_string()));

    // A DBA creates the report as a view with a different shape than the model declares.
    db.client()
        .batch_execute(
            r#"CREATE VIEW configuration_report AS
               SELECT "group", count(*)::int AS total, 1 AS extra FROM "Configuration" GROUP BY 1"#,
        )
        .expect("create view");
    let before = columns(&db, "configuration_report");
    let plan = m.migrate(&schema, |_| {}).expect("migrate");
    assert!(plan.is_empty(), "{plan}");
    assert!(
        plan.notes.is_empty(),
        "skip_migrate is not compared: {plan}"
    );
    assert_eq!(columns(&db, "configuration_report"), before);
}

#[test]
fn new_columns_and_indexes_are_added_to_existing_tables() {
    let db = TestDb::new();
    let m = migrator(&db);
    let v1 = Model::new("Item")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("name", PgType::Text).not_null());
    migrate(&m, &Schema::new(vec![v1.clone()]).expect("v1"));
    db.client()
        .execute(r#"INSERT INTO "Item" (name) VALUES ('kept')"#, &[])
        .expect("insert");

    let v2 = v1
        .column(
            Column::new("priceCents", PgType::BigInt)
                .not_null()
                .default_sql("0"),
        )
        .column(Column::new("tags", "text[]".parse().expect("type")))
        .unique("UQ_Item_name", ["name"])
        .index(Index::new("IDX_Item_tags", ["tags"]).method("gin"));
    let schema = Schema::new(vec![v2]).expect("v2");
    assert_eq!(
        migrate(&m, &schema),
        vec![
            (StepKind::AddColumn, "public.Item.price_cents".to_string()),
            (StepKind::AddColumn, "public.Item.tags".to_string()),
            (StepKind::AddUnique, "UQ_Item_name".to_string()),
            (StepKind::CreateIndex, "IDX_Item_tags".to_string()),
        ]
    );
    let row = db
        .client()
        .query_one(r#"SELECT name, price_cents FROM "Item""#, &[])
        .expect("row");
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, i64>(1)),
        ("kept".into(), 0)
    );
    let method: String = db
        .client()
        .query_one(
            "SELECT am.amname::text FROM pg_class c JOIN pg_am am ON am.oid = c.relam
             WHERE c.relname = 'IDX_Item_tags'",
            &[],
        )
        .expect("index")
        .get(0);
    assert_eq!(method, "gin");
    assert!(m.plan(&schema).expect("plan").is_empty());
}

#[test]
fn drift_is_repaired_and_data_loss_is_refused_unless_allowed() {
    let db = TestDb::new();
    let m = migrator(&db);
    let schema = example::schema();
    migrate(&m, &schema);
    db.client()
        .batch_execute(
            r#"ALTER TABLE "Configuration" ALTER COLUMN description TYPE varchar(10);
               ALTER TABLE "Configuration" ADD COLUMN legacy int;
               CREATE TABLE stray (x int);
               INSERT INTO stray VALUES (1);"#,
        )
        .expect("drift");
    let plan = m.plan(&schema).expect("plan");
    let steps: Vec<(StepKind, String, bool)> = plan
        .steps
        .iter()
        .map(|s| (s.kind, s.object.clone(), s.is_data_loss()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (
                StepKind::AlterColumnType,
                "public.Configuration.description character varying(10) -> text".to_string(),
                false
            ),
            (
                StepKind::DropColumn,
                "public.Configuration.legacy".to_string(),
                true
            ),
        ]
    );
    let notes: Vec<String> = plan.notes.iter().map(|n| n.message.clone()).collect();
    assert_eq!(
        notes,
        vec![
            "table public.stray is in the database but in no model (drop it with --drop-unknown)"
                .to_string()
        ]
    );
    assert!(
        plan.to_string()
            .contains("[DATA LOSS: drops column public.Configuration.legacy: 0 rows have a value]"),
        "{plan}"
    );

    // Refused: nothing changes, the error names the column.
    let err = m.migrate(&schema, |_| {}).expect_err("data loss refused");
    assert!(matches!(err, MigrateError::DataLossRefused { .. }), "{err}");
    assert!(
        err.to_string().contains("public.Configuration.legacy"),
        "{err}"
    );
    assert!(columns(&db, "Configuration")
        .iter()
        .any(|c| c.0 == "legacy"));

    // Allowed (and dropping unknown tables): applied, then nothing left to do.
    let allowing = migrator(&db).with_options(MigrateOptions {
        allow_data_loss: true,
        drop_unknown: true,
        ..MigrateOptions::default()
    });
    let plan = allowing.plan(&schema).expect("plan");
    assert!(
        plan.steps
            .iter()
            .any(|s| s.kind == StepKind::DropTable && s.to_string().contains("1 rows")),
        "{plan}"
    );
    allowing.migrate(&schema, |_| {}).expect("allowed");
    assert!(!columns(&db, "Configuration")
        .iter()
        .any(|c| c.0 == "legacy"));
    assert_eq!(tables(&db), vec!["Configuration", "User"]);
    let again = allowing.plan(&schema).expect("plan");
    assert!(again.is_empty() && again.notes.is_empty(), "{again}");
}

#[test]
fn two_migrators_at_once_both_succeed_with_one_result() {
    let db = TestDb::new();
    let schema = example::schema();
    let results: Vec<Result<usize, MigrateError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let m = migrator(&db);
                let schema = &schema;
                s.spawn(move || m.migrate(schema, |_| {}).map(|p| p.steps.len()))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut counts: Vec<usize> = results
        .into_iter()
        .map(|r| r.expect("both migrators succeed"))
        .collect();
    counts.sort();
    // One applied the whole plan; the other waited on the advisory lock and found nothing to do.
    assert_eq!(counts, vec![0, 4]);
    assert_eq!(tables(&db), vec!["Configuration", "User"]);
}

#[test]
fn a_failing_step_leaves_the_database_unchanged() {
    let db = TestDb::new();
    let m = migrator(&db);
    let v1 = Model::new("Account").enrich(Enricher::Id(IdOptions::number()));
    migrate(&m, &Schema::new(vec![v1.clone()]).expect("v1"));
    db.client()
        .execute(r#"INSERT INTO "Account" DEFAULT VALUES"#, &[])
        .expect("insert");

    // Step 1 creates a table; step 2 adds a NOT NULL column without a default to a table that
    // has a row, which Postgres refuses. Step 1 must be rolled back with it. (The plan marks the
    // step as data loss; allowing it lets the run reach the failing statement.)
    let v2 = v1.column(Column::new("email", PgType::Text).not_null());
    let audit = Model::new("AuditLog").enrich(Enricher::Id(IdOptions::number()));
    let schema = Schema::new(vec![v2, audit]).expect("v2");
    let m = m.with_options(MigrateOptions {
        allow_data_loss: true,
        ..MigrateOptions::default()
    });
    let err = m.migrate(&schema, |_| {}).expect_err("step 2 must fail");
    match &err {
        MigrateError::StepFailed {
            number,
            total,
            description,
            ..
        } => {
            assert_eq!((*number, *total), (2, 2));
            assert_eq!(description, "add column public.Account.email");
        }
        other => panic!("unexpected error: {other}"),
    }
    assert_eq!(err.sqlstate(), Some("23502"), "not_null_violation");
    assert_eq!(
        tables(&db),
        vec!["Account"],
        "the created table was rolled back"
    );
    assert_eq!(columns(&db, "Account").len(), 1);
}

#[test]
fn a_model_default_that_does_not_parse_is_refused_before_anything_is_applied() {
    let db = TestDb::new();
    let m = migrator(&db);
    let good = Model::new("Good").enrich(Enricher::Id(IdOptions::number()));
    let bad = Model::new("Bad")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("x", PgType::Integer).default_sql("1 +"));
    let err = m
        .migrate(&Schema::new(vec![good, bad]).expect("valid"), |_| {})
        .expect_err("bad default");
    assert!(
        matches!(&err, MigrateError::InvalidModelDdl { model, .. } if model == "Bad"),
        "{err}"
    );
    assert_eq!(err.sqlstate(), Some("42601"), "syntax_error");
    assert!(tables(&db).is_empty());
}

#[test]
fn example_schema_file_matches_the_rust_models() {
    let from_file = Schema::from_json(example::SCHEMA_FILE).expect("schema file parses");
    assert_eq!(from_file, example::schema());
}

#[test]
fn example_schema_file_naming_columns_loads_as_the_same_models() {
    // The file as written when keys and foreign keys named columns and tables.
    let mut old_form = example::SCHEMA_FILE.to_string();
    for (new, old) in [
        (r#""properties": ["code"]"#, r#""columns": ["code"]"#),
        (r#""properties": ["group"]"#, r#""columns": ["group"]"#),
        (
            r#""properties": ["createdBy"]"#,
            r#""columns": ["created_by"]"#,
        ),
        (r#""refModel": "User""#, r#""refTable": "User""#),
        (r#""refProperties": ["id"]"#, r#""refColumns": ["id"]"#),
    ] {
        assert!(old_form.contains(new), "{new} not in the example file");
        old_form = old_form.replace(new, old);
    }
    let from_file = Schema::from_json(&old_form).expect("old-form schema file parses");
    assert_eq!(from_file, example::schema());
    assert_eq!(from_file.to_json(), example::schema().to_json());
}

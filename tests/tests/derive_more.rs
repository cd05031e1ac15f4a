//! Typed models against a real Postgres, beyond columns: `#[derive(Model)]`'s struct-level
//! uniques, indexes (method, partial, unique, include), checks, default filter, `renamed_from`
//! and enricher column options give the model the builder gives, and the migrator plans
//! nothing between them; so do identity and serial sequence options, column collations,
//! statistics and comments, foreign keys with actions over two properties or to a table no
//! model describes, index keys with operator classes, expressions and sort order, exclusion
//! constraints and the primary key's name and order; `#[derive(PgEnum)]` enums are Postgres
//! enum types that the schema learns from the models, bind as parameters, and read back
//! through a derived `FromRow`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use chrono::NaiveDateTime;
use ignis_repo::{DefaultCrudRepository, FromRow, RepoError};
use ignis_schema::enrich::{
    AuditColumn, IdOptions, RefIdType, TzColumn, TzOptions, UserAuditOptions,
};
use ignis_schema::{
    Column, Enricher, EnumType, Index, Model, ModelDef, PgEnum, PgEnumDef, PgType, Schema,
    SchemaBuilder, UniqueConstraint,
};
use ignis_tests::TestDb;
use serde_json::json;

/// Labels in snake_case by default, one renamed; serde by label.
#[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
#[ignis(serde)]
enum TicketStatus {
    Open,
    InProgress,
    #[ignis(rename = "closed")]
    Done,
}

/// A named enum, labels in upper case. (`schema = ".."` is checked by the derive's doctest:
/// the migrator reads enum types only in the schemas of the models it manages.)
#[derive(PgEnum, Debug, Clone, Copy, PartialEq)]
#[ignis(name = "ticket_priority", rename_all = "UPPERCASE")]
enum Priority {
    Low,
    High,
}

#[derive(Model, FromRow, Debug, PartialEq)]
#[ignis(
    table = "tickets",
    renamed_from = "issues",
    id(data_type = "number", column = "ticket_id"),
    tz(deleted, created_column = "opened_at", without_time_zone),
    user_audit(data_type = "string", modified_column = "changed_by"),
    default_filter = r#"{"where": {"deletedAt": null}}"#,
    unique(name = "UQ_Ticket_project_number", properties = "project, number"),
    unique(
        name = "UQ_Ticket_project_slug",
        properties = "project, slug",
        deferrable,
        nulls_not_distinct
    ),
    index(name = "IDX_Ticket_labels", properties = "labels", method = "gin"),
    index(
        name = "IDX_Ticket_open",
        properties = "project, createdAt",
        where = "status <> 'closed'"
    ),
    index(
        name = "UX_Ticket_title",
        properties = "title",
        unique,
        where = "deleted_at IS NULL",
        include = "number"
    ),
    check(name = "CK_Ticket_number", expr = "number > 0")
)]
struct Ticket {
    id: i32,
    created_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
    project: String,
    number: i32,
    slug: Option<String>,
    title: String,
    status: TicketStatus,
    priority: Option<Priority>,
    labels: Vec<String>,
    history: Option<Vec<TicketStatus>>,
}

fn status_type() -> EnumType {
    EnumType::new("ticket_status", ["open", "in_progress", "closed"])
}

fn priority_type() -> EnumType {
    EnumType::new("ticket_priority", ["LOW", "HIGH"])
}

/// `Ticket` with the builder.
fn ticket_by_hand() -> Model {
    let status = PgType::Custom("ticket_status".into());
    let plain = |column_name: Option<&str>| TzColumn {
        enable: true,
        column_name: column_name.map(Into::into),
        with_timezone: false,
    };
    Model::new("Ticket")
        .table("tickets")
        .renamed_from("issues")
        .enrich(Enricher::Id(IdOptions {
            column_name: Some("ticket_id".into()),
            ..IdOptions::number()
        }))
        .enrich(Enricher::Tz(TzOptions {
            created: plain(Some("opened_at")),
            modified: plain(None),
            deleted: plain(None),
        }))
        .enrich(Enricher::UserAudit(UserAuditOptions {
            created: AuditColumn {
                data_type: RefIdType::String,
                column_name: None,
            },
            modified: AuditColumn {
                data_type: RefIdType::String,
                column_name: Some("changed_by".into()),
            },
        }))
        .column(Column::new("project", PgType::Text).not_null())
        .column(Column::new("number", PgType::Integer).not_null())
        .column(Column::new("slug", PgType::Text))
        .column(Column::new("title", PgType::Text).not_null())
        .column(Column::new("status", status.clone()).not_null())
        .column(Column::new(
            "priority",
            PgType::Custom("ticket_priority".into()),
        ))
        .column(Column::new("labels", PgType::Array(Box::new(PgType::Text))).not_null())
        .column(Column::new("history", PgType::Array(Box::new(status))))
        .unique("UQ_Ticket_project_number", ["project", "number"])
        .unique_constraint(
            UniqueConstraint::new("UQ_Ticket_project_slug", ["project", "slug"])
                .deferrable()
                .nulls_not_distinct(),
        )
        .index(Index::new("IDX_Ticket_labels", ["labels"]).method("gin"))
        .index(
            Index::new("IDX_Ticket_open", ["project", "createdAt"]).where_sql("status <> 'closed'"),
        )
        .index(
            Index::new("UX_Ticket_title", ["title"])
                .include(["number"])
                .where_sql("deleted_at IS NULL")
                .unique(),
        )
        .check("CK_Ticket_number", "number > 0")
        .default_filter(json!({"where": {"deletedAt": null}}))
}

fn by_hand() -> Schema {
    Schema::new(vec![ticket_by_hand()])
        .unwrap()
        .with_enums(vec![status_type(), priority_type()])
        .unwrap()
}

fn derived() -> Schema {
    SchemaBuilder::new().model::<Ticket>().build().unwrap()
}

#[test]
fn derived_attributes_equal_the_builder_model() {
    assert_eq!(Ticket::model(), ticket_by_hand());
    assert_eq!(Ticket::enums(), vec![status_type(), priority_type()]);
    assert_eq!(derived(), by_hand());
    assert_eq!(TicketStatus::LABELS, ["open", "in_progress", "closed"]);
    assert_eq!(Priority::enum_type(), priority_type());
}

#[test]
fn the_migrator_plans_nothing_between_builder_and_derived_models() {
    let db = TestDb::new();
    let ds = db.migrated(&by_hand());
    let plan = ignis_migrate::Migrator::new(ds).plan(&derived()).unwrap();
    assert!(plan.is_empty(), "{plan}");
}

/// The table the derived model renames: created under its old name, it is renamed, not
/// created anew, and its rows stay.
#[test]
fn renamed_from_renames_the_old_table() {
    let db = TestDb::new();
    let mut old = ticket_by_hand().table("issues");
    old.renamed_from = None;
    let old = Schema::new(vec![old])
        .unwrap()
        .with_enums(vec![status_type(), priority_type()])
        .unwrap();
    let ds = db.migrated(&old);
    db.client()
        .batch_execute("INSERT INTO issues (project, number, title, status, labels) VALUES ('p', 1, 't', 'open', '{}')")
        .unwrap();
    let migrator = ignis_migrate::Migrator::new(ds);
    migrator.migrate(&derived(), |_| {}).unwrap();
    let n: i64 = db
        .client()
        .query_one("SELECT count(*) FROM tickets", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    assert!(migrator.plan(&derived()).unwrap().is_empty());
}

fn tickets(db: &TestDb) -> DefaultCrudRepository {
    let schema = Arc::new(derived());
    let ds = db.migrated(&schema);
    DefaultCrudRepository::new(ds, schema, "Ticket").unwrap()
}

#[test]
fn enum_columns_round_trip_through_create_filters_and_derived_from_row() {
    let db = TestDb::new();
    let repo = tickets(&db);
    repo.create_all(&[
        json!({"project": "p", "number": 1, "title": "one", "slug": "a", "status": "in_progress",
               "priority": "HIGH", "labels": ["a"], "history": ["open", "in_progress"]}),
        json!({"project": "p", "number": 2, "title": "two", "slug": "b", "status": "open", "labels": []}),
        json!({"project": "p", "number": 3, "title": "gone", "slug": "c", "status": "closed", "labels": [],
               "deletedAt": "2024-01-01T00:00:00"}),
    ])
    .unwrap();

    let found: Vec<Ticket> = repo
        .find_into(&json!({"where": {"status": "in_progress"}}))
        .unwrap();
    assert_eq!(found.len(), 1);
    let t = &found[0];
    assert_eq!(t.status, TicketStatus::InProgress);
    assert_eq!(t.priority, Some(Priority::High));
    assert_eq!(
        t.history,
        Some(vec![TicketStatus::Open, TicketStatus::InProgress])
    );
    assert_eq!(t.labels, ["a"]);

    // The default filter hides the soft-deleted ticket; `inq` over labels binds too.
    let all: Vec<Ticket> = repo
        .find_into(
            &json!({"where": {"status": {"inq": ["open", "closed"]}}, "order": ["number ASC"]}),
        )
        .unwrap();
    let numbers: Vec<i32> = all.iter().map(|t| t.number).collect();
    assert_eq!(numbers, [2]);
    assert_eq!(all[0].priority, None);
    assert_eq!(all[0].history, None);

    // A label the type does not have is refused by the server, not sent as SQL text.
    let err = repo
        .create(&json!({"project": "p", "number": 9, "title": "x", "status": "nope", "labels": []}))
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn enums_bind_as_parameters_and_decode_by_label() {
    let db = TestDb::new();
    let repo = tickets(&db);
    let mut client = db.client();
    client
        .execute(
            "INSERT INTO tickets (project, number, title, status, priority, labels, history) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &"p",
                &5i32,
                &"bound",
                &TicketStatus::Done,
                &Some(Priority::Low),
                &Vec::<String>::new(),
                &vec![TicketStatus::Open, TicketStatus::Done],
            ],
        )
        .unwrap();
    let row = client
        .query_one(
            "SELECT status, priority, history FROM tickets WHERE status = $1",
            &[&TicketStatus::Done],
        )
        .unwrap();
    assert_eq!(row.get::<_, TicketStatus>(0), TicketStatus::Done);
    assert_eq!(row.get::<_, Option<Priority>>(1), Some(Priority::Low));
    assert_eq!(
        row.get::<_, Vec<TicketStatus>>(2),
        [TicketStatus::Open, TicketStatus::Done]
    );
    // Labels as text, too (a text parameter or column).
    let text: String = client
        .query_one("SELECT $1::text", &[&TicketStatus::InProgress])
        .unwrap()
        .get(0);
    assert_eq!(text, "in_progress");

    // serde writes and reads the same labels.
    assert_eq!(
        serde_json::to_value(TicketStatus::Done).unwrap(),
        json!("closed")
    );
    let back: TicketStatus = serde_json::from_value(json!("in_progress")).unwrap();
    assert_eq!(back, TicketStatus::InProgress);
    assert!(serde_json::from_value::<TicketStatus>(json!("Done")).is_err());

    // A label added to the type in the database only is a decode error naming the property.
    client
        .batch_execute("ALTER TYPE ticket_status ADD VALUE 'blocked'")
        .unwrap();
    client
        .batch_execute("UPDATE tickets SET status = 'blocked'")
        .unwrap();
    match repo.find_into::<Ticket>(&json!({})) {
        Err(RepoError::Decode { property, .. }) => assert_eq!(property, "status"),
        Err(other) => panic!("expected a decode error, got {other}"),
        Ok(rows) => panic!("expected a decode error, got {rows:?}"),
    }
}

/// A parent with a composite key in its own order, named (not deferrable: a foreign key
/// cannot reference a deferrable key).
#[allow(dead_code)] // a model only: its rows are read with SQL
#[derive(Model, Debug)]
#[ignis(
    table = "accounts",
    comment = "Accounts of a tenant",
    primary_key(name = "pk_accounts", order = "tenant, code")
)]
struct Account {
    #[ignis(primary_key, pg_type = "varchar(12)")]
    code: String,
    #[ignis(primary_key)]
    tenant: i32,
}

/// Identity, serial and column options; foreign keys with actions, over two properties and to
/// a table no model describes; index keys with options; an exclusion constraint.
#[allow(dead_code)] // a model only: its rows are read with SQL
#[derive(Model, Debug)]
#[ignis(
    table = "entries",
    foreign_key(
        name = "FK_Entry_account",
        properties = "tenant, accountCode",
        model = "Account",
        references = "tenant, code",
        on_delete = "cascade",
        on_update = "restrict",
        match_full,
        initially_deferred
    ),
    index(
        name = "IDX_Entry_memo",
        key(expression = "lower(memo)", opclass = "text_pattern_ops"),
        key(property = "amount", order = "desc", nulls = "last"),
        include = "seq",
        where = "amount > 0",
        with = "fillfactor = 70"
    ),
    index(name = "IDX_Entry_memo_c", key(property = "memo", collation = "C")),
    exclusion(
        name = "EX_Entry_area",
        method = "gist",
        element(property = "area", operator = "&&"),
        where = "amount > 0"
    )
)]
struct Entry {
    #[ignis(
        primary_key,
        identity(by_default, start = 1000, increment = 5, cache = 10)
    )]
    id: i64,
    #[ignis(
        pg_type = "serial",
        sequence(name = "entries_seq_numbers", start = 7, cycle)
    )]
    seq: i32,
    tenant: i32,
    #[ignis(pg_type = "varchar(12)")]
    account_code: String,
    #[ignis(foreign_key(
        table = "legacy_ledgers",
        references = "ledger_id",
        on_delete = "set_null"
    ))]
    ledger_id: Option<i32>,
    #[ignis(collation = "C", statistics = 400, comment = "What the entry is for")]
    memo: String,
    amount: i64,
    #[ignis(pg_type = "box")]
    area: Option<String>,
}

fn entries_by_hand() -> Vec<Model> {
    use ignis_schema::{
        Exclusion, ExclusionElement, ForeignKey, ForeignKeyAction, Identity, IndexKey, NullsOrder,
        SequenceOptions, SortOrder,
    };
    let account = Model::new("Account")
        .table("accounts")
        .comment("Accounts of a tenant")
        .column(
            Column::new("code", PgType::Varchar(Some(12)))
                .not_null()
                .primary_key(),
        )
        .column(
            Column::new("tenant", PgType::Integer)
                .not_null()
                .primary_key(),
        )
        .primary_key_constraint("pk_accounts")
        .primary_key_order(["tenant", "code"]);
    let mut seq = Column::new("seq", PgType::Custom("serial".into()))
        .not_null()
        .serial_sequence(SequenceOptions {
            start: Some(7),
            cycle: true,
            ..SequenceOptions::default()
        });
    seq.sequence_name = Some("entries_seq_numbers".into());
    let entry = Model::new("Entry")
        .table("entries")
        .column(
            Column::new("id", PgType::BigInt)
                .not_null()
                .primary_key()
                .identity(Identity {
                    sequence: SequenceOptions {
                        start: Some(1000),
                        increment: Some(5),
                        cache: Some(10),
                        ..SequenceOptions::default()
                    },
                    ..Identity::by_default()
                }),
        )
        .column(seq)
        .column(Column::new("tenant", PgType::Integer).not_null())
        .column(Column::new("accountCode", PgType::Varchar(Some(12))).not_null())
        .column(Column::new("ledgerId", PgType::Integer))
        .column(
            Column::new("memo", PgType::Text)
                .not_null()
                .collate("C")
                .statistics(400)
                .comment("What the entry is for"),
        )
        .column(Column::new("amount", PgType::BigInt).not_null())
        .column(Column::new("area", PgType::Custom("box".into())))
        .foreign_key(
            ForeignKey::to_table(
                "FK_Entry_ledgerId_legacy_ledgers_ledger_id",
                ["ledgerId"],
                "public",
                "legacy_ledgers",
                ["ledger_id"],
            )
            .on_delete(ForeignKeyAction::SetNull),
        )
        .foreign_key(
            ForeignKey::new(
                "FK_Entry_account",
                ["tenant", "accountCode"],
                "Account",
                ["tenant", "code"],
            )
            .on_delete(ForeignKeyAction::Cascade)
            .on_update(ForeignKeyAction::Restrict)
            .match_full()
            .initially_deferred(),
        )
        .index(
            Index::with_keys(
                "IDX_Entry_memo",
                [
                    IndexKey::expression("lower(memo)").opclass("text_pattern_ops"),
                    IndexKey {
                        order: Some(SortOrder::Desc),
                        nulls: Some(NullsOrder::Last),
                        ..IndexKey::property("amount")
                    },
                ],
            )
            .include(["seq"])
            .where_sql("amount > 0")
            .storage_parameter("fillfactor", "70"),
        )
        .index(Index::with_keys(
            "IDX_Entry_memo_c",
            [IndexKey::property("memo").collate("C")],
        ))
        .exclusion(
            Exclusion::new(
                "EX_Entry_area",
                "gist",
                [ExclusionElement::property("area", "&&")],
            )
            .where_sql("amount > 0"),
        );
    vec![account, entry]
}

#[test]
fn identity_sequences_foreign_keys_index_keys_and_exclusions_derive_and_migrate() {
    assert_eq!(vec![Account::model(), Entry::model()], entries_by_hand());

    let db = TestDb::new();
    db.client()
        .batch_execute("CREATE TABLE legacy_ledgers (ledger_id integer PRIMARY KEY)")
        .unwrap();
    let schema = Schema::new(vec![Account::model(), Entry::model()]).unwrap();
    let ds = db.migrated(&schema);
    let plan = ignis_migrate::Migrator::new(ds).plan(&schema).unwrap();
    assert!(plan.is_empty(), "{plan}");

    // The identity's and the serial's sequences number as declared; ON DELETE CASCADE over the
    // two-column key removes the entry with its account.
    let mut client = db.client();
    client
        .batch_execute(
            "INSERT INTO accounts (code, tenant) VALUES ('cash', 1); \
             INSERT INTO entries (tenant, account_code, memo, amount) VALUES (1, 'cash', 'x', 5), \
             (1, 'cash', 'y', 6)",
        )
        .unwrap();
    let rows = client
        .query("SELECT id, seq FROM entries ORDER BY id", &[])
        .unwrap();
    let numbers: Vec<(i64, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(numbers, [(1000, 7), (1005, 8)]);
    client.batch_execute("DELETE FROM accounts").unwrap();
    let n: i64 = client
        .query_one("SELECT count(*) FROM entries", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

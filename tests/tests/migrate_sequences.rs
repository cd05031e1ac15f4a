//! Serial columns' sequences: their options (START, INCREMENT, MINVALUE, MAXVALUE, CACHE,
//! CYCLE) in the model, created, compared and changed with `ALTER SEQUENCE` keeping the
//! current value, pulled without a note, and re-created identically (`pg_dump --schema-only`),
//! next to identity columns with options and a `bigserial` whose sequence name Postgres cut
//! at 63 bytes.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use ignis_migrate::pull::pull_with_notes;
use ignis_migrate::{Migrator, StepKind};
use ignis_schema::{Column, Model, Schema, SchemaError, SequenceOptions};
use ignis_tests::TestDb;

/// `Counter` (`counter`): a `serial` key with the given sequence options, and a label.
fn counter(options: Option<SequenceOptions>) -> Schema {
    let mut id = Column::new("id", "serial".parse().unwrap()).primary_key();
    id.serial_sequence = options;
    Schema::new(vec![Model::new("Counter")
        .table("counter")
        .column(id)
        .column(Column::new("label", ignis_schema::PgType::Text))])
    .unwrap()
}

fn insert(c: &mut postgres::Client) -> i32 {
    c.query_one("INSERT INTO counter (label) VALUES ('x') RETURNING id", &[])
        .unwrap()
        .get(0)
}

/// `(start, increment, min, max, cache, cycle)` of the column's sequence.
fn sequence(c: &mut postgres::Client) -> (i64, i64, i64, i64, i64, bool) {
    let r = c
        .query_one(
            "SELECT seqstart, seqincrement, seqmin, seqmax, seqcache, seqcycle FROM pg_sequence \
             WHERE seqrelid = pg_get_serial_sequence('counter', 'id')::regclass",
            &[],
        )
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))
}

fn opts(
    start: Option<i64>,
    increment: Option<i64>,
    max_value: Option<i64>,
    cache: Option<i64>,
    cycle: bool,
) -> Option<SequenceOptions> {
    Some(SequenceOptions {
        start,
        increment,
        min_value: None,
        max_value,
        cache,
        cycle,
    })
}

#[test]
fn serial_sequence_options_change_both_ways_keeping_the_current_value() {
    let max = i64::from(i32::MAX);
    // (A, B, A's sequence, B's sequence)
    let cases = [
        (
            None,
            opts(None, Some(10), None, Some(5), false),
            (1, 1, 1, max, 1, false),
            (1, 10, 1, max, 5, false),
        ),
        (
            opts(Some(100), Some(2), None, None, false),
            opts(None, Some(5), Some(1_000_000), None, true),
            (100, 2, 1, max, 1, false),
            (1, 5, 1, 1_000_000, 1, true),
        ),
        (
            opts(None, Some(3), None, Some(20), true),
            // All-default options are the same as none.
            opts(Some(1), Some(1), None, Some(1), false),
            (1, 3, 1, max, 20, true),
            (1, 1, 1, max, 1, false),
        ),
    ];
    for (a, b, seq_a, seq_b) in cases {
        let (schema_a, schema_b) = (counter(a.clone()), counter(b.clone()));
        let name = format!("{a:?} -> {b:?}");
        let db = TestDb::new();
        let m = Migrator::new(db.migrated(&schema_a));
        let mut c = db.client();
        assert!(m.plan(&schema_a).unwrap().matches(), "{name}: A created");
        assert_eq!(sequence(&mut c), seq_a, "{name}: A's sequence");
        for _ in 0..3 {
            insert(&mut c);
        }

        for (to, seq, phase) in [(&schema_b, seq_b, "to B"), (&schema_a, seq_a, "back to A")] {
            let plan = m.plan(to).unwrap();
            assert_eq!(
                plan.steps.iter().map(|s| s.kind).collect::<Vec<_>>(),
                [StepKind::AlterSequence],
                "{name} {phase}:\n{plan}"
            );
            assert!(plan.data_loss().is_empty(), "{name} {phase}: safe:\n{plan}");
            // The sequence's current value (with CACHE, past what this connection used).
            let current: i64 = c
                .query_one(
                    "SELECT last_value FROM pg_sequences WHERE sequencename = 'counter_id_seq'",
                    &[],
                )
                .unwrap()
                .get(0);
            m.migrate(to, |_| {}).unwrap();
            let again = m.plan(to).unwrap();
            assert!(
                again.matches() && again.notes.is_empty(),
                "{name} {phase}: not idempotent:\n{again}"
            );
            assert_eq!(sequence(&mut c), seq, "{name} {phase}");
            let next = insert(&mut c);
            assert_eq!(
                i64::from(next),
                current + seq.1,
                "{name} {phase}: the next value continues from the current one"
            );
        }
    }
}

#[test]
fn a_new_table_and_a_new_serial_column_get_their_sequence_options() {
    let options = opts(Some(500), Some(7), None, None, false);
    let db = TestDb::new();
    let m = Migrator::new(db.migrated(&counter(options.clone())));
    let mut c = db.client();
    assert_eq!(insert(&mut c), 500);
    assert_eq!(insert(&mut c), 507);

    // A serial column added to an existing table, with options.
    let mut ticket = Column::new("ticket", "bigserial".parse().unwrap());
    ticket.serial_sequence = opts(Some(-10), Some(-2), None, None, false);
    let mut models = counter(options).models().to_vec();
    models[0] = models[0].clone().column(ticket);
    let with_ticket = Schema::new(models).unwrap();
    let plan = m.plan(&with_ticket).unwrap();
    assert!(
        plan.steps.iter().any(|s| s.kind == StepKind::AlterSequence),
        "{plan}"
    );
    m.migrate(&with_ticket, |_| {}).unwrap();
    assert!(m.plan(&with_ticket).unwrap().matches());
    let tickets: Vec<i64> = c
        .query("SELECT ticket FROM counter ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tickets,
        [-10, -12],
        "existing rows numbered by the new sequence"
    );
}

#[test]
fn a_range_the_current_value_is_outside_of_is_refused() {
    let db = TestDb::new();
    let m = Migrator::new(db.migrated(&counter(None)));
    let mut c = db.client();
    for _ in 0..5 {
        insert(&mut c);
    }
    let narrow = counter(opts(None, None, Some(3), None, false));
    let plan = m.plan(&narrow).unwrap();
    let loss = plan.data_loss();
    assert_eq!(loss.len(), 1, "{plan}");
    assert_eq!(loss[0].kind, StepKind::AlterSequence);
    assert!(m.migrate(&narrow, |_| {}).is_err(), "refused: {plan}");
    assert_eq!(sequence(&mut c).3, i64::from(i32::MAX), "unchanged");
    assert_eq!(insert(&mut c), 6);

    // Wide enough for the current value: safe.
    let wide = counter(opts(None, None, Some(100), None, false));
    let plan = m.plan(&wide).unwrap();
    assert!(plan.data_loss().is_empty(), "{plan}");
    m.migrate(&wide, |_| {}).unwrap();
    assert_eq!(sequence(&mut c).3, 100);
}

#[test]
fn impossible_sequence_options_name_the_model() {
    let db = TestDb::new();
    let m = Migrator::new(db.datasource());
    let mut bad = SequenceOptions {
        min_value: Some(10),
        max_value: Some(5),
        ..SequenceOptions::default()
    };
    let err = m.plan(&counter(Some(bad.clone()))).unwrap_err().to_string();
    assert!(err.contains("Counter"), "{err}");
    bad.max_value = Some(i64::MAX); // beyond `integer`
    let err = m.plan(&counter(Some(bad))).unwrap_err().to_string();
    assert!(err.contains("Counter"), "{err}");

    // Options on a column that is not a serial are refused by the model.
    let json = r#"{"models": [{"name": "M", "columns": [
        {"property": "id", "type": "integer", "serialSequence": {"increment": 2}}]}]}"#;
    let err = Schema::from_json(json).unwrap_err().to_string();
    assert!(err.contains("serial sequence options"), "{err}");
    let direct = Model::new("M")
        .column(
            Column::new("id", ignis_schema::PgType::Integer)
                .serial_sequence(SequenceOptions::default()),
        )
        .validate();
    assert!(matches!(direct, Err(SchemaError::InvalidModel { .. })));
    // On a serial, they read and write back as `serialSequence`.
    let json = r#"{"models": [{"name": "M", "columns": [
        {"property": "id", "type": "serial", "serialSequence": {"increment": 2, "cycle": true}}]}]}"#;
    let schema = Schema::from_json(json).unwrap();
    let id = schema.model("M").unwrap().column_by_name("id").unwrap();
    assert_eq!(id.serial_sequence.as_ref().unwrap().increment, Some(2));
    assert!(schema.to_json().contains(r#""serialSequence""#));
}

const SOURCE_SQL: &str = "
CREATE TABLE ticket (id serial PRIMARY KEY, label text);
ALTER SEQUENCE ticket_id_seq START WITH 1000 RESTART INCREMENT BY 5 MAXVALUE 1000000 CACHE 10
    CYCLE;
CREATE TABLE countdown (n smallserial, label text);
ALTER SEQUENCE countdown_n_seq INCREMENT BY -1 MINVALUE -100 MAXVALUE -1 START WITH -1 RESTART;
CREATE TABLE icinga_contactnotificationmethods (
    contactnotificationmethod_id bigserial PRIMARY KEY,
    contact_notificationcommand_id bigserial
);
ALTER SEQUENCE icinga_contactnotificationmet_contact_notificationcommand_i_seq
    INCREMENT BY 2 MINVALUE 0 START WITH 0 RESTART;
CREATE TABLE job (
    id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 10 INCREMENT BY 10 CACHE 5) PRIMARY KEY,
    down smallint GENERATED ALWAYS AS IDENTITY (INCREMENT BY -1)
);
";

#[test]
fn sequences_with_options_pull_and_recreate_identically() {
    let rt = ignis_tests::pull_round_trip(SOURCE_SQL);
    let ticket = rt.pulled.model("ticket").unwrap();
    let id = ticket.column_by_name("id").unwrap();
    assert_eq!(id.pg_type.to_string(), "serial");
    assert_eq!(
        id.serial_sequence,
        Some(SequenceOptions {
            start: Some(1000),
            increment: Some(5),
            min_value: None,
            max_value: Some(1_000_000),
            cache: Some(10),
            cycle: true,
        })
    );
    let icinga = rt
        .pulled
        .model("icinga_contactnotificationmethods")
        .unwrap();
    let cut = icinga
        .column_by_name("contact_notificationcommand_id")
        .unwrap();
    assert_eq!(cut.pg_type.to_string(), "bigserial");
    assert!(cut.serial_sequence.is_some());
    assert!(
        rt.dump.contains("INCREMENT BY 5") && rt.dump.contains("icinga_contactnotificationmet_")
    );

    // The copy numbers rows as the source does.
    for db in [&rt.source, &rt.copy] {
        let mut c = db.client();
        let n: i16 = c
            .query_one(
                "INSERT INTO countdown (label) VALUES ('x') RETURNING n",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, -1);
        let id: i32 = c
            .query_one("INSERT INTO ticket (label) VALUES ('x') RETURNING id", &[])
            .unwrap()
            .get(0);
        assert_eq!(id, 1000);
    }
}

/// [`counter`] with an identity key (by default) whose sequence has `options`, or a plain
/// integer key without.
fn identity_counter(options: Option<SequenceOptions>) -> Schema {
    let mut id = Column::new("id", ignis_schema::PgType::Integer).primary_key();
    if let Some(o) = options {
        id.identity = Some(ignis_schema::Identity {
            generation: ignis_schema::IdentityGeneration::ByDefault,
            sequence: o,
        });
    }
    Schema::new(vec![Model::new("Counter")
        .table("counter")
        .column(id)
        .column(Column::new("label", ignis_schema::PgType::Text))])
    .unwrap()
}

#[test]
fn identity_sequence_options_are_compared_and_changed_keeping_the_current_value() {
    let db = TestDb::new();
    let m = Migrator::new(db.migrated(&identity_counter(Some(SequenceOptions::default()))));
    let mut c = db.client();
    for _ in 0..3 {
        insert(&mut c);
    }
    let written_as_defaults = SequenceOptions {
        start: Some(1),
        increment: Some(1),
        ..SequenceOptions::default()
    };
    for (options, expect_step, seq) in [
        (
            opts(None, Some(5), Some(1000), None, false),
            true,
            (1, 5, 1, 1000, 1, false),
        ),
        (
            opts(Some(1), Some(2), None, Some(10), true),
            true,
            (1, 2, 1, i64::from(i32::MAX), 10, true),
        ),
        (
            Some(written_as_defaults.clone()),
            true,
            (1, 1, 1, i64::from(i32::MAX), 1, false),
        ),
        (
            Some(SequenceOptions::default()),
            false,
            (1, 1, 1, i64::from(i32::MAX), 1, false),
        ),
    ] {
        let schema = identity_counter(options.clone());
        let plan = m.plan(&schema).unwrap();
        let kinds: Vec<StepKind> = plan.steps.iter().map(|s| s.kind).collect();
        if expect_step {
            assert_eq!(kinds, [StepKind::AlterSequence], "{options:?}:\n{plan}");
        } else {
            assert!(kinds.is_empty(), "{options:?}:\n{plan}");
        }
        let before: i32 = c
            .query_one("SELECT max(id) FROM counter", &[])
            .unwrap()
            .get(0);
        m.migrate(&schema, |_| {}).unwrap();
        assert!(m.plan(&schema).unwrap().matches(), "{options:?}");
        assert_eq!(sequence(&mut c), seq, "{options:?}");
        assert!(
            insert(&mut c) > before,
            "{options:?}: the sequence went back"
        );
    }

    // A plain key becoming an identity gets the model's options, and continues after the rows.
    let plain = TestDb::new();
    let m = Migrator::new(plain.migrated(&identity_counter(None)));
    let mut c = plain.client();
    c.batch_execute("INSERT INTO counter (id, label) VALUES (7, 'a')")
        .unwrap();
    let schema = identity_counter(opts(None, Some(10), None, None, false));
    m.migrate(&schema, |_| {}).unwrap();
    assert!(m.plan(&schema).unwrap().matches());
    assert_eq!(sequence(&mut c).1, 10);
    assert_eq!(insert(&mut c), 8);
    assert_eq!(insert(&mut c), 18);
}

#[test]
fn serial_sequences_of_other_names_round_trip_and_are_renamed_in_place() {
    let source = TestDb::new();
    source
        .client()
        .batch_execute(
            "CREATE TABLE ticket (id serial PRIMARY KEY, label text);
             ALTER SEQUENCE ticket_id_seq RENAME TO ticket_numbers;
             CREATE SEQUENCE invoice_seq AS integer;
             CREATE TABLE invoice (id integer NOT NULL DEFAULT nextval('invoice_seq'), total int);
             ALTER SEQUENCE invoice_seq OWNED BY invoice.id;
             INSERT INTO ticket (label) VALUES ('a'), ('b');",
        )
        .unwrap();
    let ds = source.datasource();
    let pulled = pull_with_notes(&ds, &["public".into()]).unwrap();
    assert!(pulled.notes.is_empty(), "{:#?}", pulled.notes);
    let ticket = pulled.schema.model("ticket").unwrap();
    let id = ticket.column_by_name("id").unwrap();
    assert_eq!(id.pg_type.to_string(), "serial");
    assert_eq!(id.sequence_name.as_deref(), Some("ticket_numbers"));
    let invoice = pulled.schema.model("invoice").unwrap();
    assert_eq!(
        invoice
            .column_by_name("id")
            .unwrap()
            .sequence_name
            .as_deref(),
        Some("invoice_seq")
    );
    let m = Migrator::new(ds);
    assert!(m.plan(&pulled.schema).unwrap().matches());

    // Re-created from the pulled file: the same sequences.
    let copy = TestDb::new();
    let cm = Migrator::new(copy.migrated(&pulled.schema));
    assert!(cm.plan(&pulled.schema).unwrap().matches());
    assert_eq!(copy.schema_dump(), source.schema_dump());

    // Renaming the sequence in the model renames it in place: the position stays.
    let mut models = pulled.schema.models().to_vec();
    let t = models.iter().position(|m| m.name == "ticket").unwrap();
    let c = models[t]
        .columns
        .iter()
        .position(|c| c.column == "id")
        .unwrap();
    models[t].columns[c].sequence_name = None;
    let renamed = Schema::new(models).unwrap();
    let plan = m.plan(&renamed).unwrap();
    assert_eq!(
        plan.steps.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [StepKind::AlterSequence],
        "{plan}"
    );
    m.migrate(&renamed, |_| {}).unwrap();
    assert!(m.plan(&renamed).unwrap().matches());
    let mut c = source.client();
    let next: i32 = c
        .query_one("INSERT INTO ticket (label) VALUES ('c') RETURNING id", &[])
        .unwrap()
        .get(0);
    assert_eq!(next, 3);
    let seq: String = c
        .query_one("SELECT pg_get_serial_sequence('ticket', 'id')", &[])
        .unwrap()
        .get(0);
    assert_eq!(seq, "public.ticket_id_seq");
}

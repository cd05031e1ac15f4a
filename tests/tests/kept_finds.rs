//! Kept find statements: a repository keeps the statement of a filter document (without
//! `fields` or `include`) and answers a document that differs from it only in its values with
//! that statement. What a user sees must not change: the rows, the errors, the default filter
//! of each handle, and the answers in a transaction.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use ignis_repo::filter::FilterLimits;
use ignis_repo::{DefaultCrudRepository, RepoError};
use ignis_schema::enrich::{IdOptions, TzOptions};
use ignis_schema::{Column, Enricher, Model, PgType, Schema};
use ignis_tests::TestDb;
use ignis_tx::TransactionOptions;
use serde_json::{json, Value};

/// `Ticket`: soft deleted (a default filter), `Tag`: no default filter.
fn schema() -> Arc<Schema> {
    let ticket = Model::new("Ticket")
        .enrich(Enricher::Id(IdOptions::number()))
        .enrich(Enricher::Tz(TzOptions::with_deleted()))
        .column(Column::new("status", PgType::Text))
        .column(Column::new("total", PgType::Integer))
        .default_filter(json!({"where": {"deletedAt": null}}));
    let tag = Model::new("Tag")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("name", PgType::Text))
        .column(Column::new("weight", PgType::DoublePrecision));
    Arc::new(Schema::new(vec![ticket, tag]).unwrap())
}

/// The ids of `rows`, in order.
fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// The same filter, answered by `repo` and by a repository that kept nothing.
fn agree(repo: &DefaultCrudRepository, filter: &Value) -> Result<Vec<i64>, String> {
    let fresh = repo.with_limits(FilterLimits::default());
    let got = repo
        .find(filter)
        .map(|r| ids(&r))
        .map_err(|e| e.to_string());
    let want = fresh
        .find(filter)
        .map(|r| ids(&r))
        .map_err(|e| e.to_string());
    assert_eq!(got, want, "{filter}");
    got
}

struct Fixture {
    tickets: DefaultCrudRepository,
    tags: DefaultCrudRepository,
    _db: TestDb,
}

fn fixture() -> Fixture {
    let db = TestDb::new();
    let schema = schema();
    let ds = db.migrated(&schema);
    let tickets = DefaultCrudRepository::new(ds.clone(), schema.clone(), "Ticket").unwrap();
    let tags = DefaultCrudRepository::new(ds, schema, "Tag").unwrap();
    // Tickets 1..=12: status a, b, c, null in turn; total 10 * id; every third soft deleted.
    let data: Vec<Value> = (1..=12)
        .map(|i| {
            let status = ["a", "b", "c"].get((i - 1) % 4).copied();
            json!({"status": status, "total": 10 * i})
        })
        .collect();
    let created = tickets.create_all(&data).unwrap();
    for (i, row) in created.data.iter().enumerate() {
        if i % 3 == 2 {
            tickets.soft_delete_by_id(&row["id"]).unwrap();
        }
    }
    let tag_data: Vec<Value> = (1..=6)
        .map(|i| json!({"name": format!("t{i}"), "weight": f64::from(i) / 2.0}))
        .collect();
    tags.create_all(&tag_data).unwrap();
    Fixture {
        tickets,
        tags,
        _db: db,
    }
}

fn search(status: Value, total: Value) -> Value {
    json!({"where": {"status": status, "total": {"gt": total}}, "order": ["total DESC"], "limit": 20})
}

#[test]
fn other_values_of_a_kept_filter_return_their_own_rows() {
    let fx = fixture();
    let repo = fx.tickets.skip_default_filter();
    assert_eq!(
        agree(&repo, &search(json!("a"), json!(0))),
        Ok(vec![9, 5, 1])
    );
    assert_eq!(repo.kept_finds(), 1);
    // Other values: the kept statement answers, nothing more is kept.
    assert_eq!(agree(&repo, &search(json!("a"), json!(40))), Ok(vec![9, 5]));
    assert_eq!(
        agree(&repo, &search(json!("b"), json!(0))),
        Ok(vec![10, 6, 2])
    );
    assert_eq!(
        agree(&repo, &search(json!("c"), json!(65))),
        Ok(vec![11, 7])
    );
    // A numeric string coerces as it would when parsed.
    assert_eq!(
        agree(&repo, &search(json!("c"), json!("65"))),
        Ok(vec![11, 7])
    );
    assert_eq!(repo.kept_finds(), 1);
    // null is IS NULL, not `= NULL`: a filter of its own.
    assert_eq!(
        agree(&repo, &search(Value::Null, json!(0))),
        Ok(vec![12, 8, 4])
    );
    assert_eq!(repo.kept_finds(), 2);
    // Values the parser refuses are refused alike, and nothing is kept for them.
    let wrong = agree(&repo, &search(json!("a"), json!("many"))).unwrap_err();
    assert!(wrong.contains("total"), "{wrong}");
    let fraction = agree(&repo, &search(json!("a"), json!(2.5))).unwrap_err();
    assert!(fraction.contains("total"), "{fraction}");
    let list = agree(&repo, &search(json!("a"), json!([1, 2]))).unwrap_err();
    assert!(list.contains("total"), "{list}");
    assert_eq!(repo.kept_finds(), 2);
    // Another key, another order, another limit: other filters.
    let other = json!({"where": {"status": "a", "total": {"gte": 50}}, "order": ["total DESC"], "limit": 20});
    assert_eq!(agree(&repo, &other), Ok(vec![9, 5]));
    let limited =
        json!({"where": {"status": "a", "total": {"gt": 0}}, "order": ["total DESC"], "limit": 1});
    assert_eq!(agree(&repo, &limited), Ok(vec![9]));
    assert_eq!(repo.kept_finds(), 4);
}

#[test]
fn lists_of_a_kept_filter_bind_whatever_their_length() {
    let fx = fixture();
    let repo = &fx.tags;
    let by_ids = |ids: Value| json!({"where": {"id": {"inq": ids}}, "order": "id"});
    assert_eq!(agree(repo, &by_ids(json!([1, 2]))), Ok(vec![1, 2]));
    assert_eq!(
        agree(repo, &by_ids(json!([6, 3, 5, 4]))),
        Ok(vec![3, 4, 5, 6])
    );
    assert_eq!(agree(repo, &by_ids(json!([2, null]))), Ok(vec![2]));
    assert_eq!(repo.kept_finds(), 1);
    // An empty list matches nothing (FALSE, no parameter): not the kept statement.
    assert_eq!(agree(repo, &by_ids(json!([]))), Ok(vec![]));
    // A scalar is a one-element list, a filter of its own shape.
    assert_eq!(agree(repo, &by_ids(json!(4))), Ok(vec![4]));
    assert_eq!(agree(repo, &by_ids(json!(5))), Ok(vec![5]));
    let nested = agree(repo, &by_ids(json!([[1]]))).unwrap_err();
    assert!(nested.contains("id"), "{nested}");
    // Implicit equality on a double, then with an integer JSON number.
    let weight = |w: Value| json!({"where": {"weight": w}});
    assert_eq!(agree(repo, &weight(json!(1.5))), Ok(vec![3]));
    assert_eq!(agree(repo, &weight(json!(2))), Ok(vec![4]));
    assert_eq!(agree(repo, &weight(json!(true))).map_err(|_| ()), Err(()));
}

#[test]
fn a_statement_kept_without_the_default_filter_never_answers_a_handle_that_applies_it() {
    let fx = fixture();
    let all = fx.tickets.skip_default_filter();
    let filter = search(json!("c"), json!(0));
    // Tickets 3 and 9 are soft deleted.
    assert_eq!(ids(&all.find(&filter).unwrap()), vec![11, 7, 3]);
    assert_eq!(
        ids(&all.find(&search(json!("c"), json!(1))).unwrap()),
        vec![11, 7, 3]
    );
    assert_eq!(ids(&fx.tickets.find(&filter).unwrap()), vec![11, 7]);
    assert_eq!(
        ids(&fx.tickets.find(&search(json!("c"), json!(1))).unwrap()),
        vec![11, 7]
    );
    assert_eq!(
        ids(&all.find(&search(json!("a"), json!(0))).unwrap()),
        vec![9, 5, 1]
    );
    assert_eq!(
        ids(&fx.tickets.find(&search(json!("a"), json!(0))).unwrap()),
        vec![5, 1]
    );
    // The typed routes read through the same kept statements.
    let typed: Vec<Value> = all.find_as(&search(json!("a"), json!(0))).unwrap();
    assert_eq!(ids(&typed), vec![9, 5, 1]);
}

#[test]
fn a_kept_statement_runs_inside_a_transaction_and_sees_its_writes() {
    let fx = fixture();
    let repo = &fx.tags;
    let heavy = |w: f64| json!({"where": {"weight": {"gte": w}}, "order": "id"});
    assert_eq!(agree(repo, &heavy(2.5)), Ok(vec![5, 6]));
    let ds = repo.datasource().clone();
    let result: Result<(), RepoError> = ds.transaction(TransactionOptions::default(), |tx| {
        let inside = repo.on(tx);
        inside.create(&json!({"name": "t7", "weight": 9.0}))?;
        assert_eq!(ids(&inside.find(&heavy(3.0))?), vec![6, 7]);
        Err(RepoError::Relation {
            model: "Tag".into(),
            relation: "none".into(),
            message: "roll back".into(),
        })
    });
    assert!(result.is_err());
    assert_eq!(agree(repo, &heavy(3.0)), Ok(vec![6]));
    assert_eq!(repo.kept_finds(), 1);
}

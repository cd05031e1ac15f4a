//! The README's "A new application" walkthrough, run as written (only the datasource differs:
//! the README reads `DATABASE_URL`, the test gets a fresh database of its own): derive a
//! model, migrate with one call, typed CRUD inside a transaction, a typed filter.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ignis_migrate::Migrator;
use ignis_repo::prelude::*;
use ignis_schema::{Model, ModelDef, Schema};
use ignis_tests::TestDb;
use serde_json::json;

/// A to-do item: the model, the row type and the filter properties in one struct.
#[derive(Model, FromRow, Properties, Debug, Clone, PartialEq)]
#[ignis(id = "number", tz)]
struct Todo {
    id: i32,
    created_at: DateTime<Utc>,
    title: String,
    #[ignis(default = "false")]
    done: bool,
    priority: Option<i16>,
}

/// The walkthrough's `main`, on `ds`.
fn app(ds: DataSource) -> Result<Vec<Todo>, Box<dyn std::error::Error>> {
    // Migrate: one call creates or alters the tables to match the models, in one transaction.
    let schema = Arc::new(Schema::new(vec![Todo::model()])?);
    Migrator::new(ds.clone()).migrate(&schema, |_| {})?;

    // A typed repository: rows come back as `Todo`.
    let todos = DefaultCrudRepository::<Todo>::for_model(ds.clone(), schema)?;

    // Typed CRUD in a transaction: both writes commit, or neither does.
    ds.transaction(TransactionOptions::default(), |tx| {
        let docs = todos
            .on(tx)
            .create(&json!({"title": "write the docs", "priority": 2}))?
            .data
            .expect("the created row");
        todos
            .on(tx)
            .create(&json!({"title": "ship it", "priority": 1}))?;
        todos.on(tx).update_by_id(docs.id, &json!({"done": true}))?;
        Ok::<_, RepoError>(())
    })?;

    // A typed filter: unknown properties and wrong value types do not compile.
    let open = todos.find(
        TypedFilter::new()
            .r#where(Todo::DONE.eq(false))
            .order(Todo::PRIORITY.asc()),
    )?;
    Ok(open)
}

#[test]
fn the_readme_walkthrough_runs() {
    let db = TestDb::new();
    let open = app(db.datasource()).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].title, "ship it");
    assert!(!open[0].done);
    // Running it again migrates nothing and adds the next two.
    let again = app(db.datasource()).unwrap();
    assert_eq!(again.len(), 2);
}

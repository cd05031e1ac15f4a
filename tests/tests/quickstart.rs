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

/// A to-do item: the model, the row type, its typed writes (`NewTodo`, `TodoPatch`) and the
/// filter properties in one struct.
#[derive(Model, FromRow, Writable, Properties, Debug, Clone, PartialEq)]
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

    // Typed CRUD in a transaction: every write commits, or none does. `None` leaves a column
    // to the database (the id, the timestamps, `done`'s default).
    ds.transaction(TransactionOptions::default(), |tx| {
        let new = |title: &str, priority| NewTodo {
            id: None,
            created_at: None,
            title: title.into(),
            done: None,
            priority: Some(priority),
        };
        let docs = todos
            .on(tx)
            .create(&new("write the docs", 2))?
            .data
            .expect("the created row");
        todos.on(tx).create(&new("ship it", 1))?;
        let done = TodoPatch {
            done: Some(true),
            ..Default::default()
        };
        todos.on(tx).update_by_id(docs.id, &done)?;
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

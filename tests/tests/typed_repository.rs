//! Typed repositories against a real Postgres: `DefaultCrudRepository<Author>` over a model
//! and row type from `#[derive(Model, FromRow)]` returns `Author`s from the same queries as the
//! JSON repository (reads, includes, writes' RETURNING rows, inside a transaction too).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use ignis_repo::{DefaultCrudRepository, FromRow, ReadableRepository, RepoError};
use ignis_schema::{Model, ModelDef, Schema};
use ignis_tests::TestDb;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Model, FromRow, Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[ignis(id = "number")]
struct Author {
    id: i32,
    name: String,
    #[ignis(unique)]
    email: String,
    #[ignis(relation(references = "authorId"))]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    books: Vec<Book>,
}

#[derive(Model, FromRow, Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
#[ignis(id = "number")]
struct Book {
    id: i32,
    #[ignis(foreign_key(model = "Author"))]
    author_id: i32,
    title: String,
    price: Option<f64>,
    tags: Option<Vec<String>>,
}

struct App {
    _db: TestDb,
    authors: DefaultCrudRepository<Author>,
    books: DefaultCrudRepository<Book>,
    json_authors: DefaultCrudRepository,
}

fn app() -> App {
    let db = TestDb::new();
    let schema = Arc::new(Schema::new(vec![Author::model(), Book::model()]).unwrap());
    let ds = db.migrated(&schema);
    App {
        authors: DefaultCrudRepository::for_model(ds.clone(), schema.clone()).unwrap(),
        books: DefaultCrudRepository::for_model(ds.clone(), schema.clone()).unwrap(),
        json_authors: DefaultCrudRepository::new(ds, schema, "Author").unwrap(),
        _db: db,
    }
}

/// `rows` as the JSON a repository returns for them (relations left out when empty).
fn as_json<T: Serialize>(rows: &[T]) -> Vec<Value> {
    rows.iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}

#[test]
fn writes_and_reads_return_the_model_type() {
    let app = app();
    let ada = app
        .authors
        .create(&json!({"name": "Ada", "email": "ada@example.com"}))
        .unwrap()
        .data
        .expect("RETURNING row");
    assert_eq!(ada.name, "Ada");
    assert!(ada.books.is_empty(), "no include, no books");
    let created = app
        .books
        .create_all(&[
            json!({"authorId": ada.id, "title": "Notes", "price": 12.5, "tags": ["math"]}),
            json!({"authorId": ada.id, "title": "Sketches"}),
        ])
        .unwrap();
    assert_eq!(created.count, 2);
    assert_eq!(created.data[0].tags, Some(vec!["math".to_string()]));
    assert_eq!(created.data[1].price, None);

    let found: Vec<Author> = app
        .authors
        .find(&json!({"include": [{"relation": "books", "scope": {"order": "title DESC"}}]}))
        .unwrap();
    assert_eq!(found.len(), 1);
    let titles: Vec<&str> = found[0].books.iter().map(|b| b.title.as_str()).collect();
    assert_eq!(titles, ["Sketches", "Notes"]);

    // Ids are the key's Rust values (or JSON); one that is no key of this type is a filter error.
    assert_eq!(app.books.find_by_id(9_999).unwrap(), None);
    assert!(matches!(
        app.books.find_by_id("not a number"),
        Err(RepoError::Filter(_))
    ));
    let by_id = app.books.find_by_id(created.data[0].id).unwrap();
    assert_eq!(by_id.as_ref(), Some(&created.data[0]));
    assert_eq!(app.books.count(&json!({"price": {"gt": 10}})).unwrap(), 1);

    let updated = app
        .books
        .update_by_id(created.data[1].id, &json!({"price": 3}))
        .unwrap()
        .data
        .unwrap();
    assert_eq!(updated.price, Some(3.0));
    let deleted = app
        .books
        .delete_by_id(created.data[1].id)
        .unwrap()
        .data
        .unwrap();
    assert_eq!(deleted.title, "Sketches");
    let range = app.books.find_with_range(&json!({"limit": 5})).unwrap();
    assert_eq!((range.data.len(), range.range.total), (1, 1));
}

#[test]
fn typed_and_json_repositories_return_the_same_rows() {
    let app = app();
    for (name, books) in [("Ada", 2), ("Grace", 0), ("Edsger", 3)] {
        let author = app
            .authors
            .create(&json!({"name": name, "email": format!("{name}@example.com")}))
            .unwrap()
            .data
            .unwrap();
        for n in 0..books {
            app.books
                .create(&json!({"authorId": author.id, "title": format!("{name} {n}"), "price": n}))
                .unwrap();
        }
    }
    for filter in [
        json!({}),
        json!({"where": {"name": {"like": "%a%"}}, "order": "name"}),
        json!({"order": "id", "include": [{"relation": "books", "scope": {"where": {"price": {"gte": 1}}, "order": "id"}}]}),
        json!({"order": "email DESC", "limit": 2, "skip": 1}),
    ] {
        let typed = app.authors.find(&filter).unwrap();
        let mut json_rows = app.json_authors.find(&filter).unwrap();
        for row in &mut json_rows {
            // The typed struct leaves an empty relation out of its JSON; the JSON rows show it.
            if row["books"] == json!([]) {
                row.as_object_mut().unwrap().remove("books");
            }
        }
        assert_eq!(as_json(&typed), json_rows, "{filter}");
    }
}

#[test]
fn a_typed_handle_runs_inside_a_transaction_and_read_only_repositories_are_typed_too() {
    let app = app();
    let ds = app.authors.datasource().clone();
    let result = ds.transaction(Default::default(), |tx| {
        let a = app
            .authors
            .on(tx)
            .create(&json!({"name": "Tx", "email": "tx@example.com"}))?
            .data
            .unwrap();
        app.authors
            .on(tx)
            .create(&json!({"name": "Dup", "email": "tx@example.com"}))?;
        Ok::<_, RepoError>(a)
    });
    assert_eq!(result.unwrap_err().sqlstate(), Some("23505"));
    let readable: ReadableRepository<Author> =
        ReadableRepository::for_model(ds, app.authors.schema().clone()).unwrap();
    assert!(
        readable.find(&Value::Null).unwrap().is_empty(),
        "rolled back"
    );
}

#[derive(FromRow, Debug, PartialEq)]
struct AuthorName {
    name: String,
}

#[derive(FromRow, Debug, PartialEq)]
struct EmailAndName {
    email: String,
    name: String,
}

#[test]
fn reads_by_id_of_some_properties_answer_every_row_type_from_one_kept_statement() {
    let app = app();
    let ada = app
        .authors
        .create(&json!({"name": "Ada", "email": "ada@example.com"}))
        .unwrap()
        .data
        .unwrap();
    let grace = app
        .authors
        .create(&json!({"name": "Grace", "email": "grace@example.com"}))
        .unwrap()
        .data
        .unwrap();
    // Handles of one repository share its kept statements: the two row types read the rows of
    // the same `SELECT "name", "email" .. WHERE "id" = $1`, each at its own positions.
    let names: DefaultCrudRepository<AuthorName> = app.json_authors.clone().typed();
    let both: DefaultCrudRepository<EmailAndName> = app.json_authors.clone().typed();
    let fields = json!({"fields": ["email", "name"]});
    for _ in 0..2 {
        assert_eq!(
            names.find_by_id_with(ada.id, &fields).unwrap(),
            Some(AuthorName { name: "Ada".into() })
        );
        assert_eq!(
            both.find_by_id_with(grace.id, &fields).unwrap(),
            Some(EmailAndName {
                email: "grace@example.com".into(),
                name: "Grace".into()
            })
        );
        assert_eq!(
            app.json_authors.find_by_id_with(ada.id, &fields).unwrap(),
            Some(json!({"name": "Ada", "email": "ada@example.com"}))
        );
    }
    assert_eq!(names.find_by_id_with(999_999, &fields).unwrap(), None);
    // Another document for the same columns, and a document naming an unknown property (an
    // error every time: a refused document is never kept).
    let same_columns = json!({"fields": {"name": true, "email": true}});
    for _ in 0..2 {
        assert_eq!(
            both.find_by_id_with(ada.id, &same_columns).unwrap(),
            Some(EmailAndName {
                email: "ada@example.com".into(),
                name: "Ada".into()
            })
        );
        let unknown = names
            .find_by_id_with(ada.id, &json!({"fields": ["name", "nope"]}))
            .unwrap_err();
        assert!(matches!(unknown, RepoError::Filter(_)), "{unknown}");
    }
    // A row type reading a property the filter leaves out: a decode error naming it.
    let err = both
        .find_by_id_with(ada.id, &json!({"fields": ["name"]}))
        .unwrap_err();
    match err {
        RepoError::Decode { property, .. } => assert_eq!(property, "email"),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

//! Typed filters against a real Postgres: for each filter, the `TypedFilter` built from the
//! `#[derive(Properties)]` constants writes exactly the Ignis filter JSON written by hand, and
//! a repository finds the same rows with either (the rows each is expected to find are named,
//! so the two cannot agree by both finding nothing).

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ignis_repo::filter::typed::{not, Properties, TypedFilter};
use ignis_repo::{DefaultCrudRepository, FromRow};
use ignis_schema::{Model, ModelDef, Schema};
use ignis_tests::TestDb;
use serde_json::{json, Value};

#[derive(Model, FromRow, Properties, Debug, Clone, PartialEq)]
#[ignis(id = "number")]
struct Author {
    id: i32,
    name: String,
    email: String,
    age: Option<i32>,
    score: Option<f64>,
    born: Option<NaiveDate>,
    joined_at: DateTime<Utc>,
    active: bool,
    tags: Option<Vec<String>>,
    metadata: Option<Value>,
    #[ignis(relation)]
    books: Vec<Book>,
}

#[derive(Model, FromRow, Properties, Debug, Clone, PartialEq)]
#[ignis(id = "number", tz(deleted))]
struct Book {
    id: i32,
    deleted_at: Option<DateTime<Utc>>,
    #[ignis(foreign_key(model = "Author"))]
    author_id: i32,
    title: String,
    pages: i32,
    #[ignis(relation)]
    author: Option<Author>,
}

/// A database with the two models (books soft-deleted by default filter), three authors and
/// their books.
fn setup() -> (
    TestDb,
    DefaultCrudRepository,
    DefaultCrudRepository,
    Arc<Schema>,
) {
    let db = TestDb::new();
    let book = Book::model().default_filter(json!({"where": {"deletedAt": null}}));
    let schema = Arc::new(Schema::new(vec![Author::model(), book]).unwrap());
    let ds = db.migrated(&schema);
    let authors = DefaultCrudRepository::new(ds.clone(), schema.clone(), "Author").unwrap();
    let books = DefaultCrudRepository::new(ds.clone(), schema.clone(), "Book").unwrap();
    authors
        .create_all(&[
            json!({"name": "Ann", "email": "ann@example.com", "age": 34, "score": 7.5,
                   "born": "1990-04-01", "joinedAt": "2023-01-10T09:00:00Z", "active": true,
                   "tags": ["rust", "sql"], "metadata": {"plan": "pro", "seats": 10}}),
            json!({"name": "Bob", "email": "bob@example.org", "age": 25, "score": 3.0,
                   "born": "1999-12-31", "joinedAt": "2024-06-01T12:30:00Z", "active": false,
                   "tags": ["go"], "metadata": {"plan": "free", "seats": 1}}),
            json!({"name": "Cleo", "email": "cleo@example.com", "age": null, "score": null,
                   "born": null, "joinedAt": "2024-02-29T00:00:00Z", "active": true,
                   "tags": null, "metadata": null}),
        ])
        .unwrap();
    books
        .create_all(&[
            json!({"authorId": 1, "title": "Rust in Practice", "pages": 320}),
            json!({"authorId": 1, "title": "SQL Notes", "pages": 90}),
            json!({"authorId": 2, "title": "Go Fast", "pages": 150}),
            json!({"authorId": 1, "title": "Old Draft", "pages": 500,
                   "deletedAt": "2024-01-01T00:00:00Z"}),
        ])
        .unwrap();
    (db, authors, books, schema)
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// The typed filter writes `hand`, and both find the same rows: those with `expected` ids.
fn same(
    repo: &DefaultCrudRepository,
    typed: TypedFilter<impl Sized>,
    hand: Value,
    expected: &[i64],
) {
    let typed = Value::from(typed);
    assert_eq!(typed, hand, "typed filter JSON");
    let by_typed = repo.find(&typed).unwrap();
    let by_hand = repo.find(&hand).unwrap();
    assert_eq!(by_typed, by_hand, "rows of {hand}");
    assert_eq!(ids(&by_typed), expected, "ids of {hand}");
}

#[test]
fn typed_filters_write_the_hand_written_json_and_find_the_same_rows() {
    let (_db, authors, books, _schema) = setup();

    same(
        &authors,
        TypedFilter::new()
            .r#where(Author::EMAIL.eq("ann@example.com").or(Author::AGE.lt(30)))
            .order(Author::NAME.desc()),
        json!({"where": {"or": [{"email": {"eq": "ann@example.com"}}, {"age": {"lt": 30}}]},
               "order": ["name DESC"]}),
        &[2, 1],
    );
    same(
        &authors,
        TypedFilter::new()
            .r#where(Author::EMAIL.ilike("%@EXAMPLE.COM"))
            .r#where(not(Author::ACTIVE.eq(false)))
            .order(Author::JOINED_AT.asc())
            .skip(1)
            .limit(5),
        json!({"where": {"and": [{"email": {"ilike": "%@EXAMPLE.COM"}},
                                 {"not": {"active": {"eq": false}}}]},
               "order": ["joinedAt ASC"], "skip": 1, "limit": 5}),
        &[3],
    );
    same(
        &authors,
        TypedFilter::new()
            .r#where(Author::AGE.between(20, 30).or(Author::AGE.is_null()))
            .order(Author::ID.asc()),
        json!({"where": {"or": [{"age": {"between": [20, 30]}}, {"age": {"eq": null}}]},
               "order": ["id ASC"]}),
        &[2, 3],
    );
    same(
        &authors,
        TypedFilter::new()
            .r#where(
                Author::NAME
                    .in_(["Ann", "Cleo", "Zed"])
                    .and(Author::ID.nin([3])),
            )
            .order(Author::SCORE.desc().nulls_last()),
        json!({"where": {"and": [{"name": {"inq": ["Ann", "Cleo", "Zed"]}}, {"id": {"nin": [3]}}]},
               "order": ["score DESC NULLS LAST"]}),
        &[1],
    );
    let june = Utc.with_ymd_and_hms(2024, 6, 1, 12, 30, 0).unwrap();
    let y2k = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    same(
        &authors,
        TypedFilter::new()
            .r#where(Author::JOINED_AT.lt(june).and(Author::BORN.lt(y2k)))
            .order(Author::ID.asc()),
        json!({"where": {"and": [{"joinedAt": {"lt": "2024-06-01T12:30:00Z"}},
                                 {"born": {"lt": "2000-01-01"}}]},
               "order": ["id ASC"]}),
        &[1],
    );
    same(
        &authors,
        TypedFilter::new()
            .r#where(
                Author::TAGS
                    .contains(["sql"])
                    .or(Author::TAGS.overlaps(["go", "zig"])),
            )
            .order(Author::ID.desc()),
        json!({"where": {"or": [{"tags": {"contains": ["sql"]}},
                                {"tags": {"overlaps": ["go", "zig"]}}]},
               "order": ["id DESC"]}),
        &[2, 1],
    );
    same(
        &authors,
        TypedFilter::new()
            .r#where(Author::METADATA.path("seats").gt(5))
            .r#where(Author::METADATA.contains(json!({"plan": "pro"}))),
        json!({"where": {"and": [{"metadata.seats": {"gt": 5}},
                                 {"metadata": {"contains": {"plan": "pro"}}}]}}),
        &[1],
    );
    same(
        &authors,
        TypedFilter::new()
            .r#where(Author::NAME.regexp("^[AB]").and(Author::SCORE.gte(3.0)))
            .order(Author::METADATA.path("plan").asc()),
        json!({"where": {"and": [{"name": {"regexp": "^[AB]"}}, {"score": {"gte": 3.0}}]},
               "order": ["metadata.plan ASC"]}),
        &[2, 1],
    );
    same(
        &books,
        TypedFilter::new()
            .r#where(Book::PAGES.gt(100).and(Book::TITLE.nlike("%Draft%")))
            .order(Book::PAGES.asc()),
        json!({"where": {"and": [{"pages": {"gt": 100}}, {"title": {"nlike": "%Draft%"}}]},
               "order": ["pages ASC"]}),
        &[3, 1],
    );
}

#[test]
fn typed_fields_and_includes_find_the_same_rows_as_json() {
    let (_db, authors, books, _schema) = setup();

    let typed = TypedFilter::new()
        .fields((Author::ID, Author::NAME))
        .r#where(Author::ACTIVE.eq(true))
        .order(Author::ID.asc());
    let hand = json!({"fields": ["id", "name"], "where": {"active": {"eq": true}},
                      "order": ["id ASC"]});
    same(&authors, typed, hand.clone(), &[1, 3]);
    assert_eq!(
        authors.find(&hand).unwrap(),
        [
            json!({"id": 1, "name": "Ann"}),
            json!({"id": 3, "name": "Cleo"})
        ]
    );

    let typed = TypedFilter::new()
        .fields_except((Author::METADATA, Author::TAGS))
        .r#where(Author::ID.eq(2));
    let rows = authors.find(&typed).unwrap();
    assert!(rows[0].get("metadata").is_none() && rows[0].get("tags").is_none());
    assert_eq!(rows[0]["email"], "bob@example.org");

    // An include with a typed scope; the default filter hides the soft-deleted book unless
    // the inclusion skips it.
    let typed = TypedFilter::new().r#where(Author::ID.eq(1)).include(
        Author::BOOKS.scope(
            TypedFilter::new()
                .r#where(Book::PAGES.gte(90))
                .order(Book::TITLE.asc())
                .fields((Book::ID, Book::AUTHOR_ID, Book::TITLE)),
        ),
    );
    let hand = json!({"where": {"id": {"eq": 1}}, "include": [{"relation": "books", "scope": {
        "where": {"pages": {"gte": 90}}, "order": ["title ASC"],
        "fields": ["id", "authorId", "title"]}}]});
    same(&authors, typed, hand.clone(), &[1]);
    let rows = authors.find(&hand).unwrap();
    assert_eq!(ids(rows[0]["books"].as_array().unwrap()), [1, 2]);

    let typed = TypedFilter::new()
        .r#where(Author::ID.eq(1))
        .include(Author::BOOKS.skip_default_filter());
    let hand = json!({"where": {"id": {"eq": 1}},
                      "include": [{"relation": "books", "shouldSkipDefaultFilter": true}]});
    same(&authors, typed, hand.clone(), &[1]);
    let rows = authors.find(&hand).unwrap();
    assert_eq!(rows[0]["books"].as_array().unwrap().len(), 3);

    let typed = TypedFilter::new()
        .r#where(Book::TITLE.like("Go%"))
        .include(Book::AUTHOR);
    same(
        &books,
        typed,
        json!({"where": {"title": {"like": "Go%"}}, "include": ["author"]}),
        &[3],
    );

    // The typed rows of the same filter, through `FromRow`.
    let typed = TypedFilter::new()
        .r#where(Author::NAME.eq("Ann"))
        .include(Author::BOOKS.scope(TypedFilter::new().order(Book::ID.asc())));
    let ann: Vec<Author> = authors.find_into(&typed).unwrap();
    let titles: Vec<&str> = ann[0].books.iter().map(|b| b.title.as_str()).collect();
    assert_eq!(titles, ["Rust in Practice", "SQL Notes"]);
}

#[test]
fn typed_conditions_are_where_objects_for_count() {
    let (_db, authors, _books, _schema) = setup();
    let condition = Author::EMAIL.like("%.com").and(!Author::SCORE.is_null());
    let hand = json!({"and": [{"email": {"like": "%.com"}}, {"not": {"score": {"eq": null}}}]});
    assert_eq!(Value::from(condition.clone()), hand);
    assert_eq!(authors.count(condition).unwrap(), 1);
    assert_eq!(authors.count(&hand).unwrap(), 1);
    assert!(authors
        .exists_with(Author::METADATA.path("plan").eq("free"))
        .unwrap());
}

#[test]
fn values_the_database_cannot_compare_are_filter_errors_not_nulls() {
    let (_db, authors, _books, _schema) = setup();
    // NaN has no JSON number; written as `null` it would turn `eq` into IS NULL and find Cleo.
    let err = authors
        .find(TypedFilter::new().r#where(Author::SCORE.eq(f64::NAN)))
        .unwrap_err();
    assert!(err.to_string().contains("score"), "{err}");
    // A JSON path the model does not allow is refused when the filter is parsed.
    let err = authors
        .find(TypedFilter::new().r#where(Author::METADATA.path("").eq(1)))
        .unwrap_err();
    assert!(err.to_string().contains("metadata"), "{err}");
}

/// Labels whose alphabetical order (closed, in_progress, open) is not the type's order (open,
/// in_progress, closed), so ordering and comparisons show which one the database used.
#[derive(ignis_schema::PgEnum, Debug, Clone, Copy, PartialEq)]
enum TicketStatus {
    Open,
    InProgress,
    Closed,
}

/// A model with an enum property, and enricher properties (`id`, `createdAt`, `modifiedAt`,
/// `deletedAt`) that the struct does not declare.
#[derive(Model, FromRow, Properties, Debug, PartialEq)]
#[ignis(id = "number", tz(deleted))]
struct Ticket {
    title: String,
    status: TicketStatus,
    previous: Option<TicketStatus>,
}

fn tickets() -> (TestDb, DefaultCrudRepository) {
    let db = TestDb::new();
    let schema = Arc::new(
        ignis_schema::SchemaBuilder::new()
            .model::<Ticket>()
            .build()
            .unwrap(),
    );
    let ds = db.migrated(&schema);
    let repo = DefaultCrudRepository::new(ds, schema, "Ticket").unwrap();
    repo.create_all(&[
        json!({"title": "a", "status": "closed", "previous": "in_progress",
               "createdAt": "2024-01-01T00:00:00Z"}),
        json!({"title": "b", "status": "open", "createdAt": "2024-02-01T00:00:00Z"}),
        json!({"title": "c", "status": "in_progress", "previous": "open",
               "createdAt": "2024-03-01T00:00:00Z", "deletedAt": "2024-03-02T00:00:00Z"}),
    ])
    .unwrap();
    (db, repo)
}

#[test]
fn pg_enum_properties_compare_and_order_by_the_enum_types_order() {
    let (_db, tickets) = tickets();
    same(
        &tickets,
        TypedFilter::new().r#where(Ticket::STATUS.eq(TicketStatus::Open)),
        json!({"where": {"status": {"eq": "open"}}}),
        &[2],
    );
    same(
        &tickets,
        TypedFilter::new()
            .r#where(Ticket::STATUS.in_([TicketStatus::Open, TicketStatus::Closed]))
            .order(Ticket::ID.asc()),
        json!({"where": {"status": {"inq": ["open", "closed"]}}, "order": ["id ASC"]}),
        &[1, 2],
    );
    // `gt` follows the type's order: after `open` come `in_progress` and `closed` (by text,
    // `open` would be the greatest and nothing would match).
    same(
        &tickets,
        TypedFilter::new()
            .r#where(Ticket::STATUS.gt(TicketStatus::Open))
            .order(Ticket::ID.asc()),
        json!({"where": {"status": {"gt": "open"}}, "order": ["id ASC"]}),
        &[1, 3],
    );
    // Ordering by an enum property sorts by the type's order, not by label text.
    same(
        &tickets,
        TypedFilter::new().order(Ticket::STATUS.desc()),
        json!({"order": ["status DESC"]}),
        &[1, 3, 2],
    );
    // An `Option` enum property: values and nulls.
    same(
        &tickets,
        TypedFilter::new()
            .r#where(
                Ticket::PREVIOUS
                    .ne(TicketStatus::Open)
                    .or(Ticket::PREVIOUS.is_null()),
            )
            .order(Ticket::ID.asc()),
        json!({"where": {"or": [{"previous": {"neq": "open"}}, {"previous": {"eq": null}}]},
               "order": ["id ASC"]}),
        &[1, 2],
    );
    // The rows read back into the struct, labels decoded into the enum.
    let found: Vec<Ticket> = tickets
        .find_into(&Value::from(
            TypedFilter::new().r#where(Ticket::STATUS.eq(TicketStatus::InProgress)),
        ))
        .unwrap();
    assert_eq!(
        found,
        [Ticket {
            title: "c".into(),
            status: TicketStatus::InProgress,
            previous: Some(TicketStatus::Open),
        }]
    );
}

#[test]
fn enricher_properties_the_struct_does_not_declare_have_typed_constants() {
    let (_db, tickets) = tickets();
    let since = Utc.with_ymd_and_hms(2024, 1, 15, 0, 0, 0).unwrap();
    same(
        &tickets,
        TypedFilter::new()
            .r#where(Ticket::CREATED_AT.gte(since))
            .order(Ticket::CREATED_AT.desc()),
        json!({"where": {"createdAt": {"gte": "2024-01-15T00:00:00Z"}}, "order": ["createdAt DESC"]}),
        &[3, 2],
    );
    same(
        &tickets,
        TypedFilter::new()
            .r#where(Ticket::ID.between(2, 3).and(Ticket::DELETED_AT.is_null()))
            .order(Ticket::MODIFIED_AT.asc()),
        json!({"where": {"and": [{"id": {"between": [2, 3]}}, {"deletedAt": {"eq": null}}]},
               "order": ["modifiedAt ASC"]}),
        &[2],
    );
    // `deletedAt` is nullable: its constant has the null checks.
    let deleted =
        Value::from(TypedFilter::<Ticket>::new().r#where(Ticket::DELETED_AT.is_not_null()));
    assert_eq!(deleted, json!({"where": {"deletedAt": {"neq": null}}}));
    assert_eq!(Ticket::MODIFIED_AT.name(), "modifiedAt");
}

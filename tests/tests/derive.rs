//! Typed models against a real Postgres: `#[derive(Model)]` gives the models the builder gives
//! (the example application's User and Configuration, and a Post with arrays, bytea, jsonb,
//! dates, a hidden property, an index, a foreign key and relations both ways), the migrator
//! plans nothing between a database made from one and the models of the other, and
//! `#[derive(FromRow)]` reads the rows a hand-written `FromRow` reads, includes too.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use ignis_repo::{DefaultCrudRepository, FromRow, RepoError, RowRef};
use ignis_schema::enrich::{
    DataTypeOptions, IdOptions, TzOptions, UserAuditOptions, UserColumnsOptions,
};
use ignis_schema::{
    Column, Enricher, ForeignKey, Index, Model, ModelDef, PgType, Relation, Schema,
};
use ignis_tests::{example, TestDb};
use serde_json::{json, Value};

/// The example `User`, with the `posts` relation.
#[derive(Model, FromRow, Debug, Clone, PartialEq)]
#[ignis(id = "string", tz, user_columns)]
struct User {
    id: String,
    created_at: DateTime<Utc>,
    status: String,
    r#type: String,
    last_login_at: Option<DateTime<Utc>>,
    name: String,
    email: String,
    #[ignis(relation(references = "authorId"))]
    posts: Vec<Post>,
}

#[derive(Model, FromRow, Debug, Clone, PartialEq)]
#[ignis(id = "number", tz(deleted))]
struct Post {
    id: i32,
    deleted_at: Option<DateTime<Utc>>,
    #[ignis(index, foreign_key(model = "User"))]
    author_id: String,
    title: String,
    #[ignis(default = "0")]
    views: i32,
    published: Option<bool>,
    metadata: Option<Value>,
    tags: Option<Vec<String>>,
    attachment: Option<Vec<u8>>,
    day: Option<NaiveDate>,
    #[ignis(hidden)]
    secret: Option<String>,
    #[ignis(relation)]
    author: Option<User>,
}

/// The example `Configuration`, exactly.
#[derive(Model, FromRow, Debug, Clone, PartialEq)]
#[ignis(id = "string", tz, data_type, user_audit = "string")]
struct Configuration {
    id: String,
    n_value: Option<f64>,
    j_value: Option<Value>,
    b_value: Option<Vec<u8>>,
    bo_value: Option<bool>,
    #[ignis(foreign_key(model = "User"))]
    created_by: Option<String>,
    #[ignis(unique)]
    code: String,
    description: Option<String>,
    #[ignis(index)]
    group: String,
    #[ignis(relation(fields = "createdBy"))]
    creator: Option<User>,
    #[ignis(relation(fields = "modifiedBy"))]
    modifier: Option<User>,
}

/// The example `ConfigurationReport` (a view, never migrated).
#[derive(Model, Debug)]
#[ignis(table = "configuration_report", skip_migrate)]
#[allow(dead_code)] // a model only: never read
struct ConfigurationReport {
    group: Option<String>,
    total: Option<i64>,
}

/// `Post` with the builder.
fn post_by_hand() -> Model {
    Model::new("Post")
        .enrich(Enricher::Id(IdOptions::number()))
        .enrich(Enricher::Tz(TzOptions::with_deleted()))
        .column(Column::new("authorId", PgType::Text).not_null())
        .column(Column::new("title", PgType::Text).not_null())
        .column(
            Column::new("views", PgType::Integer)
                .not_null()
                .default_sql("0"),
        )
        .column(Column::new("published", PgType::Boolean))
        .column(Column::new("metadata", PgType::Jsonb))
        .column(Column::new("tags", PgType::Array(Box::new(PgType::Text))))
        .column(Column::new("attachment", PgType::Bytea))
        .column(Column::new("day", PgType::Date))
        .column(Column::new("secret", PgType::Text))
        .index(Index::new("IDX_Post_authorId", ["authorId"]))
        .foreign_key(ForeignKey::new(
            "FK_Post_authorId_User_id",
            ["authorId"],
            "User",
            ["id"],
        ))
        .relation(Relation::one("author", "User", ["authorId"], ["id"]))
        .hide(["secret"])
}

/// The example's `User` with the builder (ignis-example derives it).
fn example_user_by_hand() -> Model {
    Model::new("User")
        .enrich(Enricher::Id(IdOptions::string()))
        .enrich(Enricher::Tz(TzOptions::default()))
        .enrich(Enricher::UserColumns(UserColumnsOptions::default()))
        .column(Column::new("name", PgType::Text).not_null())
        .column(Column::new("email", PgType::Text).not_null())
}

/// The example's `Configuration` with the builder, exactly as in the Ignis guide.
fn configuration_by_hand() -> Model {
    Model::new("Configuration")
        .enrich(Enricher::Id(IdOptions::string()))
        .enrich(Enricher::Tz(TzOptions::default()))
        .enrich(Enricher::DataType(DataTypeOptions::default()))
        .enrich(Enricher::UserAudit(UserAuditOptions::string()))
        .column(Column::new("code", PgType::Text).not_null())
        .column(Column::new("description", PgType::Text))
        .column(Column::new("group", PgType::Text).not_null())
        .unique("UQ_Configuration_code", ["code"])
        .index(Index::new("IDX_Configuration_group", ["group"]))
        .foreign_key(ForeignKey::new(
            "FK_Configuration_createdBy_User_id",
            ["createdBy"],
            "User",
            ["id"],
        ))
        .relation(Relation::one("creator", "User", ["createdBy"], ["id"]))
        .relation(Relation::one("modifier", "User", ["modifiedBy"], ["id"]))
}

/// The example's `ConfigurationReport` with the builder.
fn configuration_report_by_hand() -> Model {
    Model::new("ConfigurationReport")
        .table("configuration_report")
        .column(Column::new("group", PgType::Text))
        .column(Column::new("total", PgType::BigInt))
        .skip_migrate()
}

/// `User` with the builder: the example's, with `posts`.
fn user_by_hand() -> Model {
    example_user_by_hand().relation(Relation::many("posts", "Post", ["id"], ["authorId"]))
}

fn by_hand() -> Schema {
    Schema::new(vec![
        user_by_hand(),
        post_by_hand(),
        configuration_by_hand(),
        configuration_report_by_hand(),
    ])
    .unwrap()
}

fn derived() -> Schema {
    Schema::new(vec![
        User::model(),
        Post::model(),
        Configuration::model(),
        ConfigurationReport::model(),
    ])
    .unwrap()
}

#[test]
fn derived_models_equal_the_builder_models() {
    assert_eq!(User::model(), user_by_hand());
    assert_eq!(Post::model(), post_by_hand());
    assert_eq!(Configuration::model(), configuration_by_hand());
    assert_eq!(ConfigurationReport::model(), configuration_report_by_hand());
    // The example application's derived models are the guide's builder models.
    assert_eq!(example::user(), example_user_by_hand());
    assert_eq!(example::configuration(), configuration_by_hand());
    assert_eq!(
        example::configuration_report(),
        configuration_report_by_hand()
    );
    assert_eq!(
        serde_json::to_value(derived()).unwrap(),
        serde_json::to_value(by_hand()).unwrap()
    );
    assert_eq!(User::MODEL_NAME, "User");
}

#[test]
fn the_migrator_plans_nothing_between_builder_and_derived_models() {
    let db = TestDb::new();
    let ds = db.migrated(&by_hand());
    let plan = ignis_migrate::Migrator::new(ds).plan(&derived()).unwrap();
    assert!(plan.is_empty(), "{plan:?}");
}

/// Hand-written `FromRow` impls producing the derived types: the reference the derive is held to.
/// A relation the filter did not include reads empty, as the derive documents.
struct HandUser(User);
struct HandPost(Post);
struct HandConfiguration(Configuration);

impl FromRow for HandUser {
    fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
        Ok(HandUser(User {
            id: row.get("id")?,
            created_at: row.get("createdAt")?,
            status: row.get("status")?,
            r#type: row.get("type")?,
            last_login_at: row.get("lastLoginAt")?,
            name: row.get("name")?,
            email: row.get("email")?,
            posts: unless_not_included(row.many::<HandPost>("posts"))?
                .into_iter()
                .map(|p| p.0)
                .collect(),
        }))
    }
}

/// The related rows, or none (`Default`) when the filter did not include the relation.
fn unless_not_included<T: Default>(related: Result<T, RepoError>) -> Result<T, RepoError> {
    match related {
        Err(RepoError::Relation { message, .. }) if message.starts_with("not included") => {
            Ok(T::default())
        }
        other => other,
    }
}

/// A hand-written impl that reads `posts` with `RowRef::many` as is.
struct StrictUser {
    _posts: Vec<HandPost>,
}

impl FromRow for StrictUser {
    fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
        Ok(StrictUser {
            _posts: row.many("posts")?,
        })
    }
}

impl FromRow for HandPost {
    fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
        Ok(HandPost(Post {
            id: row.get("id")?,
            deleted_at: row.get("deletedAt")?,
            author_id: row.get("authorId")?,
            title: row.get("title")?,
            views: row.get("views")?,
            published: row.get("published")?,
            metadata: row.get("metadata")?,
            tags: row.get("tags")?,
            attachment: row.get("attachment")?,
            day: row.get("day")?,
            secret: None,
            author: unless_not_included(row.one::<HandUser>("author"))?.map(|u| u.0),
        }))
    }
}

impl FromRow for HandConfiguration {
    fn from_row(row: &RowRef<'_>) -> Result<Self, RepoError> {
        let user = |name: &str| Ok::<_, RepoError>(row.one::<HandUser>(name)?.map(|u| u.0));
        Ok(HandConfiguration(Configuration {
            id: row.get("id")?,
            n_value: row.get("nValue")?,
            j_value: row.get("jValue")?,
            b_value: row.get("bValue")?,
            bo_value: row.get("boValue")?,
            created_by: row.get("createdBy")?,
            code: row.get("code")?,
            description: row.get("description")?,
            group: row.get("group")?,
            creator: user("creator")?,
            modifier: user("modifier")?,
        }))
    }
}

struct App {
    _db: TestDb,
    users: DefaultCrudRepository,
    posts: DefaultCrudRepository,
    configs: DefaultCrudRepository,
}

/// A database migrated from the derived models, with two users, three posts and two
/// configurations.
fn app() -> App {
    let db = TestDb::new();
    let schema = Arc::new(derived());
    let ds = db.migrated(&schema);
    let repo = |model: &str| DefaultCrudRepository::new(ds.clone(), schema.clone(), model).unwrap();
    let app = App {
        users: repo("User"),
        posts: repo("Post"),
        configs: repo("Configuration"),
        _db: db,
    };
    let mut ids = Vec::new();
    for (name, login) in [("Ada", Value::Null), ("Bob", json!("2024-05-01T10:00:00Z"))] {
        let row = app
            .users
            .create(&json!({"name": name, "email": format!("{name}@example.com"), "lastLoginAt": login}))
            .unwrap()
            .data
            .unwrap();
        ids.push(row["id"].clone());
    }
    app.posts
        .create_all(&[
            json!({"authorId": ids[0], "title": "first", "views": 3, "published": true,
             "metadata": {"k": [1, {"x": null}]}, "tags": ["a", "b"], "attachment": "\\x00ff10",
             "day": "2024-02-29", "secret": "s1"}),
            json!({"authorId": ids[0], "title": "second", "tags": [], "metadata": "text"}),
            json!({"authorId": ids[1], "title": "third", "published": false,
                   "deletedAt": "2024-03-01T00:00:00Z"}),
        ])
        .unwrap();
    app.configs
        .with_actor(ids[0].clone())
        .create(
            &json!({"code": "A", "group": "g", "nValue": 1.5, "jValue": {"deep": {"er": 1}},
                        "bValue": "\\x01", "boValue": true}),
        )
        .unwrap();
    app.configs
        .create(&json!({"code": "B", "group": "h", "description": "no actor"}))
        .unwrap();
    app
}

#[test]
fn derived_from_row_reads_what_a_hand_written_impl_reads() {
    let app = app();
    let filter = json!({
        "order": "name",
        "include": [{"relation": "posts", "scope": {"order": "title",
            "include": [{"relation": "author", "scope": {"fields": ["id", "createdAt", "status", "type", "lastLoginAt", "name", "email"]}}]}}]
    });
    let derived: Vec<User> = app.users.find_into(&filter).unwrap();
    let by_hand: Vec<HandUser> = app.users.find_into(&filter).unwrap();
    let by_hand: Vec<User> = by_hand.into_iter().map(|u| u.0).collect();
    assert_eq!(derived, by_hand);
    assert_eq!(derived.len(), 2);
    let ada = &derived[0];
    assert_eq!(
        (ada.name.as_str(), ada.status.as_str()),
        ("Ada", "000_UNKNOWN")
    );
    assert_eq!(ada.last_login_at, None);
    let titles: Vec<&str> = ada.posts.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles, ["first", "second"]);
    let first = &ada.posts[0];
    assert_eq!(
        first.tags.as_deref(),
        Some(&["a".to_string(), "b".to_string()][..])
    );
    assert_eq!(first.attachment.as_deref(), Some(&[0x00, 0xff, 0x10][..]));
    assert_eq!(first.day, NaiveDate::from_ymd_opt(2024, 2, 29));
    assert_eq!(first.metadata, Some(json!({"k": [1, {"x": null}]})));
    assert_eq!(first.author.as_ref().map(|a| a.name.as_str()), Some("Ada"));
    assert_eq!(
        first.secret, None,
        "a hidden property never leaves the repository"
    );
    assert_eq!(
        derived[1].last_login_at,
        Some("2024-05-01T10:00:00Z".parse().unwrap())
    );

    let filter = json!({"order": "code", "include": ["creator", "modifier"]});
    let derived: Vec<Configuration> = app.configs.find_into(&filter).unwrap();
    let by_hand: Vec<HandConfiguration> = app.configs.find_into(&filter).unwrap();
    let by_hand: Vec<Configuration> = by_hand.into_iter().map(|c| c.0).collect();
    assert_eq!(derived, by_hand);
    assert_eq!(
        derived[0].creator.as_ref().map(|u| u.name.as_str()),
        Some("Ada")
    );
    assert_eq!(derived[0].b_value.as_deref(), Some(&[1u8][..]));
    assert_eq!(derived[1].creator, None);
    assert_eq!(derived[1].description.as_deref(), Some("no actor"));
}

#[test]
fn relations_the_filter_does_not_include_read_empty() {
    let app = app();
    let users: Vec<User> = app.users.find_into(&json!({"order": "name"})).unwrap();
    assert_eq!(users.len(), 2);
    assert!(users.iter().all(|u| u.posts.is_empty()));
    let posts: Vec<Post> = app
        .posts
        .find_into(&json!({"order": "title", "include": []}))
        .unwrap();
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|p| p.author.is_none()));
    // `RowRef::many` itself refuses a relation that is not included.
    let refused = app.users.find_into::<StrictUser>(&json!({})).err();
    assert!(
        matches!(refused, Some(RepoError::Relation { .. })),
        "{refused:?}"
    );
}

#[test]
fn a_property_the_filter_leaves_out_is_a_decode_error_naming_it() {
    let app = app();
    let err = app
        .posts
        .find_into::<Post>(&json!({"fields": ["id", "authorId"]}))
        .unwrap_err();
    match err {
        RepoError::Decode {
            model, property, ..
        } => assert_eq!((model.as_str(), property.as_str()), ("Post", "deletedAt")),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

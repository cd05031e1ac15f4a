//! Repositories and filters against a real Postgres: CRUD on the example application, every kind
//! of where, order / limit / skip / fields, includes (batched, nested, scoped, default filters),
//! hidden properties, soft delete, JSON-path updates, audit actors, transactions, typed rows,
//! validation errors, and worker threads.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::sync::Arc;

use ignis_repo::{DefaultCrudRepository, FilterErrorKind, ReadableRepository, RepoError};
use ignis_schema::enrich::{IdOptions, TzOptions};
use ignis_schema::{Column, Enricher, ForeignKey, Model, PgType, Relation, Schema};
use ignis_tests::{example, TestDb};
use ignis_tx::{DataSource, TransactionOptions};
use rayon::prelude::*;
use serde_json::{json, Value};

/// The example app plus `Post` (integer identity id, soft delete, hidden `secret`, jsonb, text[],
/// numeric) and `Comment`, with relations User.posts (many), Post.author (one), Post.comments
/// (many), Comment.post (one).
fn schema() -> Arc<Schema> {
    let user = example::user().relation(Relation::many("posts", "Post", ["id"], ["authorId"]));
    let post = Model::new("Post")
        .enrich(Enricher::Id(IdOptions::number()))
        .enrich(Enricher::Tz(TzOptions::with_deleted()))
        .column(Column::new("authorId", PgType::Text).not_null())
        .column(Column::new("title", PgType::Text).not_null())
        .column(
            Column::new("views", PgType::Integer)
                .not_null()
                .default_sql("0"),
        )
        .column(Column::new("score", "numeric(10,2)".parse().unwrap()))
        .column(Column::new("published", PgType::Boolean))
        .column(Column::new("metadata", PgType::Jsonb))
        .column(Column::new("tags", "text[]".parse().unwrap()))
        .column(Column::new("secret", PgType::Text))
        .hide(["secret"])
        .foreign_key(ForeignKey::new(
            "FK_Post_authorId_User_id",
            ["authorId"],
            "User",
            ["id"],
        ))
        .relation(Relation::one("author", "User", ["authorId"], ["id"]))
        .relation(Relation::many("comments", "Comment", ["id"], ["postId"]))
        .default_filter(json!({"where": {"deletedAt": null}}));
    let comment = Model::new("Comment")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("postId", PgType::Integer).not_null())
        .column(Column::new("body", PgType::Text).not_null())
        .relation(Relation::one("post", "Post", ["postId"], ["id"]));
    Arc::new(
        Schema::new(vec![
            user,
            example::configuration(),
            example::configuration_report(),
            post,
            comment,
        ])
        .unwrap(),
    )
}

struct App {
    db: TestDb,
    ds: DataSource,
    users: DefaultCrudRepository,
    posts: DefaultCrudRepository,
    comments: DefaultCrudRepository,
    configs: DefaultCrudRepository,
}

fn app() -> App {
    let db = TestDb::new();
    let schema = schema();
    let ds = db.migrated(&schema);
    App {
        users: DefaultCrudRepository::new(ds.clone(), schema.clone(), "User").unwrap(),
        posts: DefaultCrudRepository::new(ds.clone(), schema.clone(), "Post").unwrap(),
        comments: DefaultCrudRepository::new(ds.clone(), schema.clone(), "Comment").unwrap(),
        configs: DefaultCrudRepository::new(ds.clone(), schema, "Configuration").unwrap(),
        ds,
        db,
    }
}

fn user(app: &App, name: &str) -> String {
    let r = app
        .users
        .create(&json!({"name": name, "email": format!("{}@example.com", name.to_lowercase())}))
        .unwrap();
    r.data.unwrap()["id"].as_str().unwrap().to_string()
}

/// Loads 3 users and 6 posts; returns the user ids (Ada, Bob, Cy).
fn seed(app: &App) -> Vec<String> {
    let ids: Vec<String> = ["Ada", "Bob", "Cy"].iter().map(|n| user(app, n)).collect();
    let posts = json!([
        {"authorId": ids[0], "title": "Alpha", "views": 10, "score": "1.50", "published": true,
         "metadata": {"lang": "en", "rank": 3, "nested": {"ok": true}}, "tags": ["rust", "db"], "secret": "s1"},
        {"authorId": ids[0], "title": "beta", "views": 20, "score": 2.25, "published": false,
         "metadata": {"lang": "fr", "rank": 12}, "tags": ["db"], "secret": "s2"},
        {"authorId": ids[0], "title": "Gamma_1", "views": 30, "score": null, "published": null,
         "metadata": {"lang": "en", "rank": 7}, "tags": [], "secret": "s3"},
        {"authorId": ids[1], "title": "Delta", "views": 40, "score": "10.00", "published": true,
         "metadata": {"lang": "de"}, "tags": ["rust"], "secret": "s4"},
        {"authorId": ids[1], "title": "epsilon", "views": 50, "score": "0.10", "published": true,
         "metadata": null, "tags": null, "secret": "s5"},
        {"authorId": ids[1], "title": "Zeta%", "views": 60, "score": "99.99", "published": false,
         "metadata": {"lang": "en", "rank": "x"}, "tags": ["go"], "secret": "s6"}
    ]);
    let created = app.posts.create_all(posts.as_array().unwrap()).unwrap();
    assert_eq!(created.count, 6);
    ids
}

/// Comments on the three least-viewed posts (1, 2 and 3 of them: `c<n> on <post id>`), then
/// soft-deletes the third (Gamma_1, Ada's); returns the post ids in views order.
fn seed_comments(app: &App) -> Vec<i64> {
    let posts = app.posts.find(&json!({"order": "views"})).unwrap();
    let post_ids: Vec<i64> = posts.iter().map(|p| p["id"].as_i64().unwrap()).collect();
    for (n, pid) in post_ids.iter().enumerate().take(3) {
        for c in 0..=n {
            app.comments
                .create(&json!({"postId": pid, "body": format!("c{c} on {pid}")}))
                .unwrap();
        }
    }
    app.posts.soft_delete_by_id(&json!(post_ids[2])).unwrap();
    post_ids
}

fn titles(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["title"].as_str().unwrap()).collect()
}

fn find_titles(app: &App, filter: Value) -> Vec<String> {
    let rows = app
        .posts
        .find(&filter)
        .unwrap_or_else(|e| panic!("{filter}: {e}"));
    titles(&rows).into_iter().map(String::from).collect()
}

#[test]
fn crud_round_trip_on_the_example_app() {
    let app = app();
    let created = app
        .users
        .create(&json!({"name": "Ada", "email": "ada@example.com"}))
        .unwrap();
    assert_eq!(created.count, 1);
    let ada = created.data.unwrap();
    let id = ada["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "string id is a generated uuid: {id}");
    assert_eq!(ada["status"], "000_UNKNOWN");
    assert_eq!(ada["type"], "SYSTEM");
    assert_eq!(ada["realm"], "");
    let created_at = ada["createdAt"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created_at).is_ok(),
        "{created_at}"
    );

    let found = app.users.find_by_id(&json!(id)).unwrap().unwrap();
    assert_eq!(found, ada);
    assert!(app
        .users
        .find_by_id(&json!("no-such-id"))
        .unwrap()
        .is_none());

    std::thread::sleep(std::time::Duration::from_millis(5));
    let updated = app
        .users
        .update_by_id(&json!(id), &json!({"name": "Ada L."}))
        .unwrap();
    assert_eq!(updated.count, 1);
    let updated = updated.data.unwrap();
    assert_eq!(updated["name"], "Ada L.");
    assert!(
        updated["modifiedAt"].as_str().unwrap() > ada["modifiedAt"].as_str().unwrap(),
        "modifiedAt must move on update"
    );
    assert_eq!(updated["createdAt"], ada["createdAt"]);

    assert_eq!(app.users.count(&json!({})).unwrap(), 1);
    assert!(app.users.exists_with(&json!({"name": "Ada L."})).unwrap());
    assert!(!app.users.exists_with(&json!({"name": "Ada"})).unwrap());

    let deleted = app.users.delete_by_id(&json!(id)).unwrap();
    assert_eq!(deleted.count, 1);
    assert_eq!(deleted.data.unwrap()["name"], "Ada L.");
    assert_eq!(app.users.count(&Value::Null).unwrap(), 0);
    let again = app.users.delete_by_id(&json!(id)).unwrap();
    assert_eq!((again.count, again.data), (0, None));
}

#[test]
fn where_operators_match_ignis_semantics() {
    let app = app();
    let ids = seed(&app);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"title": "Alpha"}), vec!["Alpha"]),
        (
            json!({"views": {"gt": 30}}),
            vec!["Delta", "epsilon", "Zeta%"],
        ),
        (
            json!({"views": {"gte": 30, "lt": 50}}),
            vec!["Gamma_1", "Delta"],
        ),
        (
            json!({"views": {"between": [20, 40]}}),
            vec!["beta", "Gamma_1", "Delta"],
        ),
        (
            json!({"views": {"notBetween": [20, 50]}}),
            vec!["Alpha", "Zeta%"],
        ),
        (json!({"views": [10, 60]}), vec!["Alpha", "Zeta%"]),
        (
            json!({"views": {"inq": ["20", 30]}}),
            vec!["beta", "Gamma_1"],
        ),
        (
            json!({"views": {"nin": [10, 20, 30, 40]}}),
            vec!["epsilon", "Zeta%"],
        ),
        (json!({"views": {"in": []}}), vec![]),
        (
            json!({"views": {"nin": []}}),
            vec!["Alpha", "beta", "Gamma_1", "Delta", "epsilon", "Zeta%"],
        ),
        (
            json!({"title": {"like": "%a"}}),
            vec!["Alpha", "beta", "Delta"],
        ),
        (json!({"title": {"ilike": "a%"}}), vec!["Alpha"]),
        (json!({"title": {"nilike": "%a%"}}), vec!["epsilon"]),
        (json!({"title": {"like": "Gamma\\_%"}}), vec!["Gamma_1"]),
        (json!({"title": {"like": "Zeta\\%"}}), vec!["Zeta%"]),
        (
            json!({"title": {"regexp": "^[A-Z]"}}),
            vec!["Alpha", "Gamma_1", "Delta", "Zeta%"],
        ),
        (
            json!({"title": {"iregexp": "^[a-d]"}}),
            vec!["Alpha", "beta", "Delta"],
        ),
        (json!({"published": null}), vec!["Gamma_1"]),
        (
            json!({"published": {"neq": null}}),
            vec!["Alpha", "beta", "Delta", "epsilon", "Zeta%"],
        ),
        (json!({"published": {"ne": true}}), vec!["beta", "Zeta%"]),
        (json!({"score": {"gt": 2}}), vec!["beta", "Delta", "Zeta%"]),
        (json!({"score": "1.5"}), vec!["Alpha"]),
        (
            json!({"or": [{"views": 10}, {"and": [{"authorId": ids[1]}, {"published": false}]}]}),
            vec!["Alpha", "Zeta%"],
        ),
        (
            json!({"or": []}),
            vec!["Alpha", "beta", "Gamma_1", "Delta", "epsilon", "Zeta%"],
        ),
        (
            json!({"tags": {"contains": ["rust"]}}),
            vec!["Alpha", "Delta"],
        ),
        (
            json!({"tags": {"overlaps": ["go", "db"]}}),
            vec!["Alpha", "beta", "Zeta%"],
        ),
        (
            json!({"tags": {"containedBy": ["rust", "db"]}}),
            vec!["Alpha", "beta", "Gamma_1", "Delta"],
        ),
        (
            json!({"metadata.lang": "en"}),
            vec!["Alpha", "Gamma_1", "Zeta%"],
        ),
        (json!({"metadata.rank": {"gt": 5}}), vec!["beta", "Gamma_1"]),
        (json!({"metadata.nested.ok": "true"}), vec!["Alpha"]),
        (
            json!({"metadata": {"contains": {"lang": "fr"}}}),
            vec!["beta"],
        ),
        (json!({"secret": "s4"}), vec!["Delta"]),
    ];
    for (filter_where, expected) in cases {
        let got = find_titles(&app, json!({"where": filter_where, "order": "views ASC"}));
        assert_eq!(got, expected, "where {filter_where}");
        let n = app.posts.count(&filter_where).unwrap();
        assert_eq!(n as usize, expected.len(), "count {filter_where}");
    }
}

#[test]
fn order_limit_skip_fields_and_range() {
    let app = app();
    seed(&app);
    assert_eq!(
        find_titles(
            &app,
            json!({"order": ["published DESC NULLS LAST", "views DESC"], "limit": 3})
        ),
        vec!["epsilon", "Delta", "Alpha"]
    );
    assert_eq!(
        find_titles(&app, json!({"order": "views", "skip": 4})),
        vec!["epsilon", "Zeta%"]
    );
    assert_eq!(
        find_titles(&app, json!({"order": "views", "offset": 1, "limit": 2})),
        vec!["beta", "Gamma_1"]
    );
    let rows = app
        .posts
        .find(&json!({"fields": ["title", "views"], "where": {"views": 10}}))
        .unwrap();
    assert_eq!(rows, vec![json!({"title": "Alpha", "views": 10})]);
    let rows = app
        .posts
        .find(&json!({"fields": {"metadata": false, "tags": false, "createdAt": false, "modifiedAt": false, "deletedAt": false}, "where": {"views": 10}}))
        .unwrap();
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        vec!["authorId", "id", "published", "score", "title", "views"]
    );
    assert_eq!(
        rows[0]["score"], "1.50",
        "numeric comes back exact, as text"
    );
    let one = app
        .posts
        .find_one(&json!({"order": "views DESC"}))
        .unwrap()
        .unwrap();
    assert_eq!(one["title"], "Zeta%");

    let ranged = app
        .posts
        .find_with_range(
            &json!({"where": {"views": {"gt": 10}}, "order": "views", "skip": 1, "limit": 2}),
        )
        .unwrap();
    assert_eq!(titles(&ranged.data), vec!["Gamma_1", "Delta"]);
    assert_eq!(
        (ranged.range.start, ranged.range.end, ranged.range.total),
        (1, 2, 5)
    );
}

#[test]
fn includes_load_each_level_in_one_query_with_scopes_and_default_filters() {
    let app = app();
    let ids = seed(&app);
    let post_ids = seed_comments(&app);

    let filter = json!({
        "where": {"name": {"inq": ["Ada", "Bob", "Cy"]}},
        "order": "name",
        "fields": ["name"],
        "include": [{"relation": "posts", "scope": {
            "fields": ["title"], "order": "views DESC",
            "include": [{"relation": "comments", "scope": {"fields": ["body"], "order": "body"}}]
        }}]
    });
    let mut conn = app.ds.connection().unwrap();
    let mut counting = ignis_tests::Recording::new(&mut conn);
    let users = app.users.on(&mut counting).find(&filter).unwrap();
    assert_eq!(
        counting.statements.len(),
        3,
        "one query per level: {:#?}",
        counting.statements
    );
    assert_eq!(
        users,
        vec![
            json!({"name": "Ada", "posts": [
                {"title": "beta", "comments": [{"body": format!("c0 on {}", post_ids[1])}, {"body": format!("c1 on {}", post_ids[1])}]},
                {"title": "Alpha", "comments": [{"body": format!("c0 on {}", post_ids[0])}]}
            ]}),
            json!({"name": "Bob", "posts": [
                {"title": "Zeta%", "comments": []},
                {"title": "epsilon", "comments": []},
                {"title": "Delta", "comments": []}
            ]}),
            json!({"name": "Cy", "posts": []}),
        ]
    );

    // The soft-deleted post appears when the include skips the default filter; scope limit is
    // per parent.
    let users = app
        .users
        .find(&json!({"order": "name", "fields": ["name"], "include": [{"relation": "posts", "shouldSkipDefaultFilter": true, "scope": {"fields": ["title"], "order": "views", "limit": 1, "skip": 2}}]}))
        .unwrap();
    assert_eq!(users[0]["posts"], json!([{"title": "Gamma_1"}]));
    assert_eq!(users[1]["posts"], json!([{"title": "Zeta%"}]));
    assert_eq!(users[2]["posts"], json!([]));

    // one relation: object or null; hidden properties stay hidden inside includes.
    let posts = app
        .posts
        .find(&json!({"where": {"title": "Delta"}, "include": ["author", "comments"]}))
        .unwrap();
    assert_eq!(posts[0]["author"]["id"], json!(ids[1]));
    assert!(posts[0].get("secret").is_none());
    let comments = app
        .comments
        .find(&json!({"include": [{"relation": "post", "scope": {"fields": ["title", "secret"]}}], "order": "id"}))
        .unwrap();
    assert_eq!(comments[0]["post"], json!({"title": "Alpha"}));
    // a comment on the soft-deleted post: its one relation is null under the default filter
    let on_gamma = comments
        .iter()
        .find(|c| c["postId"] == json!(post_ids[2]))
        .unwrap();
    assert_eq!(on_gamma["post"], Value::Null);
}

#[test]
fn hidden_properties_never_leave_the_repository() {
    let app = app();
    seed(&app);
    for filter in [
        json!({}),
        json!({"fields": ["title", "secret"]}),
        json!({"fields": {"secret": true}}),
        json!({"where": {"secret": "s1"}}),
    ] {
        for row in app.posts.find(&filter).unwrap() {
            assert!(row.get("secret").is_none(), "{filter}: {row}");
        }
    }
    let created = app
        .posts
        .create(&json!({"authorId": app.users.find_one(&json!({})).unwrap().unwrap()["id"], "title": "T", "secret": "x"}))
        .unwrap()
        .data
        .unwrap();
    assert!(created.get("secret").is_none());
    let stored: String = app
        .db
        .client()
        .query_one("SELECT secret FROM \"Post\" WHERE title = 'T'", &[])
        .unwrap()
        .get(0);
    assert_eq!(stored, "x", "hidden properties are still written");
    let updated = app
        .posts
        .update_all(&json!({"secret": "y"}), &json!({"title": "T"}))
        .unwrap();
    assert!(updated.data[0].get("secret").is_none());
}

#[test]
fn soft_delete_default_filter_and_refusal_of_empty_wheres() {
    let app = app();
    seed(&app);
    let alpha = app
        .posts
        .find_one(&json!({"where": {"title": "Alpha"}}))
        .unwrap()
        .unwrap();
    let id = alpha["id"].clone();
    let deleted = app.posts.soft_delete_by_id(&id).unwrap();
    assert_eq!(deleted.count, 1);
    assert!(deleted.data.unwrap()["deletedAt"].is_string());
    assert!(app.posts.find_by_id(&id).unwrap().is_none());
    assert_eq!(app.posts.count(&json!({})).unwrap(), 5);
    assert_eq!(
        app.posts.skip_default_filter().count(&json!({})).unwrap(),
        6
    );
    // updates and deletes go through the default filter too
    assert_eq!(
        app.posts
            .update_by_id(&id, &json!({"title": "changed"}))
            .unwrap()
            .count,
        0
    );
    // the caller's where is merged over the default's: caller keys win
    assert_eq!(
        app.posts
            .count(&json!({"deletedAt": {"neq": null}}))
            .unwrap(),
        1
    );

    let restored = app.posts.restore_by_id(&id).unwrap();
    assert_eq!(restored.count, 1);
    assert!(restored.data.unwrap()["deletedAt"].is_null());
    assert_eq!(app.posts.count(&json!({})).unwrap(), 6);

    // Empty wheres are judged before the default filter is merged.
    for result in [
        app.posts.update_all(&json!({"views": 0}), &json!({})).err(),
        app.posts.delete_all(&json!({})).err(),
        app.posts.delete_all(&json!({"or": []})).err(),
        app.posts.soft_delete_all(&Value::Null).err(),
    ] {
        assert!(
            matches!(result, Some(RepoError::EmptyWhere { .. })),
            "{result:?}"
        );
    }
    assert_eq!(app.posts.count(&json!({"views": 0})).unwrap(), 0);
    let forced = app
        .posts
        .force()
        .should_return(false)
        .update_all(&json!({"views": 1}), &json!({}))
        .unwrap();
    assert_eq!(forced.count, 6);
    assert!(forced.data.is_empty());
    assert_eq!(app.posts.force().delete_all(&json!({})).unwrap().count, 6);
}

#[test]
fn json_path_updates_create_missing_keys() {
    let app = app();
    seed(&app);
    let r = app
        .posts
        .update_all(
            &json!({"metadata.stats.likes": 5, "metadata.lang": "pt", "metadata.stats.views": 7}),
            &json!({"title": {"inq": ["Alpha", "epsilon"]}}),
        )
        .unwrap();
    assert_eq!(r.count, 2);
    let alpha = app
        .posts
        .find_one(&json!({"where": {"title": "Alpha"}}))
        .unwrap()
        .unwrap();
    assert_eq!(
        alpha["metadata"],
        json!({"lang": "pt", "rank": 3, "nested": {"ok": true}, "stats": {"likes": 5, "views": 7}})
    );
    let eps = app
        .posts
        .find_one(&json!({"where": {"title": "epsilon"}}))
        .unwrap()
        .unwrap();
    assert_eq!(
        eps["metadata"],
        json!({"lang": "pt", "stats": {"likes": 5, "views": 7}}),
        "a null column becomes an object"
    );
    let err = app
        .posts
        .update_all(&json!({"title.x": 1}), &json!({"views": 10}))
        .unwrap_err();
    assert!(matches!(err, RepoError::InvalidData { .. }), "{err}");
}

#[test]
fn audit_actor_fills_created_by_and_modified_by() {
    let app = app();
    let ada = user(&app, "Ada");
    let bob = user(&app, "Bob");
    let anonymous = app
        .configs
        .create(&json!({"code": "A", "group": "g"}))
        .unwrap()
        .data
        .unwrap();
    assert_eq!(anonymous["createdBy"], Value::Null);
    let c = app
        .configs
        .with_actor(ada.clone())
        .create(&json!({"code": "B", "group": "g", "nValue": 1.5, "jValue": {"k": [1, 2]}, "bValue": "\\x00ff", "boValue": true}))
        .unwrap()
        .data
        .unwrap();
    assert_eq!(c["createdBy"], json!(ada));
    assert_eq!(c["modifiedBy"], json!(ada));
    assert_eq!(c["nValue"], json!(1.5));
    assert_eq!(c["jValue"], json!({"k": [1, 2]}));
    assert_eq!(c["bValue"], json!("\\x00ff"));
    let u = app
        .configs
        .with_actor(bob.clone())
        .update_by_id(&c["id"], &json!({"description": "d"}))
        .unwrap()
        .data
        .unwrap();
    assert_eq!(u["createdBy"], json!(ada));
    assert_eq!(u["modifiedBy"], json!(bob));
    let with_creator = app
        .configs
        .find(&json!({"where": {"code": "B"}, "include": ["creator", "modifier"]}))
        .unwrap();
    assert_eq!(with_creator[0]["creator"]["name"], "Ada");
    assert_eq!(with_creator[0]["modifier"]["name"], "Bob");
}

#[test]
fn writes_inside_transactions_are_atomic() {
    let app = app();
    let ada = user(&app, "Ada");
    // Rolled back: nothing stays.
    let r: Result<(), RepoError> = app.ds.transaction(TransactionOptions::default(), |tx| {
        app.posts
            .on(tx)
            .create(&json!({"authorId": ada, "title": "in tx"}))?;
        assert_eq!(app.posts.on(tx).count(&json!({}))?, 1, "visible inside");
        Err(RepoError::InvalidData {
            model: "Post".into(),
            message: "abort".into(),
        })
    });
    assert!(r.is_err());
    assert_eq!(app.posts.count(&json!({})).unwrap(), 0);

    // create_all fails on its third row: no row is written.
    let err = app
        .configs
        .create_all(&[
            json!({"code": "x1", "group": "g"}),
            json!({"code": "x2", "group": "g"}),
            json!({"code": "x1", "group": "g"}),
        ])
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("23505"));
    assert_eq!(app.configs.count(&json!({})).unwrap(), 0);
    // rows with different property sets take several statements, still all or nothing
    let err = app
        .configs
        .create_all(&[
            json!({"code": "y1", "group": "g"}),
            json!({"code": "y2", "group": "g", "description": "d"}),
            json!({"code": "y3"}),
        ])
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("23502"));
    assert_eq!(app.configs.count(&json!({})).unwrap(), 0);

    // Committed: visible, and returned in input order.
    let many: Vec<Value> = (0..500)
        .map(|i| json!({"code": format!("c{i:03}"), "group": if i % 2 == 0 { "even" } else { "odd" }}))
        .collect();
    let created = app
        .ds
        .transaction(TransactionOptions::default(), |tx| {
            app.configs.on(tx).create_all(&many)
        })
        .unwrap();
    assert_eq!(created.count, 500);
    assert_eq!(created.data[0]["code"], "c000");
    assert_eq!(created.data[499]["code"], "c499");
    assert_eq!(app.configs.count(&json!({"group": "even"})).unwrap(), 250);
}

#[derive(serde::Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct UserRow {
    id: String,
    name: String,
    email: String,
    created_at: chrono::DateTime<chrono::Utc>,
    parent_id: Option<String>,
}

#[test]
fn typed_rows_and_readable_repositories() {
    let app = app();
    user(&app, "Ada");
    let users: Vec<UserRow> = app.users.find_as(&json!({"order": "name"})).unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].name, "Ada");
    assert_eq!(users[0].email, "ada@example.com");
    assert_eq!(users[0].parent_id, None);
    assert!(users[0].created_at <= chrono::Utc::now());
    assert!(!users[0].id.is_empty());
    let readable =
        ReadableRepository::new(app.ds.clone(), app.users.schema().clone(), "User").unwrap();
    assert_eq!(readable.count(&json!({"name": "Ada"})).unwrap(), 1);
    // `readable.create(..)` does not compile: ReadableRepository has no write methods.
    let err =
        ReadableRepository::new(app.ds.clone(), app.users.schema().clone(), "Nope").unwrap_err();
    assert!(err.to_string().contains("Nope"));
}

#[test]
fn invalid_filters_and_data_are_typed_errors_that_name_the_problem() {
    let app = app();
    seed(&app);
    let cases = [
        (
            json!({"where": {"nope": 1}}),
            FilterErrorKind::UnknownField,
            "nope",
        ),
        (
            json!({"where": {"views": {"near": 1}}}),
            FilterErrorKind::UnknownOperator,
            "near",
        ),
        (
            json!({"where": {"views": "abc"}}),
            FilterErrorKind::InvalidValue,
            "views",
        ),
        (
            json!({"order": "nope DESC"}),
            FilterErrorKind::UnknownField,
            "nope",
        ),
        (
            json!({"include": ["nope"]}),
            FilterErrorKind::UnknownRelation,
            "nope",
        ),
        (json!({"wher": {}}), FilterErrorKind::Malformed, "wher"),
    ];
    for (filter, kind, named) in cases {
        match app.posts.find(&filter) {
            Err(RepoError::Filter(e)) => {
                assert_eq!(e.kind(), kind, "{filter}: {e}");
                assert!(e.to_string().contains(named), "{filter}: {e}");
            }
            other => panic!("{filter}: expected a filter error, got {other:?}"),
        }
    }
    // A regexp only Postgres can judge is still a filter error naming the field and the
    // operator, not a database failure: in find, find_as, include scopes, count, exists_with,
    // and mass writes (which then change nothing).
    for pattern in ["(", "a{2,1}"] {
        let w = json!({"title": {"regexp": pattern}, "views": {"gte": 0}});
        let iw = json!({"body": {"iregexp": pattern}});
        let results: Vec<(&str, Result<(), RepoError>)> = vec![
            ("find", app.posts.find(&json!({"where": w})).map(|_| ())),
            (
                "find_as",
                app.posts.find_as::<Value>(&json!({"where": w})).map(|_| ()),
            ),
            (
                "include",
                app.posts
                    .find(&json!({"include": [{"relation": "comments", "scope": {"where": iw}}]}))
                    .map(|_| ()),
            ),
            ("count", app.posts.count(&w).map(|_| ())),
            ("exists_with", app.posts.exists_with(&w).map(|_| ())),
            (
                "update_all",
                app.posts.update_all(&json!({"views": 99}), &w).map(|_| ()),
            ),
            ("delete_all", app.posts.delete_all(&w).map(|_| ())),
        ];
        for (op, r) in results {
            match r {
                Err(RepoError::Filter(e)) => {
                    assert_eq!(e.kind(), FilterErrorKind::InvalidValue, "{op}: {e}");
                    let field = if op == "include" { "`body`" } else { "`title`" };
                    assert!(e.to_string().contains(field), "{op}: {e}");
                    assert!(e.to_string().contains("regexp"), "{op}: {e}");
                }
                other => panic!("{op} {pattern}: expected a filter error, got {other:?}"),
            }
        }
    }
    assert!(app
        .posts
        .find(&json!({"where": {"views": 99}}))
        .unwrap()
        .is_empty());
    let deep = (0..100).fold(json!({"views": 1}), |w, _| json!({"and": [w]}));
    let err = app.posts.find(&json!({"where": deep})).unwrap_err();
    assert!(
        matches!(&err, RepoError::Filter(e) if e.kind() == FilterErrorKind::TooDeep),
        "{err}"
    );
    let err = app
        .posts
        .create(&json!({"title": "x", "authorId": "a", "nope": 1}))
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    let err = app
        .posts
        .create(&json!({"title": "x", "authorId": "a", "views": "many"}))
        .unwrap_err();
    assert!(err.to_string().contains("views"), "{err}");
    let err = app
        .posts
        .create(&json!({"id": 5, "title": "x", "authorId": "a"}))
        .unwrap_err();
    assert!(err.to_string().contains("generated always"), "{err}");
    // an injection attempt stays a value
    assert!(app
        .posts
        .find(&json!({"where": {"title": "x'; DROP TABLE \"Post\"; --"}}))
        .unwrap()
        .is_empty());
    assert_eq!(app.posts.count(&json!({})).unwrap(), 6);
}

#[test]
fn rayon_workers_share_one_repository() {
    let app = app();
    let ada = user(&app, "Ada");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(8)
        .build()
        .unwrap();
    let posts = app.posts.clone();
    let results: Vec<Result<(), RepoError>> = pool.install(|| {
        (0..400)
            .into_par_iter()
            .map(|i| {
                posts.create(&json!({"authorId": ada, "title": format!("t{i}"), "views": i}))?;
                let found = posts.find_one(&json!({"where": {"title": format!("t{i}")}}))?;
                assert_eq!(found.unwrap()["views"], json!(i));
                Ok(())
            })
            .collect()
    });
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(app.posts.count(&json!({})).unwrap(), 400);
    assert_eq!(
        app.posts
            .count(&json!({"views": {"between": [100, 199]}}))
            .unwrap(),
        100
    );
}

#[test]
fn typed_rows_decode_every_type_exactly_as_dynamic_rows() {
    let db = TestDb::new();
    let kinds = Model::new("Kinds")
        .enrich(Enricher::Id(IdOptions::number()))
        .column(Column::new("i2", "smallint".parse().unwrap()))
        .column(Column::new("i8", PgType::BigInt))
        .column(Column::new("f4", "real".parse().unwrap()))
        .column(Column::new("f8", "double precision".parse().unwrap()))
        .column(Column::new("num", "numeric(10,3)".parse().unwrap()))
        .column(Column::new("vc", "varchar(10)".parse().unwrap()))
        .column(Column::new("ch", "char(3)".parse().unwrap()))
        .column(Column::new("b", PgType::Boolean))
        .column(Column::new("u", PgType::Uuid))
        .column(Column::new("tz", PgType::TIMESTAMPTZ))
        .column(Column::new("ts", "timestamp".parse().unwrap()))
        .column(Column::new("d", "date".parse().unwrap()))
        .column(Column::new("j", PgType::Json))
        .column(Column::new("jb", PgType::Jsonb))
        .column(Column::new("by", PgType::Bytea))
        .column(Column::new("tags", "text[]".parse().unwrap()))
        .column(Column::new("ints", "integer[]".parse().unwrap()))
        .column(Column::new("iv", "interval".parse().unwrap()));
    let schema = Arc::new(Schema::new(vec![kinds]).unwrap());
    let ds = db.migrated(&schema);
    let repo = DefaultCrudRepository::new(ds, schema, "Kinds").unwrap();
    repo.create_all(&[
        json!({"i2": -3, "i8": 9007199254740993i64, "f4": 0.1, "f8": 1e300, "num": "12.5",
               "vc": "é", "ch": "ab", "b": true, "u": "6f1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5f",
               "tz": "2026-11-24T07:00:00.123456+02:00", "ts": "2026-01-02T03:04:05",
               "d": "2026-02-28", "j": {"b": [1, 2], "a": null}, "jb": {"k": "v", "n": 1.5},
               "by": "\\x00ff10", "tags": ["a", "b,c", "\"q\""], "ints": [1, null, 3],
               "iv": "1 day 02:03:04"}),
        json!({}),
    ])
    .unwrap();
    let filter = json!({"order": "id"});
    let dynamic = repo.find(&filter).unwrap();
    let typed: Vec<Value> = repo.find_as(&filter).unwrap();
    assert_eq!(typed, dynamic);
    assert_eq!(dynamic[0]["i8"], json!(9007199254740993i64));
    assert_eq!(dynamic[0]["num"], json!("12.500"));
    assert_eq!(dynamic[1]["tags"], Value::Null);

    #[derive(serde::Deserialize, Debug)]
    struct Kind {
        id: i32,
        i2: Option<i16>,
        i8: Option<i64>,
        f8: Option<f64>,
        num: Option<String>,
        ch: Option<String>,
        b: Option<bool>,
        u: Option<uuid::Uuid>,
        tz: Option<chrono::DateTime<chrono::Utc>>,
        jb: Option<serde_json::Value>,
        tags: Option<Vec<String>>,
        ints: Option<Vec<Option<i32>>>,
    }
    let rows: Vec<Kind> = repo.find_as(&filter).unwrap();
    let k = &rows[0];
    assert_eq!((k.id, k.i2, k.i8), (1, Some(-3), Some(9007199254740993)));
    assert_eq!(k.f8, Some(1e300));
    assert_eq!(k.num.as_deref(), Some("12.500"));
    assert_eq!(k.ch.as_deref(), Some("ab "));
    assert_eq!(k.b, Some(true));
    assert_eq!(
        k.u.unwrap().to_string(),
        "6f1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5f"
    );
    assert_eq!(
        k.tz.unwrap().to_rfc3339(),
        "2026-11-24T05:00:00.123456+00:00"
    );
    assert_eq!(k.jb, Some(json!({"k": "v", "n": 1.5})));
    assert_eq!(k.tags, Some(vec!["a".into(), "b,c".into(), "\"q\"".into()]));
    assert_eq!(k.ints, Some(vec![Some(1), None, Some(3)]));
    assert!(rows[1].i2.is_none() && rows[1].tz.is_none() && rows[1].tags.is_none());
    // A type mismatch is a typed error naming the model.
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Wrong {
        vc: i32,
    }
    let err = repo
        .find_as::<Wrong>(&json!({"where": {"id": 1}}))
        .unwrap_err();
    assert!(matches!(err, RepoError::Deserialize { .. }), "{err}");
    assert!(err.to_string().contains("Kinds"), "{err}");
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct CommentRow {
    body: String,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct PostWithComments {
    title: String,
    comments: Vec<CommentRow>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct UserWithPosts {
    name: String,
    posts: Option<Vec<PostWithComments>>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostWithAuthor {
    title: String,
    author: Option<UserRow>,
}

#[test]
fn typed_rows_with_includes_match_dynamic_rows_in_the_same_queries() {
    let app = app();
    let ids = seed(&app);
    let post_ids = seed_comments(&app);

    // Every include shape of the dynamic test: find_as::<Value> must give exactly what find
    // gives (nesting, scopes, per-parent limit / skip, default filters, one relations, null
    // joins, hidden properties, join columns left out by `fields`).
    let cases = [
        (
            &app.users,
            json!({
                "where": {"name": {"inq": ["Ada", "Bob", "Cy"]}}, "order": "name", "fields": ["name"],
                "include": [{"relation": "posts", "scope": {"fields": ["title"], "order": "views DESC",
                    "include": [{"relation": "comments", "scope": {"fields": ["body"], "order": "body"}}]}}]
            }),
            3,
        ),
        (
            &app.users,
            json!({"order": "name", "fields": ["name"], "include": [{"relation": "posts",
            "shouldSkipDefaultFilter": true,
            "scope": {"fields": ["title"], "order": "views", "limit": 1, "skip": 2}}]}),
            2,
        ),
        (
            &app.posts,
            json!({"order": "id", "include": ["author", "comments"]}),
            3,
        ),
        (
            &app.comments,
            json!({"order": "id",
            "include": [{"relation": "post", "scope": {"fields": ["title", "secret"]}}]}),
            2,
        ),
        (
            &app.users,
            json!({"where": {"name": "nobody"}, "include": ["posts"]}),
            1,
        ),
    ];
    for (repo, filter, queries) in &cases {
        let dynamic = repo.find(filter).unwrap();
        let mut conn = app.ds.connection().unwrap();
        let mut counting = ignis_tests::Recording::new(&mut conn);
        let typed: Vec<Value> = repo.on(&mut counting).find_as(filter).unwrap();
        assert_eq!(typed, dynamic, "{filter}");
        assert_eq!(
            counting.statements.len(),
            *queries,
            "{filter}: one query per level: {:#?}",
            counting.statements
        );
    }

    // Into Rust types: nested Vec, Option<Vec>, a one relation as Option<T> (None when the
    // related row is filtered out by its default filter).
    let users: Vec<UserWithPosts> = app.users.find_as(&cases[0].1).unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(users[0].name, "Ada");
    let ada_posts = users[0].posts.as_ref().unwrap();
    assert_eq!(ada_posts[0].title, "beta");
    assert_eq!(
        ada_posts[0].comments,
        vec![
            CommentRow {
                body: format!("c0 on {}", post_ids[1])
            },
            CommentRow {
                body: format!("c1 on {}", post_ids[1])
            }
        ]
    );
    assert_eq!(users[2].posts, Some(Vec::new()));
    let posts: Vec<PostWithAuthor> = app
        .posts
        .find_as(&json!({"where": {"title": "Delta"}, "include": ["author"]}))
        .unwrap();
    assert_eq!(posts[0].author.as_ref().unwrap().id, ids[1]);
    assert_eq!(posts[0].author.as_ref().unwrap().name, "Bob");
    #[derive(Debug, serde::Deserialize)]
    struct CommentWithPost {
        post: Option<PostWithAuthor>,
    }
    let comments: Vec<CommentWithPost> = app
        .comments
        .find_as(&json!({"order": "id", "include": [{"relation": "post", "scope": {"include": ["author"]}}]}))
        .unwrap();
    assert_eq!(comments.len(), 6);
    let on_gamma: Vec<&CommentWithPost> = comments.iter().filter(|c| c.post.is_none()).collect();
    assert_eq!(
        on_gamma.len(),
        3,
        "comments on the soft-deleted post have no post"
    );
    assert!(comments
        .iter()
        .filter_map(|c| c.post.as_ref())
        .all(|p| p.author.as_ref().is_some_and(|a| a.name == "Ada")));
}

#[test]
fn find_by_id_as_and_find_one_as_agree_with_their_dynamic_forms() {
    let app = app();
    let ids = seed(&app);
    let posts = app.posts.find(&json!({"order": "views"})).unwrap();
    let pid = posts[0]["id"].clone();
    let comment = app
        .comments
        .create(&json!({"postId": pid, "body": "first"}))
        .unwrap()
        .data
        .unwrap();
    let cid = comment["id"].clone();
    app.posts.soft_delete_by_id(&posts[1]["id"]).unwrap();

    // Comment has no default filter: the one-statement path; Post has one: the general path.
    let cases = [
        (&app.comments, cid.clone(), json!({})),
        (&app.comments, cid.clone(), Value::Null),
        (&app.comments, cid.clone(), json!({"fields": ["body"]})),
        (
            &app.comments,
            cid.clone(),
            json!({"include": [{"relation": "post", "scope": {"include": ["author"]}}]}),
        ),
        (&app.comments, json!(987_654), json!({})),
        (&app.comments, Value::Null, json!({})),
        (&app.posts, pid.clone(), json!({"include": ["comments"]})),
        (&app.posts, posts[1]["id"].clone(), json!({})),
        (&app.users, json!(ids[2]), json!({"include": ["posts"]})),
    ];
    for (repo, id, filter) in &cases {
        let dynamic = repo.find_by_id_with(id, filter).unwrap();
        let typed: Option<Value> = repo.find_by_id_as(id, filter).unwrap();
        assert_eq!(typed, dynamic, "{id} {filter}");
    }
    assert!(app
        .posts
        .find_by_id_as::<Value>(&posts[1]["id"], &json!({}))
        .unwrap()
        .is_none());
    let typed: CommentRow = app
        .comments
        .find_by_id_as(&cid, &json!({}))
        .unwrap()
        .unwrap();
    assert_eq!(typed.body, "first");
    let err = app
        .comments
        .find_by_id_as::<Value>(&json!("not a number"), &json!({}))
        .unwrap_err();
    assert_eq!(err.kind(), "filter", "{err}");

    let one: Option<PostWithComments> = app
        .posts
        .find_one_as(&json!({"where": {"id": pid}, "include": ["comments"]}))
        .unwrap();
    let one = one.unwrap();
    assert_eq!(
        one.comments,
        vec![CommentRow {
            body: "first".into()
        }]
    );
    let dynamic = app.posts.find_one(&json!({"order": "views DESC"})).unwrap();
    let typed: Option<Value> = app
        .posts
        .find_one_as(&json!({"order": "views DESC"}))
        .unwrap();
    assert_eq!(typed, dynamic);
    assert!(app
        .posts
        .find_one_as::<Value>(&json!({"where": {"title": "none"}}))
        .unwrap()
        .is_none());
}

impl ignis_repo::FromRow for CommentRow {
    fn from_row(row: &ignis_repo::RowRef<'_>) -> Result<Self, RepoError> {
        Ok(CommentRow {
            body: row.get("body")?,
        })
    }
}

impl ignis_repo::FromRow for PostWithComments {
    fn from_row(row: &ignis_repo::RowRef<'_>) -> Result<Self, RepoError> {
        Ok(PostWithComments {
            title: row.get("title")?,
            comments: row.many("comments")?,
        })
    }
}

impl ignis_repo::FromRow for UserWithPosts {
    fn from_row(row: &ignis_repo::RowRef<'_>) -> Result<Self, RepoError> {
        Ok(UserWithPosts {
            name: row.get("name")?,
            posts: Some(row.many("posts")?),
        })
    }
}

impl ignis_repo::FromRow for UserRow {
    fn from_row(row: &ignis_repo::RowRef<'_>) -> Result<Self, RepoError> {
        Ok(UserRow {
            id: row.get("id")?,
            name: row.get("name")?,
            email: row.get("email")?,
            created_at: row.get("createdAt")?,
            parent_id: row.get("parentId")?,
        })
    }
}

impl ignis_repo::FromRow for PostWithAuthor {
    fn from_row(row: &ignis_repo::RowRef<'_>) -> Result<Self, RepoError> {
        Ok(PostWithAuthor {
            title: row.get("title")?,
            author: row.one("author")?,
        })
    }
}

#[test]
fn from_row_types_read_what_serde_types_read_in_the_same_queries() {
    let app = app();
    let ids = seed(&app);
    let post_ids = seed_comments(&app);

    let nested = json!({
        "where": {"name": {"inq": ["Ada", "Bob", "Cy"]}}, "order": "name", "fields": ["name"],
        "include": [{"relation": "posts", "scope": {"fields": ["title"], "order": "views DESC",
            "include": [{"relation": "comments", "scope": {"order": "body", "limit": 1, "skip": 1}}]}}]
    });
    let mut conn = app.ds.connection().unwrap();
    let mut counting = ignis_tests::Recording::new(&mut conn);
    let by_hand: Vec<UserWithPosts> = app.users.on(&mut counting).find_into(&nested).unwrap();
    assert_eq!(counting.statements.len(), 3, "one query per level");
    let by_serde: Vec<UserWithPosts> = app.users.find_as(&nested).unwrap();
    assert_eq!(by_hand, by_serde);
    assert_eq!(by_hand[0].posts.as_ref().unwrap()[0].comments.len(), 1);

    let with_author = json!({"order": "id", "include": ["author"]});
    let by_hand: Vec<PostWithAuthor> = app.posts.find_into(&with_author).unwrap();
    let by_serde: Vec<PostWithAuthor> = app.posts.find_as(&with_author).unwrap();
    assert_eq!(by_hand, by_serde);
    assert_eq!(by_hand.len(), 5, "the soft-deleted post stays out");

    // Timestamps and nullable columns decode natively; the by-id statement and the general path.
    let users: Vec<UserRow> = app.users.find_into(&json!({"order": "name"})).unwrap();
    let serde_users: Vec<UserRow> = app.users.find_as(&json!({"order": "name"})).unwrap();
    assert_eq!(users, serde_users);
    let one: UserRow = app
        .users
        .find_by_id_into(&json!(ids[1]), &json!({}))
        .unwrap()
        .unwrap();
    assert_eq!(one, serde_users[1]);
    let post: PostWithComments = app
        .posts
        .find_by_id_into(&json!(post_ids[1]), &json!({"include": ["comments"]}))
        .unwrap()
        .unwrap();
    assert_eq!(post.comments.len(), 2);
    assert!(app
        .posts
        .find_by_id_into::<PostWithComments>(&json!(post_ids[2]), &json!({"include": ["comments"]}))
        .unwrap()
        .is_none());

    // Errors name the problem: a property left out by fields, a hidden one, a relation not
    // included, a type that does not fit.
    let err = app
        .users
        .find_into::<UserRow>(&json!({"fields": ["name"]}))
        .unwrap_err();
    assert!(
        matches!(&err, RepoError::Decode { property, .. } if property == "id"),
        "{err}"
    );
    #[derive(Debug)]
    struct Secret(#[allow(dead_code)] Option<String>);
    impl ignis_repo::FromRow for Secret {
        fn from_row(row: &ignis_repo::RowRef<'_>) -> Result<Self, RepoError> {
            Ok(Secret(row.get("secret")?))
        }
    }
    let err = app.posts.find_into::<Secret>(&json!({})).unwrap_err();
    assert!(
        matches!(&err, RepoError::Decode { property, .. } if property == "secret"),
        "{err}"
    );
    let err = app
        .posts
        .find_into::<PostWithComments>(&json!({}))
        .unwrap_err();
    assert!(
        matches!(&err, RepoError::Relation { relation, .. } if relation == "comments"),
        "{err}"
    );
    #[derive(Debug)]
    struct Views(#[allow(dead_code)] String);
    impl ignis_repo::FromRow for Views {
        fn from_row(row: &ignis_repo::RowRef<'_>) -> Result<Self, RepoError> {
            Ok(Views(row.get("views")?))
        }
    }
    let err = app.posts.find_into::<Views>(&json!({})).unwrap_err();
    assert!(
        matches!(&err, RepoError::Decode { property, .. } if property == "views"),
        "{err}"
    );
}

// ------------------------------------------------------------------------------------------------
// Writes and lookups by id on every column type

/// `create`, `create_all` (INSERT, and binary COPY for large batches without returned rows),
/// `update_by_id` and `find_by_id` on a model with every column type COPY takes, jsonb, soft
/// delete, user audit and a hidden property: what they store, what they return, the statements
/// they issue, and what they refuse.
mod writes_and_lookups {
    use super::*;
    use ignis_schema::enrich::UserAuditOptions;
    use ignis_tests::Recording;
    use ignis_tx::Executor;

    /// `Item`: every column type the COPY path takes, plus jsonb (which it does not), soft delete,
    /// user audit and a hidden property; `Tag`: a `one` relation target shared by many items.
    fn batch_schema() -> Arc<Schema> {
        let item = Model::new("Item")
            .table("write_items")
            .enrich(Enricher::Id(IdOptions::number()))
            .enrich(Enricher::Tz(TzOptions::with_deleted()))
            .enrich(Enricher::UserAudit(UserAuditOptions::default()))
            .column(Column::new("name", PgType::Text).not_null())
            .column(Column::new("code", PgType::Varchar(Some(10))))
            .column(Column::new("letters", PgType::Char(3)))
            .column(Column::new("qty", PgType::Integer))
            .column(Column::new("small", PgType::SmallInt))
            .column(Column::new("big", PgType::BigInt))
            .column(Column::new("ratio", PgType::Real))
            .column(Column::new("price", PgType::DoublePrecision))
            .column(Column::new("active", PgType::Boolean))
            .column(Column::new("tagId", PgType::Integer))
            .column(Column::new("meta", PgType::Jsonb))
            .column(Column::new("secret", PgType::Text))
            .hide(["secret"])
            .relation(Relation::one("tag", "Tag", ["tagId"], ["id"]))
            .default_filter(json!({"where": {"deletedAt": null}}));
        let tag = Model::new("Tag")
            .table("write_tags")
            .enrich(Enricher::Id(IdOptions::number()))
            .column(Column::new("label", PgType::Text).not_null())
            .relation(Relation::many("items", "Item", ["id"], ["tagId"]));
        Arc::new(Schema::new(vec![item, tag]).unwrap())
    }

    struct BatchApp {
        _db: TestDb,
        ds: DataSource,
        items: DefaultCrudRepository,
        tags: DefaultCrudRepository,
    }

    fn batch_app() -> BatchApp {
        let db = TestDb::new();
        let schema = batch_schema();
        let ds = db.migrated(&schema);
        BatchApp {
            items: DefaultCrudRepository::new(ds.clone(), schema.clone(), "Item").unwrap(),
            tags: DefaultCrudRepository::new(ds.clone(), schema, "Tag").unwrap(),
            ds,
            _db: db,
        }
    }

    /// Row `i` of a batch: every COPY-able type, with nulls every seventh row.
    fn batch_item(i: usize, batch: &str) -> Value {
        let null = i % 7 == 3;
        let or_null = |v: Value| if null { Value::Null } else { v };
        json!({
            "name": format!("{batch} {i}"),
            "code": or_null(json!(format!("c{}", i % 1000))),
            "letters": or_null(json!("ab")),
            "qty": or_null(json!(i)),
            "small": or_null(json!(i % 300)),
            "big": or_null(json!(5_000_000_000i64 + i as i64)),
            "ratio": or_null(json!(0.5)),
            "price": or_null(json!(i as f64 / 4.0)),
            "active": or_null(json!(i.is_multiple_of(2))),
            "secret": "s",
        })
    }

    /// The rows of a batch as stored, without the columns the database fills.
    fn batch_stored(app: &BatchApp, batch: &str) -> Vec<Value> {
        app.items
            .find(&json!({
                "where": {"name": {"like": format!("{batch} %")}},
                "order": "qty",
                "fields": {"id": false, "createdAt": false, "modifiedAt": false}
            }))
            .unwrap()
            .into_iter()
            .map(|mut r| {
                // Names sort as text; give both batches the same names to compare them.
                r["name"] = json!(r["name"].as_str().unwrap().split_once(' ').unwrap().1);
                r
            })
            .collect()
    }

    /// Row `i` of a batch whose values are written in other forms than their columns' own,
    /// which the filter language's coercion accepts: numbers for text, numeric strings and
    /// integral floats for integers, words for booleans.
    fn coerced_item(i: usize, batch: &str) -> Value {
        let mut v = batch_item(i, batch);
        match i % 5 {
            0 => v["code"] = json!(42),
            1 => v["qty"] = json!(format!(" {i} ")),
            2 => v["small"] = json!(3.0),
            3 => v["active"] = json!("yes"),
            _ => v["big"] = json!("5000000001"),
        }
        v
    }

    #[test]
    fn copied_batches_coerce_values_as_insert_does() {
        let app = batch_app();
        let count_only = app.items.should_return(false);
        let mut conn = app.ds.connection().unwrap();

        let big: Vec<Value> = (0..1200).map(|i| coerced_item(i, "copy")).collect();
        let mut rec = Recording::new(&mut conn);
        assert_eq!(
            count_only.on(&mut rec).create_all(&big).unwrap().count,
            1200
        );
        assert_eq!(
            (rec.client_calls, rec.inserts()),
            (1, 0),
            "{:#?}",
            rec.statements
        );
        let same: Vec<Value> = (0..1200).map(|i| coerced_item(i, "insert")).collect();
        let mut rec = Recording::new(&mut conn);
        assert_eq!(
            app.items.on(&mut rec).create_all(&same).unwrap().count,
            1200
        );
        assert_eq!((rec.client_calls, rec.inserts()), (0, 1));
        let by_names = |batch: &str| {
            let mut rows = batch_stored(&app, batch);
            rows.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            rows
        };
        let copied = by_names("copy");
        assert_eq!(copied.len(), 1200);
        assert_eq!(copied, by_names("insert"));
        let by_name = |n: &str| copied.iter().find(|r| r["name"] == json!(n)).unwrap();
        assert_eq!(by_name("5")["code"], json!("42"));
        assert_eq!(by_name("6")["qty"], json!(6));
        assert_eq!(by_name("8")["active"], json!(true));

        // A value that does not coerce fails the batch with the error a small batch gets,
        // and writes nothing.
        let mut bad: Vec<Value> = (0..1200).map(|i| batch_item(i, "bad")).collect();
        bad[700]["code"] = json!("a\u{0}b");
        let big_err = count_only.create_all(&bad).unwrap_err().to_string();
        let small_err = count_only
            .create_all(&bad[699..701])
            .unwrap_err()
            .to_string();
        assert_eq!(big_err, small_err);
        assert!(batch_stored(&app, "bad").is_empty());
    }

    #[test]
    fn large_create_all_batches_are_copied_and_store_what_insert_stores() {
        let app = batch_app();
        let count_only = app.items.should_return(false);

        // 1,500 rows: COPY (the raw client, no INSERT).
        let big: Vec<Value> = (0..1500).map(|i| batch_item(i, "copy")).collect();
        let mut conn = app.ds.connection().unwrap();
        let mut rec = Recording::new(&mut conn);
        let r = count_only.on(&mut rec).create_all(&big).unwrap();
        assert_eq!(r.count, 1500);
        assert!(r.data.is_empty());
        assert_eq!(rec.client_calls, 1, "{:#?}", rec.statements);
        assert_eq!(rec.inserts(), 0, "{:#?}", rec.statements);

        // The same rows through INSERT .. unnest (rows returned), for comparison.
        let same: Vec<Value> = (0..1500).map(|i| batch_item(i, "insert")).collect();
        let mut rec = Recording::new(&mut conn);
        let r = app.items.on(&mut rec).create_all(&same).unwrap();
        assert_eq!((r.count, r.data.len()), (1500, 1500));
        assert_eq!(rec.client_calls, 0);
        assert_eq!(rec.inserts(), 1);
        assert!(r.data.iter().all(|d| d.get("secret").is_none()));

        let copied = batch_stored(&app, "copy");
        assert_eq!(copied.len(), 1500);
        assert_eq!(copied, batch_stored(&app, "insert"));
        let by_name = |n: &str| copied.iter().find(|r| r["name"] == json!(n)).unwrap();
        assert_eq!(by_name("3")["qty"], Value::Null);
        assert_eq!(by_name("3")["code"], Value::Null);
        assert_eq!(by_name("5")["letters"], json!("ab "));
        assert_eq!(by_name("5")["big"], json!(5_000_000_005i64));
        assert_eq!(by_name("5")["ratio"], json!(0.5));
        assert_eq!(by_name("5")["createdBy"], Value::Null);
        let secret: String = conn
            .query_one("SELECT secret FROM write_items LIMIT 1", &[])
            .unwrap()
            .get(0);
        assert_eq!(secret, "s");

        // Below the threshold, or with a column COPY does not take (jsonb), or with an actor
        // whose type is fine: INSERT, COPY and INSERT respectively, all correct.
        let mut rec = Recording::new(&mut conn);
        let small: Vec<Value> = (0..999).map(|i| batch_item(i, "small")).collect();
        assert_eq!(
            count_only.on(&mut rec).create_all(&small).unwrap().count,
            999
        );
        assert_eq!((rec.client_calls, rec.inserts()), (0, 1));
        let mut rec = Recording::new(&mut conn);
        let with_json: Vec<Value> = (0..1200)
            .map(|i| {
                let mut v = batch_item(i, "json");
                v["meta"] = json!({"i": i});
                v
            })
            .collect();
        assert_eq!(
            count_only
                .on(&mut rec)
                .create_all(&with_json)
                .unwrap()
                .count,
            1200
        );
        assert_eq!((rec.client_calls, rec.inserts()), (0, 1));
        let mut rec = Recording::new(&mut conn);
        let audited: Vec<Value> = (0..1200).map(|i| batch_item(i, "audited")).collect();
        let r = count_only
            .with_actor(42)
            .on(&mut rec)
            .create_all(&audited)
            .unwrap();
        assert_eq!(r.count, 1200);
        assert_eq!(rec.client_calls, 1);
        let row = app
            .items
            .find_one(&json!({"where": {"name": "audited 7"}}))
            .unwrap()
            .unwrap();
        assert_eq!(
            (row["createdBy"].clone(), row["modifiedBy"].clone()),
            (json!(42), json!(42))
        );
    }

    #[test]
    fn a_failed_copy_fails_the_transaction_like_a_failed_insert() {
        let app = batch_app();
        let count_only = app.items.should_return(false);
        let mut rows: Vec<Value> = (0..1500).map(|i| batch_item(i, "bad")).collect();
        rows[1200]["name"] = Value::Null; // NOT NULL violation on the server

        // Outside a transaction: the error, and nothing written.
        let err = count_only.create_all(&rows).unwrap_err();
        match &err {
            RepoError::Database(e) => assert_eq!(e.sqlstate(), Some("23502"), "{err}"),
            other => panic!("not a database error: {other}"),
        }
        assert_eq!(app.items.count(&json!({})).unwrap(), 0);

        // Inside one: the error, and COMMIT refuses (25P02) instead of silently rolling back.
        let mut tx = app.ds.begin(TransactionOptions::default()).unwrap();
        app.items
            .on(&mut tx)
            .create(&json!({"name": "before"}))
            .unwrap();
        let err = count_only.on(&mut tx).create_all(&rows).unwrap_err();
        assert!(matches!(err, RepoError::Database(_)), "{err}");
        let commit = tx.commit().unwrap_err();
        assert_eq!(commit.sqlstate(), Some("25P02"), "{commit}");
        assert_eq!(app.items.count(&json!({})).unwrap(), 0);

        // The pool's connection is fine afterwards.
        assert_eq!(count_only.create_all(&rows[..1100]).unwrap().count, 1100);
    }

    #[test]
    fn tables_with_row_level_security_are_never_copied() {
        let app = batch_app();
        let mut conn = app.ds.connection().unwrap();
        conn.batch_execute("ALTER TABLE write_items ENABLE ROW LEVEL SECURITY")
            .unwrap();
        // A new repository asks the catalog afresh.
        let items = DefaultCrudRepository::new(app.ds.clone(), app.items.schema().clone(), "Item")
            .unwrap()
            .should_return(false);
        let rows: Vec<Value> = (0..1500).map(|i| batch_item(i, "rls")).collect();
        let mut rec = Recording::new(&mut conn);
        assert_eq!(items.on(&mut rec).create_all(&rows).unwrap().count, 1500);
        assert_eq!((rec.client_calls, rec.inserts()), (0, 1));
    }

    /// A filter with a where that restricts nothing.
    fn neutral_where() -> Value {
        json!({"where": {"id": {"neq": null}}})
    }

    #[test]
    fn find_by_id_without_a_filter_answers_as_with_one() {
        let app = batch_app();
        let created = app
            .items
            .create(&json!({"name": "a", "qty": 3, "meta": {"k": [1, 2]}, "secret": "x"}))
            .unwrap()
            .data
            .unwrap();
        let id = created["id"].clone();
        assert!(created.get("secret").is_none());
        assert_eq!(created["meta"], json!({"k": [1, 2]}));

        // No filter (`null`, `{}`) and a where that restricts nothing: the same row, the one
        // `create` returned.
        let bare = app.items.find_by_id(&id).unwrap().unwrap();
        let bare_obj = app.items.find_by_id(&id).unwrap().unwrap();
        let with_where = app
            .items
            .find_by_id_with(&id, &neutral_where())
            .unwrap()
            .unwrap();
        assert_eq!(bare, with_where);
        assert_eq!(bare_obj, with_where);
        assert_eq!(bare, created);

        // Ids are taken alike with and without a where: a value no id can be fails the same way,
        // null and unknown ids find nothing.
        for bad in [json!("abc"), json!(1.5), json!([1]), json!({"a": 1})] {
            let a = app.items.find_by_id(&bad).map_err(|e| e.to_string());
            let b = app
                .items
                .find_by_id_with(&bad, &neutral_where())
                .map_err(|e| e.to_string());
            assert_eq!(a, b, "{bad}");
        }
        assert_eq!(app.items.find_by_id(&Value::Null).unwrap(), None);
        assert_eq!(app.items.find_by_id(&json!(999_999)).unwrap(), None);

        // `fields` (with order / limit / skip), with and without a where: the same answer.
        for fields in [
            json!({"fields": ["name", "qty"]}),
            json!({"fields": {"secret": true, "name": true}}),
            json!({"fields": {"meta": false}, "order": "name DESC", "limit": 5, "skip": 3}),
            json!({"fields": []}),
        ] {
            let bare = app.items.find_by_id_with(&id, &fields).unwrap();
            let mut with_where = fields.clone();
            with_where["where"] = neutral_where()["where"].clone();
            let restricted = app.items.find_by_id_with(&id, &with_where).unwrap();
            assert_eq!(bare, restricted, "{fields}");
        }
        assert_eq!(
            app.items
                .find_by_id_with(&id, &json!({"fields": ["name"]}))
                .unwrap()
                .unwrap(),
            json!({"name": "a"})
        );
        let unknown = app
            .items
            .find_by_id_with(&id, &json!({"fields": ["nope"]}))
            .unwrap_err();
        assert!(matches!(unknown, RepoError::Filter(_)), "{unknown}");

        // Without a default filter to apply, a filter of only `fields` reads the row by its key
        // directly: the same answers as a find of that key with those fields, hidden
        // properties left out, errors alike.
        let skip = app.items.skip_default_filter();
        for fields in [
            json!(["name", "qty"]),
            json!({"secret": true, "name": true}),
            json!({"meta": false}),
            json!([]),
        ] {
            let by_id = skip
                .find_by_id_with(&id, &json!({"fields": fields}))
                .unwrap()
                .unwrap();
            let found = skip
                .find_one(&json!({"where": {"id": id}, "fields": fields}))
                .unwrap()
                .unwrap();
            assert_eq!(by_id, found, "{fields}");
            assert!(by_id.get("secret").is_none(), "{fields}");
        }
        assert_eq!(
            skip.find_by_id_with(&id, &json!({"fields": ["name"]}))
                .unwrap()
                .unwrap(),
            json!({"name": "a"})
        );
        assert_eq!(
            skip.find_by_id_with(&json!(999_999), &json!({"fields": ["name"]}))
                .unwrap(),
            None
        );
        let unknown = skip
            .find_by_id_with(&id, &json!({"fields": ["nope"]}))
            .unwrap_err();
        assert!(matches!(unknown, RepoError::Filter(_)), "{unknown}");
        let bad = skip
            .find_by_id_with(&json!("abc"), &json!({"fields": ["name"]}))
            .map_err(|e| e.to_string());
        let bad_where = skip
            .find_by_id_with(
                &json!("abc"),
                &json!({"fields": ["name"], "where": {"id": {"neq": null}}}),
            )
            .map_err(|e| e.to_string());
        assert_eq!(bad, bad_where);

        // The default filter (soft delete) still applies, and skipping it still works.
        app.items.soft_delete_by_id(&id).unwrap();
        assert_eq!(app.items.find_by_id(&id).unwrap(), None);
        let hidden_row = app
            .items
            .skip_default_filter()
            .find_by_id(&id)
            .unwrap()
            .unwrap();
        assert!(hidden_row["deletedAt"].is_string());
        assert!(hidden_row.get("secret").is_none());

        // Inside a transaction too.
        let tag = app
            .tags
            .create(&json!({"label": "t"}))
            .unwrap()
            .data
            .unwrap();
        let tx_row = app
            .ds
            .transaction(TransactionOptions::default(), |tx| {
                app.tags.on(tx).find_by_id(&tag["id"])
            })
            .unwrap();
        assert_eq!(tx_row, Some(tag));
    }

    #[test]
    fn create_writes_and_refuses_bad_data() {
        let app = batch_app();
        let row = app
            .items
            .with_actor(7)
            .create(&json!({"name": "n", "code": "x", "meta": [1, {"a": null}], "price": 2}))
            .unwrap()
            .data
            .unwrap();
        assert_eq!(row["createdBy"], json!(7));
        assert_eq!(row["meta"], json!([1, {"a": null}]));
        assert_eq!(row["price"], json!(2.0));
        assert_eq!(app.items.find_by_id(&row["id"]).unwrap().unwrap(), row);

        let unknown = app
            .items
            .create(&json!({"name": "n", "nope": 1}))
            .unwrap_err();
        assert_eq!(unknown.to_string(), "model `Item`: unknown property `nope`");
        let identity = app
            .items
            .create(&json!({"name": "n", "id": 5}))
            .unwrap_err();
        assert!(
            identity.to_string().contains("generated always"),
            "{identity}"
        );
        let wrong = app
            .items
            .create(&json!({"name": "n", "qty": "many"}))
            .unwrap_err();
        assert!(matches!(wrong, RepoError::Filter(_)), "{wrong}");
        let not_object = app.items.create(&json!([1])).unwrap_err();
        assert!(
            not_object.to_string().contains("JSON object"),
            "{not_object}"
        );
        // Only defaults.
        let tags_default = app.tags.create(&json!({}));
        assert!(tags_default.is_err(), "label is NOT NULL without a default");
    }

    #[test]
    fn update_by_id_writes_and_refuses_bad_data() {
        let app = batch_app();
        let row = app
            .items
            .create(&json!({"name": "u", "qty": 1, "meta": {"a": {"b": 1}}}))
            .unwrap()
            .data
            .unwrap();
        let id = row["id"].clone();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let updated = app
            .items
            .with_actor(9)
            .update_by_id(&id, &json!({"qty": 2, "code": null, "meta": {"x": true}}))
            .unwrap();
        assert_eq!(updated.count, 1);
        let updated = updated.data.unwrap();
        assert_eq!(
            (
                updated["qty"].clone(),
                updated["code"].clone(),
                updated["meta"].clone()
            ),
            (json!(2), Value::Null, json!({"x": true}))
        );
        assert_eq!(updated["modifiedBy"], json!(9));
        assert_eq!(updated["createdBy"], Value::Null);
        assert_ne!(updated["modifiedAt"], row["modifiedAt"]);
        assert!(updated.get("secret").is_none());
        assert_eq!(app.items.find_by_id(&id).unwrap().unwrap(), updated);

        // modifiedAt / modifiedBy given explicitly win; count-only handles return no row.
        let r = app
            .items
            .should_return(false)
            .update_by_id(
                &id,
                &json!({"modifiedBy": 3, "modifiedAt": "2020-01-02T03:04:05Z"}),
            )
            .unwrap();
        assert_eq!((r.count, r.data), (1, None));
        let now = app.items.find_by_id(&id).unwrap().unwrap();
        assert_eq!(now["modifiedBy"], json!(3));
        assert_eq!(now["modifiedAt"], json!("2020-01-02T03:04:05Z"));

        // JSON paths work on the same repository.
        let r = app
            .items
            .update_by_id(&id, &json!({"meta.y.z": 1, "qty": 4}))
            .unwrap()
            .data
            .unwrap();
        assert_eq!(r["meta"], json!({"x": true, "y": {"z": 1}}));

        // Refusals and misses.
        let identity = app.items.update_by_id(&id, &json!({"id": 1})).unwrap_err();
        assert!(
            identity.to_string().contains("generated always"),
            "{identity}"
        );
        let wrong = app
            .items
            .update_by_id(&id, &json!({"qty": "x"}))
            .unwrap_err();
        assert!(matches!(wrong, RepoError::Filter(_)), "{wrong}");
        let bad_id = app
            .items
            .update_by_id(&json!("abc"), &json!({"qty": 1}))
            .unwrap_err();
        assert!(matches!(bad_id, RepoError::Filter(_)), "{bad_id}");
        let unknown = app
            .items
            .update_by_id(&id, &json!({"nope": 1}))
            .unwrap_err();
        assert!(unknown.to_string().contains("nope"), "{unknown}");
        let missing = app
            .items
            .update_by_id(&json!(999_999), &json!({"qty": 1}))
            .unwrap();
        assert_eq!((missing.count, missing.data), (0, None));
        let null_id = app
            .items
            .update_by_id(&Value::Null, &json!({"qty": 1}))
            .unwrap_err();
        assert!(
            matches!(null_id, RepoError::InvalidData { .. }),
            "{null_id}"
        );
        // A soft-deleted row is not updated (default filter), unless it is skipped.
        app.items.soft_delete_by_id(&id).unwrap();
        assert_eq!(
            app.items
                .update_by_id(&id, &json!({"qty": 5}))
                .unwrap()
                .count,
            0
        );
        assert_eq!(
            app.items
                .skip_default_filter()
                .update_by_id(&id, &json!({"qty": 5}))
                .unwrap()
                .count,
            1
        );
        // Inside a transaction that rolls back, nothing stays.
        let tag = app
            .tags
            .create(&json!({"label": "t"}))
            .unwrap()
            .data
            .unwrap();
        let mut tx = app.ds.begin(TransactionOptions::default()).unwrap();
        app.tags
            .on(&mut tx)
            .update_by_id(&tag["id"], &json!({"label": "changed"}))
            .unwrap();
        tx.rollback().unwrap();
        assert_eq!(
            app.tags.find_by_id(&tag["id"]).unwrap().unwrap()["label"],
            json!("t")
        );
    }
}

/// A write by id states the key alone (`WHERE "id" = $n`) when no default filter applies to it,
/// merges the default filter's where when one does, and finds the same rows either way.
#[test]
fn by_id_writes_state_the_key_or_merge_the_default_filter() {
    let app = app();
    let ids = seed(&app);
    let post = app
        .posts
        .find(&json!({"order": "views", "limit": 1}))
        .unwrap()[0]["id"]
        .clone();

    let mut conn = app.ds.connection().unwrap();
    let mut rec = ignis_tests::Recording::new(&mut conn);
    let updated = app
        .users
        .on(&mut rec)
        .update_by_id(&json!(ids[0]), &json!({"name": "Ada K."}))
        .unwrap();
    assert_eq!(updated.data.unwrap()["name"], json!("Ada K."));
    // The model's default filter applies: merged with the key.
    let touched = app
        .posts
        .on(&mut rec)
        .update_by_id(&post, &json!({"views": 11}))
        .unwrap();
    assert_eq!(touched.count, 1);
    app.posts.on(&mut rec).soft_delete_by_id(&post).unwrap();
    // Skipped default filter, and restore (which always skips it): the key alone.
    let skipped = app
        .posts
        .skip_default_filter()
        .on(&mut rec)
        .update_by_id(&post, &json!({"views": 12}))
        .unwrap();
    assert_eq!(skipped.count, 1);
    let restored = app.posts.on(&mut rec).restore_by_id(&post).unwrap();
    assert_eq!(restored.count, 1);
    assert_eq!(restored.data.unwrap()["views"], json!(12));
    let statements = rec.statements.clone();
    let where_of = |s: &String| s.split(" WHERE ").nth(1).unwrap_or("").to_string();
    let wheres: Vec<String> = statements.iter().map(where_of).collect();
    assert!(wheres[0].starts_with("\"id\" = $"), "{statements:?}");
    assert!(wheres[1].contains(" AND "), "{statements:?}");
    assert!(wheres[2].contains(" AND "), "{statements:?}");
    assert!(wheres[3].starts_with("\"id\" = $"), "{statements:?}");
    assert!(!wheres[3].contains(" AND "), "{statements:?}");
    assert!(wheres[4].starts_with("\"id\" = $"), "{statements:?}");
    assert!(!wheres[4].contains(" AND "), "{statements:?}");

    // A key that does not coerce is the filter's error, on either path; a missing row is no
    // row.
    let bad = app
        .posts
        .skip_default_filter()
        .delete_by_id(&json!("abc"))
        .unwrap_err();
    assert!(matches!(bad, RepoError::Filter(_)), "{bad}");
    let none = app
        .posts
        .skip_default_filter()
        .delete_by_id(&json!(999_999))
        .unwrap();
    assert_eq!((none.count, none.data), (0, None));
    let gone = app.users.delete_by_id(&json!(ids[2])).unwrap();
    assert_eq!(gone.count, 1);
    assert!(app.users.find_by_id(&json!(ids[2])).unwrap().is_none());
}

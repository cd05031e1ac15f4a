//! `cargo xtask query` against a real Postgres: every op and option, the range answer, `$date`,
//! transactions (commit, rollback, a failing step, a failing COMMIT) and malformed requests.

use super::*;
use ignis_schema::Schema;
use ignis_tests::TestDb;
use serde_json::json;

/// The example application (User, Configuration with user audit) plus `Post`: integer id,
/// `createdAt` / `modifiedAt` / `deletedAt`, a unique `code`, a `publishedAt` timestamp, and
/// the soft-delete default filter.
fn schema() -> Schema {
    let mut models = ignis_example::schema().models().to_vec();
    let post = Schema::from_json(
        r#"{"models": [{
            "name": "Post",
            "enrichers": [{"kind": "id", "dataType": "number"}, {"kind": "tz", "deleted": {"enable": true}}],
            "columns": [
                {"property": "title", "type": "text", "nullable": false},
                {"property": "code", "type": "text"},
                {"property": "publishedAt", "type": "timestamptz"}
            ],
            "uniques": [{"name": "UQ_Post_code", "columns": ["code"]}],
            "defaultFilter": {"where": {"deletedAt": null}}
        }]}"#,
    )
    .unwrap();
    models.extend(post.models().iter().cloned());
    Schema::new(models).unwrap()
}

struct Setup {
    db: TestDb,
    ctx: Context,
}

impl Setup {
    fn new() -> Self {
        let db = TestDb::new();
        let schema = schema();
        let ds = db.migrated(&schema);
        Setup {
            ctx: Context::new(ds, Arc::new(schema)),
            db,
        }
    }

    fn ask(&mut self, request: Value) -> Value {
        answer(&request.to_string(), &mut self.ctx)
    }

    /// Rows of `"Post"` as another connection sees them, deleted or not.
    fn posts_in_db(&self) -> Vec<(String, bool)> {
        self.db
            .client()
            .query(
                r#"SELECT title, deleted_at IS NOT NULL FROM "Post" ORDER BY title"#,
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }
}

fn titles(rows: &Value) -> Vec<&str> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect()
}

fn owned(titles: &[(&str, bool)]) -> Vec<(String, bool)> {
    titles.iter().map(|(t, d)| (t.to_string(), *d)).collect()
}

#[test]
fn reads_answer_each_line_and_bad_lines_do_not_stop_the_command() {
    let mut s = Setup::new();
    let ada = s.ask(json!({"model": "User", "op": "create", "data": {"name": "Ada", "email": "ada@example.com"}}));
    let ada_id = ada["data"]["id"].clone();
    s.ask(json!({"model": "User", "op": "create", "data": {"name": "Bob", "email": "bob@example.com"}}));

    let r = s.ask(json!({"id": 1, "model": "User", "op": "find",
        "filter": {"where": {"name": {"ilike": "a%"}}, "fields": ["name"]}}));
    assert_eq!(r, json!({"id": 1, "rows": [{"name": "Ada"}]}));
    let r = s.ask(json!({"id": "c", "model": "User", "op": "count", "where": {}}));
    assert_eq!(r, json!({"id": "c", "count": 2}));
    let r = s.ask(
        json!({"id": 2, "model": "User", "op": "findById", "entityId": ada_id,
        "filter": {"fields": ["email"]}}),
    );
    assert_eq!(r, json!({"id": 2, "row": {"email": "ada@example.com"}}));
    let r = s.ask(json!({"id": 3, "model": "User", "op": "existsWith", "where": {"name": "Cy"}}));
    assert_eq!(r, json!({"id": 3, "exists": false}));
    let r =
        s.ask(json!({"id": 4, "model": "User", "op": "findOne", "filter": {"order": "name DESC"}}));
    assert_eq!(r["row"]["name"], "Bob");

    let r = answer("not json", &mut s.ctx);
    assert_eq!(r["error"]["kind"], "malformedRequest");
    let r =
        s.ask(json!({"id": 5, "model": "User", "op": "find", "filter": {"where": {"nope": 1}}}));
    assert_eq!(r["id"], 5);
    assert_eq!(r["error"]["kind"], "unknownField");
    assert!(r["error"]["message"].as_str().unwrap().contains("nope"));
    let r = s.ask(json!({"id": 6, "model": "Nope", "op": "find"}));
    assert_eq!(r["error"]["kind"], "unknownModel");
    let r = s.ask(json!({"id": 7, "model": "User", "op": "drop"}));
    assert_eq!(r["error"]["kind"], "unknownOp");
    let r = s.ask(json!({"id": 8, "model": "User", "op": "count"}));
    assert_eq!(r, json!({"id": 8, "count": 2}));
}

#[test]
fn writes_answer_count_and_data_and_take_their_options() {
    let mut s = Setup::new();
    let r = s.ask(
        json!({"id": 1, "model": "Post", "op": "create", "data": {"title": "a", "code": "A"}}),
    );
    assert_eq!(r["id"], 1);
    assert_eq!(r["count"], 1);
    assert_eq!(r["data"]["title"], "a");
    let a_id = r["data"]["id"].clone();
    assert!(a_id.is_i64());

    let r = s.ask(json!({"id": 2, "model": "Post", "op": "createAll",
        "data": [{"title": "b", "code": "B"}, {"title": "c"}, {"title": "d"}]}));
    assert_eq!(r["count"], 3);
    assert_eq!(titles(&r["data"]), ["b", "c", "d"]);
    let r = s.ask(
        json!({"id": 3, "model": "Post", "op": "create", "data": {"title": "e"},
        "options": {"shouldReturn": false}}),
    );
    assert_eq!(r, json!({"id": 3, "count": 1, "data": null}));

    let r = s.ask(
        json!({"id": 4, "model": "Post", "op": "updateById", "entityId": a_id,
        "data": {"title": "a2"}}),
    );
    assert_eq!(r["count"], 1);
    assert_eq!(r["data"]["title"], "a2");
    let r = s.ask(json!({"id": 5, "model": "Post", "op": "updateAll",
        "data": {"code": "X"}, "where": {"title": {"inq": ["c", "d"]}}}));
    assert_eq!(r["error"]["kind"], "database:23505", "{r}");
    let r = s.ask(json!({"id": 6, "model": "Post", "op": "updateBy",
        "data": {"code": "C"}, "where": {"title": "c"}, "options": {"shouldReturn": false}}));
    assert_eq!(r, json!({"id": 6, "count": 1, "data": null}));

    // An empty where changes every row only when forced.
    let r = s.ask(json!({"id": 7, "model": "Post", "op": "updateAll", "data": {"title": "z"}}));
    assert_eq!(r["error"]["kind"], "emptyWhere");
    let r = s.ask(json!({"id": 8, "model": "Post", "op": "deleteAll", "where": {}}));
    assert_eq!(r["error"]["kind"], "emptyWhere");
    assert_eq!(s.posts_in_db().len(), 5);

    // A DefaultCrud repository deletes rows; a soft-deleted row is out of reach of the default
    // filter unless shouldSkipDefaultFilter.
    let r = s.ask(json!({"id": 9, "model": "Post", "op": "deleteById", "entityId": a_id}));
    assert_eq!(r["count"], 1);
    assert_eq!(r["data"]["title"], "a2");
    let r = s.ask(json!({"id": 10, "model": "Post", "op": "deleteAll", "where": {"title": "b"}}));
    assert_eq!(r["count"], 1);
    assert_eq!(titles(&r["data"]), ["b"]);
    let r = s.ask(
        json!({"id": 11, "model": "Post", "op": "deleteBy", "where": {"title": "c"},
        "options": {"shouldReturn": false}}),
    );
    assert_eq!(r, json!({"id": 11, "count": 1, "data": null}));
    assert_eq!(s.posts_in_db(), owned(&[("d", false), ("e", false)]));

    let r = s.ask(
        json!({"id": 12, "model": "Post", "op": "updateAll", "data": {"title": "z"},
        "options": {"force": true, "shouldReturn": false}}),
    );
    assert_eq!(r, json!({"id": 12, "count": 2, "data": null}));
    s.db.client()
        .batch_execute(
            r#"UPDATE "Post" SET deleted_at = now() WHERE id = (SELECT min(id) FROM "Post")"#,
        )
        .unwrap();
    let r =
        s.ask(json!({"id": 13, "model": "Post", "op": "deleteAll", "options": {"force": true}}));
    assert_eq!(
        r["count"], 1,
        "the default filter keeps the deleted row: {r}"
    );
    let r = s.ask(json!({"id": 14, "model": "Post", "op": "deleteAll",
        "options": {"force": true, "shouldSkipDefaultFilter": true}}));
    assert_eq!(r["count"], 1);
    assert!(s.posts_in_db().is_empty());
}

#[test]
fn soft_deletable_repository_soft_deletes_restores_and_hard_deletes_when_asked() {
    let mut s = Setup::new();
    let r = s.ask(json!({"model": "Post", "op": "createAll",
        "data": [{"title": "a"}, {"title": "b"}, {"title": "c"}, {"title": "d"}]}));
    let ids: Vec<Value> = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    let soft = |op: &str, extra: Value| {
        let mut request =
            json!({"id": op, "model": "Post", "op": op, "repository": "SoftDeletable"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        request
    };

    let r = s.ask(soft("deleteById", json!({"entityId": ids[0]})));
    assert_eq!(r["count"], 1);
    assert!(r["data"]["deletedAt"].is_string(), "{r}");
    let r = s.ask(soft(
        "deleteAll",
        json!({"where": {"title": {"inq": ["b", "c"]}}}),
    ));
    assert_eq!(r["count"], 2);
    assert_eq!(
        s.posts_in_db(),
        owned(&[("a", true), ("b", true), ("c", true), ("d", false)])
    );
    // find hides soft-deleted rows (the model's default filter), unless asked.
    let r = s.ask(json!({"model": "Post", "op": "find", "repository": "SoftDeletable"}));
    assert_eq!(titles(&r["rows"]), ["d"]);
    let r = s
        .ask(json!({"model": "Post", "op": "count", "options": {"shouldSkipDefaultFilter": true}}));
    assert_eq!(r["count"], 4);

    let r = s.ask(soft("restoreById", json!({"entityId": ids[0]})));
    assert_eq!(r["count"], 1);
    assert!(r["data"]["deletedAt"].is_null());
    let r = s.ask(soft(
        "restoreAll",
        json!({"where": {"title": "b"}, "options": {"shouldReturn": false}}),
    ));
    assert_eq!(r, json!({"id": "restoreAll", "count": 1, "data": null}));
    let r = s.ask(soft("restoreAll", json!({})));
    assert_eq!(r["error"]["kind"], "emptyWhere");
    assert_eq!(
        s.posts_in_db(),
        owned(&[("a", false), ("b", false), ("c", true), ("d", false)])
    );

    // shouldHardDelete deletes the rows.
    let r = s.ask(soft(
        "deleteById",
        json!({"entityId": ids[3], "options": {"shouldHardDelete": true}}),
    ));
    assert_eq!(r["count"], 1);
    let r = s.ask(soft(
        "deleteAll",
        json!({"where": {"title": "a"}, "options": {"shouldHardDelete": true}}),
    ));
    assert_eq!(r["count"], 1);
    assert_eq!(s.posts_in_db(), owned(&[("b", false), ("c", true)]));
    let r = s.ask(soft("restoreAll", json!({"options": {"force": true}})));
    assert!(r["count"].is_u64(), "{r}");
    assert_eq!(s.posts_in_db(), owned(&[("b", false), ("c", false)]));

    // restore and shouldHardDelete belong to SoftDeletable; a model without deletedAt cannot
    // soft delete.
    let r = s.ask(json!({"model": "Post", "op": "restoreById", "entityId": ids[1]}));
    assert_eq!(r["error"]["kind"], "unknownOp");
    let r = s.ask(
        json!({"model": "Post", "op": "deleteById", "entityId": ids[1],
        "options": {"shouldHardDelete": true}}),
    );
    assert_eq!(r["error"]["kind"], "malformedRequest");
    let r = s.ask(
        json!({"model": "User", "op": "deleteAll", "repository": "SoftDeletable",
        "where": {"name": "x"}}),
    );
    assert_eq!(r["error"]["kind"], "noSoftDelete");
    let r = s.ask(
        json!({"model": "Post", "op": "create", "repository": "Readable", "data": {"title": "x"}}),
    );
    assert_eq!(r["error"]["kind"], "unknownOp");
    assert_eq!(s.posts_in_db().len(), 2);
}

#[test]
fn find_with_query_range_answers_data_and_range() {
    let mut s = Setup::new();
    let data: Vec<Value> = (0..5).map(|n| json!({"title": format!("p{n}")})).collect();
    s.ask(json!({"model": "Post", "op": "createAll", "data": data}));
    let r = s.ask(json!({"id": 1, "model": "Post", "op": "find",
        "filter": {"order": "title", "skip": 1, "limit": 2, "fields": ["title"]},
        "options": {"shouldQueryRange": true}}));
    assert_eq!(
        r,
        json!({"id": 1, "data": [{"title": "p1"}, {"title": "p2"}],
               "range": {"start": 1, "end": 2, "total": 5}})
    );
    let r = s.ask(json!({"id": 2, "model": "Post", "op": "find",
        "filter": {"where": {"title": "none"}}, "options": {"shouldQueryRange": true}}));
    assert_eq!(
        r,
        json!({"id": 2, "data": [], "range": {"start": 0, "end": 0, "total": 0}})
    );
    let r = s.ask(
        json!({"id": 3, "model": "Post", "op": "count", "options": {"shouldQueryRange": true}}),
    );
    assert_eq!(r["error"]["kind"], "malformedRequest");
}

#[test]
fn actor_fills_the_audit_columns() {
    let mut s = Setup::new();
    let ada =
        s.ask(json!({"model": "User", "op": "create", "data": {"name": "Ada", "email": "a@x"}}));
    let bob =
        s.ask(json!({"model": "User", "op": "create", "data": {"name": "Bob", "email": "b@x"}}));
    let (ada, bob) = (ada["data"]["id"].clone(), bob["data"]["id"].clone());
    let r = s.ask(
        json!({"model": "Configuration", "op": "create", "actor": ada,
        "data": {"code": "c1", "group": "g"}}),
    );
    assert_eq!(r["data"]["createdBy"], ada);
    assert_eq!(r["data"]["modifiedBy"], ada);
    let r = s.ask(
        json!({"model": "Configuration", "op": "updateAll", "actor": bob,
        "data": {"description": "d"}, "where": {"code": "c1"}}),
    );
    assert_eq!(r["data"][0]["createdBy"], ada);
    assert_eq!(r["data"][0]["modifiedBy"], bob);
    let r = s.ask(
        json!({"model": "Configuration", "op": "create", "data": {"code": "c2", "group": "g"}}),
    );
    assert!(r["data"]["createdBy"].is_null());
    let r = s.ask(
        json!({"model": "Configuration", "op": "create", "actor": {"id": 1},
        "data": {"code": "c3", "group": "g"}}),
    );
    assert_eq!(r["error"]["kind"], "malformedRequest");
}

#[test]
fn dates_are_checked_and_reach_the_repository_as_dates() {
    let mut s = Setup::new();
    let r = s.ask(json!({"model": "Post", "op": "createAll", "data": [
        {"title": "old", "publishedAt": {"$date": "2020-06-01T12:00:00Z"}},
        {"title": "new", "publishedAt": {"$date": "2026-06-01T10:00:00.250+02:00"}},
        {"title": "day", "publishedAt": {"$date": "2026-03-01"}}
    ]}));
    assert_eq!(r["count"], 3, "{r}");
    let published: String = s
        .db
        .client()
        .query_one(
            r#"SELECT to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') FROM "Post" WHERE title = 'new'"#,
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(published, "2026-06-01 08:00:00.250");
    let r = s.ask(json!({"model": "Post", "op": "find", "filter": {
        "where": {"publishedAt": {"gte": {"$date": "2026-01-01T00:00:00"}}}, "order": "title"}}));
    assert_eq!(titles(&r["rows"]), ["day", "new"]);
    let r = s.ask(json!({"model": "Post", "op": "count",
        "where": {"publishedAt": {"between": [{"$date": "2020-01-01"}, {"$date": "2021-01-01"}]}}}));
    assert_eq!(r["count"], 1);
    let r = s.ask(json!({"model": "Post", "op": "updateAll", "data": {"publishedAt": {"$date": "2027-01-01T00:00:00Z"}},
        "where": {"title": "old"}}));
    assert_eq!(r["count"], 1);

    for bad in [
        json!({"$date": "2026-13-01"}),
        json!({"$date": "yesterday"}),
        json!({"$date": 1_700_000_000}),
        json!({"$date": "2026-01-01", "x": 1}),
    ] {
        let r = s.ask(json!({"id": "bad", "model": "Post", "op": "count",
            "where": {"publishedAt": {"gt": bad}}}));
        assert_eq!(r["error"]["kind"], "malformedRequest", "{bad}: {r}");
        assert_eq!(r["id"], "bad");
    }
    let r = s.ask(json!({"model": "Post", "op": "create", "data": {"title": "x", "publishedAt": {"$date": "no"}}}));
    assert_eq!(r["error"]["kind"], "malformedRequest");
    assert_eq!(s.posts_in_db().len(), 3);
}

#[test]
fn a_transaction_commits_its_steps() {
    let mut s = Setup::new();
    let r = s.ask(json!({"id": "t", "op": "transaction", "end": "commit",
        "options": {"isolationLevel": "SERIALIZABLE"}, "steps": [
        {"model": "Post", "op": "create", "data": {"title": "a", "code": "A"}},
        {"model": "Post", "op": "createAll", "data": [{"title": "b"}, {"title": "c"}]},
        {"model": "Post", "op": "updateAll", "data": {"code": "B"}, "where": {"title": "b"},
         "options": {"shouldReturn": false}},
        {"model": "Post", "op": "deleteBy", "where": {"title": "c"}, "repository": "SoftDeletable"},
        {"model": "Post", "op": "count"}
    ]}));
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(r["id"], "t");
    assert_eq!(steps.len(), 5, "{r}");
    assert!(steps.iter().all(|a| a.get("id").is_none()));
    assert_eq!(steps[0]["data"]["title"], "a");
    assert_eq!(steps[1]["count"], 2);
    assert_eq!(steps[2], json!({"count": 1, "data": null}));
    assert_eq!(steps[3]["count"], 1);
    assert_eq!(
        steps[4],
        json!({"count": 2}),
        "reads in the transaction see its writes"
    );
    assert_eq!(
        s.posts_in_db(),
        owned(&[("a", false), ("b", false), ("c", true)])
    );
    let r = s.ask(json!({"model": "Post", "op": "count", "where": {"code": "B"}}));
    assert_eq!(r["count"], 1);
}

#[test]
fn a_transaction_ending_in_rollback_leaves_nothing() {
    let mut s = Setup::new();
    s.ask(json!({"model": "Post", "op": "create", "data": {"title": "kept"}}));
    let r = s.ask(json!({"id": 1, "op": "transaction", "end": "rollback", "steps": [
        {"model": "Post", "op": "create", "data": {"title": "a"}},
        {"model": "Post", "op": "updateAll", "data": {"title": "changed"}, "options": {"force": true}},
        {"model": "Post", "op": "find", "filter": {"fields": ["title"]}}
    ]}));
    assert_eq!(
        r,
        json!({"id": 1, "steps": [
            r["steps"][0].clone(),
            {"count": 2, "data": r["steps"][1]["data"].clone()},
            {"rows": [{"title": "changed"}, {"title": "changed"}]}
        ]})
    );
    assert_eq!(r["steps"][0]["count"], 1);
    assert_eq!(s.posts_in_db(), owned(&[("kept", false)]));
}

#[test]
fn a_transaction_stops_at_the_first_failing_step_and_commits_nothing() {
    let mut s = Setup::new();
    let r = s.ask(
        json!({"id": 2, "op": "transaction", "end": "commit", "steps": [
            {"model": "Post", "op": "create", "data": {"title": "a", "code": "A"}},
            {"model": "Post", "op": "create", "data": {"title": "b", "code": "B"}},
            {"model": "Post", "op": "create", "data": {"title": "dup", "code": "A"}},
            {"model": "Post", "op": "create", "data": {"title": "never"}}
        ]}),
    );
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "{r}");
    assert_eq!(steps[0]["count"], 1);
    assert_eq!(steps[1]["count"], 1);
    assert_eq!(steps[2]["error"]["kind"], "database:23505");
    assert!(r.get("error").is_none());
    assert!(s.posts_in_db().is_empty());

    // A malformed step stops it the same way.
    let r = s.ask(
        json!({"id": 3, "op": "transaction", "end": "commit", "steps": [
            {"model": "Post", "op": "create", "data": {"title": "a"}},
            {"model": "Post", "op": "createAll", "data": {"title": "not an array"}},
            {"model": "Post", "op": "create", "data": {"title": "never"}}
        ]}),
    );
    assert_eq!(r["steps"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["steps"][1]["error"]["kind"], "malformedRequest");
    let r = s.ask(
        json!({"id": 4, "op": "transaction", "end": "commit", "steps": [
            {"model": "Post", "op": "create", "data": {"title": "a"}},
            {"id": 9, "model": "Post", "op": "create", "data": {"title": "b"}}
        ]}),
    );
    assert_eq!(r["steps"][1]["error"]["kind"], "malformedRequest");
    let r = s.ask(
        json!({"id": 5, "op": "transaction", "end": "commit", "steps": [
            {"model": "Post", "op": "create", "data": {"title": "a"}},
            {"op": "transaction", "end": "commit", "steps": []}
        ]}),
    );
    assert_eq!(r["steps"][1]["error"]["kind"], "malformedRequest");
    assert!(s.posts_in_db().is_empty());
}

#[test]
fn a_transaction_whose_commit_fails_answers_its_error() {
    let mut s = Setup::new();
    // A deferred constraint trigger: checked at COMMIT, after every step succeeded.
    s.db.client()
        .batch_execute(
            r#"CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF NEW.title = 'boom' THEN
                   RAISE EXCEPTION 'no boom' USING ERRCODE = '23514';
                 END IF;
                 RETURN NULL;
               END $$;
               CREATE CONSTRAINT TRIGGER no_boom AFTER INSERT ON "Post"
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_boom();"#,
        )
        .unwrap();
    let r = s.ask(
        json!({"id": 6, "op": "transaction", "end": "commit", "steps": [
            {"model": "Post", "op": "create", "data": {"title": "fine"}},
            {"model": "Post", "op": "create", "data": {"title": "boom"}}
        ]}),
    );
    assert_eq!(r["id"], 6);
    assert_eq!(r["error"]["kind"], "database:23514", "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("no boom"));
    assert!(r.get("steps").is_none());
    assert!(s.posts_in_db().is_empty());
    // The same steps ending in rollback never reach the check.
    let r = s.ask(
        json!({"id": 7, "op": "transaction", "end": "rollback", "steps": [
            {"model": "Post", "op": "create", "data": {"title": "boom"}}
        ]}),
    );
    assert_eq!(r["steps"][0]["count"], 1, "{r}");
}

#[test]
fn malformed_requests_get_error_lines_and_the_command_goes_on() {
    let s = Setup::new();
    let dir = std::env::temp_dir().join(&s.db.name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("schema.json");
    std::fs::write(&path, s.ctx.schema.to_json()).unwrap();
    // The command's own schema loading, as `--schema FILE` does.
    let schema = Arc::new(crate::migrate::load_schema(Some(&path)).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
    let mut ctx = Context::new(s.ctx.ds.clone(), schema);

    let bad = [
        json!({"id": 1, "model": "Post", "op": "upsert"}),
        json!({"id": 2, "model": "Post", "op": "create"}),
        json!({"id": 3, "model": "Post", "op": "createAll", "data": {"title": "x"}}),
        json!({"id": 4, "model": "Post", "op": "updateById", "data": {"title": "x"}}),
        json!({"id": 5, "model": "Post", "op": "updateById", "entityId": null, "data": {"title": "x"}}),
        json!({"id": 6, "model": "Post", "op": "find", "options": {"shouldQueryRange": "yes"}}),
        json!({"id": 7, "model": "Post", "op": "find", "options": [true]}),
        json!({"id": 8, "model": "Post", "op": "find", "options": {"shouldRetrun": false}}),
        json!({"id": 9, "model": "Post", "op": "find", "where": {"title": "a"}}),
        json!({"id": 10, "model": "Post", "op": "create", "data": {"title": "x"}, "entityId": 1}),
        json!({"id": 11, "model": "Post", "op": 3}),
        json!({"id": 12, "op": "find"}),
        json!({"id": 13, "model": "Post", "op": "find", "repository": "Magic"}),
        json!({"id": 14, "op": "transaction", "steps": []}),
        json!({"id": 15, "op": "transaction", "end": "commit", "steps": {}}),
        json!({"id": 16, "op": "transaction", "end": "maybe", "steps": []}),
        json!({"id": 17, "op": "transaction", "end": "commit", "steps": [],
               "options": {"isolationLevel": "chaotic"}}),
        json!({"id": 18, "op": "transaction", "end": "commit", "steps": [], "model": "Post"}),
        json!({"id": 19, "model": "Post", "op": "create", "data": ["x"]}),
        json!({"id": 20, "model": "Post", "op": "create", "data": {"nope": 5}}),
        json!({"id": 21, "model": "Post", "op": "createAll", "data": [{"title": "x"}, 7]}),
        json!({"id": 22, "model": "Post", "op": "deleteById", "entityId": "not a number"}),
        json!({"id": 23, "model": "Post", "op": "deleteAll", "where": "everything"}),
    ];
    let mut input = Vec::new();
    for request in &bad {
        input.extend_from_slice(request.to_string().as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(b"\n   \n[1, 2]\n\xff\xfe not utf-8\n{\"id\": 99, \"model\": \"Post\", \"op\": \"create\", \"data\": {\"title\": \"last\"}}");
    let mut output = Vec::new();
    serve(&input[..], &mut output, &mut ctx).unwrap();
    let answers: Vec<Value> = String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), bad.len() + 3, "blank lines get no answer");
    for (request, answer) in bad.iter().zip(&answers) {
        assert_eq!(answer["id"], request["id"], "{answer}");
        let expected = match request["id"].as_i64().unwrap() {
            1 => "unknownOp",
            19..=21 => "invalidData",
            22 => "invalidValue",
            23 => "malformed",
            _ => "malformedRequest",
        };
        assert_eq!(answer["error"]["kind"], expected, "{request}: {answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(answers[bad.len()]["error"]["kind"], "malformedRequest");
    assert_eq!(answers[bad.len() + 1]["error"]["kind"], "malformedRequest");
    assert_eq!(answers[bad.len() + 2]["id"], 99);
    assert_eq!(answers[bad.len() + 2]["count"], 1);
    assert_eq!(s.posts_in_db(), owned(&[("last", false)]));
}

#[test]
fn error_messages_quote_a_short_prefix_of_the_input() {
    let mut s = Setup::new();
    let long = "x".repeat(100_000);
    for request in [
        json!({"model": "Post", "op": long}),
        json!({"model": "Post", "op": "find", "options": {long.clone(): true}}),
        json!({"model": "Post", "op": "count", "where": {"publishedAt": {"$date": long}}}),
    ] {
        let r = s.ask(request);
        let message = r["error"]["message"].as_str().unwrap();
        assert!(message.len() < 1_000, "{}", &message[..200]);
    }
}

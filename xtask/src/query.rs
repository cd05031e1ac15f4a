//! `cargo xtask query`: the filter language on the command line, one JSON request per line.
//!
//! Reads JSON lines from stdin, each
//! `{"id": .., "model": "User", "op": "find|findOne|findById|count|existsWith", "filter": {..},
//! "where": {..}, "entityId": .., "options": {"shouldSkipDefaultFilter": bool}}` (the fields the
//! op needs, as the Ignis repository methods take them), and writes one JSON line per request:
//! `{"id": .., "rows": [..]}` (find), `{"id": .., "row": ..}` (findOne, findById),
//! `{"id": .., "count": n}`, `{"id": .., "exists": bool}`, or
//! `{"id": .., "error": {"kind": "..", "message": ".."}}`. A bad line gives an error line; the
//! command goes on with the next one.

use std::collections::HashMap;
use std::error::Error;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use ignis_repo::{ReadableRepository, RepoError};
use ignis_tx::{DataSource, DataSourceConfig};
use serde_json::{json, Value};

/// Options of `cargo xtask query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The schema file (JSON, the `ignis_schema::Schema` format); default: the Ignis example
    /// application's models.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// The database to query; default: DATABASE_URL, else POSTGRES_*, else the local cluster.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

fn error_line(id: &Value, kind: &str, message: impl std::fmt::Display) -> Value {
    json!({"id": id, "error": {"kind": kind, "message": message.to_string()}})
}

fn repo_error_kind(e: &RepoError) -> String {
    match e {
        RepoError::Filter(f) => f.kind().as_str().to_string(),
        RepoError::Database(d) => match d.sqlstate() {
            Some(code) => format!("database:{code}"),
            None => "database".into(),
        },
        RepoError::UnknownModel(_) => "unknownModel".into(),
        other => other.kind().into(),
    }
}

/// Answers one request line.
fn answer(
    line: &str,
    repos: &mut HashMap<String, ReadableRepository>,
    ds: &DataSource,
    schema: &Arc<ignis_schema::Schema>,
) -> Value {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return error_line(&Value::Null, "malformedRequest", e),
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return error_line(&id, "malformedRequest", "`model` (a string) is required");
    };
    let Some(op) = request.get("op").and_then(Value::as_str) else {
        return error_line(&id, "malformedRequest", "`op` (a string) is required");
    };
    let repo = match repos.get(model) {
        Some(r) => r.clone(),
        None => match ReadableRepository::new(ds.clone(), schema.clone(), model) {
            Ok(r) => {
                repos.insert(model.to_string(), r.clone());
                r
            }
            Err(e) => return error_line(&id, &repo_error_kind(&e), e),
        },
    };
    let skip = request
        .pointer("/options/shouldSkipDefaultFilter")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let repo = if skip {
        repo.skip_default_filter()
    } else {
        repo
    };
    let null = Value::Null;
    let filter = request.get("filter").unwrap_or(&null);
    let r#where = request.get("where").unwrap_or(&null);
    let result = match op {
        "find" => repo
            .find(filter)
            .map(|rows| json!({"id": id, "rows": rows})),
        "findOne" => repo
            .find_one(filter)
            .map(|row| json!({"id": id, "row": row})),
        "findById" => match request.get("entityId") {
            Some(entity) => repo
                .find_by_id(entity, filter)
                .map(|row| json!({"id": id, "row": row})),
            None => return error_line(&id, "malformedRequest", "findById needs `entityId`"),
        },
        "count" => repo.count(r#where).map(|n| json!({"id": id, "count": n})),
        "existsWith" => repo
            .exists_with(r#where)
            .map(|b| json!({"id": id, "exists": b})),
        other => {
            return error_line(
                &id,
                "unknownOp",
                format!("unknown op `{other}` (find, findOne, findById, count, existsWith)"),
            )
        }
    };
    result.unwrap_or_else(|e| error_line(&id, &repo_error_kind(&e), e))
}

/// Runs the request loop on stdin / stdout against `url`.
///
/// # Errors
/// The schema cannot be loaded, the datasource cannot be built, or stdout fails.
pub fn run(args: &QueryArgs, url: &str) -> Result<(), Box<dyn Error>> {
    let schema = Arc::new(crate::migrate::load_schema(args.schema.as_ref())?);
    let ds = DataSource::new(DataSourceConfig::from_url(url)?)?;
    let mut repos = HashMap::new();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let response = answer(&line, &mut repos, &ds, &schema);
        writeln!(out, "{response}")?;
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_each_line_and_reports_bad_lines_without_stopping() {
        let db = ignis_tests::TestDb::new();
        let ds = db.datasource();
        let schema = Arc::new(ignis_tests::example::schema());
        ignis_migrate::Migrator::new(ds.clone())
            .migrate(&schema, |_| {})
            .unwrap();
        let users =
            ignis_repo::DefaultCrudRepository::new(ds.clone(), schema.clone(), "User").unwrap();
        let ada = users
            .create(&json!({"name": "Ada", "email": "ada@example.com"}))
            .unwrap()
            .data
            .unwrap();
        users
            .create(&json!({"name": "Bob", "email": "bob@example.com"}))
            .unwrap();
        let mut repos = HashMap::new();
        let mut ask = |line: &str| answer(line, &mut repos, &ds, &schema);

        let r = ask(
            r#"{"id": 1, "model": "User", "op": "find", "filter": {"where": {"name": {"ilike": "a%"}}, "fields": ["name"]}}"#,
        );
        assert_eq!(r, json!({"id": 1, "rows": [{"name": "Ada"}]}));
        let r = ask(r#"{"id": "c", "model": "User", "op": "count", "where": {}}"#);
        assert_eq!(r, json!({"id": "c", "count": 2}));
        let r = ask(&format!(
            r#"{{"id": 2, "model": "User", "op": "findById", "entityId": {}, "filter": {{"fields": ["email"]}}}}"#,
            ada["id"]
        ));
        assert_eq!(r, json!({"id": 2, "row": {"email": "ada@example.com"}}));
        let r = ask(r#"{"id": 3, "model": "User", "op": "existsWith", "where": {"name": "Cy"}}"#);
        assert_eq!(r, json!({"id": 3, "exists": false}));
        let r =
            ask(r#"{"id": 4, "model": "User", "op": "findOne", "filter": {"order": "name DESC"}}"#);
        assert_eq!(r["row"]["name"], "Bob");

        let r = ask("not json");
        assert_eq!(r["error"]["kind"], "malformedRequest");
        let r =
            ask(r#"{"id": 5, "model": "User", "op": "find", "filter": {"where": {"nope": 1}}}"#);
        assert_eq!(r["id"], 5);
        assert_eq!(r["error"]["kind"], "unknownField");
        assert!(r["error"]["message"].as_str().unwrap().contains("nope"));
        let r = ask(r#"{"id": 6, "model": "Nope", "op": "find"}"#);
        assert_eq!(r["error"]["kind"], "unknownModel");
        let r = ask(r#"{"id": 7, "model": "User", "op": "drop"}"#);
        assert_eq!(r["error"]["kind"], "unknownOp");
        // still answering after errors
        let r = ask(r#"{"id": 8, "model": "User", "op": "count"}"#);
        assert_eq!(r, json!({"id": 8, "count": 2}));
    }
}

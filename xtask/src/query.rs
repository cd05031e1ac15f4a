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

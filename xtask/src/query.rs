//! `cargo xtask query`: every repository operation on the command line, one JSON request per
//! line on stdin, one JSON answer per line on stdout, so a team can script and test its data
//! from the shell.
//!
//! # Requests
//! `{"id": .., "model": "User", "op": .., "repository": .., "actor": .., "options": {..}, ..}`
//! with the fields the op takes, as the Ignis repository methods take them:
//!
//! | op | fields | options |
//! |---|---|---|
//! | `find` | `filter` | `shouldSkipDefaultFilter`, `shouldQueryRange` |
//! | `findOne` | `filter` | `shouldSkipDefaultFilter` |
//! | `findById` | `entityId`, `filter` | `shouldSkipDefaultFilter` |
//! | `count`, `existsWith` | `where` | `shouldSkipDefaultFilter` |
//! | `create` | `data` (an object) | `shouldReturn` |
//! | `createAll` | `data` (an array of objects) | `shouldReturn` |
//! | `updateById` | `entityId`, `data` | `shouldReturn`, `shouldSkipDefaultFilter` |
//! | `updateAll` (alias `updateBy`) | `data`, `where` | `shouldReturn`, `shouldSkipDefaultFilter`, `force` |
//! | `deleteById` | `entityId` | `shouldReturn`, `shouldSkipDefaultFilter`, `shouldHardDelete`* |
//! | `deleteAll` (alias `deleteBy`) | `where` | `shouldReturn`, `shouldSkipDefaultFilter`, `force`, `shouldHardDelete`* |
//! | `restoreById`* | `entityId` | `shouldReturn` |
//! | `restoreAll`* | `where` | `shouldReturn`, `force` |
//!
//! `*`: with `"repository": "SoftDeletable"` (Ignis `SoftDeletableRepository`), whose
//! `deleteById` / `deleteAll` set `deletedAt` instead of deleting, unless `shouldHardDelete`.
//! The default repository is `"DefaultCrud"` (deletes delete); `"Readable"` refuses writes.
//! `"actor"` (a string or number) is the audit user id written to `createdBy` / `modifiedBy`.
//! Options are booleans; an option or field the op does not take is an error, not ignored.
//! `{"$date": "2026-01-01T00:00:00Z"}` anywhere in `data`, `where`, `filter` or `entityId`
//! stands for that date (RFC 3339, or `2026-01-01T00:00:00`, or `2026-01-01`), passed to the
//! repository as its text.
//!
//! # Answers
//! `{"id", "rows": [..]}` (find), `{"id", "data": [..], "range": {"start", "end", "total"}}`
//! (find with `shouldQueryRange`, as Ignis), `{"id", "row"}` (findOne, findById, `null` when no
//! row), `{"id", "count"}`, `{"id", "exists"}`, `{"id", "count", "data"}` (every write: `data`
//! is the row or rows written, as stored, or `null` with `shouldReturn: false`), or
//! `{"id", "error": {"kind", "message"}}`. A bad line gives an error line; the command goes on
//! with the next one.
//!
//! # Transactions
//! `{"id", "op": "transaction", "steps": [request, ..], "end": "commit" | "rollback",
//! "options": {"isolationLevel": "SERIALIZABLE"}}` runs the steps (requests without `id`) in one
//! transaction, then commits or rolls back as `end` says; `end` is required (as with Ignis's
//! `beginTransaction`, nothing commits unless asked). The answer is `{"id", "steps": [..]}`,
//! one answer per step run (without `id`). The first step that fails ends the transaction: its
//! answer is its error, it is the last in `steps`, and the transaction is rolled back. When
//! BEGIN, COMMIT or ROLLBACK itself fails, the answer is `{"id", "error"}`.

mod request;
#[cfg(test)]
mod tests;

use std::error::Error;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use ignis_tx::{DataSource, DataSourceConfig, IsolationLevel, TransactionOptions};
use serde_json::{Map, Value};

use request::{quote, Context, Failure};

/// Options of `cargo xtask query`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = HELP)]
pub struct QueryArgs {
    /// The schema file (JSON, the `ignis_schema::Schema` format); default: the Ignis example
    /// application's models.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// The database to query; default: DATABASE_URL, else POSTGRES_*, else the local cluster.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// The request and answer formats, after `cargo xtask query --help`.
const HELP: &str = r#"Requests (one JSON object per line on stdin):
  {"id": 1, "model": "User", "op": "find", "filter": {"where": {"name": "Ada"}}}
  ops: find, findOne, findById, count, existsWith, create, createAll, updateById,
       updateAll (updateBy), deleteById, deleteAll (deleteBy), restoreById, restoreAll
  fields: filter, where, data, entityId (as the Ignis repository methods take them),
          "repository": "DefaultCrud" (default) | "SoftDeletable" | "Readable",
          "actor": the audit user id,
          "options": {shouldReturn, force, shouldSkipDefaultFilter, shouldQueryRange,
                      shouldHardDelete (SoftDeletable)}
  dates: {"$date": "2026-01-01T00:00:00Z"} anywhere in data, where or filter
  transaction: {"id": 2, "op": "transaction", "steps": [<requests without id>],
                "end": "commit" | "rollback", "options": {"isolationLevel": "SERIALIZABLE"}}

Answers (one JSON line per request):
  {"id", "rows"} | {"id", "data", "range": {"start", "end", "total"}} | {"id", "row"}
  {"id", "count"} | {"id", "exists"} | writes: {"id", "count", "data"}
  transaction: {"id", "steps": [<answers without id>]}, stopping at the first failing step
  (rolled back), or {"id", "error"} when BEGIN / COMMIT / ROLLBACK fails
  errors: {"id", "error": {"kind", "message"}}; the command goes on with the next line"#;

/// `{"id": id, "error": {..}}`.
fn error_answer(id: &Value, failure: &Failure) -> Value {
    let mut map = Map::new();
    map.insert("id".into(), id.clone());
    map.insert("error".into(), failure.to_json());
    Value::Object(map)
}

/// Answers one request line: a repository request or a transaction.
fn answer(line: &str, ctx: &mut Context) -> Value {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return error_answer(&Value::Null, &Failure::malformed(e.to_string())),
    };
    let Value::Object(request) = request else {
        return error_answer(
            &Value::Null,
            &Failure::malformed("a request is a JSON object"),
        );
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let result = if request.get("op").and_then(Value::as_str) == Some("transaction") {
        transaction(&request, ctx)
    } else {
        request::run(&request, ctx, None)
    };
    match result {
        Ok(mut map) => {
            map.insert("id".into(), id);
            Value::Object(map)
        }
        Err(failure) => error_answer(&id, &failure),
    }
}

/// How a transaction request ends when every step succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Commit,
    Rollback,
}

/// Runs a transaction request: its answer without `id`.
///
/// # Errors
/// The request is malformed (nothing runs then), or BEGIN / COMMIT / ROLLBACK fails.
fn transaction(
    request: &Map<String, Value>,
    ctx: &mut Context,
) -> Result<Map<String, Value>, Failure> {
    for key in request.keys() {
        if !matches!(key.as_str(), "id" | "op" | "steps" | "end" | "options") {
            return Err(Failure::malformed(format!(
                "transaction takes no field {} (it takes steps, end, options)",
                quote(key)
            )));
        }
    }
    let Some(Value::Array(steps)) = request.get("steps") else {
        return Err(Failure::malformed(
            "transaction needs `steps`, an array of requests",
        ));
    };
    let end = match request.get("end").and_then(Value::as_str) {
        Some("commit") => End::Commit,
        Some("rollback") => End::Rollback,
        _ => {
            return Err(Failure::malformed(
                "transaction needs `end`: \"commit\" or \"rollback\"",
            ))
        }
    };
    let mut options = TransactionOptions::new();
    match request.get("options") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                match (name.as_str(), value) {
                    ("isolationLevel", Value::String(level)) => {
                        let level: IsolationLevel = level.parse().map_err(|_| {
                            Failure::malformed(format!(
                                "unknown isolationLevel {} (READ COMMITTED, REPEATABLE READ, \
                                 SERIALIZABLE)",
                                quote(level)
                            ))
                        })?;
                        options = options.isolation_level(level);
                    }
                    ("isolationLevel", Value::Null) => {}
                    ("isolationLevel", _) => {
                        return Err(Failure::malformed("option `isolationLevel` is a string"))
                    }
                    (other, _) => {
                        return Err(Failure::malformed(format!(
                            "transaction takes no option {} (it takes isolationLevel)",
                            quote(other)
                        )))
                    }
                }
            }
        }
        Some(_) => return Err(Failure::malformed("`options` must be an object")),
    }

    let mut tx = ctx.ds.begin(options)?;
    let mut answers = Vec::with_capacity(steps.len());
    for step in steps {
        let result = match step {
            Value::Object(step) if step.contains_key("id") => Err(Failure::malformed(
                "a transaction step has no `id` (the transaction's id answers for it)",
            )),
            Value::Object(step)
                if step.get("op").and_then(Value::as_str) == Some("transaction") =>
            {
                Err(Failure::malformed(
                    "a transaction step cannot be a transaction",
                ))
            }
            Value::Object(step) => request::run(step, ctx, Some(&mut tx)),
            _ => Err(Failure::malformed("a transaction step is a JSON object")),
        };
        match result {
            Ok(map) => answers.push(Value::Object(map)),
            Err(failure) => {
                let mut map = Map::new();
                map.insert("error".into(), failure.to_json());
                answers.push(Value::Object(map));
                if let Err(e) = tx.rollback() {
                    tracing::warn!("rollback after a failed step: {e}");
                }
                return Ok(steps_answer(answers));
            }
        }
    }
    match end {
        End::Commit => tx.commit()?,
        End::Rollback => tx.rollback()?,
    }
    Ok(steps_answer(answers))
}

fn steps_answer(answers: Vec<Value>) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("steps".into(), Value::Array(answers));
    map
}

/// Answers each line of `input` on `output`, one JSON line per request, until `input` ends.
/// Blank lines are skipped; a line that is not UTF-8 or not JSON gets an error line.
///
/// # Errors
/// Reading `input` or writing `output` fails.
fn serve(
    mut input: impl BufRead,
    mut output: impl Write,
    ctx: &mut Context,
) -> Result<(), Box<dyn Error>> {
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        if input.read_until(b'\n', &mut buffer)? == 0 {
            return Ok(());
        }
        let response = match std::str::from_utf8(&buffer) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => answer(line, ctx),
            Err(_) => error_answer(
                &Value::Null,
                &Failure::malformed("the line is not UTF-8 text"),
            ),
        };
        writeln!(output, "{response}")?;
        output.flush()?;
        // Rows may hold documents thousands of levels deep, which a plain drop would recurse
        // through.
        ignis_repo::dismantle(response);
    }
}

/// Runs the request loop on stdin / stdout against `url`, with the models of `args.schema`.
///
/// # Errors
/// The schema cannot be loaded, the datasource cannot be built, or stdin / stdout fails.
/// Requests that fail are answered with error lines, never returned here.
pub fn run(args: &QueryArgs, url: &str) -> Result<(), Box<dyn Error>> {
    let schema = Arc::new(crate::migrate::load_schema(args.schema.as_ref())?);
    let ds = DataSource::new(DataSourceConfig::from_url(url)?)?;
    let mut ctx = Context::new(ds, schema);
    serve(std::io::stdin().lock(), std::io::stdout().lock(), &mut ctx)
}

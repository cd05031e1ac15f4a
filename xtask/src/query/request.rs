//! One repository request of `cargo xtask query`: its op, repository kind, fields and options,
//! checked before anything runs, then dispatched to the repository on the pool or on the
//! request's transaction.

use std::collections::HashMap;
use std::sync::Arc;

use ignis_repo::{DefaultCrudRepository, RepoError, WriteResult};
use ignis_schema::Schema;
use ignis_tx::{DataSource, Transaction};
use serde_json::{json, Map, Value};

/// Why a request (or a step of a transaction) has no answer: the `error` object of the answer,
/// `{"kind", "message"}`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Failure {
    /// `malformedRequest`, `unknownOp`, a [`RepoError::kind`], a filter error kind, or
    /// `database:<SQLSTATE>`.
    pub kind: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl Failure {
    /// A request whose shape is wrong (a missing or ill-typed field, an unknown option).
    pub fn malformed(message: impl Into<String>) -> Self {
        Failure {
            kind: "malformedRequest".into(),
            message: message.into(),
        }
    }

    /// An op the request's repository does not have.
    fn unknown_op(message: impl Into<String>) -> Self {
        Failure {
            kind: "unknownOp".into(),
            message: message.into(),
        }
    }

    /// The `error` object of an answer.
    pub fn to_json(&self) -> Value {
        json!({"kind": self.kind, "message": self.message})
    }
}

impl From<RepoError> for Failure {
    fn from(e: RepoError) -> Self {
        let kind = match &e {
            RepoError::Filter(f) => f.kind().as_str().to_string(),
            RepoError::Database(d) => match d.sqlstate() {
                Some(code) => format!("database:{code}"),
                None => "database".into(),
            },
            other => other.kind().into(),
        };
        Failure {
            kind,
            message: e.to_string(),
        }
    }
}

impl From<ignis_tx::Error> for Failure {
    fn from(e: ignis_tx::Error) -> Self {
        Failure::from(RepoError::from(e))
    }
}

/// Most characters of user input an error message quotes.
const QUOTE_LIMIT: usize = 64;

/// `text` quoted for an error message: at most [`QUOTE_LIMIT`] characters, then `…`.
pub(super) fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((at, _)) => format!("{:?}…", &text[..at]),
        None => format!("{text:?}"),
    }
}

/// The kind of repository a request names with `"repository"` (Ignis's repository classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RepoKind {
    /// `ReadableRepository`: the reads only.
    Readable,
    /// `DefaultCrudRepository` (the default): reads and writes; `deleteById` / `deleteAll`
    /// delete rows.
    DefaultCrud,
    /// `SoftDeletableRepository`: `deleteById` / `deleteAll` set `deletedAt` (unless
    /// `shouldHardDelete`), and `restoreById` / `restoreAll`.
    SoftDeletable,
}

impl RepoKind {
    fn parse(value: Option<&Value>) -> Result<Self, Failure> {
        let name = match value {
            None | Some(Value::Null) => return Ok(RepoKind::DefaultCrud),
            Some(Value::String(s)) => s.as_str(),
            Some(_) => {
                return Err(Failure::malformed(
                    "`repository` must be a string: Readable, DefaultCrud or SoftDeletable",
                ))
            }
        };
        match name.strip_suffix("Repository").unwrap_or(name) {
            "Readable" => Ok(RepoKind::Readable),
            "DefaultCrud" => Ok(RepoKind::DefaultCrud),
            "SoftDeletable" => Ok(RepoKind::SoftDeletable),
            _ => Err(Failure::malformed(format!(
                "unknown repository {} (Readable, DefaultCrud or SoftDeletable)",
                quote(name)
            ))),
        }
    }
}

/// A repository operation, by its Ignis method name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Find,
    FindOne,
    FindById,
    Count,
    ExistsWith,
    Create,
    CreateAll,
    UpdateById,
    UpdateAll,
    DeleteById,
    DeleteAll,
    RestoreById,
    RestoreAll,
}

/// The op names `cargo xtask query` knows, for error messages.
pub(super) const OP_NAMES: &str = "find, findOne, findById, count, existsWith, create, createAll, \
     updateById, updateAll (updateBy), deleteById, deleteAll (deleteBy), restoreById, \
     restoreAll, transaction";

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "find" => Op::Find,
            "findOne" => Op::FindOne,
            "findById" => Op::FindById,
            "count" => Op::Count,
            "existsWith" => Op::ExistsWith,
            "create" => Op::Create,
            "createAll" => Op::CreateAll,
            "updateById" => Op::UpdateById,
            "updateAll" | "updateBy" => Op::UpdateAll,
            "deleteById" => Op::DeleteById,
            "deleteAll" | "deleteBy" => Op::DeleteAll,
            "restoreById" => Op::RestoreById,
            "restoreAll" => Op::RestoreAll,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Op::Find => "find",
            Op::FindOne => "findOne",
            Op::FindById => "findById",
            Op::Count => "count",
            Op::ExistsWith => "existsWith",
            Op::Create => "create",
            Op::CreateAll => "createAll",
            Op::UpdateById => "updateById",
            Op::UpdateAll => "updateAll",
            Op::DeleteById => "deleteById",
            Op::DeleteAll => "deleteAll",
            Op::RestoreById => "restoreById",
            Op::RestoreAll => "restoreAll",
        }
    }

    fn is_read(self) -> bool {
        matches!(
            self,
            Op::Find | Op::FindOne | Op::FindById | Op::Count | Op::ExistsWith
        )
    }

    /// The request fields the op takes besides `id`, `model`, `op`, `repository`, `actor` and
    /// `options`; the first of each pair says whether it is required.
    fn fields(self) -> &'static [(&'static str, bool)] {
        match self {
            Op::Find | Op::FindOne => &[("filter", false)],
            Op::FindById => &[("entityId", true), ("filter", false)],
            Op::Count | Op::ExistsWith | Op::DeleteAll | Op::RestoreAll => &[("where", false)],
            Op::Create | Op::CreateAll => &[("data", true)],
            Op::UpdateById => &[("entityId", true), ("data", true)],
            Op::UpdateAll => &[("data", true), ("where", false)],
            Op::DeleteById | Op::RestoreById => &[("entityId", true)],
        }
    }

    /// The options the op takes on a repository of `kind`.
    fn options(self, kind: RepoKind) -> &'static [&'static str] {
        const SKIP: &str = "shouldSkipDefaultFilter";
        const RETURN: &str = "shouldReturn";
        const FORCE: &str = "force";
        const HARD: &str = "shouldHardDelete";
        let soft = kind == RepoKind::SoftDeletable;
        match self {
            Op::Find => &[SKIP, "shouldQueryRange"],
            Op::FindOne | Op::FindById | Op::Count | Op::ExistsWith => &[SKIP],
            Op::Create | Op::CreateAll => &[RETURN],
            Op::UpdateById => &[RETURN, SKIP],
            Op::UpdateAll => &[RETURN, SKIP, FORCE],
            Op::DeleteById if soft => &[RETURN, SKIP, HARD],
            Op::DeleteById => &[RETURN, SKIP],
            Op::DeleteAll if soft => &[RETURN, SKIP, FORCE, HARD],
            Op::DeleteAll => &[RETURN, SKIP, FORCE],
            Op::RestoreById => &[RETURN],
            Op::RestoreAll => &[RETURN, FORCE],
        }
    }
}

/// The `options` of a request, each `false` unless given `true` (`shouldReturn`: `true`
/// unless given `false`).
#[derive(Debug, Clone, Copy)]
struct Options {
    should_return: bool,
    skip_default_filter: bool,
    force: bool,
    query_range: bool,
    hard_delete: bool,
}

impl Options {
    fn parse(value: Option<&Value>, op: Op, kind: RepoKind) -> Result<Self, Failure> {
        let mut options = Options {
            should_return: true,
            skip_default_filter: false,
            force: false,
            query_range: false,
            hard_delete: false,
        };
        let map = match value {
            None | Some(Value::Null) => return Ok(options),
            Some(Value::Object(map)) => map,
            Some(_) => return Err(Failure::malformed("`options` must be an object")),
        };
        let allowed = op.options(kind);
        for (name, value) in map {
            if !allowed.contains(&name.as_str()) {
                let hint = if name == "shouldHardDelete" || name == "shouldQueryRange" {
                    " (shouldHardDelete needs \"repository\": \"SoftDeletable\"; \
                     shouldQueryRange is for find)"
                } else {
                    ""
                };
                return Err(Failure::malformed(format!(
                    "{} takes no option {}: it takes {}{hint}",
                    op.name(),
                    quote(name),
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                )));
            }
            let flag = match value {
                Value::Null => continue,
                Value::Bool(b) => *b,
                _ => {
                    return Err(Failure::malformed(format!(
                        "option `{name}` must be true or false"
                    )))
                }
            };
            match name.as_str() {
                "shouldReturn" => options.should_return = flag,
                "shouldSkipDefaultFilter" => options.skip_default_filter = flag,
                "force" => options.force = flag,
                "shouldQueryRange" => options.query_range = flag,
                _ => options.hard_delete = flag,
            }
        }
        Ok(options)
    }
}

/// Replaces each `{"$date": "<ISO 8601 date>"}` inside `value` by the date's text, which the
/// repository coerces to the column's type. Accepted: RFC 3339 date-times
/// (`2026-01-01T00:00:00Z`, `2026-01-01T10:00:00.5+02:00`), date-times without an offset
/// (`2026-01-01T00:00:00`) and dates (`2026-01-01`). Walks without recursion.
///
/// # Errors
/// A `$date` object with other keys, a value that is not a string, or text that is not such
/// a date.
pub(super) fn replace_dates(value: &mut Value) -> Result<(), Failure> {
    let mut stack: Vec<&mut Value> = vec![value];
    while let Some(v) = stack.pop() {
        if let Some(date) = date_of(v)? {
            *v = Value::String(date);
            continue;
        }
        match v {
            Value::Object(map) => stack.extend(map.values_mut()),
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
    Ok(())
}

/// The date text of a `{"$date": ..}` object; `None` for any other value.
fn date_of(value: &Value) -> Result<Option<String>, Failure> {
    let Value::Object(map) = value else {
        return Ok(None);
    };
    let Some(date) = map.get("$date") else {
        return Ok(None);
    };
    if map.len() != 1 {
        return Err(Failure::malformed(
            "a `$date` object has no other keys: {\"$date\": \"2026-01-01T00:00:00Z\"}",
        ));
    }
    let Value::String(text) = date else {
        return Err(Failure::malformed(
            "`$date` takes an ISO 8601 string, e.g. \"2026-01-01T00:00:00Z\"",
        ));
    };
    let text = text.trim();
    let valid = chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
    if valid {
        Ok(Some(text.to_string()))
    } else {
        Err(Failure::malformed(format!(
            "`$date`: {} is not an ISO 8601 date (2026-01-01, 2026-01-01T00:00:00 or \
             2026-01-01T00:00:00Z)",
            quote(text)
        )))
    }
}

/// What requests share: the datasource, the schema and one repository per model, built on
/// first use.
pub(super) struct Context {
    /// Where requests run.
    pub ds: DataSource,
    /// The models requests name.
    pub schema: Arc<Schema>,
    repos: HashMap<String, DefaultCrudRepository>,
}

impl Context {
    /// A context over `ds` and `schema`, with no repository built yet.
    pub fn new(ds: DataSource, schema: Arc<Schema>) -> Self {
        Context {
            ds,
            schema,
            repos: HashMap::new(),
        }
    }

    fn repository(&mut self, model: &str) -> Result<DefaultCrudRepository, Failure> {
        if let Some(r) = self.repos.get(model) {
            return Ok(r.clone());
        }
        let r = DefaultCrudRepository::new(self.ds.clone(), self.schema.clone(), model)?;
        self.repos.insert(model.to_string(), r.clone());
        Ok(r)
    }
}

/// Runs `method(args)` on the repository: on the pool, or on the transaction when there is one.
macro_rules! call {
    ($repo:expr, $tx:expr, $method:ident($($arg:expr),*)) => {
        match $tx {
            None => $repo.$method($($arg),*),
            Some(tx) => $repo.on(tx).$method($($arg),*),
        }
    };
}

/// `{"count", "data"}` of a write; `data` is null when the request said `shouldReturn: false`.
fn write_answer<T: Into<Value>>(result: WriteResult<T>, should_return: bool) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("count".into(), result.count.into());
    let data = if should_return {
        result.data.into()
    } else {
        Value::Null
    };
    map.insert("data".into(), data);
    map
}

/// The request field `name`, with its `$date` objects replaced; `Null` when absent.
fn field(request: &Map<String, Value>, name: &str) -> Result<Value, Failure> {
    let mut value = request.get(name).cloned().unwrap_or(Value::Null);
    replace_dates(&mut value)?;
    Ok(value)
}

/// Answers one repository request (not a transaction), on `tx` when given: the answer's fields
/// without `id`.
///
/// # Errors
/// The request is malformed (checked before anything runs) or the repository call fails.
pub(super) fn run(
    request: &Map<String, Value>,
    ctx: &mut Context,
    tx: Option<&mut Transaction>,
) -> Result<Map<String, Value>, Failure> {
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return Err(Failure::malformed("`model` (a string) is required"));
    };
    let op_name = match request.get("op") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(Failure::malformed("`op` (a string) is required")),
    };
    let Some(op) = Op::parse(op_name) else {
        return Err(Failure::unknown_op(format!(
            "unknown op {} ({OP_NAMES})",
            quote(op_name)
        )));
    };
    let kind = RepoKind::parse(request.get("repository"))?;
    match (kind, op) {
        (RepoKind::Readable, op) if !op.is_read() => {
            return Err(Failure::unknown_op(format!(
                "a Readable repository has no {}",
                op.name()
            )))
        }
        (RepoKind::Readable | RepoKind::DefaultCrud, Op::RestoreById | Op::RestoreAll) => {
            return Err(Failure::unknown_op(format!(
                "{} needs \"repository\": \"SoftDeletable\"",
                op.name()
            )))
        }
        _ => {}
    }
    for key in request.keys() {
        let common = matches!(
            key.as_str(),
            "id" | "model" | "op" | "repository" | "actor" | "options"
        );
        if !common && !op.fields().iter().any(|(f, _)| f == key) {
            let takes: Vec<&str> = op.fields().iter().map(|(f, _)| *f).collect();
            return Err(Failure::malformed(format!(
                "{} takes no field {} (it takes {})",
                op.name(),
                quote(key),
                takes.join(", ")
            )));
        }
    }
    for (name, required) in op.fields() {
        if *required && request.get(*name).is_none_or(Value::is_null) {
            return Err(Failure::malformed(format!("{} needs `{name}`", op.name())));
        }
    }
    let options = Options::parse(request.get("options"), op, kind)?;
    let mut repo = ctx.repository(model)?;
    match request.get("actor") {
        None | Some(Value::Null) => {}
        Some(actor @ (Value::String(_) | Value::Number(_))) => {
            repo = repo.with_actor(actor.clone())
        }
        Some(_) => {
            return Err(Failure::malformed(
                "`actor` (the audit user id) must be a string or a number",
            ))
        }
    }
    if options.skip_default_filter {
        repo = repo.skip_default_filter();
    }
    if options.force {
        repo = repo.force();
    }
    if !options.should_return {
        repo = repo.should_return(false);
    }
    let filter = field(request, "filter")?;
    let r#where = field(request, "where")?;
    let data = field(request, "data")?;
    let entity = field(request, "entityId")?;
    let soft = kind == RepoKind::SoftDeletable && !options.hard_delete;
    let ret = options.should_return;
    let mut answer = Map::new();
    match op {
        Op::Find if options.query_range => {
            let r = call!(repo, tx, find_with_range(&filter))?;
            answer.insert("data".into(), r.data.into());
            answer.insert(
                "range".into(),
                json!({"start": r.range.start, "end": r.range.end, "total": r.range.total}),
            );
        }
        Op::Find => {
            let rows = call!(repo, tx, find(&filter))?;
            answer.insert("rows".into(), rows.into());
        }
        Op::FindOne => {
            let row = call!(repo, tx, find_one(&filter))?;
            answer.insert("row".into(), row.into());
        }
        Op::FindById => {
            let row = call!(repo, tx, find_by_id_with(&entity, &filter))?;
            answer.insert("row".into(), row.into());
        }
        Op::Count => {
            let n = call!(repo, tx, count(&r#where))?;
            answer.insert("count".into(), n.into());
        }
        Op::ExistsWith => {
            let b = call!(repo, tx, exists_with(&r#where))?;
            answer.insert("exists".into(), b.into());
        }
        Op::Create => answer = write_answer(call!(repo, tx, create(&data))?, ret),
        Op::CreateAll => {
            let Value::Array(rows) = &data else {
                return Err(Failure::malformed(
                    "createAll needs `data` as an array of objects",
                ));
            };
            answer = write_answer(call!(repo, tx, create_all(rows))?, ret);
        }
        Op::UpdateById => {
            answer = write_answer(call!(repo, tx, update_by_id(&entity, &data))?, ret)
        }
        Op::UpdateAll => answer = write_answer(call!(repo, tx, update_all(&data, &r#where))?, ret),
        Op::DeleteById if soft => {
            answer = write_answer(call!(repo, tx, soft_delete_by_id(&entity))?, ret);
        }
        Op::DeleteById => answer = write_answer(call!(repo, tx, delete_by_id(&entity))?, ret),
        Op::DeleteAll if soft => {
            answer = write_answer(call!(repo, tx, soft_delete_all(&r#where))?, ret);
        }
        Op::DeleteAll => answer = write_answer(call!(repo, tx, delete_all(&r#where))?, ret),
        Op::RestoreById => answer = write_answer(call!(repo, tx, restore_by_id(&entity))?, ret),
        Op::RestoreAll => answer = write_answer(call!(repo, tx, restore_all(&r#where))?, ret),
    }
    Ok(answer)
}

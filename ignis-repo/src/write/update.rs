//! UPDATE: `update_by_id` / `update_all`, with JSON-path assignments into json / jsonb columns
//! (`"metadata.a.b": 1`), `modifiedAt` / `modifiedBy`, and soft delete's `deletedAt`.

use ignis_schema::PgType;
use ignis_tx::postgres::types::ToSql;
use sea_query::Value as SqlValue;
use serde_json::Value as JsonValue;

use super::common::{first, invalid, written_value, WriteWhere};
use super::data::WriteData;
use crate::context::Call;
use crate::filter::{check_value_depth, excerpt, BoundValue, MAX_PATH_SEGMENTS};
use crate::query::sql::{ModelSql, SqlWriter};
use crate::repository::WriteResult;
use crate::rows::Decoder;
use crate::RepoError;

/// Most JSON-path keys (`"metadata.a.b": ..`) in one update's data; sibling keys of one object
/// go into one `jsonb_build_object` per 50 pairs, so any number up to this works.
const MAX_PATH_KEYS: usize = 1000;

/// Most JSON-path keys with an array index (`"tags[0]": ..`) in one update: each nests the
/// column's expression in one more `jsonb_set` call.
const MAX_INDEXED_PATHS: usize = 64;

/// One JSON-path assignment of an update: `metadata.a.b` → (column `metadata`, `["a", "b"]`).
fn split_path(key: &str) -> Option<(&str, Vec<String>)> {
    let first_end = key.find(['.', '['])?;
    let (head, rest) = key.split_at(first_end);
    let mut segments = Vec::new();
    let mut cur = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !cur.is_empty() {
                    segments.push(std::mem::take(&mut cur));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    segments.push(std::mem::take(&mut cur));
                }
                let mut idx = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    idx.push(d);
                }
                if idx.is_empty() || !idx.chars().all(|d| d.is_ascii_digit()) {
                    return None;
                }
                segments.push(idx);
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        segments.push(cur);
    }
    if segments.is_empty()
        || segments.iter().any(|s| {
            !s.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
    {
        return None;
    }
    Some((head, segments))
}

/// What one column of an UPDATE is set to.
pub(super) enum Set<'d> {
    /// A bound value (`$n`, with its cast).
    Value(BoundValue),
    /// A typed write's value (`$n`), bound through its own `ToSql`.
    Typed(&'d (dyn ToSql + Sync)),
    /// `now()`.
    Now,
    /// `NULL`.
    Null,
    /// JSON-path assignments into a json / jsonb column: object paths merged into one trie,
    /// paths with an array index applied with `jsonb_set` on top, in order.
    Paths {
        trie: Option<PathNode>,
        indexed: Vec<(Vec<String>, &'d JsonValue)>,
    },
}

/// Writes `"col" = <value>` of one assignment.
fn write_set<'d>(
    w: &mut SqlWriter<'d>,
    names: &ModelSql,
    pg_type: &PgType,
    col: usize,
    set: Set<'d>,
) {
    w.push(&names.columns[col]);
    w.push(" = ");
    match set {
        Set::Value(bound) => w.bind_value(&bound),
        Set::Typed(value) => w.bind_ref(value),
        Set::Now => w.push("now()"),
        Set::Null => w.push("NULL"),
        Set::Paths { trie, indexed } => {
            let json = *pg_type == PgType::Json;
            if json {
                w.push("(");
            }
            for _ in &indexed {
                w.push("jsonb_set(");
            }
            let current = format!("{}::jsonb", names.columns[col]);
            match trie {
                Some(node) => node.write(w, &current, &mut Vec::new()),
                None => {
                    w.push("COALESCE(");
                    w.push(&current);
                    w.push(", '{}'::jsonb)");
                }
            }
            for (segments, value) in indexed {
                w.push(", ");
                w.bind(text_array(segments));
                w.push("::text[], ");
                w.bind(SqlValue::Json(Some(Box::new(value.clone()))));
                w.push("::jsonb, true)");
            }
            if json {
                w.push(")::json");
            }
        }
    }
}

impl<'a> Call<'a> {
    /// The SET list of an update: each given property coerced to its column type, JSON-path
    /// keys (`metadata.a.b`) gathered per json / jsonb column.
    fn assignments<'d>(&self, data: &'d JsonValue) -> Result<Vec<(usize, Set<'d>)>, RepoError> {
        let model = self.model();
        let obj = data
            .as_object()
            .ok_or_else(|| invalid(model, "the data to write must be a JSON object".into()))?;
        let mut out: Vec<(usize, Set<'d>)> = Vec::with_capacity(obj.len() + 2);
        let mut paths: Vec<(usize, Vec<String>, &'d JsonValue)> = Vec::new();
        for (key, value) in obj {
            if let Some(i) = model.columns.iter().position(|c| c.property == *key) {
                let bound = written_value(model, &model.columns[i], key, value)?;
                out.push((i, Set::Value(bound)));
                continue;
            }
            let Some((head, segments)) = split_path(key) else {
                return Err(invalid(
                    model,
                    format!("unknown property `{}`", excerpt(key)),
                ));
            };
            let i = model
                .columns
                .iter()
                .position(|c| c.property == head && c.pg_type.is_json())
                .ok_or_else(|| {
                    invalid(
                        model,
                        format!(
                            "`{}`: `{}` is not a json / jsonb property",
                            excerpt(key),
                            excerpt(head)
                        ),
                    )
                })?;
            if segments.len() > MAX_PATH_SEGMENTS {
                return Err(invalid(
                    model,
                    format!(
                        "JSON path `{}` has {} segments; at most {MAX_PATH_SEGMENTS}",
                        excerpt(key),
                        segments.len()
                    ),
                ));
            }
            if paths.len() == MAX_PATH_KEYS {
                return Err(invalid(
                    model,
                    format!("more than {MAX_PATH_KEYS} JSON-path keys in one update"),
                ));
            }
            check_value_depth(key, value, self.shared.limits.max_value_depth)?;
            paths.push((i, segments, value));
        }
        // JSON-path assignments, per column. Object paths are merged into one trie and built as
        // nested `obj || jsonb_build_object(key, child)` over the column's current value, so
        // missing intermediate objects are created (Ignis's plain jsonb_set leaves the update a
        // no-op when an intermediate key is missing) and the expression stays linear in the
        // number of paths. Paths with an array index use jsonb_set(.., create_missing true) on
        // top, as Ignis.
        let mut indexed_count = 0;
        let mut by_column: Vec<(usize, Set<'d>)> = Vec::new();
        for (i, segments, value) in paths {
            let column = &model.columns[i].column;
            if out.iter().any(|(c, _)| *c == i) {
                return Err(invalid(
                    model,
                    format!("column `{column}` is set both whole and by JSON path"),
                ));
            }
            let pos = match by_column.iter().position(|(c, _)| *c == i) {
                Some(p) => p,
                None => {
                    by_column.push((
                        i,
                        Set::Paths {
                            trie: None,
                            indexed: Vec::new(),
                        },
                    ));
                    by_column.len() - 1
                }
            };
            let Set::Paths { trie, indexed } = &mut by_column[pos].1 else {
                continue;
            };
            if segments
                .iter()
                .any(|s| s.chars().all(|c| c.is_ascii_digit()))
            {
                // Each one wraps the column's expression in one more jsonb_set call.
                if indexed_count == MAX_INDEXED_PATHS {
                    return Err(invalid(
                        model,
                        format!(
                            "more than {MAX_INDEXED_PATHS} JSON paths with an array index in one update"
                        ),
                    ));
                }
                indexed_count += 1;
                indexed.push((segments, value));
                continue;
            }
            if !trie
                .get_or_insert_with(PathNode::default)
                .insert(&segments, value)
            {
                return Err(invalid(
                    model,
                    format!(
                        "JSON path `{}` of column `{column}` is set twice or inside another path set",
                        excerpt(&segments.join("."))
                    ),
                ));
            }
        }
        out.extend(by_column);
        Ok(out)
    }

    /// The SET list of `data`: JSON assignments (see `assignments`), or a typed patch's
    /// values bound as they are.
    fn set_list<'d>(&self, data: WriteData<'d>) -> Result<Vec<(usize, Set<'d>)>, RepoError> {
        match data {
            WriteData::Json(data) => {
                self.check_data(data)?;
                self.assignments(data)
            }
            WriteData::Values(values) => Ok(self
                .typed_values(values)?
                .into_iter()
                .map(|(i, v)| (i, Set::Typed(v)))
                .collect()),
        }
    }

    /// `UPDATE <table> SET .. WHERE .. [RETURNING ..]`, with `modifiedAt = now()` and
    /// `modifiedBy` from the actor unless `values` sets them.
    pub(super) fn update_where<'d, D: Decoder>(
        &mut self,
        mut values: Vec<(usize, Set<'d>)>,
        r#where: WriteWhere,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        let model = self.model();
        let modified = self.shared.plans.modified_columns.get_or_init(|| {
            ["modifiedAt", "modifiedBy"].map(|p| model.columns.iter().position(|c| c.property == p))
        });
        for (column, from_actor) in modified.iter().zip([false, true]) {
            let Some(i) = *column else {
                continue;
            };
            if values.iter().any(|(c, _)| *c == i) {
                continue;
            }
            let set = if from_actor {
                Set::Value(self.actor_bound(&model.columns[i])?)
            } else {
                Set::Now
            };
            values.push((i, set));
        }
        let names = self.names();
        let mut w = SqlWriter::new();
        w.push("UPDATE ");
        w.push(&names.table);
        w.push(" SET ");
        for (n, (i, set)) in values.into_iter().enumerate() {
            if n > 0 {
                w.push(", ");
            }
            write_set(&mut w, names, &model.columns[i].pg_type, i, set);
        }
        r#where.write(&mut w, names);
        self.run_where_write(w, r#where.condition(), decoder)
    }

    /// See [`crate::Repository::update_by_id`]: `UPDATE .. SET .. WHERE <pk> = $n`, the
    /// default filter ANDed (see [`Call::id_where`]).
    pub(super) fn update_by_id<D: Decoder>(
        &mut self,
        id: &JsonValue,
        data: WriteData<'_>,
        decoder: &D,
    ) -> Result<WriteResult<Option<D::Row>>, RepoError> {
        self.require_id("update_by_id", id)?;
        let values = self.set_list(data)?;
        let r#where = self.id_where(id, false)?;
        self.update_where(values, r#where, decoder).map(first)
    }

    /// See [`crate::Repository::update_all`].
    pub(super) fn update_all<D: Decoder>(
        &mut self,
        data: WriteData<'_>,
        r#where: &JsonValue,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        self.refuse_empty("update_all", r#where, true)?;
        let values = self.set_list(data)?;
        let cond = self.parse_where(r#where, false)?;
        self.update_where(values, WriteWhere::Cond(cond), decoder)
    }
}

fn text_array(items: Vec<String>) -> SqlValue {
    SqlValue::Array(
        sea_query::ArrayType::String,
        Some(Box::new(
            items
                .into_iter()
                .map(|s| SqlValue::String(Some(s)))
                .collect(),
        )),
    )
}

/// A trie of JSON-path assignments into one json / jsonb column.
#[derive(Default)]
pub(super) struct PathNode {
    value: Option<JsonValue>,
    children: Vec<(String, PathNode)>,
}

impl PathNode {
    /// Adds `value` at `path`; `false` when the path (or a prefix of it, or a path below it) is
    /// already assigned.
    fn insert(&mut self, path: &[String], value: &JsonValue) -> bool {
        let Some((first, rest)) = path.split_first() else {
            if self.value.is_some() || !self.children.is_empty() {
                return false;
            }
            self.value = Some(value.clone());
            return true;
        };
        if self.value.is_some() {
            return false;
        }
        let pos = match self.children.iter().position(|(k, _)| k == first) {
            Some(p) => p,
            None => {
                self.children.push((first.clone(), PathNode::default()));
                self.children.len() - 1
            }
        };
        self.children[pos].1.insert(rest, value)
    }

    /// Writes `value` (`$n::jsonb`), or: the object at `prefix` in `current` (`{}` when missing
    /// or not an object) `||` an object of the children written the same way.
    fn write(&self, w: &mut SqlWriter, current: &str, prefix: &mut Vec<String>) {
        if let Some(v) = &self.value {
            w.bind(SqlValue::Json(Some(Box::new(v.clone()))));
            w.push("::jsonb");
            return;
        }
        w.push("((CASE WHEN jsonb_typeof(");
        w.push(current);
        w.push(" #> ");
        let n = w.bind(text_array(prefix.clone()));
        w.push("::text[]) = 'object' THEN ");
        w.push(current);
        w.push(" #> ");
        w.placeholder(n);
        w.push("::text[] ELSE '{}'::jsonb END) || jsonb_build_object(");
        // jsonb_build_object takes at most 100 arguments (Postgres's FUNC_MAX_ARGS): the keys
        // go in objects of at most 50 pairs, concatenated.
        for (i, (key, child)) in self.children.iter().enumerate() {
            if i > 0 && i % 50 == 0 {
                w.push(") || jsonb_build_object(");
            } else if i > 0 {
                w.push(", ");
            }
            w.bind(SqlValue::String(Some(key.clone())));
            w.push("::text, ");
            prefix.push(key.clone());
            child.write(w, current, prefix);
            prefix.pop();
        }
        w.push("))");
    }
}

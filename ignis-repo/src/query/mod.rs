//! The query engine: a read is planned once (the filter with the model's default filter merged,
//! hidden properties left out, the join columns its includes need), written once
//! ([`sql::SqlWriter`]: SQL and bound values in one walk), run once per level, and yields one
//! [`RowSet`] per level, the related rows of each include grouped per parent
//! ([`include`]). Decoding is the caller's [`Decoder`]: JSON rows, serde types and `FromRow`
//! types all read the same row sets.

pub(crate) mod export;
pub(crate) mod include;
pub(crate) mod sql;
pub(crate) mod stream;
pub(crate) mod template;

use std::sync::Arc;

use ignis_schema::{Model, Relation, Schema};
use sea_query_postgres::PostgresValue;
use serde_json::Value as JsonValue;

use crate::context::Call;
use crate::error::REGEXP_ERROR_PREFIX;
use crate::filter::{
    coerce_value, field_eq, parse_where_with_defaults, regexp_error, Condition, Filter, FilterError,
};
use crate::rows::{self, Decoder, RowSet};
use crate::RepoError;
use sql::SqlWriter;

/// `{start, end, total}` of [`crate::Repository::find_with_range`] (Ignis `shouldQueryRange`):
/// rows `start..=end` (0-based, `end` inclusive) of `total` matching rows. With no rows
/// returned, `end` is `start` and `data` is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Range {
    /// Index of the first row returned (the filter's skip).
    pub start: u64,
    /// Index of the last row returned.
    pub end: u64,
    /// Rows matching the where, ignoring limit and skip.
    pub total: u64,
}

/// `{data, range}` of [`crate::Repository::find_with_range`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RangeResult<T = JsonValue> {
    /// The rows.
    pub data: Vec<T>,
    /// Where they are in the whole result.
    pub range: Range,
}

impl<'a> Call<'a> {
    /// The repository's model.
    pub(crate) fn model(&self) -> &'a Model {
        &self.shared.schema.models()[self.shared.model]
    }

    /// The quoted SQL names of the repository's model (built once per repository).
    pub(crate) fn names(&self) -> &'a sql::ModelSql {
        self.shared
            .sql
            .model(&self.shared.schema, self.shared.model)
    }

    /// The schema relations resolve in.
    pub(crate) fn schema(&self) -> &'a Schema {
        &self.shared.schema
    }

    /// `json` parsed against the model, the default filter merged under it (unless the handle
    /// skips it), include scopes likewise.
    pub(crate) fn parse_filter(&self, json: &JsonValue) -> Result<Filter, RepoError> {
        Ok(Filter::parse_with_defaults(
            self.model(),
            self.schema(),
            json,
            &self.shared.limits,
            self.opts.skip_default_filter,
        )?)
    }

    /// A where parsed against the model, the default filter's where ANDed unless skipped.
    pub(crate) fn parse_where(
        &self,
        json: &JsonValue,
        skip_default: bool,
    ) -> Result<Condition, RepoError> {
        Ok(parse_where_with_defaults(
            self.model(),
            json,
            &self.shared.limits,
            skip_default || self.opts.skip_default_filter,
        )?)
    }

    /// `<primary key> = id` (`IS NULL` for a null id, which matches no row).
    ///
    /// # Errors
    /// [`RepoError::NoPrimaryKey`] without a single-column primary key; an id that does not
    /// coerce to the key's type.
    pub(crate) fn id_condition(&self, id: &JsonValue) -> Result<Condition, RepoError> {
        let model = self.model();
        let pk = model.primary_key();
        let [pk] = pk.as_slice() else {
            return Err(RepoError::NoPrimaryKey(model.name.clone()));
        };
        let column = model
            .column_by_name(pk)
            .ok_or_else(|| RepoError::NoPrimaryKey(model.name.clone()))?;
        Ok(field_eq(model, &column.property, id)?)
    }

    /// `filter` parsed, with `<pk> = id` ANDed to its where, and no limit, skip or order: the
    /// by-id lookup is a find.
    pub(crate) fn by_id_filter(
        &self,
        id: &JsonValue,
        filter: &JsonValue,
    ) -> Result<Filter, RepoError> {
        let mut parsed = self.parse_filter(filter)?;
        let by_id = self.id_condition(id)?;
        parsed.r#where = Some(match parsed.r#where.take() {
            Some(w) => w.and(by_id),
            None => by_id,
        });
        // The key is unique: at most one row matches whatever else the where says, so the
        // statement needs no LIMIT (nor order or skip).
        parsed.limit = None;
        parsed.skip = None;
        parsed.order.clear();
        Ok(parsed)
    }

    /// The rows of the row whose primary key is `id`, built by `decoder`: the find of
    /// [`Call::by_id_filter`]. The common case (no filter, no default filter to apply, an id
    /// that binds as the key's type without a cast) has a statement that only its value
    /// changes: the planner writes it once per repository, through the same writer as every
    /// find, and runs it with the id bound.
    pub(crate) fn find_by_id<D: Decoder>(
        &mut self,
        id: &JsonValue,
        filter: &JsonValue,
        decoder: &D,
    ) -> Result<Option<D::Row>, RepoError> {
        let object = filter.as_object();
        let no_filter = filter.is_null() || object.is_some_and(|o| o.is_empty());
        // Only `fields`: the same lookup, reading fewer columns.
        let fields_only = object.is_some_and(|o| o.len() == 1 && o.contains_key("fields"));
        let model = self.model();
        let plain = (no_filter || fields_only)
            && !id.is_null()
            && (model.default_filter.is_none() || self.opts.skip_default_filter);
        if plain {
            let shared = self.shared;
            let plan = shared.plans.by_id.get_or_init(|| plan_by_id(shared));
            if let Some((pk, sql, out, columns)) = plan {
                let col = &model.columns[*pk];
                let bound = coerce_value(&col.property, &col.pg_type, id).ok();
                if let Some(bound) = bound.filter(|b| b.cast.is_none()) {
                    if fields_only {
                        return self.find_by_key_with_fields(*pk, bound, filter, decoder);
                    }
                    let value = PostgresValue(bound.value);
                    let rows = self.exec.query(sql, &[&value])?;
                    let cache = &shared.plans.by_id_positions;
                    let set = RowSet::plain(self.shared.model, rows, out, columns, cache);
                    return rows::decode_first(&set, self.schema(), decoder);
                }
            }
        }
        let parsed = self.by_id_filter(id, filter)?;
        Ok(self.find(&parsed, decoder)?.into_iter().next())
    }

    /// [`Call::find_by_id`] with a filter that holds only `fields`: `SELECT <those columns>
    /// FROM <table> WHERE <key> = $1`, the key column `pk` compared with `id` (already coerced
    /// to its type), as the general path writes it without building the condition.
    fn find_by_key_with_fields<D: Decoder>(
        &mut self,
        pk: usize,
        id: crate::filter::BoundValue,
        filter: &JsonValue,
        decoder: &D,
    ) -> Result<Option<D::Row>, RepoError> {
        let shared = self.shared;
        let kept = &shared.plans.keyed_selects;
        let fields = &filter["fields"];
        // The same `fields` document as a kept statement's: valid, and the same columns.
        let same_document = kept
            .lock()
            .ok()
            .and_then(|k| k.iter().find(|s| s.fields == *fields).cloned());
        let plan = match same_document {
            Some(plan) => plan,
            None => self.plan_keyed_select(pk, &id, filter)?,
        };
        // The text binds the key as `$1` (`SqlWriter::key_where` writes it so; the caller's
        // key needs no cast).
        let value = PostgresValue(id.value);
        let rows = self.exec.query(&plan.sql, &[&value])?;
        let set = RowSet::plain(
            shared.model,
            rows,
            &plan.out,
            &plan.columns,
            &plan.positions,
        );
        rows::decode_first(&set, self.schema(), decoder)
    }

    /// The kept statement of a by-id find with `filter` (only `fields`), by the columns it
    /// selects: parsed and validated now, and kept when there is room (see
    /// [`crate::context::Plans::keyed_selects`]).
    ///
    /// # Errors
    /// The filter's errors.
    fn plan_keyed_select(
        &mut self,
        pk: usize,
        id: &crate::filter::BoundValue,
        filter: &JsonValue,
    ) -> Result<Arc<crate::context::KeyedSelect>, RepoError> {
        let parsed = self.parse_filter(filter)?;
        let shared = self.shared;
        let model = &shared.schema.models()[shared.model];
        let columns = sql::selected_columns(model, &parsed, &[]);
        let kept = &shared.plans.keyed_selects;
        let known = kept
            .lock()
            .ok()
            .and_then(|k| k.iter().find(|s| s.columns == columns).cloned());
        Ok(match known {
            Some(plan) => plan,
            None => {
                let names = shared.sql.model(&shared.schema, shared.model);
                let mut w = SqlWriter::new();
                w.push_select_from(names, &columns);
                w.key_where(names, pk, id);
                let plan = Arc::new(crate::context::KeyedSelect {
                    fields: filter["fields"].clone(),
                    out: columns.iter().copied().enumerate().collect(),
                    columns,
                    sql: w.sql,
                    positions: Default::default(),
                });
                if let Ok(mut k) = kept.lock() {
                    if k.len() < crate::context::INSERT_TEXTS {
                        k.push(plan.clone());
                    }
                }
                plan
            }
        })
    }

    /// Runs the statement `w` wrote. A server refusal of a `regexp` / `iregexp` pattern in a
    /// statement written from `cond` becomes the filter error naming the field, operator and
    /// pattern (see [`Call::name_regexp`]).
    pub(crate) fn query(
        &mut self,
        w: SqlWriter,
        cond: Option<&Condition>,
    ) -> Result<Vec<postgres::Row>, RepoError> {
        let (sql, values) = w.finish();
        self.exec
            .query(&sql, &values.as_params())
            .map_err(|e| self.name_regexp(cond, e.into()))
    }

    /// `e`, or, when it is the server's refusal of a `regexp` / `iregexp` pattern (SQLSTATE
    /// 2201B, see [`RepoError`]'s conversion) in a statement written from `cond`, the filter
    /// error naming the field, operator and pattern (which may ask the server about each
    /// pattern of `cond` on this call's executor).
    pub(crate) fn name_regexp(&mut self, cond: Option<&Condition>, e: RepoError) -> RepoError {
        let server = match (&e, cond) {
            (RepoError::Filter(FilterError::Malformed { message }), Some(_)) => {
                message.strip_prefix(REGEXP_ERROR_PREFIX)
            }
            _ => None,
        };
        match (server, cond) {
            (Some(server), Some(cond)) => {
                let server = server.to_string();
                RepoError::Filter(regexp_error(cond, self.exec, &server))
            }
            _ => e,
        }
    }

    /// Runs `filter` on model `index`: one query for its rows, then one per included relation
    /// and level (never one per row). `extra` is a model column to select even when `fields`
    /// leaves it out (the join column of a parent level); it is not returned then.
    pub(crate) fn fetch(
        &mut self,
        index: usize,
        filter: &Filter,
        extra: Option<usize>,
    ) -> Result<RowSet<'a>, RepoError> {
        let shared: &'a crate::context::Shared = self.shared;
        let schema: &'a Schema = &shared.schema;
        let model = &schema.models()[index];
        let names = shared.sql.model(schema, index);
        if index == shared.model
            && filter.fields.is_none()
            && filter.include.is_empty()
            && extra.is_none()
        {
            let w = self.visible_select(filter);
            let rows = self.query(w, filter.r#where.as_ref())?;
            return Ok(self.visible_rows(rows));
        }
        let mut joins: Vec<usize> = Vec::new();
        for inc in &filter.include {
            let rel = relation(model, &inc.relation)?;
            joins.push(join_column(model, rel, &rel.fields[0])?);
        }
        joins.extend(extra);
        let columns = sql::selected_columns(model, filter, &joins);
        let rows = self.query(
            sql::select(names, &columns, filter),
            filter.r#where.as_ref(),
        )?;
        let out: Vec<(usize, usize)> = if joins.is_empty() {
            columns.iter().copied().enumerate().collect()
        } else {
            columns
                .iter()
                .copied()
                .enumerate()
                .filter(|&(_, c)| filter.returns(model, &model.columns[c].property))
                .collect()
        };
        let mut set = RowSet {
            model: index,
            rows,
            out: out.into(),
            columns: columns.into(),
            included: Vec::with_capacity(filter.include.len()),
            positions: None,
        };
        for inc in &filter.include {
            let included = self.include(&set, inc)?;
            set.included.push(included);
        }
        Ok(set)
    }

    /// The statement of `filter` (no `fields`, no `include`) on the repository's model:
    /// every visible column, the plan its writes return.
    fn visible_select(&self, filter: &Filter) -> SqlWriter<'static> {
        let shared = self.shared;
        let names = self.names();
        let (columns, _, _) = crate::write::returning_plan(shared);
        let prefix = shared
            .plans
            .select_visible
            .get_or_init(|| sql::select_from(names, columns));
        sql::select_after(prefix, names, filter)
    }

    /// The rows of a [`Call::visible_select`] statement.
    fn visible_rows(&self, rows: Vec<postgres::Row>) -> RowSet<'a> {
        let shared = self.shared;
        let (columns, out, _) = crate::write::returning_plan(shared);
        let cache = &shared.plans.visible_positions;
        RowSet::plain(shared.model, rows, out, columns, cache)
    }

    /// The rows of the filter `json` on the repository's model, built by `decoder`: parsed
    /// (with the model's default filter, unless skipped) and found, or, when `json` matches a
    /// filter this repository kept the statement of, that statement run with `json`'s values
    /// (see [`template`]). Kept are filters without `fields` or `include` on models whose
    /// default filter does not apply.
    ///
    /// # Errors
    /// As [`Call::parse_filter`] and [`Call::find`].
    pub(crate) fn find_json<D: Decoder>(
        &mut self,
        json: &JsonValue,
        decoder: &D,
    ) -> Result<Vec<D::Row>, RepoError> {
        let shared = self.shared;
        // Without a default filter to merge, the document parsed is the caller's own.
        let skip_default = self.model().default_filter.is_none() || self.opts.skip_default_filter;
        let absent =
            |o: &serde_json::Map<String, JsonValue>, key| o.get(key).is_none_or(JsonValue::is_null);
        let keepable = skip_default
            && json
                .as_object()
                .is_some_and(|o| !o.is_empty() && absent(o, "include") && absent(o, "fields"));
        if !keepable {
            return self.find(&self.parse_filter(json)?, decoder);
        }
        let templates = &shared.plans.find_templates;
        let max_in_list = shared.limits.max_in_list;
        let skipping = self.opts.skip_default_filter;
        if let Some((kept, values)) = templates.find(json, skipping, max_in_list) {
            let values = sql::Params(values);
            let rows = match self.exec.query(&kept.sql, &values.as_params()) {
                Ok(rows) => rows,
                Err(e) => {
                    // The document parses (it matched), so naming a refused pattern needs
                    // only its condition.
                    let parsed = self.parse_filter(json)?;
                    return Err(self.name_regexp(parsed.r#where.as_ref(), e.into()));
                }
            };
            return rows::decode(&self.visible_rows(rows), self.schema(), decoder);
        }
        if !templates.has_room() {
            return self.find(&self.parse_filter(json)?, decoder);
        }
        let (filter, numbered) =
            Filter::parse_recorded(self.model(), self.schema(), json, &shared.limits)?;
        if filter.fields.is_some() || !filter.include.is_empty() {
            return self.find(&filter, decoder);
        }
        let w = self.visible_select(&filter);
        let template = template::Template::new(json, skipping, numbered, &w);
        let rows = self.query(w, filter.r#where.as_ref())?;
        if let Some(template) = template {
            templates.keep(template);
        }
        rows::decode(&self.visible_rows(rows), self.schema(), decoder)
    }

    /// The rows of `filter` on the repository's model, built by `decoder`.
    pub(crate) fn find<D: Decoder>(
        &mut self,
        filter: &Filter,
        decoder: &D,
    ) -> Result<Vec<D::Row>, RepoError> {
        let set = self.fetch(self.shared.model, filter, None)?;
        rows::decode(&set, self.schema(), decoder)
    }

    /// The number of rows matching `cond` (`SELECT count(*)`).
    pub(crate) fn count(&mut self, cond: &Condition) -> Result<u64, RepoError> {
        let names = self.names();
        let mut w = SqlWriter::new();
        w.push("SELECT count(*) FROM ");
        w.push(&names.table);
        w.where_clause(names, Some(cond));
        let rows = self.query(w, Some(cond))?;
        let n: i64 = rows
            .first()
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(ignis_tx::Error::from)?
            .unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Whether any row matches `cond` (`SELECT 1 .. LIMIT 1`).
    pub(crate) fn exists(&mut self, cond: &Condition) -> Result<bool, RepoError> {
        let names = self.names();
        let mut w = SqlWriter::new();
        w.push("SELECT 1 FROM ");
        w.push(&names.table);
        w.where_clause(names, Some(cond));
        w.push(" LIMIT 1");
        Ok(!self.query(w, Some(cond))?.is_empty())
    }

    /// `filter`'s rows with their place in the whole result: one count, one find.
    pub(crate) fn find_with_range<D: Decoder>(
        &mut self,
        filter: &Filter,
        decoder: &D,
    ) -> Result<RangeResult<D::Row>, RepoError> {
        let all = Condition::And(Vec::new());
        let total = self.count(filter.r#where.as_ref().unwrap_or(&all))?;
        let data = self.find(filter, decoder)?;
        let start = filter.skip.unwrap_or(0);
        let len = data.len() as u64;
        Ok(RangeResult {
            data,
            range: Range {
                start,
                end: if len == 0 { start } else { start + len - 1 },
                total,
            },
        })
    }
}

/// Relation `name` of `model`, over one column on each side.
///
/// # Errors
/// [`RepoError::Relation`]: no such relation, or one over several columns.
pub(crate) fn relation<'m>(model: &'m Model, name: &str) -> Result<&'m Relation, RepoError> {
    let rel = model
        .relation_by_name(name)
        .ok_or_else(|| RepoError::Relation {
            model: model.name.clone(),
            relation: name.to_string(),
            message: "no such relation".into(),
        })?;
    if rel.fields.len() != 1 || rel.references.len() != 1 {
        return Err(RepoError::Relation {
            model: model.name.clone(),
            relation: name.to_string(),
            message: "relations over several columns cannot be included yet".into(),
        });
    }
    Ok(rel)
}

/// The model column index of `property`, a join property of `rel`.
///
/// # Errors
/// [`RepoError::Relation`] when it is not a column of `model`.
pub(crate) fn join_column(
    model: &Model,
    rel: &Relation,
    property: &str,
) -> Result<usize, RepoError> {
    model
        .columns
        .iter()
        .position(|c| c.property == property)
        .ok_or_else(|| RepoError::Relation {
            model: model.name.clone(),
            relation: rel.name.clone(),
            message: format!("join property `{property}` is not a column"),
        })
}

/// The model column index of the primary key when it is one column whose type binds as a plain
/// comparison, `<key> = $n` (no array, no `json`, which the condition writer compares as
/// `jsonb`): the key of the by-id statements.
pub(crate) fn scalar_key(model: &Model) -> Option<usize> {
    let index = if model.primary_key_order.is_empty() {
        // The columns marked as the key, without collecting their names.
        let mut marked = (0..model.columns.len()).filter(|&i| model.columns[i].primary_key);
        match (marked.next(), marked.next()) {
            (Some(index), None) => index,
            _ => return None,
        }
    } else {
        let keys = model.primary_key();
        let [pk] = keys.as_slice() else {
            return None;
        };
        model.columns.iter().position(|c| c.column == *pk)?
    };
    let pg_type = &model.columns[index].pg_type;
    (pg_type.element().is_none() && *pg_type != ignis_schema::PgType::Json).then_some(index)
}

/// The statement of a plain by-id find (see [`Call::find_by_id`]), written by the same writer
/// as every find: the filter `{"where": {<pk>: $1}}` over the visible columns. `None` for a model
/// without a single-column primary key of a scalar type.
#[allow(clippy::type_complexity)]
fn plan_by_id(
    shared: &crate::context::Shared,
) -> Option<(usize, String, Vec<(usize, usize)>, Vec<usize>)> {
    use crate::filter::{BoundValue, CompareAs, Comparison, Operand, Operator};
    let model = &shared.schema.models()[shared.model];
    let index = scalar_key(model)?;
    let col = &model.columns[index];
    let field = crate::filter::resolve_field(model, &col.property).ok()?;
    let filter = Filter {
        r#where: Some(Condition::Compare(Box::new(Comparison {
            field,
            compare_as: CompareAs::Native,
            op: Operator::Eq,
            operand: Operand::One(BoundValue::plain(sea_query::Value::Bool(None))),
        }))),
        ..Filter::default()
    };
    let columns = sql::selected_columns(model, &filter, &[]);
    let names = shared.sql.model(&shared.schema, shared.model);
    let w = sql::select(names, &columns, &filter);
    let out = columns.iter().copied().enumerate().collect();
    Some((index, w.sql, out, columns))
}

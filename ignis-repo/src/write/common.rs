//! What every write shares: coercion of written values, the RETURNING plan, and running a
//! write whose rows a [`Decoder`] builds.

use ignis_schema::{quote_ident, Column, Model};
use ignis_tx::postgres::types::ToSql;
use ignis_tx::StatementMode;
use serde_json::{Map, Value as JsonValue};

use super::data::WriteValues;
use crate::context::{Call, Returning};
use crate::filter::{check_value_depth, coerce_value, excerpt, BoundValue, Condition};
use crate::query::sql::{ModelSql, SqlWriter};
use crate::repository::WriteResult;
use crate::rows::{self, Decoder, RowSet};
use crate::RepoError;

/// A JSON row object.
pub(super) type Object = Map<String, JsonValue>;

/// A value an INSERT writes to one column: coerced from JSON (or the actor), or a typed
/// write's field bound through its own `ToSql`.
pub(super) enum Given<'d> {
    /// A JSON value coerced to the column's type, with its cast.
    Coerced(BoundValue),
    /// A typed value.
    Typed(&'d (dyn ToSql + Sync)),
}

/// A typed write's values: `(model column index, value)` in the order the value gives them.
pub(super) type TypedValues<'d> = Vec<(usize, &'d (dyn ToSql + Sync))>;

/// The user-audit properties an INSERT fills from the handle's actor when the data leaves them
/// out (Ignis `UserAudit` enricher: `createdBy`, `modifiedBy`).
pub(super) const AUDIT_PROPERTIES: [&str; 2] = ["createdBy", "modifiedBy"];

/// The quoted names of `columns`, comma-separated: the column list of an INSERT or COPY.
pub(super) fn column_list(columns: &[(&ignis_schema::Column, bool)]) -> String {
    let mut out = String::with_capacity(16 * columns.len());
    for (n, (col, _)) in columns.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        out.push_str(&quote_ident(&col.column));
    }
    out
}

/// Indexes of the columns a write returns: every column but hidden ones.
fn visible_columns(model: &Model) -> Vec<usize> {
    (0..model.columns.len())
        .filter(|&i| !model.is_hidden(&model.columns[i].property))
        .collect()
}

/// The repository model's visible columns, their `(position, column)` pairs and the
/// ` RETURNING ..` clause of writes, built on first use (see [`crate::context::Plans`]). A read
/// of every visible column without joins selects the same columns.
pub(crate) fn returning_plan(shared: &crate::context::Shared) -> &Returning {
    shared.plans.returning.get_or_init(|| {
        let model = &shared.schema.models()[shared.model];
        let columns = visible_columns(model);
        let names = shared.sql.model(&shared.schema, shared.model);
        let sql = returning_sql(names, &columns);
        let out = columns.iter().copied().enumerate().collect();
        (columns, out, sql)
    })
}

/// ` RETURNING <columns>`, from the model's quoted column names.
fn returning_sql(names: &ModelSql, columns: &[usize]) -> String {
    let mut s = String::from(" RETURNING ");
    for (n, &i) in columns.iter().enumerate() {
        if n > 0 {
            s.push_str(", ");
        }
        s.push_str(&names.columns[i]);
    }
    s
}

/// `Ok` unless `col` is an identity `GENERATED ALWAYS`, which Postgres fills itself and refuses
/// to take from an INSERT or UPDATE: then [`RepoError::InvalidData`] naming `property`.
pub(super) fn writable(model: &Model, col: &Column, property: &str) -> Result<(), RepoError> {
    let generated_always = col
        .identity
        .as_ref()
        .is_some_and(|i| i.generation == ignis_schema::IdentityGeneration::Always);
    if generated_always {
        return Err(invalid(
            model,
            format!("`{property}` is generated always by the database and cannot be written"),
        ));
    }
    Ok(())
}

/// `value` written to `col` (property `property`): [`writable`], then coerced to the column's
/// type as filters coerce it.
pub(super) fn written_value(
    model: &Model,
    col: &Column,
    property: &str,
    value: &JsonValue,
) -> Result<BoundValue, RepoError> {
    writable(model, col, property)?;
    Ok(coerce_value(property, &col.pg_type, value)?)
}

pub(super) fn invalid(model: &Model, message: String) -> RepoError {
    RepoError::InvalidData {
        model: model.name.clone(),
        message,
    }
}

/// The columns and values `data` sets: each property resolved to its column of `model`.
///
/// # Errors
/// [`RepoError::InvalidData`] for a property the model does not have, one given twice, or a
/// column generated always (see [`writable`]).
pub(super) fn resolve_values<'d>(
    model: &Model,
    data: &'d dyn WriteValues,
) -> Result<TypedValues<'d>, RepoError> {
    let mut out: TypedValues<'d> = Vec::with_capacity(model.columns.len());
    let mut error = None;
    data.write_values(&mut |property, value| {
        if error.is_some() {
            return;
        }
        let found = model
            .columns
            .iter()
            .position(|c| c.property == property)
            .ok_or_else(|| invalid(model, format!("unknown property `{}`", excerpt(property))))
            .and_then(|i| {
                writable(model, &model.columns[i], property)?;
                if out.iter().any(|&(c, _)| c == i) {
                    return Err(invalid(model, format!("`{property}` is given twice")));
                }
                Ok(i)
            });
        match found {
            Ok(i) => out.push((i, value)),
            Err(e) => error = Some(e),
        }
    });
    match error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Which rows an UPDATE or DELETE writes.
pub(super) enum WriteWhere {
    /// `<primary key> = $n`: the model column index of the single-column key and the id
    /// coerced to its type. Used when no default filter applies to the write, so the key is
    /// the whole where.
    Key {
        /// Model column index of the primary key.
        column: usize,
        /// The id, coerced to the key's type.
        id: BoundValue,
    },
    /// A parsed condition (the default filter's where merged in where it applies).
    Cond(Condition),
}

impl WriteWhere {
    /// ` WHERE ..`: the same text the condition writer gives `<pk> = id`, or the condition's
    /// where clause.
    pub(super) fn write(&self, w: &mut SqlWriter, names: &ModelSql) {
        match self {
            WriteWhere::Key { column, id } => w.key_where(names, *column, id),
            WriteWhere::Cond(cond) => w.where_clause(names, Some(cond)),
        }
    }

    /// The condition, for naming a refused `regexp` pattern; a key lookup has none.
    pub(super) fn condition(&self) -> Option<&Condition> {
        match self {
            WriteWhere::Key { .. } => None,
            WriteWhere::Cond(cond) => Some(cond),
        }
    }
}

/// The first row of a by-id write's result.
pub(super) fn first<T>(r: WriteResult<Vec<T>>) -> WriteResult<Option<T>> {
    WriteResult {
        count: r.count,
        data: r.data.into_iter().next(),
    }
}

impl<'a> Call<'a> {
    /// [`crate::FilterError`] when a value of `data` (an object of property values) nests
    /// deeper than `FilterLimits::max_value_depth`: refused before anything recursive
    /// (coercion, serialisation) touches it.
    pub(super) fn check_data(&self, data: &JsonValue) -> Result<(), RepoError> {
        if let Some(obj) = data.as_object() {
            let max = self.shared.limits.max_value_depth;
            for (key, value) in obj {
                check_value_depth(key, value, max)?;
            }
        }
        Ok(())
    }

    /// The columns and values `data` sets (see [`resolve_values`]).
    ///
    /// # Errors
    /// As [`resolve_values`].
    pub(super) fn typed_values<'d>(
        &self,
        data: &'d dyn WriteValues,
    ) -> Result<TypedValues<'d>, RepoError> {
        resolve_values(self.model(), data)
    }

    /// The where of a write by primary key `id`: `<pk> = id`, ANDed with the default filter's
    /// where unless `skip_default` or the handle skips it. When no default where applies, the
    /// key is a single column of a scalar type other than `json`, and `id` coerces to it, the
    /// key comparison is written directly ([`WriteWhere::Key`]), without building a condition;
    /// otherwise (and for every error, so errors read the same) the condition is parsed.
    ///
    /// # Errors
    /// As [`Call::id_condition`] and [`Call::parse_where`].
    pub(super) fn id_where(
        &self,
        id: &JsonValue,
        skip_default: bool,
    ) -> Result<WriteWhere, RepoError> {
        let model = self.model();
        let default_applies = !(skip_default || self.opts.skip_default_filter)
            && model
                .default_filter
                .as_ref()
                .and_then(|f| f.get("where"))
                .is_some_and(|w| !w.is_null());
        if !default_applies && !id.is_null() {
            if let Some(column) = crate::query::scalar_key(model) {
                let col = &model.columns[column];
                if let Ok(id) = coerce_value(&col.property, &col.pg_type, id) {
                    return Ok(WriteWhere::Key { column, id });
                }
            }
        }
        if skip_default {
            return Ok(WriteWhere::Cond(self.id_condition(id)?));
        }
        let default_where = self.parse_where(&JsonValue::Null, false)?;
        Ok(WriteWhere::Cond(default_where.and(self.id_condition(id)?)))
    }

    /// The handle's actor ([`Repository::with_actor`]), or null without one.
    pub(super) fn actor(&self) -> &'a JsonValue {
        self.opts.actor.as_deref().unwrap_or(&JsonValue::Null)
    }

    /// The handle's actor (null without one) coerced to the type of the audit column `col`.
    pub(super) fn actor_bound(&self, col: &Column) -> Result<BoundValue, RepoError> {
        Ok(coerce_value(&col.property, &col.pg_type, self.actor())?)
    }

    /// The columns a write returns and its ` RETURNING ..` clause (every visible column), or
    /// `None` with `should_return(false)`. Built once per repository.
    pub(super) fn returning(&self) -> Option<&'a Returning> {
        let shared = self.shared;
        if !self.opts.should_return {
            return None;
        }
        Some(returning_plan(shared))
    }

    /// Runs an UPDATE or DELETE that `w` wrote up to its where (written from `cond`): appends
    /// the RETURNING clause unless the handle says `should_return(false)`, runs it and builds
    /// its rows with `decoder`. A server refusal of a `regexp` pattern of `cond` becomes the
    /// filter error naming it.
    pub(super) fn run_where_write<D: Decoder>(
        &mut self,
        mut w: SqlWriter,
        cond: Option<&Condition>,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        let ret = self.returning();
        if let Some((_, _, clause)) = ret {
            w.push(clause);
        }
        let (sql, params) = w.finish();
        let (count, data) = self
            .run_write(&sql, &params.as_params(), ret, decoder)
            .map_err(|e| self.name_regexp(cond, e))?;
        Ok(WriteResult { count, data })
    }

    /// Runs a write `sql` with `params`; with `returning`, its rows built by `decoder` (the SQL
    /// must end with that clause). Returns the number of rows written and the rows.
    pub(super) fn run_write<D: Decoder>(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        returning: Option<&Returning>,
        decoder: &D,
    ) -> Result<(u64, Vec<D::Row>), RepoError> {
        let Some((columns, out, _)) = returning.filter(|r| !r.0.is_empty()) else {
            let n = self.exec.execute(sql, params)?;
            return Ok((n, Vec::new()));
        };
        // A write that autocommits cannot be undone once it ran: every returned column must
        // be decodable before it runs (the statement's column types, from the statement
        // cache the query below reuses), so decoding cannot fail after the commit.
        let mut prepared = None;
        let refused = if self.exec.statement_mode() == StatementMode::Prepared {
            // The cached statement's own description: no copy of its column types; the
            // statement then runs as it is.
            let stmt = self.exec.prepare(sql)?;
            let refused = stmt
                .columns()
                .iter()
                .position(|c| !decoder.accepts(c.type_()))
                .map(|n| (n, stmt.columns()[n].type_().clone()));
            prepared = Some(stmt);
            refused
        } else {
            let types = self.exec.column_types(sql)?;
            types
                .iter()
                .position(|t| !decoder.accepts(t))
                .map(|n| (n, types[n].clone()))
        };
        if let Some((n, col)) = refused {
            let model = self.model();
            return Err(RepoError::Decode {
                model: model.name.clone(),
                property: columns
                    .get(n)
                    .map(|&i| model.columns[i].property.clone())
                    .unwrap_or_default(),
                message: format!(
                    "Postgres type `{}` has no decoding; the write was not run (use \
                     should_return(false), or give the column a decodable type)",
                    col.name()
                ),
            });
        }
        let rows = match &prepared {
            Some(stmt) => self.exec.query_statement(stmt, sql, params)?,
            None => self.exec.query(sql, params)?,
        };
        let cache = &self.shared.plans.visible_positions;
        let set = RowSet::plain(self.shared.model, rows, out, columns, cache);
        let data = rows::decode(&set, self.schema(), decoder)?;
        Ok((data.len() as u64, data))
    }
}

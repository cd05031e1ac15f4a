//! INSERT of one row: `create`, from JSON (each property coerced to its column type) or from
//! typed values (bound as they are, the statement text kept per column list).

use std::sync::Arc;

use ignis_tx::postgres::types::ToSql;
use serde_json::Value as JsonValue;

use super::common::{invalid, written_value, Given};
use super::data::WriteData;
use crate::context::Call;
use crate::filter::excerpt;
use crate::query::sql::{ModelSql, SqlWriter};
use crate::repository::WriteResult;
use crate::rows::Decoder;
use crate::RepoError;

impl Call<'_> {
    /// The columns and bound values of an INSERT: each given property coerced to its column
    /// type. Checks and errors as an update's assignments without JSON paths.
    fn insert_values(&self, data: &JsonValue) -> Result<Vec<(usize, Given<'static>)>, RepoError> {
        let model = self.model();
        let obj = data
            .as_object()
            .ok_or_else(|| invalid(model, "the data to write must be a JSON object".into()))?;
        self.check_data(data)?;
        let mut out = Vec::with_capacity(obj.len() + 2);
        for (key, value) in obj {
            let Some(i) = model.columns.iter().position(|c| c.property == *key) else {
                return Err(invalid(
                    model,
                    format!("unknown property `{}`", excerpt(key)),
                ));
            };
            let bound = written_value(model, &model.columns[i], key, value)?;
            out.push((i, Given::Coerced(bound)));
        }
        Ok(out)
    }

    /// See [`crate::Repository::create`]: `INSERT INTO t (..) VALUES ($1, $2::type, ..) RETURNING ..`
    /// (`DEFAULT VALUES` when nothing is given). JSON data is coerced to the columns' types;
    /// typed values are bound as they are.
    pub(super) fn create<'d, D: Decoder>(
        &mut self,
        data: WriteData<'d>,
        decoder: &D,
    ) -> Result<WriteResult<Option<D::Row>>, RepoError> {
        let model = self.model();
        let mut values: Vec<(usize, Given<'d>)> = match data {
            WriteData::Json(data) => self.insert_values(data)?,
            WriteData::Values(data) => self
                .typed_values(data)?
                .into_iter()
                .map(|(i, v)| (i, Given::Typed(v)))
                .collect(),
        };
        for prop in ["createdBy", "modifiedBy"] {
            if let Some(i) = model.columns.iter().position(|c| c.property == prop) {
                if !values.iter().any(|(c, _)| *c == i) {
                    values.push((i, Given::Coerced(self.actor_bound(&model.columns[i])?)));
                }
            }
        }
        if let Some(typed) = all_typed(&values) {
            return self.create_typed(&values, &typed, decoder);
        }
        let names = self.names();
        let mut w = SqlWriter::new();
        if values.is_empty() {
            w.push("INSERT INTO ");
            w.push(&names.table);
            w.push(" DEFAULT VALUES");
        } else {
            insert_into(&mut w.sql, names, &values);
            for (n, (_, given)) in values.into_iter().enumerate() {
                if n > 0 {
                    w.push(", ");
                }
                match given {
                    Given::Coerced(bound) => {
                        w.bind(bound.value);
                        if let Some(cast) = &bound.cast {
                            w.push(cast);
                        }
                    }
                    Given::Typed(value) => w.bind_ref(value),
                }
            }
            w.push(")");
        }
        let ret = self.returning();
        if let Some((_, _, clause)) = ret {
            w.push(clause);
        }
        let (sql, values) = w.finish();
        let (count, rows) = self.run_write(&sql, &values.as_params(), ret, decoder)?;
        Ok(WriteResult {
            count,
            data: rows.into_iter().next(),
        })
    }

    /// [`Call::create`] of values that are all the caller's typed values (bound as they are,
    /// without casts): the INSERT text depends only on the columns given, so it is written
    /// once per column list and kept (see [`crate::context::Plans::insert_texts`]).
    fn create_typed<D: Decoder>(
        &mut self,
        values: &[(usize, Given<'_>)],
        params: &[&(dyn ToSql + Sync)],
        decoder: &D,
    ) -> Result<WriteResult<Option<D::Row>>, RepoError> {
        let ret = self.returning();
        let returning = ret.is_some();
        let texts = &self.shared.plans.insert_texts;
        let same = |(columns, r, _): &&crate::context::InsertText| {
            *r == returning
                && columns.len() == values.len()
                && columns.iter().zip(values).all(|(c, (i, _))| c == i)
        };
        let known = texts
            .lock()
            .ok()
            .and_then(|t| t.iter().find(same).map(|(_, _, sql)| sql.clone()));
        let sql = match known {
            Some(sql) => sql,
            None => {
                let names = self.names();
                let mut sql = String::with_capacity(64);
                insert_into(&mut sql, names, values);
                for n in 0..values.len() {
                    if n > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('$');
                    crate::query::sql::push_usize(&mut sql, n + 1);
                }
                sql.push(')');
                if let Some((_, _, clause)) = ret {
                    sql.push_str(clause);
                }
                let sql: Arc<str> = sql.into();
                if let Ok(mut t) = texts.lock() {
                    if t.len() < crate::context::INSERT_TEXTS {
                        let columns = values.iter().map(|(i, _)| *i).collect();
                        t.push((columns, returning, sql.clone()));
                    }
                }
                sql
            }
        };
        let (count, rows) = self.run_write(&sql, params, ret, decoder)?;
        Ok(WriteResult {
            count,
            data: rows.into_iter().next(),
        })
    }
}

/// The values as the `postgres` client binds them when every one is the caller's typed value
/// (no coerced JSON value, which may need a cast); `None` otherwise, or when there are none.
fn all_typed<'d>(values: &[(usize, Given<'d>)]) -> Option<Vec<&'d (dyn ToSql + Sync)>> {
    if values.is_empty() {
        return None;
    }
    values
        .iter()
        .map(|(_, given)| match given {
            Given::Typed(value) => Some(*value),
            Given::Coerced(_) => None,
        })
        .collect()
}

/// `INSERT INTO <table> (<columns of values>) VALUES (`, appended to `sql`.
fn insert_into(sql: &mut String, names: &ModelSql, values: &[(usize, Given<'_>)]) {
    sql.push_str("INSERT INTO ");
    sql.push_str(&names.table);
    sql.push_str(" (");
    for (n, (i, _)) in values.iter().enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&names.columns[*i]);
    }
    sql.push_str(") VALUES (");
}

//! INSERT of one row: `create`, from JSON (each property coerced to its column type) or from
//! typed values (bound as they are, the statement text kept per column list).

use std::sync::Arc;

use ignis_tx::postgres::types::ToSql;
use serde_json::Value as JsonValue;

use super::common::{invalid, written_value, Given, TypedValues, AUDIT_PROPERTIES};
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
        // The audit columns the data leaves out, which the actor fills.
        let audit_columns = self.shared.plans.audit_columns.get_or_init(|| {
            AUDIT_PROPERTIES.map(|prop| model.columns.iter().position(|c| c.property == prop))
        });
        let unset = |given: &dyn Fn(usize) -> bool| audit_columns.map(|i| i.filter(|&i| !given(i)));
        let (mut values, audit): (Vec<(usize, Given<'d>)>, _) = match data {
            WriteData::Json(data) => {
                let values = self.insert_values(data)?;
                let audit = unset(&|i| values.iter().any(|(c, _)| *c == i));
                (values, audit)
            }
            WriteData::Values(data) => {
                let typed = self.typed_values(data)?;
                let audit = unset(&|i| typed.iter().any(|(c, _)| *c == i));
                if !typed.is_empty() && audit.iter().all(Option::is_none) {
                    return self.create_typed(&typed, decoder);
                }
                let values = typed.into_iter().map(|(i, v)| (i, Given::Typed(v)));
                (values.collect(), audit)
            }
        };
        for i in audit.into_iter().flatten() {
            values.push((i, Given::Coerced(self.actor_bound(&model.columns[i])?)));
        }
        let names = self.names();
        let mut w = SqlWriter::new();
        if values.is_empty() {
            w.push("INSERT INTO ");
            w.push(&names.table);
            w.push(" DEFAULT VALUES");
        } else {
            insert_into(&mut w.sql, names, values.iter().map(|(i, _)| *i));
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

    /// [`Call::create`] of the caller's typed values alone (bound as they are, without casts;
    /// no audit column left to the actor): the INSERT text depends only on the columns given,
    /// so it is written once per column list and kept (see
    /// [`crate::context::Plans::insert_texts`]).
    fn create_typed<D: Decoder>(
        &mut self,
        values: &TypedValues<'_>,
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
                insert_into(&mut sql, names, values.iter().map(|(i, _)| *i));
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
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|(_, v)| *v).collect();
        let (count, rows) = self.run_write(&sql, &params, ret, decoder)?;
        Ok(WriteResult {
            count,
            data: rows.into_iter().next(),
        })
    }
}

/// `INSERT INTO <table> (<columns>) VALUES (`, appended to `sql` (`columns`: model indexes).
fn insert_into(sql: &mut String, names: &ModelSql, columns: impl Iterator<Item = usize>) {
    sql.push_str("INSERT INTO ");
    sql.push_str(&names.table);
    sql.push_str(" (");
    for (n, i) in columns.enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&names.columns[i]);
    }
    sql.push_str(") VALUES (");
}

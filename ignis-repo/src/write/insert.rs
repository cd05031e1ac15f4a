//! INSERT: `create` (one row) and `create_all` (unnest per property set, data-modifying CTEs
//! across sets, VALUES lists for array columns, COPY for large plain batches).

use ignis_schema::Model;
use ignis_tx::postgres::types::ToSql;
use sea_query_postgres::PostgresValue;
use serde_json::Value as JsonValue;

use super::common::{column_list, invalid, writable, written_value, Object};
use super::copy::{coerce_column, copy_columns, COPY_MIN_ROWS};
use crate::context::{Call, Returning};
use crate::filter::{excerpt, BoundValue};
use crate::query::sql::SqlWriter;
use crate::repository::WriteResult;
use crate::rows::Decoder;
use crate::RepoError;

/// Most bound parameters in one statement (the protocol counts them in 16 bits).
pub(super) const MAX_PARAMS: usize = 65_535;

/// One INSERT of `create_all` without its RETURNING clause, its parameters numbered from `$1`.
struct InsertPart {
    sql: String,
    params: Vec<Box<dyn ToSql + Sync>>,
}

/// `sql` with every parameter `$n` written `$(n + offset)`. Only our own INSERT parts go through
/// it: their text has no `$` but in placeholders (identifiers are quoted model names, which may
/// hold `$`, so a `$` inside double quotes is left alone).
fn renumber_params(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '"' {
            quoted = !quoted;
        } else if c == '$' && !quoted {
            let mut n = 0usize;
            let mut digits = false;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n * 10 + d as usize;
                digits = true;
                chars.next();
            }
            if digits {
                out.push_str(&(n + offset).to_string());
            }
        }
    }
    out
}

/// At most how many parameters `create_all` binds for `n` rows giving the properties `keys`:
/// one array per column (plus the two audit columns), or, with an array column, one value per
/// cell of a VALUES list (see `Call::create_all`). Parts of one call whose parameters fit in
/// [`MAX_PARAMS`] run as one statement.
fn create_all_params(model: &Model, keys: &[String], n: usize) -> usize {
    let has_array = keys.iter().any(|k| {
        model
            .column_by_property(k)
            .is_some_and(|c| matches!(c.pg_type, ignis_schema::PgType::Array(_)))
    });
    let per_row = keys.len() + 2;
    if has_array {
        n.saturating_mul(per_row)
    } else {
        per_row
    }
}

/// Rows of `create_all` that give the same properties: (sorted property names, rows).
pub(super) type KeyGroup<'d> = (Vec<String>, Vec<&'d Object>);

/// Groups rows by their sorted property set (for one unnest INSERT per group), validating that
/// each row is an object of known properties.
pub(super) fn group_by_keys<'d>(
    model: &Model,
    data: &'d [JsonValue],
) -> Result<Vec<KeyGroup<'d>>, RepoError> {
    let mut groups: Vec<KeyGroup<'d>> = Vec::new();
    for (n, row) in data.iter().enumerate() {
        let obj = row
            .as_object()
            .ok_or_else(|| invalid(model, format!("row {n} of create_all is not an object")))?;
        // Compare key sets without building one per row (rows usually all give the same).
        let same_keys =
            |k: &Vec<String>| k.len() == obj.len() && k.iter().all(|k| obj.contains_key(k));
        match groups.iter_mut().find(|(k, _)| same_keys(k)) {
            Some((_, rows)) => rows.push(obj),
            None => {
                let mut keys: Vec<String> = obj.keys().cloned().collect();
                keys.sort();
                groups.push((keys, vec![obj]));
            }
        }
    }
    Ok(groups)
}

/// An array parameter as a plain Rust vector when its elements are all of one simple kind, so
/// it is encoded straight from them (sea-query-postgres encodes a `Value::Array` by first
/// cloning every element); other arrays are bound as sea-query-postgres binds them. The bytes
/// sent are the same either way.
fn array_param(value: sea_query::Value) -> Box<dyn ToSql + Sync> {
    use sea_query::Value as V;
    let V::Array(ty, Some(items)) = value else {
        return Box::new(PostgresValue(value));
    };
    macro_rules! typed {
        ($variant:ident) => {
            if items.iter().all(|v| matches!(v, V::$variant(_))) {
                let list: Vec<_> = items
                    .into_iter()
                    .filter_map(|v| match v {
                        V::$variant(x) => Some(x),
                        _ => None,
                    })
                    .collect();
                return Box::new(list);
            }
        };
    }
    typed!(Int);
    typed!(BigInt);
    typed!(SmallInt);
    typed!(Double);
    typed!(Float);
    typed!(Bool);
    typed!(String);
    Box::new(PostgresValue(V::Array(ty, Some(items))))
}

/// Whether `create_all` of `groups` binds at most [`MAX_PARAMS`] parameters, and so runs as one
/// statement.
pub(super) fn one_statement(model: &Model, groups: &[KeyGroup<'_>]) -> bool {
    groups
        .iter()
        .map(|(keys, rows)| create_all_params(model, keys, rows.len()))
        .sum::<usize>()
        <= MAX_PARAMS
}

impl Call<'_> {
    /// The columns and bound values of an INSERT: each given property coerced to its column
    /// type. Checks and errors as an update's assignments without JSON paths.
    fn insert_values(&self, data: &JsonValue) -> Result<Vec<(usize, BoundValue)>, RepoError> {
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
            out.push((i, written_value(model, &model.columns[i], key, value)?));
        }
        Ok(out)
    }

    /// See [`crate::Repository::create`]: `INSERT INTO t (..) VALUES ($1, $2::type, ..) RETURNING ..`
    /// (`DEFAULT VALUES` when nothing is given).
    pub(super) fn create<D: Decoder>(
        &mut self,
        data: &JsonValue,
        decoder: &D,
    ) -> Result<WriteResult<Option<D::Row>>, RepoError> {
        let model = self.model();
        let mut values = self.insert_values(data)?;
        for prop in ["createdBy", "modifiedBy"] {
            if let Some(i) = model.columns.iter().position(|c| c.property == prop) {
                if !values.iter().any(|(c, _)| *c == i) {
                    values.push((i, self.actor_bound(&model.columns[i])?));
                }
            }
        }
        let names = self.names();
        let mut w = SqlWriter::new();
        w.push("INSERT INTO ");
        w.push(&names.table);
        if values.is_empty() {
            w.push(" DEFAULT VALUES");
        } else {
            w.push(" (");
            for (n, (i, _)) in values.iter().enumerate() {
                if n > 0 {
                    w.push(", ");
                }
                w.push(&names.columns[*i]);
            }
            w.push(") VALUES (");
            for (n, (_, bound)) in values.into_iter().enumerate() {
                if n > 0 {
                    w.push(", ");
                }
                w.bind(bound.value);
                if let Some(cast) = &bound.cast {
                    w.push(cast);
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

    /// See [`crate::Repository::create_all`]: `data` already grouped by property set
    /// ([`group_by_keys`]), in one statement when [`one_statement`] says so (atomic on any
    /// executor), else in several (atomic when the executor is a transaction or savepoint).
    pub(super) fn create_all<D: Decoder>(
        &mut self,
        data: &[JsonValue],
        groups: Vec<KeyGroup<'_>>,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        let model = self.model();
        for row in data {
            self.check_data(row)?;
        }
        let ret = self.returning();
        let actor = self.actor();
        let single_group = groups.len() == 1;
        // One INSERT (without RETURNING) per group, or per VALUES chunk of a group with an
        // array column; each numbers its parameters from 1.
        let mut parts: Vec<InsertPart> = Vec::with_capacity(groups.len());
        for (keys, rows) in groups {
            // Columns: the given properties plus the audit ones from the actor.
            let mut columns: Vec<(&ignis_schema::Column, bool)> = Vec::new();
            for k in &keys {
                let col = model
                    .column_by_property(k)
                    .ok_or_else(|| invalid(model, format!("unknown property `{}`", excerpt(k))))?;
                writable(model, col, k)?;
                columns.push((col, false));
            }
            for prop in ["createdBy", "modifiedBy"] {
                if let Some(col) = model.column_by_property(prop) {
                    if !keys.iter().any(|k| k == prop) {
                        columns.push((col, true));
                    }
                }
            }
            if columns.is_empty() {
                // Only defaults: one row per number of a series, no column given.
                let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
                parts.push(InsertPart {
                    sql: format!(
                        "INSERT INTO {} SELECT FROM generate_series(1, $1::bigint)",
                        model.quoted_table()
                    ),
                    params: vec![Box::new(n)],
                });
                continue;
            }
            if columns
                .iter()
                .any(|(c, _)| matches!(c.pg_type, ignis_schema::PgType::Array(_)))
            {
                // unnest cannot carry array columns (it would flatten them): a multi-row
                // VALUES list instead, one per MAX_PARAMS parameters.
                let per_statement = (MAX_PARAMS / columns.len()).max(1);
                for chunk in rows.chunks(per_statement) {
                    parts.push(self.values_part(&columns, chunk, actor)?);
                }
                continue;
            }
            let mut bounds = Vec::with_capacity(columns.len());
            for (col, from_actor) in &columns {
                let array_type = ignis_schema::PgType::Array(Box::new(col.pg_type.clone()));
                bounds.push(coerce_column(
                    col,
                    &array_type,
                    &rows,
                    from_actor.then_some(actor),
                )?);
            }
            if single_group
                && ret.is_none()
                && rows.len() >= COPY_MIN_ROWS
                // The raw client's COPY prepares a named statement, which a pooler in
                // transaction mode does not keep between messages (StatementMode::Unnamed).
                && self.exec.statement_mode() == ignis_tx::StatementMode::Prepared
                && self.copy_allowed()?
            {
                if let Some(copy) = copy_columns(&columns, &mut bounds) {
                    let count = self.copy_in(&columns, copy, rows.len())?;
                    return Ok(WriteResult {
                        count,
                        data: Vec::new(),
                    });
                }
            }
            let mut sql = format!(
                "INSERT INTO {} ({}) SELECT * FROM unnest(",
                model.quoted_table(),
                column_list(&columns)
            );
            let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
            for (n, ((col, _), bound)) in columns.iter().zip(bounds).enumerate() {
                if n > 0 {
                    sql.push_str(", ");
                }
                let array_type = ignis_schema::PgType::Array(Box::new(col.pg_type.clone()));
                sql.push_str(&format!(
                    "${}{}::{}",
                    n + 1,
                    bound.cast.as_deref().unwrap_or(""),
                    array_type
                ));
                params.push(array_param(bound.value));
            }
            sql.push(')');
            parts.push(InsertPart { sql, params });
        }
        let mut result = WriteResult {
            count: 0,
            data: Vec::new(),
        };
        // Parts that fit in one statement's parameters go together, as data-modifying CTEs
        // of one statement: atomic on any executor, even a connection in autocommit.
        let mut batch: Vec<InsertPart> = Vec::new();
        let mut batch_params = 0;
        let mut iter = parts.into_iter().peekable();
        while let Some(part) = iter.next() {
            batch_params += part.params.len();
            batch.push(part);
            let full = iter
                .peek()
                .is_none_or(|next| batch_params + next.params.len() > MAX_PARAMS);
            if full {
                let (count, data) =
                    self.run_insert_parts(std::mem::take(&mut batch), ret, decoder)?;
                batch_params = 0;
                result.count += count;
                result.data.extend(data);
            }
        }
        Ok(result)
    }

    /// Runs INSERT `parts` as one statement: the part itself (plus RETURNING), or
    /// `WITH g0 AS (<part> RETURNING ..), g1 AS (..) SELECT * FROM g0 UNION ALL ..` (rows in part
    /// order), or without rows to return `.. SELECT (SELECT count(*) FROM g0) + ..`.
    fn run_insert_parts<D: Decoder>(
        &mut self,
        parts: Vec<InsertPart>,
        ret: Option<&Returning>,
        decoder: &D,
    ) -> Result<(u64, Vec<D::Row>), RepoError> {
        if let [part] = parts.as_slice() {
            let mut sql = part.sql.clone();
            if let Some((_, _, clause)) = ret {
                sql.push_str(clause);
            }
            let refs: Vec<&(dyn ToSql + Sync)> = part.params.iter().map(|p| p.as_ref()).collect();
            return self.run_write(&sql, &refs, ret, decoder);
        }
        let mut sql = String::from("WITH ");
        let mut offset = 0;
        let mut refs: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("g{i} AS ("));
            sql.push_str(&renumber_params(&part.sql, offset));
            match ret {
                Some((_, _, clause)) => sql.push_str(clause),
                None => sql.push_str(" RETURNING 1"),
            }
            sql.push(')');
            offset += part.params.len();
            refs.extend(
                part.params
                    .iter()
                    .map(|p| p.as_ref() as &(dyn ToSql + Sync)),
            );
        }
        if ret.is_some() {
            for i in 0..parts.len() {
                sql.push_str(if i == 0 {
                    " SELECT * FROM g0"
                } else {
                    " UNION ALL SELECT * FROM "
                });
                if i > 0 {
                    sql.push_str(&format!("g{i}"));
                }
            }
            return self.run_write(&sql, &refs, ret, decoder);
        }
        sql.push_str(" SELECT ");
        for i in 0..parts.len() {
            if i > 0 {
                sql.push_str(" + ");
            }
            sql.push_str(&format!("(SELECT count(*) FROM g{i})"));
        }
        let rows = self.exec.query(&sql, &refs)?;
        let n: i64 = match rows.first() {
            Some(row) => row.try_get(0).map_err(ignis_tx::Error::from)?,
            None => 0,
        };
        Ok((u64::try_from(n).unwrap_or(0), Vec::new()))
    }

    /// `INSERT INTO <table> (<columns>) VALUES ($1, $2::type, ..), (..)`: `rows` (each giving
    /// every column of `columns` that is not from the actor) as one INSERT part.
    fn values_part(
        &self,
        columns: &[(&ignis_schema::Column, bool)],
        rows: &[&Object],
        actor: &JsonValue,
    ) -> Result<InsertPart, RepoError> {
        let model = self.model();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            model.quoted_table(),
            column_list(columns)
        );
        let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(rows.len() * columns.len());
        for (r, row) in rows.iter().enumerate() {
            sql.push_str(if r > 0 { ", (" } else { "(" });
            for (n, (col, from_actor)) in columns.iter().enumerate() {
                let value = if *from_actor {
                    actor
                } else {
                    row.get(&col.property).unwrap_or(&JsonValue::Null)
                };
                let bound = written_value(model, col, &col.property, value)?;
                if n > 0 {
                    sql.push_str(", ");
                }
                params.push(Box::new(PostgresValue(bound.value)));
                sql.push('$');
                sql.push_str(&params.len().to_string());
                if let Some(cast) = &bound.cast {
                    sql.push_str(cast);
                }
            }
            sql.push(')');
        }
        Ok(InsertPart { sql, params })
    }
}

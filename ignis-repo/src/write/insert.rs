//! INSERT of many rows: `create_all` (unnest per property set, data-modifying CTEs across sets,
//! VALUES lists for array columns, COPY for large plain batches). One row: `create.rs`.

use ignis_schema::{Model, PgType};
use ignis_tx::postgres::types::{IsNull, Kind, ToSql, Type};
use sea_query_postgres::PostgresValue;
use serde_json::Value as JsonValue;

use super::common::{
    column_list, invalid, resolve_values, writable, written_value, Object, TypedValues,
    AUDIT_PROPERTIES,
};
use super::copy::{borrowed_copy_columns, coerce_column, COPY_MIN_ROWS};
use super::data::{CreateData, WriteData};
use crate::context::{Call, Returning};
use crate::filter::{coerce_value, excerpt};
use crate::repository::WriteResult;
use crate::rows::Decoder;
use crate::RepoError;

/// Most bound parameters in one statement (the protocol counts them in 16 bits).
pub(super) const MAX_PARAMS: usize = 65_535;

/// One INSERT of `create_all` without its RETURNING clause, its parameters numbered from `$1`
/// (typed rows' parameters borrow from the rows, `'d`).
struct InsertPart<'d> {
    sql: String,
    params: Vec<Box<dyn ToSql + Sync + 'd>>,
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
fn create_all_params<'k>(
    model: &Model,
    keys: impl ExactSizeIterator<Item = Option<&'k ignis_schema::Column>>,
    n: usize,
) -> usize {
    let per_row = keys.len() + 2;
    let mut keys = keys;
    let has_array = keys.any(|c| c.is_some_and(|c| matches!(c.pg_type, PgType::Array(_))));
    let _ = model;
    if has_array {
        n.saturating_mul(per_row)
    } else {
        per_row
    }
}

/// Rows of `create_all` that give the same properties: (sorted property names, rows).
pub(super) type KeyGroup<'d> = (Vec<String>, Vec<&'d Object>);

/// Typed rows of `create_all` that set the same columns: (model column indexes in the order
/// the rows give them, rows).
pub(super) type TypedGroup<'r, 'd> = (Vec<usize>, Vec<&'r TypedValues<'d>>);

/// The rows of one `create_all` call: JSON objects, or typed values resolved to columns.
pub(crate) enum Rows<'d> {
    /// JSON rows.
    Json(Vec<&'d JsonValue>),
    /// Typed rows (see [`crate::WriteValues`]).
    Typed(Vec<TypedValues<'d>>),
}

/// [`Rows`] grouped by the properties each row gives (one INSERT per group).
pub(super) enum Groups<'r, 'd> {
    Json(Vec<KeyGroup<'r>>),
    Typed(Vec<TypedGroup<'r, 'd>>),
}

impl<'d> Rows<'d> {
    /// The rows of `data`, which must all be JSON or all typed; typed rows' properties are
    /// resolved to `model`'s columns.
    ///
    /// # Errors
    /// [`RepoError::InvalidData`] for a mix, or a typed row's unknown property.
    pub(crate) fn of<E, D: CreateData<E>>(model: &Model, data: &'d [D]) -> Result<Self, RepoError> {
        let typed = matches!(data.first().map(D::write_data), Some(WriteData::Values(_)));
        let mixed = || {
            invalid(
                model,
                "create_all takes JSON rows or typed rows, not both".into(),
            )
        };
        if typed {
            let mut rows = Vec::with_capacity(data.len());
            for d in data {
                match d.write_data() {
                    WriteData::Values(v) => rows.push(resolve_values(model, v)?),
                    WriteData::Json(_) => return Err(mixed()),
                }
            }
            return Ok(Rows::Typed(rows));
        }
        let mut rows = Vec::with_capacity(data.len());
        for d in data {
            match d.write_data() {
                WriteData::Json(v) => rows.push(v),
                WriteData::Values(_) => return Err(mixed()),
            }
        }
        Ok(Rows::Json(rows))
    }

    /// The rows grouped by the properties they give, in the order of each group's first row.
    ///
    /// # Errors
    /// [`RepoError::InvalidData`] for a JSON row that is not an object.
    pub(crate) fn groups(&self, model: &Model) -> Result<Groups<'_, 'd>, RepoError> {
        match self {
            Rows::Json(rows) => Ok(Groups::Json(group_by_keys(model, rows)?)),
            Rows::Typed(rows) => {
                let mut groups: Vec<TypedGroup<'_, 'd>> = Vec::new();
                for row in rows {
                    let same = |k: &Vec<usize>| {
                        k.len() == row.len() && k.iter().zip(row.iter()).all(|(a, (b, _))| a == b)
                    };
                    match groups.iter_mut().find(|(k, _)| same(k)) {
                        Some((_, members)) => members.push(row),
                        None => groups.push((row.iter().map(|(c, _)| *c).collect(), vec![row])),
                    }
                }
                Ok(Groups::Typed(groups))
            }
        }
    }
}

/// Groups rows by their sorted property set (for one unnest INSERT per group), validating that
/// each row is an object of known properties.
fn group_by_keys<'d>(
    model: &Model,
    data: &[&'d JsonValue],
) -> Result<Vec<KeyGroup<'d>>, RepoError> {
    let mut groups: Vec<KeyGroup<'d>> = Vec::new();
    for (n, &row) in data.iter().enumerate() {
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
pub(crate) fn one_statement(model: &Model, groups: &Groups<'_, '_>) -> bool {
    let params: usize = match groups {
        Groups::Json(groups) => groups
            .iter()
            .map(|(keys, rows)| {
                let cols = keys.iter().map(|k| model.column_by_property(k));
                create_all_params(model, cols, rows.len())
            })
            .sum(),
        Groups::Typed(groups) => groups
            .iter()
            .map(|(cols, rows)| {
                let cols = cols.iter().map(|&i| model.columns.get(i));
                create_all_params(model, cols, rows.len())
            })
            .sum(),
    };
    params <= MAX_PARAMS
}

/// `columns` (given by the rows, `false`) followed by the audit columns the rows leave out,
/// filled from the actor (`true`).
fn with_audit_columns<'m>(
    model: &'m Model,
    mut columns: Vec<(&'m ignis_schema::Column, bool)>,
) -> Vec<(&'m ignis_schema::Column, bool)> {
    for prop in AUDIT_PROPERTIES {
        if let Some(col) = model.column_by_property(prop) {
            if !columns.iter().any(|(c, _)| c.property == prop) {
                columns.push((col, true));
            }
        }
    }
    columns
}

/// The INSERT of `n` rows that give no column: one row per number of a series, every column
/// its default.
fn defaults_only_part(model: &Model, n: usize) -> InsertPart<'static> {
    InsertPart {
        sql: format!(
            "INSERT INTO {} SELECT FROM generate_series(1, $1::bigint)",
            model.quoted_table()
        ),
        params: vec![Box::new(i64::try_from(n).unwrap_or(i64::MAX))],
    }
}

/// Whether one of `columns` is an array, which `unnest` would flatten: such a group is written
/// as VALUES lists instead.
fn has_array_column(columns: &[(&ignis_schema::Column, bool)]) -> bool {
    columns
        .iter()
        .any(|(c, _)| matches!(c.pg_type, PgType::Array(_)))
}

/// `INSERT INTO <table> (<columns>) SELECT * FROM unnest($1<cast>::type[], ..)`, parameter `n`
/// cast with `casts[n]` (a coerced value's own cast, or nothing).
fn unnest_sql(
    model: &Model,
    columns: &[(&ignis_schema::Column, bool)],
    casts: &[Option<&str>],
) -> String {
    let mut sql = format!(
        "INSERT INTO {} ({}) SELECT * FROM unnest(",
        model.quoted_table(),
        column_list(columns)
    );
    for (n, ((col, _), cast)) in columns.iter().zip(casts).enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        let array_type = PgType::Array(Box::new(col.pg_type.clone()));
        sql.push_str(&format!("${}{}::{}", n + 1, cast.unwrap_or(""), array_type));
    }
    sql.push(')');
    sql
}

/// `INSERT INTO <table> (<columns>) VALUES ($1, $2::type, ..), (..)` of `rows` rows as one
/// INSERT part; `cell(r, n)` gives row `r`'s parameter for column `n` and its cast.
fn values_part<'d>(
    model: &Model,
    columns: &[(&ignis_schema::Column, bool)],
    rows: usize,
    mut cell: impl FnMut(
        usize,
        usize,
    ) -> Result<(Box<dyn ToSql + Sync + 'd>, Option<String>), RepoError>,
) -> Result<InsertPart<'d>, RepoError> {
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        model.quoted_table(),
        column_list(columns)
    );
    let mut params: Vec<Box<dyn ToSql + Sync + 'd>> = Vec::with_capacity(rows * columns.len());
    for r in 0..rows {
        sql.push_str(if r > 0 { ", (" } else { "(" });
        for n in 0..columns.len() {
            let (param, cast) = cell(r, n)?;
            if n > 0 {
                sql.push_str(", ");
            }
            params.push(param);
            sql.push('$');
            sql.push_str(&params.len().to_string());
            if let Some(cast) = &cast {
                sql.push_str(cast);
            }
        }
        sql.push(')');
    }
    Ok(InsertPart { sql, params })
}

/// A typed row's value as a boxed parameter beside owned ones.
struct ByRef<'d>(&'d (dyn ToSql + Sync));

impl std::fmt::Debug for ByRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ToSql for ByRef<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql_checked(ty, out)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    ignis_tx::postgres::types::to_sql_checked!();
}

/// One array parameter made of typed rows' values for one column: encoded as a Postgres array
/// of the parameter's element type, each element by its own `ToSql` (what `Vec<T>`'s `ToSql`
/// does, for values of one column whose Rust type the engine does not name).
struct RefArray<'d>(Vec<&'d (dyn ToSql + Sync)>);

impl std::fmt::Debug for RefArray<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl ToSql for RefArray<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let Kind::Array(member) = ty.kind() else {
            return Err(format!("an array of values bound to the non-array type {ty}").into());
        };
        let dimension = postgres_protocol::types::ArrayDimension {
            len: i32::try_from(self.0.len())?,
            lower_bound: 1,
        };
        postgres_protocol::types::array_to_sql(
            Some(dimension),
            member.oid(),
            self.0.iter(),
            |e, w| match e.to_sql_checked(member, w)? {
                IsNull::No => Ok(postgres_protocol::IsNull::No),
                IsNull::Yes => Ok(postgres_protocol::IsNull::Yes),
            },
            out,
        )?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Array(_))
    }

    ignis_tx::postgres::types::to_sql_checked!();
}

impl Call<'_> {
    /// See [`crate::Repository::create_all`]: `data` already grouped by property set
    /// ([`group_by_keys`]), in one statement when [`one_statement`] says so (atomic on any
    /// executor), else in several (atomic when the executor is a transaction or savepoint).
    pub(super) fn create_all<D: Decoder>(
        &mut self,
        data: &Rows<'_>,
        groups: Groups<'_, '_>,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        let groups = match groups {
            Groups::Json(groups) => groups,
            Groups::Typed(groups) => return self.create_all_typed(groups, decoder),
        };
        if let Rows::Json(data) = data {
            for row in data {
                self.check_data(row)?;
            }
        }
        let model = self.model();
        let ret = self.returning();
        let actor = self.actor();
        let single_group = groups.len() == 1;
        // One INSERT (without RETURNING) per group, or per VALUES chunk of a group with an
        // array column; each numbers its parameters from 1.
        let mut parts: Vec<InsertPart> = Vec::with_capacity(groups.len());
        for (keys, rows) in groups {
            // Columns: the given properties plus the audit ones from the actor.
            let mut given = Vec::with_capacity(keys.len());
            for k in &keys {
                let col = model
                    .column_by_property(k)
                    .ok_or_else(|| invalid(model, format!("unknown property `{}`", excerpt(k))))?;
                writable(model, col, k)?;
                given.push((col, false));
            }
            let columns = with_audit_columns(model, given);
            if columns.is_empty() {
                parts.push(defaults_only_part(model, rows.len()));
                continue;
            }
            if has_array_column(&columns) {
                // unnest cannot carry array columns (it would flatten them): a multi-row
                // VALUES list instead, one per MAX_PARAMS parameters.
                let per_statement = (MAX_PARAMS / columns.len()).max(1);
                for chunk in rows.chunks(per_statement) {
                    parts.push(values_part(model, &columns, chunk.len(), |r, n| {
                        let (col, from_actor) = columns[n];
                        let value = if from_actor {
                            actor
                        } else {
                            chunk[r].get(&col.property).unwrap_or(&JsonValue::Null)
                        };
                        let bound = written_value(model, col, &col.property, value)?;
                        Ok((Box::new(PostgresValue(bound.value)), bound.cast))
                    })?);
                }
                continue;
            }
            let copy = single_group
                && ret.is_none()
                && rows.len() >= COPY_MIN_ROWS
                // The raw client's COPY prepares a named statement, which a pooler in
                // transaction mode does not keep between messages (StatementMode::Unnamed).
                && self.exec.statement_mode() == ignis_tx::StatementMode::Prepared
                && self.copy_allowed()?;
            if copy {
                if let Some(data) = borrowed_copy_columns(&columns, &rows, actor)? {
                    let count = self.copy_in(&columns, data, rows.len())?;
                    return Ok(WriteResult {
                        count,
                        data: Vec::new(),
                    });
                }
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
            let casts: Vec<Option<&str>> = bounds.iter().map(|b| b.cast.as_deref()).collect();
            let sql = unnest_sql(model, &columns, &casts);
            let params: Vec<Box<dyn ToSql + Sync>> = bounds
                .into_iter()
                .map(|bound| array_param(bound.value))
                .collect();
            parts.push(InsertPart { sql, params });
        }
        self.run_parts(parts, ret, decoder)
    }

    /// Typed rows of `create_all`, per group of rows setting the same columns:
    /// `INSERT .. SELECT * FROM unnest($1::type[], ..)` with one array of the rows' own values
    /// per column (a VALUES list when a column is an array, which unnest would flatten), the
    /// audit columns the rows leave out from the actor.
    fn create_all_typed<D: Decoder>(
        &mut self,
        groups: Vec<TypedGroup<'_, '_>>,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        let model = self.model();
        let ret = self.returning();
        let actor = self.actor();
        let empty = Object::new();
        let mut parts: Vec<InsertPart<'_>> = Vec::with_capacity(groups.len());
        for (cols, rows) in &groups {
            let given = cols.iter().map(|&i| (&model.columns[i], false)).collect();
            let columns = with_audit_columns(model, given);
            if columns.is_empty() {
                parts.push(defaults_only_part(model, rows.len()));
                continue;
            }
            if has_array_column(&columns) {
                // The audit columns' value, coerced once for every row.
                let mut audit = Vec::with_capacity(columns.len());
                for (col, from_actor) in &columns {
                    audit.push(match from_actor {
                        true => Some(coerce_value(&col.property, &col.pg_type, actor)?),
                        false => None,
                    });
                }
                let per_statement = (MAX_PARAMS / columns.len()).max(1);
                for chunk in rows.chunks(per_statement) {
                    parts.push(values_part(model, &columns, chunk.len(), |r, n| {
                        Ok(match &audit[n] {
                            Some(bound) => (
                                Box::new(PostgresValue(bound.value.clone())),
                                bound.cast.clone(),
                            ),
                            None => (Box::new(ByRef(chunk[r][n].1)), None),
                        })
                    })?);
                }
                continue;
            }
            let mut casts: Vec<Option<String>> = Vec::with_capacity(columns.len());
            let mut params: Vec<Box<dyn ToSql + Sync + '_>> = Vec::with_capacity(columns.len());
            for (n, (col, from_actor)) in columns.iter().enumerate() {
                if *from_actor {
                    let array_type = PgType::Array(Box::new(col.pg_type.clone()));
                    let filler = vec![&empty; rows.len()];
                    let bound = coerce_column(col, &array_type, &filler, Some(actor))?;
                    casts.push(bound.cast);
                    params.push(array_param(bound.value));
                } else {
                    casts.push(None);
                    params.push(Box::new(RefArray(rows.iter().map(|r| r[n].1).collect())));
                }
            }
            let casts: Vec<Option<&str>> = casts.iter().map(Option::as_deref).collect();
            let sql = unnest_sql(model, &columns, &casts);
            parts.push(InsertPart { sql, params });
        }
        self.run_parts(parts, ret, decoder)
    }

    /// Runs the INSERT `parts` of one `create_all`: parts that fit in one statement's
    /// parameters together, as data-modifying CTEs of one statement (atomic on any executor,
    /// even a connection in autocommit).
    fn run_parts<D: Decoder>(
        &mut self,
        parts: Vec<InsertPart<'_>>,
        ret: Option<&Returning>,
        decoder: &D,
    ) -> Result<WriteResult<Vec<D::Row>>, RepoError> {
        let mut result = WriteResult {
            count: 0,
            data: Vec::new(),
        };
        let mut batch: Vec<InsertPart<'_>> = Vec::new();
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
        parts: Vec<InsertPart<'_>>,
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
}

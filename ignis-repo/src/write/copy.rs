//! Binary `COPY .. FROM STDIN` for large `create_all` batches of plain columns.

use std::borrow::Cow;

use ignis_tx::postgres::types::{ToSql, Type};
use serde_json::Value as JsonValue;

use super::common::{column_list, Object};
use crate::context::Call;
use crate::filter::{coerce_value, BoundValue};
use crate::RepoError;

/// `create_all` batches of at least this many rows, returning no rows, are loaded with binary
/// `COPY` when every column has a plain type (see [`borrowed_copy_columns`]): the server then does
/// roughly half the work of `INSERT .. SELECT * FROM unnest(..)`.
pub(super) const COPY_MIN_ROWS: usize = 1000;

/// One column of a `COPY` batch, in the Rust type whose binary form is the column type's; text
/// borrowed from the rows' JSON where it is written as it is.
pub(super) enum CopyColumn<'d> {
    SmallInt(Vec<Option<i16>>),
    Int(Vec<Option<i32>>),
    BigInt(Vec<Option<i64>>),
    Real(Vec<Option<f32>>),
    Double(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Text(Vec<Option<Cow<'d, str>>>, ignis_tx::postgres::types::Type),
}

impl CopyColumn<'_> {
    fn pg_type(&self) -> Type {
        match self {
            CopyColumn::SmallInt(_) => Type::INT2,
            CopyColumn::Int(_) => Type::INT4,
            CopyColumn::BigInt(_) => Type::INT8,
            CopyColumn::Real(_) => Type::FLOAT4,
            CopyColumn::Double(_) => Type::FLOAT8,
            CopyColumn::Bool(_) => Type::BOOL,
            CopyColumn::Text(_, ty) => ty.clone(),
        }
    }

    /// Row `i`'s value (`i` is below the batch size, which every column has).
    fn cell(&self, i: usize) -> &(dyn ToSql + Sync) {
        const NULL: &Option<i32> = &None;
        match self {
            CopyColumn::SmallInt(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Int(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::BigInt(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Real(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Double(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Bool(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Text(v, _) => v.get(i).map_or(NULL, |x| x),
        }
    }
}

/// The columns of a `create_all` batch as [`CopyColumn`]s read straight from the rows' JSON,
/// column by column: a string for a text column without NUL is borrowed as it is, an integer
/// in range taken as it is, and any other value coerced as [`coerce_column`] coerces it (the
/// same errors, in the same order). `Ok(None)` when a column's type has no `COPY` form here,
/// or a coerced value is not the plain value of its type (the caller then takes the general
/// path).
///
/// # Errors
/// The first value that does not coerce to its column's type.
pub(super) fn borrowed_copy_columns<'d>(
    columns: &[(&ignis_schema::Column, bool)],
    rows: &[&'d Object],
    actor: &'d JsonValue,
) -> Result<Option<Vec<CopyColumn<'d>>>, RepoError> {
    use ignis_schema::PgType as P;
    use sea_query::Value as V;
    let mut out = Vec::with_capacity(columns.len());
    for &(col, from_actor) in columns {
        let cell = |r: &&'d Object| -> &'d JsonValue {
            if from_actor {
                actor
            } else {
                r.get(&col.property).unwrap_or(&JsonValue::Null)
            }
        };
        let coerce = |v: &JsonValue| -> Result<Option<V>, RepoError> {
            let b = coerce_value(&col.property, &col.pg_type, v)?;
            Ok(b.cast.is_none().then_some(b.value))
        };
        macro_rules! ints {
            ($variant:ident, $ty:ty) => {{
                let mut values = Vec::with_capacity(rows.len());
                for r in rows {
                    let v = cell(r);
                    let direct = v.as_i64().and_then(|n| <$ty>::try_from(n).ok());
                    values.push(match (v, direct) {
                        (JsonValue::Null, _) => None,
                        (_, Some(n)) => Some(n),
                        _ => match coerce(v)? {
                            Some(V::$variant(n)) => n,
                            _ => return Ok(None),
                        },
                    });
                }
                CopyColumn::$variant(values)
            }};
        }
        macro_rules! coerced {
            ($variant:ident, $sql:ident) => {{
                let mut values = Vec::with_capacity(rows.len());
                for r in rows {
                    values.push(match coerce(cell(r))? {
                        Some(V::$sql(x)) => x,
                        _ => return Ok(None),
                    });
                }
                CopyColumn::$variant(values)
            }};
        }
        let text_type = match col.pg_type {
            P::Text => Some(Type::TEXT),
            P::Varchar(_) => Some(Type::VARCHAR),
            P::Char(_) => Some(Type::BPCHAR),
            _ => None,
        };
        out.push(match (&col.pg_type, text_type) {
            (_, Some(ty)) => {
                let mut values = Vec::with_capacity(rows.len());
                for r in rows {
                    values.push(match cell(r) {
                        JsonValue::Null => None,
                        JsonValue::String(s) if !s.contains('\0') => {
                            Some(Cow::Borrowed(s.as_str()))
                        }
                        v => match coerce(v)? {
                            Some(V::String(s)) => s.map(Cow::Owned),
                            _ => return Ok(None),
                        },
                    });
                }
                CopyColumn::Text(values, ty)
            }
            (P::SmallInt, _) => ints!(SmallInt, i16),
            (P::Integer, _) => ints!(Int, i32),
            (P::BigInt, _) => ints!(BigInt, i64),
            (P::Real, _) => coerced!(Real, Float),
            (P::DoublePrecision, _) => coerced!(Double, Double),
            (P::Boolean, _) => coerced!(Bool, Bool),
            _ => return Ok(None),
        });
    }
    Ok(Some(out))
}

/// Streams `n` rows of `data` through `COPY .. FROM STDIN BINARY` (`sql`).
fn copy_rows(
    client: &mut ignis_tx::postgres::Client,
    sql: &str,
    types: &[ignis_tx::postgres::types::Type],
    data: &[CopyColumn<'_>],
    n: usize,
) -> Result<u64, ignis_tx::postgres::Error> {
    let sink = client.copy_in(sql)?;
    let mut writer = ignis_tx::postgres::binary_copy::BinaryCopyInWriter::new(sink, types);
    let mut row: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(data.len());
    for i in 0..n {
        row.clear();
        row.extend(data.iter().map(|c| c.cell(i)));
        writer.write(&row)?;
    }
    writer.finish()
}

/// The array parameter of one `create_all` column: each row's value (or `actor` for every row)
/// coerced to the column's type, as `coerce_value` coerces a JSON array to `array_type`, but
/// element by element from the rows, without first copying the cells into a JSON array.
pub(super) fn coerce_column(
    col: &ignis_schema::Column,
    array_type: &ignis_schema::PgType,
    rows: &[&Object],
    actor: Option<&JsonValue>,
) -> Result<BoundValue, RepoError> {
    let cell = |r: &&Object| -> JsonValue {
        match actor {
            Some(a) => a.clone(),
            None => r.get(&col.property).cloned().unwrap_or(JsonValue::Null),
        }
    };
    // The array's element type and cast, from an empty array; a type that cannot make an array
    // takes the general path, for its error.
    let probe = coerce_value(&col.property, array_type, &JsonValue::Array(Vec::new()));
    let Ok(BoundValue {
        value: sea_query::Value::Array(element_type, _),
        cast,
        ..
    }) = probe
    else {
        let cells = rows.iter().map(cell).collect();
        return Ok(coerce_value(
            &col.property,
            array_type,
            &JsonValue::Array(cells),
        )?);
    };
    let mut values = Vec::with_capacity(rows.len());
    for r in rows {
        let v = match actor {
            Some(a) => a,
            None => r.get(&col.property).unwrap_or(&JsonValue::Null),
        };
        values.push(coerce_value(&col.property, &col.pg_type, v)?.value);
    }
    Ok(BoundValue::new(
        sea_query::Value::Array(element_type, Some(Box::new(values))),
        cast,
    ))
}

impl Call<'_> {
    /// Whether `create_all` may load large batches with `COPY`: the model's table is a plain
    /// (or partitioned) table without row-level security, which `COPY FROM` refuses. Asked of
    /// the catalog once per repository; models the migrator skips (often views) never do.
    pub(super) fn copy_allowed(&mut self) -> Result<bool, RepoError> {
        let shared = self.shared;
        if let Some(allowed) = shared.plans.copy_allowed.get() {
            return Ok(*allowed);
        }
        let model = self.model();
        let allowed = !model.skip_migrate
            && {
                let rows = self.exec.query(
                "SELECT c.relkind IN ('r', 'p') AND NOT c.relrowsecurity \
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2",
                &[&model.schema, &model.table],
            )?;
                match rows.first() {
                    Some(row) => row.try_get::<_, bool>(0).map_err(ignis_tx::Error::from)?,
                    None => false,
                }
            };
        Ok(*shared.plans.copy_allowed.get_or_init(|| allowed))
    }

    /// `COPY <table> (<columns>) FROM STDIN BINARY` of `n` rows. A failure inside the caller's
    /// transaction leaves it failed, as a failed INSERT would: the COPY runs on the underlying
    /// client, outside ignis-tx's statement tracking, so a statement is sent through the executor
    /// afterwards to let it see the transaction is aborted (and refuse to commit it).
    pub(super) fn copy_in(
        &mut self,
        columns: &[(&ignis_schema::Column, bool)],
        data: Vec<CopyColumn<'_>>,
        n: usize,
    ) -> Result<u64, RepoError> {
        let model = self.model();
        let sql = format!(
            "COPY {} ({}) FROM STDIN BINARY",
            model.quoted_table(),
            column_list(columns)
        );
        let types: Vec<ignis_tx::postgres::types::Type> =
            data.iter().map(CopyColumn::pg_type).collect();
        let client = self.exec.client()?;
        let copied = copy_rows(client, &sql, &types, &data, n);
        match copied {
            Ok(count) => Ok(count),
            Err(e) => {
                let _ = self.exec.execute("SELECT 1", &[]);
                Err(ignis_tx::Error::from(e).into())
            }
        }
    }
}

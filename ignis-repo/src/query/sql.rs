//! The one walk of a statement: SQL text and bound values written together.
//!
//! A [`SqlWriter`] is handed the statement piece by piece. Identifiers come from the model
//! (quoted once per model, [`ModelSql`]); every value goes through [`SqlWriter::bind`], which
//! writes the placeholder (`$n`, numbered in writing order) and appends the value to the
//! parameter list at the same moment, so the SQL and its parameters cannot disagree (the
//! model is Diesel's `QueryFragment::walk_ast` over an `AstPass`). The SQL text is also the
//! statement-cache key: ignis-tx prepares each distinct text once per connection, and a filter
//! of the same shape with other values writes the same text.
//!
//! Writing SQL directly rather than building a sea-query tree and rendering it is what makes
//! a per-call compile cheap enough to need no cache of its own; the values stay sea-query's
//! [`Value`](SqlValue)s, bound with sea-query-postgres.

use ignis_schema::{quote_ident, Model, PgType, Schema};
use ignis_tx::postgres::types::ToSql;
use sea_query::Value as SqlValue;
use sea_query_postgres::PostgresValue;

use crate::filter::{
    BoundValue, CompareAs, Comparison, Condition, Direction, FieldRef, Filter, Nulls, Operand,
    Operator, OrderTerm,
};

/// The quoted SQL names of one model: its table (`"schema"."table"`) and each column, in model
/// order. Built once per model and kept (see [`SchemaSql`]).
#[derive(Debug)]
pub(crate) struct ModelSql {
    pub(crate) table: String,
    pub(crate) columns: Vec<String>,
}

impl ModelSql {
    pub(crate) fn new(model: &Model) -> Self {
        ModelSql {
            table: model.quoted_table(),
            columns: model
                .columns
                .iter()
                .map(|c| quote_ident(&c.column))
                .collect(),
        }
    }
}

/// [`ModelSql`] of every model of a schema, each built on first use.
#[derive(Debug)]
pub(crate) struct SchemaSql {
    models: Vec<std::sync::OnceLock<ModelSql>>,
}

impl SchemaSql {
    pub(crate) fn new(schema: &Schema) -> Self {
        SchemaSql {
            models: schema
                .models()
                .iter()
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        }
    }

    /// The names of model `index` of `schema` (the schema this was built for).
    pub(crate) fn model<'s>(&'s self, schema: &Schema, index: usize) -> &'s ModelSql {
        self.models[index].get_or_init(|| ModelSql::new(&schema.models()[index]))
    }
}

/// The guarded numeric read of a JSON path (Ignis `safeNumericCast`): only values that look
/// like a plain decimal are cast; anything else is NULL, so mixed-type JSON never fails the
/// statement. Written after the text read `(col #>> $n)`.
const NUMERIC_PATTERN: &str = " ~ '^-?[0-9]+(\\.[0-9]+)?$'";

/// One bound parameter of a statement: a value the engine coerced (a filter value, a JSON
/// write), or a reference to a typed write's field, encoded by its own `ToSql`.
#[derive(Clone)]
pub(crate) enum Param<'p> {
    /// A sea-query value, bound with sea-query-postgres.
    Value(PostgresValue),
    /// A Rust value of the caller's (a typed write's field).
    Ref(&'p (dyn ToSql + Sync)),
    /// An integer array (an `inq` / `nin` list, an include's parent keys), bound as the
    /// `postgres` crate binds a `Vec` of the column's integer type.
    Ints(IntArray),
}

impl Param<'_> {
    /// How a coerced value binds: an integer array natively ([`IntArray`]), anything else as
    /// a sea-query value.
    pub(crate) fn of(value: &SqlValue) -> Self {
        match IntArray::of(value) {
            Some(ints) => Param::Ints(ints),
            None => Param::Value(PostgresValue(value.clone())),
        }
    }

    /// [`Param::of`], taking the value.
    pub(crate) fn from_value(value: SqlValue) -> Self {
        match IntArray::of(&value) {
            Some(ints) => Param::Ints(ints),
            None => Param::Value(PostgresValue(value)),
        }
    }
}

impl std::fmt::Debug for Param<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Param::Value(v) => v.0.fmt(f),
            Param::Ref(r) => r.fmt(f),
            Param::Ints(a) => a.fmt(f),
        }
    }
}

/// The elements of an integer array value, in the column's width (NULL elements kept).
/// sea-query-postgres binds an array by cloning every element into a new vector of
/// `PostgresValue`s; this reads them once from the coerced value instead.
#[derive(Debug, Clone)]
pub(crate) enum IntArray {
    /// `smallint[]`.
    Int2(Vec<Option<i16>>),
    /// `integer[]`.
    Int4(Vec<Option<i32>>),
    /// `bigint[]`.
    Int8(Vec<Option<i64>>),
}

impl IntArray {
    /// An empty `smallint[]` (allocates nothing).
    pub(crate) fn empty() -> Self {
        IntArray::Int2(Vec::new())
    }

    /// The array of `value` when it is an array of one integer type, else `None` (bound as a
    /// sea-query value then).
    fn of(value: &SqlValue) -> Option<IntArray> {
        let SqlValue::Array(kind, Some(items)) = value else {
            return None;
        };
        // Every element of the array's own type (a NULL element is `None`), else no array.
        fn all<T>(
            items: &[SqlValue],
            pick: impl Fn(&SqlValue) -> Option<Option<T>>,
        ) -> Option<Vec<Option<T>>> {
            items.iter().map(pick).collect()
        }
        Some(match kind {
            sea_query::ArrayType::SmallInt => IntArray::Int2(all(items, |v| match v {
                SqlValue::SmallInt(n) => Some(*n),
                _ => None,
            })?),
            sea_query::ArrayType::Int => IntArray::Int4(all(items, |v| match v {
                SqlValue::Int(n) => Some(*n),
                _ => None,
            })?),
            sea_query::ArrayType::BigInt => IntArray::Int8(all(items, |v| match v {
                SqlValue::BigInt(n) => Some(*n),
                _ => None,
            })?),
            _ => return None,
        })
    }
}

impl ToSql for IntArray {
    fn to_sql(
        &self,
        ty: &ignis_tx::postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<ignis_tx::postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            IntArray::Int2(v) => v.to_sql(ty, out),
            IntArray::Int4(v) => v.to_sql(ty, out),
            IntArray::Int8(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &ignis_tx::postgres::types::Type) -> bool {
        <Vec<Option<i16>> as ToSql>::accepts(ty)
            || <Vec<Option<i32>> as ToSql>::accepts(ty)
            || <Vec<Option<i64>> as ToSql>::accepts(ty)
    }

    fn to_sql_checked(
        &self,
        ty: &ignis_tx::postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<ignis_tx::postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            IntArray::Int2(v) => v.to_sql_checked(ty, out),
            IntArray::Int4(v) => v.to_sql_checked(ty, out),
            IntArray::Int8(v) => v.to_sql_checked(ty, out),
        }
    }
}

/// The parameters of a written statement, in placeholder order.
#[derive(Debug, Default)]
pub(crate) struct Params<'p>(pub(crate) Vec<Param<'p>>);

impl Params<'_> {
    /// The parameters as the `postgres` client takes them.
    pub(crate) fn as_params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| match p {
                Param::Value(v) => v as &(dyn ToSql + Sync),
                Param::Ref(r) => *r,
                Param::Ints(a) => a as &(dyn ToSql + Sync),
            })
            .collect()
    }
}

/// SQL text and its bound values, written in one pass (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct SqlWriter<'p> {
    pub(crate) sql: String,
    pub(crate) values: Vec<Param<'p>>,
    /// `(slot, parameter index)` of each bound value a recording parse numbered
    /// (`BoundValue::slot`), in writing order.
    pub(crate) slots: Vec<(u32, usize)>,
}

impl<'p> SqlWriter<'p> {
    /// An empty statement whose placeholders start at `$1`.
    pub(crate) fn new() -> Self {
        SqlWriter {
            sql: String::with_capacity(256),
            values: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// Appends SQL text (never input: keywords, operators, quoted model names).
    pub(crate) fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Appends the placeholder of parameter `n` (`$n`).
    pub(crate) fn placeholder(&mut self, n: usize) {
        self.sql.push('$');
        push_usize(&mut self.sql, n);
    }

    /// Binds `value` and writes its placeholder; returns the parameter's number.
    pub(crate) fn bind(&mut self, value: SqlValue) -> usize {
        self.values.push(Param::Value(PostgresValue(value)));
        let n = self.values.len();
        self.placeholder(n);
        n
    }

    /// Binds a typed write's value (encoded by its own `ToSql`) and writes its placeholder.
    pub(crate) fn bind_ref(&mut self, value: &'p (dyn ToSql + Sync)) {
        self.values.push(Param::Ref(value));
        let n = self.values.len();
        self.placeholder(n);
    }

    /// Binds a coerced value: its placeholder followed by its cast (`$3::jsonb`).
    pub(crate) fn bind_value(&mut self, bound: &BoundValue) {
        if bound.slot != 0 {
            self.slots.push((bound.slot, self.values.len()));
        }
        self.values.push(Param::of(&bound.value));
        self.placeholder(self.values.len());
        if let Some(cast) = &bound.cast {
            self.sql.push_str(cast);
        }
    }

    /// ` WHERE <key column> = $n`: the single-column primary key at model column `column`
    /// compared with `id`, already coerced to its type (see `query::scalar_key`), as the
    /// condition writer writes that comparison.
    pub(crate) fn key_where(&mut self, names: &ModelSql, column: usize, id: &BoundValue) {
        self.push(" WHERE ");
        self.push(&names.columns[column]);
        self.push(" = ");
        self.bind_value(id);
    }

    /// Appends a decimal literal (a `u64` from the parsed filter, never its text).
    pub(crate) fn push_u64(&mut self, n: u64) {
        push_usize(&mut self.sql, usize::try_from(n).unwrap_or(usize::MAX));
    }

    /// The SQL and its values, ready to run.
    pub(crate) fn finish(self) -> (String, Params<'p>) {
        (self.sql, Params(self.values))
    }

    /// ` WHERE <cond>`, or nothing when `cond` matches every row (an empty `and`, `TRUE`).
    pub(crate) fn where_clause(&mut self, names: &ModelSql, cond: Option<&Condition>) {
        match cond {
            None | Some(Condition::Const(true)) => {}
            Some(Condition::And(parts)) if parts.is_empty() => {}
            Some(c) => {
                self.push(" WHERE ");
                self.condition(names, c);
            }
        }
    }

    /// A condition: `AND` / `OR` of parenthesised members, `NOT (..)`, `TRUE`, `FALSE`, or a
    /// comparison. An empty `and` is `TRUE`, an empty `or` `FALSE`.
    pub(crate) fn condition(&mut self, names: &ModelSql, cond: &Condition) {
        match cond {
            Condition::And(parts) | Condition::Or(parts) => {
                let and = matches!(cond, Condition::And(_));
                match parts.as_slice() {
                    [] => self.push(if and { "TRUE" } else { "FALSE" }),
                    [one] => self.condition(names, one),
                    _ => {
                        for (i, part) in parts.iter().enumerate() {
                            if i > 0 {
                                self.push(if and { " AND " } else { " OR " });
                            }
                            self.push("(");
                            self.condition(names, part);
                            self.push(")");
                        }
                    }
                }
            }
            Condition::Not(inner) => {
                self.push("NOT (");
                self.condition(names, inner);
                self.push(")");
            }
            Condition::Const(true) => self.push("TRUE"),
            Condition::Const(false) => self.push("FALSE"),
            Condition::Compare(cmp) => self.comparison(names, cmp),
        }
    }

    /// The column of `field`: its quoted name from the model (`NULL` for an index the model
    /// does not have, which the parser never produces).
    fn column(&mut self, names: &ModelSql, field: &FieldRef) {
        match names.columns.get(field.index) {
            Some(quoted) => self.sql.push_str(quoted),
            None => self.sql.push_str("NULL"),
        }
    }

    /// The column read as jsonb: `json` has neither equality nor ordering, so it is cast.
    fn jsonb_column(&mut self, names: &ModelSql, field: &FieldRef) {
        self.column(names, field);
        if field.pg_type == PgType::Json {
            self.push("::jsonb");
        }
    }

    /// The left-hand side of a comparison or an order term.
    fn target(&mut self, names: &ModelSql, field: &FieldRef, compare_as: CompareAs) {
        if !field.is_path() {
            self.column(names, field);
            match compare_as {
                CompareAs::Text if !field.pg_type.is_textual() => self.push("::text"),
                CompareAs::Text => {}
                _ if field.pg_type == PgType::Json => self.push("::jsonb"),
                _ => {}
            }
            return;
        }
        let path = SqlValue::Array(
            sea_query::ArrayType::String,
            Some(Box::new(
                field
                    .path
                    .iter()
                    .map(|s| SqlValue::String(Some(s.clone())))
                    .collect(),
            )),
        );
        match compare_as {
            CompareAs::Text => {
                self.push("(");
                self.jsonb_column(names, field);
                self.push(" #>> ");
                self.bind(path);
                self.push(")");
            }
            CompareAs::Numeric => {
                self.push("CASE WHEN (");
                self.jsonb_column(names, field);
                self.push(" #>> ");
                let n = self.bind(path);
                self.push(")");
                self.push(NUMERIC_PATTERN);
                self.push(" THEN (");
                self.jsonb_column(names, field);
                self.push(" #>> ");
                self.placeholder(n);
                self.push(")::numeric END");
            }
            CompareAs::Native | CompareAs::Jsonb => {
                self.push("(");
                self.jsonb_column(names, field);
                self.push(" #> ");
                self.bind(path);
                self.push(")");
            }
        }
    }

    fn comparison(&mut self, names: &ModelSql, cmp: &Comparison) {
        let binary = match cmp.op {
            Operator::Eq => " = ",
            Operator::Ne => " <> ",
            Operator::Gt => " > ",
            Operator::Gte => " >= ",
            Operator::Lt => " < ",
            Operator::Lte => " <= ",
            Operator::Like => " LIKE ",
            Operator::NotLike => " NOT LIKE ",
            Operator::ILike => " ILIKE ",
            Operator::NotILike => " NOT ILIKE ",
            Operator::Regexp => " ~ ",
            Operator::IRegexp => " ~* ",
            Operator::Contains => " @> ",
            Operator::ContainedBy => " <@ ",
            Operator::Overlaps => " && ",
            Operator::IsNull
            | Operator::IsNotNull
            | Operator::In
            | Operator::NotIn
            | Operator::Between
            | Operator::NotBetween => "",
        };
        match (cmp.op, &cmp.operand) {
            (Operator::IsNull, _) => {
                self.target(names, &cmp.field, cmp.compare_as);
                self.push(" IS NULL");
            }
            (Operator::IsNotNull, _) => {
                self.target(names, &cmp.field, cmp.compare_as);
                self.push(" IS NOT NULL");
            }
            (Operator::In | Operator::NotIn, Operand::List(list)) => {
                self.target(names, &cmp.field, cmp.compare_as);
                self.push(if cmp.op == Operator::In {
                    " = ANY("
                } else {
                    " <> ALL("
                });
                self.bind_value(list);
                self.push(")");
            }
            (Operator::Between | Operator::NotBetween, Operand::Two(low, high)) => {
                self.target(names, &cmp.field, cmp.compare_as);
                self.push(if cmp.op == Operator::Between {
                    " BETWEEN "
                } else {
                    " NOT BETWEEN "
                });
                self.bind_value(low);
                self.push(" AND ");
                self.bind_value(high);
            }
            // The parser pairs every operator with its operand kind; keep SQL valid anyway.
            (Operator::NotIn, _) => self.push("TRUE"),
            (Operator::In | Operator::Between | Operator::NotBetween, _) => self.push("FALSE"),
            (_, Operand::One(value)) => {
                self.target(names, &cmp.field, cmp.compare_as);
                self.push(binary);
                self.bind_value(value);
            }
            _ => self.push("FALSE"),
        }
    }

    /// ` ORDER BY <term>, ..`: each term's expression (a column, `json` read as jsonb, or
    /// `col #> path` for a JSON path: jsonb order, numbers numerically, as Ignis), its
    /// direction and its NULLS placement.
    pub(crate) fn order_by(&mut self, names: &ModelSql, order: &[OrderTerm]) {
        for (i, term) in order.iter().enumerate() {
            self.push(if i == 0 { " ORDER BY " } else { ", " });
            self.target(names, &term.field, CompareAs::Native);
            self.push(match term.direction {
                Direction::Asc => " ASC",
                Direction::Desc => " DESC",
            });
            match term.nulls {
                None => {}
                Some(Nulls::First) => self.push(" NULLS FIRST"),
                Some(Nulls::Last) => self.push(" NULLS LAST"),
            }
        }
    }

    /// The SELECT of `filter` over `model` (see [`select`]).
    fn select(&mut self, names: &ModelSql, columns: &[usize], filter: &Filter) {
        self.push_select_from(names, columns);
        self.select_rest(names, filter);
    }

    /// `SELECT <columns> FROM <table>`.
    pub(crate) fn push_select_from(&mut self, names: &ModelSql, columns: &[usize]) {
        self.push("SELECT ");
        for (n, &i) in columns.iter().enumerate() {
            if n > 0 {
                self.push(", ");
            }
            self.sql.push_str(&names.columns[i]);
        }
        self.push(" FROM ");
        self.sql.push_str(&names.table);
    }

    /// What follows `SELECT .. FROM <table>` in the SELECT of `filter`.
    fn select_rest(&mut self, names: &ModelSql, filter: &Filter) {
        self.where_clause(names, filter.r#where.as_ref());
        self.order_by(names, &filter.order);
        if let Some(limit) = filter.limit {
            self.push(" LIMIT ");
            self.push_u64(limit);
        }
        if let Some(skip) = filter.skip {
            self.push(" OFFSET ");
            self.push_u64(skip);
        }
    }
}

/// The columns a SELECT of `filter` over `model` reads: the returned properties
/// ([`Filter::output_columns`]: `fields` honoured, hidden properties never selected) plus the
/// model columns `extra` (join columns the caller needs, selected even when hidden or left out
/// by `fields`; the caller must not return them then), in model order.
pub(crate) fn selected_columns(model: &Model, filter: &Filter, extra: &[usize]) -> Vec<usize> {
    model
        .columns
        .iter()
        .enumerate()
        .filter(|(i, c)| extra.contains(i) || filter.returns(model, &c.property))
        .map(|(i, _)| i)
        .collect()
}

/// `SELECT <columns> FROM <table> [WHERE ..] [ORDER BY ..] [LIMIT n] [OFFSET n]` of `filter`
/// over the model `names` describes, reading the model columns `columns` (see
/// [`selected_columns`]). LIMIT and OFFSET are integer literals, not parameters: they are
/// `u64`s parsed from the filter, never its text, and the planner then knows them (with
/// `LIMIT $n` Postgres plans a prepared statement without knowing how many rows are wanted and
/// either re-plans it on every execution or falls back to a generic plan; PostgreSQL manual,
/// PREPARE, "plan_cache_mode"). With no column selected the statement is `SELECT FROM ..`
/// (valid in Postgres: rows without columns).
pub(crate) fn select(names: &ModelSql, columns: &[usize], filter: &Filter) -> SqlWriter<'static> {
    let mut w = SqlWriter::new();
    w.select(names, columns, filter);
    w
}

/// `SELECT <columns> FROM <table>` alone, written once per plan (see [`select_after`]).
pub(crate) fn select_from(names: &ModelSql, columns: &[usize]) -> String {
    let mut w = SqlWriter::new();
    w.push_select_from(names, columns);
    w.sql
}

/// [`select`] of `filter` after a `SELECT .. FROM <table>` written once by [`select_from`].
pub(crate) fn select_after(prefix: &str, names: &ModelSql, filter: &Filter) -> SqlWriter<'static> {
    let mut w = SqlWriter::new();
    w.sql.push_str(prefix);
    w.select_rest(names, filter);
    w
}

/// Appends `n` in decimal (without the formatting machinery: statements are written per call).
pub(crate) fn push_usize(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// `cond` written alone over `model` (SQL and values), for the filter tests.
#[cfg(test)]
pub(crate) fn condition_sql(model: &Model, cond: &Condition) -> (String, Vec<SqlValue>) {
    let names = ModelSql::new(model);
    let mut w = SqlWriter::new();
    w.condition(&names, cond);
    (w.sql, sea_values(w.values))
}

/// The sea-query values of `params` (the filter tests bind no typed values).
#[cfg(test)]
fn sea_values(params: Vec<Param<'_>>) -> Vec<SqlValue> {
    params
        .into_iter()
        .filter_map(|p| match p {
            Param::Value(v) => Some(v.0),
            Param::Ref(_) => None,
            Param::Ints(a) => Some(match a {
                IntArray::Int2(v) => SqlValue::Array(
                    sea_query::ArrayType::SmallInt,
                    Some(Box::new(v.into_iter().map(SqlValue::SmallInt).collect())),
                ),
                IntArray::Int4(v) => SqlValue::Array(
                    sea_query::ArrayType::Int,
                    Some(Box::new(v.into_iter().map(SqlValue::Int).collect())),
                ),
                IntArray::Int8(v) => SqlValue::Array(
                    sea_query::ArrayType::BigInt,
                    Some(Box::new(v.into_iter().map(SqlValue::BigInt).collect())),
                ),
            }),
        })
        .collect()
}

/// The SELECT the engine writes for `filter` over `model` with the join properties `extra`
/// (unknown names ignored): SQL, values and the selected model columns, for the filter tests.
#[cfg(test)]
pub(crate) fn select_sql(
    model: &Model,
    filter: &Filter,
    extra: &[&str],
) -> (String, Vec<SqlValue>, Vec<usize>) {
    let names = ModelSql::new(model);
    let extra: Vec<usize> = extra
        .iter()
        .filter_map(|p| model.columns.iter().position(|c| c.property == *p))
        .collect();
    let columns = selected_columns(model, filter, &extra);
    let w = select(&names, &columns, filter);
    (w.sql, sea_values(w.values), columns)
}

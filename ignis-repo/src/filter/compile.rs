//! Compilation: a validated [`Condition`] / [`Filter`] to sea-query. Cannot fail: everything that
//! could go wrong was rejected by the parser.

use ignis_schema::{Model, PgType};
use sea_query::extension::postgres::PgBinOper;
use sea_query::{
    Alias, BinOper, Expr, NullOrdering, Order, Query, SelectStatement, Value as SqlValue,
};
use serde_json::Value as JsonValue;

use super::coerce::{coerce_list, coerce_value};
use super::condition::{CompareAs, Comparison, Condition, FieldRef, Operand, Operator};
use super::error::FilterError;
use super::parse::resolve_field;
use super::{Direction, Filter, Nulls, OrderTerm};

/// The guarded numeric read of a JSON path (Ignis `safeNumericCast`): `$1` is the column (as
/// jsonb), `$2` the path. Only values that look like a plain decimal are cast; anything else is
/// NULL, so mixed-type JSON never fails the statement.
const NUMERIC_PATH: &str = "CASE WHEN ($1 #>> $2) ~ '^-?[0-9]+(\\.[0-9]+)?$' \
                            THEN ($1 #>> $2)::numeric END";

fn column_expr(table_alias: Option<&str>, column: &str) -> Expr {
    match table_alias {
        Some(alias) => Expr::col((Alias::new(alias), Alias::new(column))),
        None => Expr::col(Alias::new(column)),
    }
}

/// The column read as jsonb: `json` has neither equality nor ordering, so it is cast.
fn jsonb_column(field: &FieldRef, table_alias: Option<&str>) -> Expr {
    let col = column_expr(table_alias, &field.column);
    if field.pg_type == PgType::Json {
        Expr::cust_with_exprs("$1::jsonb", [col])
    } else {
        col
    }
}

fn path_value(field: &FieldRef) -> Expr {
    let segments = field
        .path
        .iter()
        .map(|s| SqlValue::String(Some(s.clone())))
        .collect();
    Expr::val(SqlValue::Array(
        sea_query::ArrayType::String,
        Some(Box::new(segments)),
    ))
}

/// The left-hand side of a comparison.
fn target(field: &FieldRef, compare_as: CompareAs, table_alias: Option<&str>) -> Expr {
    if !field.is_path() {
        let col = column_expr(table_alias, &field.column);
        return match compare_as {
            CompareAs::Text if !field.pg_type.is_textual() => {
                Expr::cust_with_exprs("$1::text", [col])
            }
            CompareAs::Text => col,
            _ if field.pg_type.is_json() => jsonb_column(field, table_alias),
            _ => col,
        };
    }
    let col = jsonb_column(field, table_alias);
    match compare_as {
        CompareAs::Text => Expr::cust_with_exprs("$1 #>> $2", [col, path_value(field)]),
        CompareAs::Numeric => Expr::cust_with_exprs(NUMERIC_PATH, [col, path_value(field)]),
        CompareAs::Native | CompareAs::Jsonb => {
            Expr::cust_with_exprs("$1 #> $2", [col, path_value(field)])
        }
    }
}

impl Comparison {
    /// The comparison as a sea-query expression, columns qualified with `table_alias` if given.
    pub fn to_expr(&self, table_alias: Option<&str>) -> Expr {
        use sea_query::ExprTrait;

        let lhs = target(&self.field, self.compare_as, table_alias);
        let one = |op: BinOper| match &self.operand {
            Operand::One(v) => lhs.clone().binary(op, v.to_expr()),
            // The parser pairs every binary operator with one operand; keep SQL valid anyway.
            _ => Expr::cust("FALSE"),
        };
        match self.op {
            Operator::Eq => one(BinOper::Equal),
            Operator::Ne => one(BinOper::NotEqual),
            Operator::Gt => one(BinOper::GreaterThan),
            Operator::Gte => one(BinOper::GreaterThanOrEqual),
            Operator::Lt => one(BinOper::SmallerThan),
            Operator::Lte => one(BinOper::SmallerThanOrEqual),
            Operator::Like => one(BinOper::Like),
            Operator::NotLike => one(BinOper::NotLike),
            Operator::ILike => one(PgBinOper::ILike.into()),
            Operator::NotILike => one(PgBinOper::NotILike.into()),
            Operator::Regexp => one(PgBinOper::Regex.into()),
            Operator::IRegexp => one(PgBinOper::RegexCaseInsensitive.into()),
            Operator::Contains => one(PgBinOper::Contains.into()),
            Operator::ContainedBy => one(PgBinOper::Contained.into()),
            Operator::Overlaps => one(PgBinOper::Overlap.into()),
            Operator::IsNull => lhs.is_null(),
            Operator::IsNotNull => lhs.is_not_null(),
            Operator::In | Operator::NotIn => match &self.operand {
                Operand::List(list) => {
                    // `= ANY($n)` is written whole: sea-query would parenthesise a custom
                    // right-hand side, and `= (ANY($n))` is not SQL.
                    let plain = matches!(lhs, Expr::Column(_));
                    let template = match (self.op == Operator::In, plain) {
                        (true, true) => "$1 = ANY($2)",
                        (true, false) => "($1) = ANY($2)",
                        (false, true) => "$1 <> ALL($2)",
                        (false, false) => "($1) <> ALL($2)",
                    };
                    Expr::cust_with_exprs(template, [lhs, list.to_expr()])
                }
                _ => Expr::cust(if self.op == Operator::In {
                    "FALSE"
                } else {
                    "TRUE"
                }),
            },
            Operator::Between | Operator::NotBetween => match &self.operand {
                Operand::Two(low, high) if self.op == Operator::Between => {
                    lhs.between(low.to_expr(), high.to_expr())
                }
                Operand::Two(low, high) => lhs.not_between(low.to_expr(), high.to_expr()),
                _ => Expr::cust("FALSE"),
            },
        }
    }
}

impl Condition {
    /// The condition as a sea-query [`sea_query::Condition`], for `cond_where` of a SELECT,
    /// UPDATE or DELETE. Columns are qualified with `table_alias` when given (for statements that
    /// alias the table), and unqualified otherwise. Every value is a bound parameter; an empty
    /// `And` renders `TRUE`, an empty `Or` `FALSE`.
    pub fn to_sea_query(&self, table_alias: Option<&str>) -> sea_query::Condition {
        match self {
            Condition::And(parts) => parts.iter().fold(sea_query::Condition::all(), |c, part| {
                c.add(part.to_sea_query(table_alias))
            }),
            Condition::Or(parts) => parts.iter().fold(sea_query::Condition::any(), |c, part| {
                c.add(part.to_sea_query(table_alias))
            }),
            Condition::Not(inner) => inner.to_sea_query(table_alias).not(),
            Condition::Const(true) => sea_query::Condition::all(),
            Condition::Const(false) => sea_query::Condition::any(),
            Condition::Compare(cmp) => sea_query::Condition::all().add(cmp.to_expr(table_alias)),
        }
    }

    /// The condition as one sea-query expression (for places that take an [`Expr`], such as a
    /// join's ON or a CASE).
    pub fn to_expr(&self, table_alias: Option<&str>) -> Expr {
        self.to_sea_query(table_alias).into()
    }
}

impl OrderTerm {
    /// The expression ordered by: the column (`json` read as jsonb, which has an ordering), or
    /// `col #> path` for a JSON path (jsonb order, numbers numerically; as Ignis).
    pub fn to_expr(&self, table_alias: Option<&str>) -> Expr {
        target(&self.field, CompareAs::Native, table_alias)
    }

    /// Adds this term to a SELECT's ORDER BY.
    pub fn apply(&self, select: &mut SelectStatement, table_alias: Option<&str>) {
        let order = match self.direction {
            Direction::Asc => Order::Asc,
            Direction::Desc => Order::Desc,
        };
        let expr = self.to_expr(table_alias);
        match self.nulls {
            None => select.order_by_expr(expr, order),
            Some(Nulls::First) => select.order_by_expr_with_nulls(expr, order, NullOrdering::First),
            Some(Nulls::Last) => select.order_by_expr_with_nulls(expr, order, NullOrdering::Last),
        };
    }
}

impl Filter {
    /// A SELECT for this filter over `model`'s schema-qualified table: the returned properties
    /// ([`Filter::output_columns`]: `fields` honoured, hidden properties never selected) plus
    /// `extra_columns` (property names the caller needs, such as the primary key and relation
    /// join properties; unknown names are ignored, and they are selected even when hidden, so the
    /// caller must not return them unless they are in `output_columns`), in the model's column
    /// order; WHERE; ORDER BY; LIMIT and OFFSET as bound parameters.
    ///
    /// Returns the statement and the indexes into `model.columns` of the selected columns, in
    /// select order, so rows can be decoded by index. When nothing is selected the statement is
    /// `SELECT FROM ...` (valid in Postgres: rows without columns).
    pub fn select(&self, model: &Model, extra_columns: &[&str]) -> (SelectStatement, Vec<usize>) {
        let mut wanted = vec![false; model.columns.len()];
        for i in self.output_columns(model) {
            wanted[i] = true;
        }
        for extra in extra_columns {
            if let Some(i) = model.columns.iter().position(|c| c.property == *extra) {
                wanted[i] = true;
            }
        }
        let indexes: Vec<usize> = wanted
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.then_some(i))
            .collect();
        let mut select = Query::select();
        for &i in &indexes {
            select.column(Alias::new(&model.columns[i].column));
        }
        select.from((Alias::new(&model.schema), Alias::new(&model.table)));
        if let Some(condition) = &self.r#where {
            select.cond_where(condition.to_sea_query(None));
        }
        for term in &self.order {
            term.apply(&mut select, None);
        }
        if let Some(limit) = self.limit {
            select.limit(limit);
        }
        if let Some(skip) = self.skip {
            select.offset(skip);
        }
        (select, indexes)
    }

    /// The SQL text and bound values of [`Filter::select`], as the repository runs it: the same
    /// statement, except that LIMIT and OFFSET are written as integer literals rather than
    /// bound parameters. They are `u64`s parsed from the filter, never its text, so nothing of
    /// the input reaches the SQL unchecked; and the planner then knows them: with
    /// `LIMIT $n`, Postgres plans a prepared statement without knowing how many rows are
    /// wanted and either re-plans it on every execution or falls back to a generic plan
    /// (PostgreSQL manual, PREPARE, "plan_cache_mode"), which cost about 12 µs per query on a
    /// 20-row page here. Distinct limits give distinct statements, each prepared once per
    /// connection by the statement cache.
    ///
    /// Returns `(sql, values, column indexes)`, the indexes as [`Filter::select`] returns them.
    pub fn build_select(
        &self,
        model: &Model,
        extra_columns: &[&str],
    ) -> (String, sea_query_postgres::PostgresValues, Vec<usize>) {
        use sea_query_postgres::PostgresBinder;
        use std::fmt::Write as _;
        let (mut select, indexes) = self.select(model, extra_columns);
        select.reset_limit();
        select.reset_offset();
        let (mut sql, values) = select.build_postgres(sea_query::PostgresQueryBuilder);
        if let Some(limit) = self.limit {
            let _ = write!(sql, " LIMIT {limit}");
        }
        if let Some(skip) = self.skip {
            let _ = write!(sql, " OFFSET {skip}");
        }
        (sql, values, indexes)
    }
}

/// `col = ANY($1)` for the property `column_property` of `model`, with `values` coerced to its
/// type and bound as one array: how an include loads one relation level in one query (the
/// values are the join keys of the parent rows). Nulls are skipped (they join nothing);
/// duplicates are kept (harmless). No values gives `Condition::Const(false)`.
///
/// # Errors
/// [`FilterError::UnknownField`] for an unknown property, [`FilterError::InvalidValue`] for a
/// value that does not fit the column, [`FilterError::OperatorNotApplicable`] for an array
/// column.
pub fn any_of(
    model: &Model,
    column_property: &str,
    values: &[JsonValue],
) -> Result<Condition, FilterError> {
    let field = resolve_field(model, column_property)?;
    if field.is_path() || field.pg_type.element().is_some() {
        return Err(FilterError::OperatorNotApplicable {
            field: field.key(),
            operator: "in".into(),
            pg_type: field.pg_type.to_string(),
        });
    }
    let present: Vec<JsonValue> = values.iter().filter(|v| !v.is_null()).cloned().collect();
    if present.is_empty() {
        return Ok(Condition::Const(false));
    }
    let list = coerce_list(&field.key(), &field.pg_type, &present)?;
    Ok(Condition::Compare(Box::new(Comparison {
        field,
        compare_as: CompareAs::Native,
        op: Operator::In,
        operand: Operand::List(list),
    })))
}

/// [`any_of`] for integer keys, bound without a JSON detour: how a typed include binds the
/// parent keys it read from an integer column. `None` when the property is not a
/// `smallint` / `integer` / `bigint` column or a key does not fit it; the caller then uses
/// [`any_of`], whose errors apply.
pub(crate) fn any_of_ints(model: &Model, property: &str, keys: &[i64]) -> Option<Condition> {
    let field = resolve_field(model, property).ok()?;
    if field.is_path() {
        return None;
    }
    let (array_type, values): (sea_query::ArrayType, Vec<SqlValue>) = match field.pg_type {
        PgType::SmallInt => (
            sea_query::ArrayType::SmallInt,
            keys.iter()
                .map(|&k| i16::try_from(k).ok().map(|v| SqlValue::SmallInt(Some(v))))
                .collect::<Option<_>>()?,
        ),
        PgType::Integer => (
            sea_query::ArrayType::Int,
            keys.iter()
                .map(|&k| i32::try_from(k).ok().map(|v| SqlValue::Int(Some(v))))
                .collect::<Option<_>>()?,
        ),
        PgType::BigInt => (
            sea_query::ArrayType::BigInt,
            keys.iter().map(|&k| SqlValue::BigInt(Some(k))).collect(),
        ),
        _ => return None,
    };
    if values.is_empty() {
        return Some(Condition::Const(false));
    }
    Some(Condition::Compare(Box::new(Comparison {
        field,
        compare_as: CompareAs::Native,
        op: Operator::In,
        operand: Operand::List(super::coerce::BoundValue::plain(SqlValue::Array(
            array_type,
            Some(Box::new(values)),
        ))),
    })))
}

/// `col = $1` for the property `property` of `model`, or `col IS NULL` when `value` is null:
/// a building block for joins on several columns and for by-id lookups.
///
/// # Errors
/// [`FilterError::UnknownField`] for an unknown property, [`FilterError::InvalidValue`] for a
/// value that does not fit the column.
pub fn field_eq(
    model: &Model,
    property: &str,
    value: &JsonValue,
) -> Result<Condition, FilterError> {
    let field = resolve_field(model, property)?;
    if field.is_path() {
        return Err(FilterError::InvalidPath {
            field: field.property.clone(),
            path: property.to_string(),
            reason: "field_eq takes a property, not a JSON path".into(),
        });
    }
    let (op, operand) = if value.is_null() {
        (Operator::IsNull, Operand::None)
    } else {
        (
            Operator::Eq,
            Operand::One(coerce_value(&field.key(), &field.pg_type, value)?),
        )
    };
    Ok(Condition::Compare(Box::new(Comparison {
        field,
        compare_as: CompareAs::Native,
        op,
        operand,
    })))
}

/// Appends `n` in decimal (without the formatting machinery: shape keys are built per call).
pub(crate) fn push_usize(key: &mut String, mut n: usize) {
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
        key.push(char::from(d));
    }
}

/// Appends `s` length-prefixed, so no name can run into the next part of a shape key.
fn push_name(key: &mut String, s: &str) {
    push_usize(key, s.len());
    key.push(':');
    key.push_str(s);
}

fn push_cast(key: &mut String, v: &super::coerce::BoundValue) {
    match &v.cast {
        None => key.push('.'),
        Some(cast) => push_name(key, cast),
    }
}

impl Condition {
    /// See [`Filter::write_shape`].
    fn write_shape(&self, key: &mut String) {
        match self {
            Condition::And(parts) | Condition::Or(parts) => {
                key.push(if matches!(self, Condition::And(_)) {
                    '&'
                } else {
                    '|'
                });
                key.push('(');
                for p in parts {
                    p.write_shape(key);
                    key.push(',');
                }
                key.push(')');
            }
            Condition::Not(inner) => {
                key.push('!');
                inner.write_shape(key);
            }
            Condition::Const(true) => key.push('T'),
            Condition::Const(false) => key.push('F'),
            Condition::Compare(cmp) => {
                key.push('c');
                push_name(key, &cmp.field.column);
                key.push(if cmp.field.is_path() { 'p' } else { '-' });
                key.push(char::from(b'0' + cmp.compare_as as u8));
                key.push(char::from(b'A' + cmp.op as u8));
                match &cmp.operand {
                    Operand::None => key.push('n'),
                    Operand::One(v) => {
                        key.push('1');
                        push_cast(key, v);
                    }
                    Operand::Two(a, b) => {
                        key.push('2');
                        push_cast(key, a);
                        push_cast(key, b);
                    }
                    Operand::List(v) => {
                        key.push('L');
                        push_cast(key, v);
                    }
                }
            }
        }
    }

    /// See [`Filter::bound_values`]: the values [`Condition::to_sea_query`] binds, in
    /// placeholder order (mirrors [`Comparison::to_expr`] and `target`).
    fn push_values(&self, out: &mut Vec<SqlValue>) {
        match self {
            Condition::And(parts) | Condition::Or(parts) => {
                for p in parts {
                    p.push_values(out);
                }
            }
            Condition::Not(inner) => inner.push_values(out),
            Condition::Const(_) => {}
            Condition::Compare(cmp) => {
                let lhs = |out: &mut Vec<SqlValue>| {
                    push_target_values(&cmp.field, cmp.compare_as, out);
                };
                match (cmp.op, &cmp.operand) {
                    (Operator::IsNull | Operator::IsNotNull, _) => lhs(out),
                    (Operator::In | Operator::NotIn, Operand::List(v)) => {
                        lhs(out);
                        out.push(v.value.clone());
                    }
                    (Operator::Between | Operator::NotBetween, Operand::Two(a, b)) => {
                        lhs(out);
                        out.push(a.value.clone());
                        out.push(b.value.clone());
                    }
                    (
                        Operator::In | Operator::NotIn | Operator::Between | Operator::NotBetween,
                        _,
                    ) => {}
                    (_, Operand::One(v)) => {
                        lhs(out);
                        out.push(v.value.clone());
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The values `target` binds: the path of a JSON-path field (twice for the guarded numeric
/// read), nothing for a plain column.
fn push_target_values(field: &FieldRef, compare_as: CompareAs, out: &mut Vec<SqlValue>) {
    if !field.is_path() {
        return;
    }
    let Expr::Value(path) = path_value(field) else {
        return;
    };
    if compare_as == CompareAs::Numeric {
        out.push(path.clone());
    }
    out.push(path);
}

impl Filter {
    /// Appends to `key` a text that is the same for two filters over the same model and
    /// `extra_columns` only if [`Filter::build_select`] writes the same SQL for both: the
    /// selected columns, the where tree's structure (columns, operators, operand kinds and
    /// casts; not the values, which are bound), the order terms, limit and skip. Includes are
    /// not part of it (they do not change this level's statement beyond its join columns,
    /// which the caller passes in `extra_columns`).
    pub(crate) fn write_shape(&self, model: &Model, extra_columns: &[&str], key: &mut String) {
        key.push('s');
        for (i, c) in model.columns.iter().enumerate() {
            if self.returns(model, &c.property) {
                push_usize(key, i);
                key.push(',');
            }
        }
        key.push('x');
        for extra in extra_columns {
            push_name(key, extra);
        }
        key.push('w');
        if let Some(w) = &self.r#where {
            w.write_shape(key);
        }
        key.push('o');
        for term in &self.order {
            push_name(key, &term.field.column);
            key.push(if term.field.is_path() { 'p' } else { '-' });
            key.push(match term.direction {
                super::Direction::Asc => 'a',
                super::Direction::Desc => 'd',
            });
            key.push(match term.nulls {
                None => '.',
                Some(super::Nulls::First) => 'f',
                Some(super::Nulls::Last) => 'l',
            });
        }
        if let Some(limit) = self.limit {
            key.push('l');
            push_usize(key, usize::try_from(limit).unwrap_or(usize::MAX));
        }
        if let Some(skip) = self.skip {
            key.push('k');
            push_usize(key, usize::try_from(skip).unwrap_or(usize::MAX));
        }
    }

    /// The values [`Filter::build_select`] binds, in placeholder order: the where's, then the
    /// JSON paths of the order terms. With a statement cached by [`Filter::write_shape`], these
    /// are all that is left to compute per call.
    pub(crate) fn bound_values(&self) -> Vec<SqlValue> {
        let mut out = Vec::new();
        if let Some(w) = &self.r#where {
            w.push_values(&mut out);
        }
        for term in &self.order {
            push_target_values(&term.field, CompareAs::Native, &mut out);
        }
        out
    }
}

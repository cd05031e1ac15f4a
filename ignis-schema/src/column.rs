//! Columns: a property name for filters and JSON, a column name for SQL, a type and constraints.

use serde::{Deserialize, Serialize};

use crate::types::PgType;

/// One column of a model.
///
/// A column has a **property name** (what Ignis filters and JSON rows use, camelCase as in Ignis:
/// `createdBy`) and a **column name** (what SQL uses: `created_by`). When a JSON file leaves
/// `column` out, it is the property name in snake_case ([`snake_case`]).
///
/// `default` is a SQL expression written by the model's author (`now()`, `''`,
/// `gen_random_uuid()::text`); it is DDL, never user input, and Postgres parses it when the table is
/// created.
///
/// ```
/// use ignis_schema::{Column, PgType};
/// let c = Column::new("lastLoginAt", PgType::TIMESTAMPTZ);
/// assert_eq!(c.column, "last_login_at");
/// assert!(c.nullable);
/// let code = Column::new("code", PgType::Text).not_null();
/// assert!(!code.nullable);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Column {
    /// Property name, used by filters, JSON rows and relations (`createdBy`).
    pub property: String,
    /// Column name in SQL (`created_by`). Defaults to the property name in snake_case.
    #[serde(default)]
    pub column: String,
    /// Postgres type; in JSON, a type name as Postgres accepts it (`"timestamptz"`, `"text[]"`).
    #[serde(rename = "type")]
    pub pg_type: PgType,
    /// Whether NULL is allowed. Defaults to true, as in SQL.
    #[serde(default = "default_true")]
    pub nullable: bool,
    /// Default value as a SQL expression, or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Identity column settings (`GENERATED ALWAYS AS IDENTITY`), or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Options of a serial column's sequence (a column of type `serial`, `bigserial` or
    /// `smallserial`): the migrator creates the sequence as the pseudo-type does, then sets
    /// these with `ALTER SEQUENCE` (Postgres manual, CREATE SEQUENCE). `None`, like all-`None`
    /// options, is the sequence `serial` creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_sequence: Option<SequenceOptions>,
    /// The name of a serial column's sequence when it is not the one `serial` gives it
    /// (`{table}_{column}_seq`, cut to 63 bytes as Postgres cuts it: see
    /// [`crate::object_name_pair`]), for a sequence renamed, or created under another name and
    /// owned by the column. The sequence is in the table's schema. The migrator creates it as
    /// the pseudo-type does and renames it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_name: Option<String>,
    /// Part of the primary key. A model's primary key is its flagged columns, in column order.
    #[serde(default, skip_serializing_if = "is_false")]
    pub primary_key: bool,
    /// The column's previous name, when it was renamed: the migrator then renames the column
    /// (`ALTER TABLE .. RENAME COLUMN`) instead of dropping it and adding a new, empty one.
    /// Renames are never guessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// The column's collation (`COLLATE "C"`), when it is not its type's default: it decides
    /// how values sort and compare (`ORDER BY`, `<`, indexes on the column). A collation name
    /// as Postgres knows it (`C`, `POSIX`, `en-x-icu`); the migrator compares it as Postgres
    /// resolves it, so naming the type's default collation is the same as none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// The column's statistics target (`ALTER COLUMN .. SET STATISTICS n`, 0 to 10000): how
    /// many values `ANALYZE` samples for the planner. `None` is the server's
    /// `default_statistics_target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<i32>,
    /// The column's comment (`COMMENT ON COLUMN`), or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

fn default_true() -> bool {
    true
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Column {
    /// A nullable column with no default; the column name is `property` in snake_case.
    pub fn new(property: impl Into<String>, pg_type: PgType) -> Self {
        let property = property.into();
        Column {
            column: snake_case(&property),
            property,
            pg_type,
            nullable: true,
            default: None,
            identity: None,
            serial_sequence: None,
            sequence_name: None,
            primary_key: false,
            renamed_from: None,
            collation: None,
            statistics: None,
            comment: None,
        }
    }

    /// Sets the column's collation (`COLLATE "C"`, see [`Column::collation`]).
    pub fn collate(mut self, collation: impl Into<String>) -> Self {
        self.collation = Some(collation.into());
        self
    }

    /// Sets the column's statistics target (`SET STATISTICS n`, see [`Column::statistics`]).
    pub fn statistics(mut self, target: i32) -> Self {
        self.statistics = Some(target);
        self
    }

    /// Sets the column's comment (`COMMENT ON COLUMN`).
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Declares that the column was called `old` before (see [`Column::renamed_from`]).
    pub fn renamed_from(mut self, old: impl Into<String>) -> Self {
        self.renamed_from = Some(old.into());
        self
    }

    /// Sets the SQL column name.
    pub fn column_name(mut self, column: impl Into<String>) -> Self {
        self.column = column.into();
        self
    }

    /// Makes the column `NOT NULL`.
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// Sets the default to a SQL expression (`now()`, `'SYSTEM'`, `0`).
    pub fn default_sql(mut self, expression: impl Into<String>) -> Self {
        self.default = Some(expression.into());
        self
    }

    /// Makes this column (part of) the primary key; primary key columns are `NOT NULL`.
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self.nullable = false;
        self
    }

    /// Sets the options of a serial column's sequence (see [`Column::serial_sequence`]).
    pub fn serial_sequence(mut self, options: SequenceOptions) -> Self {
        self.serial_sequence = Some(options);
        self
    }

    /// Makes this an identity column (Postgres manual, CREATE TABLE, `GENERATED ... AS IDENTITY`);
    /// identity columns are `NOT NULL`.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self.nullable = false;
        self
    }
}

/// `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY [ ( sequence options ) ]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Identity {
    /// `ALWAYS` (the Ignis default: inserts may not give a value) or `BY DEFAULT`.
    #[serde(default)]
    pub generation: IdentityGeneration,
    /// Options of the identity's sequence.
    #[serde(default, flatten)]
    pub sequence: SequenceOptions,
}

impl Identity {
    /// `GENERATED ALWAYS AS IDENTITY` with the sequence defaults.
    pub fn always() -> Self {
        Identity::default()
    }

    /// `GENERATED BY DEFAULT AS IDENTITY` with the sequence defaults.
    pub fn by_default() -> Self {
        Identity {
            generation: IdentityGeneration::ByDefault,
            sequence: SequenceOptions::default(),
        }
    }

    /// The clause as it goes into a column definition, e.g.
    /// `GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 5)`.
    pub fn to_sql(&self) -> String {
        let mut sql = match self.generation {
            IdentityGeneration::Always => "GENERATED ALWAYS AS IDENTITY".to_string(),
            IdentityGeneration::ByDefault => "GENERATED BY DEFAULT AS IDENTITY".to_string(),
        };
        let options = self.sequence.to_sql();
        if !options.is_empty() {
            sql.push_str(" (");
            sql.push_str(&options);
            sql.push(')');
        }
        sql
    }
}

/// Whether an identity column accepts explicit values on insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentityGeneration {
    /// `GENERATED ALWAYS`: an explicit value needs `OVERRIDING SYSTEM VALUE`.
    #[default]
    Always,
    /// `GENERATED BY DEFAULT`: an explicit value wins over the sequence.
    ByDefault,
}

/// Sequence options of an identity column (Postgres manual, CREATE SEQUENCE; Ignis and drizzle
/// call them `sequenceOptions`). `None` leaves Postgres's default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SequenceOptions {
    /// `START WITH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
    /// `INCREMENT BY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increment: Option<i64>,
    /// `MINVALUE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i64>,
    /// `MAXVALUE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<i64>,
    /// `CACHE`: how many values a session preallocates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<i64>,
    /// `CYCLE`: wrap around at the limit instead of failing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cycle: bool,
}

impl SequenceOptions {
    /// The options as SQL (`START WITH 1 INCREMENT BY 1`), empty when all are default.
    pub fn to_sql(&self) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.start {
            parts.push(format!("START WITH {v}"));
        }
        if let Some(v) = self.increment {
            parts.push(format!("INCREMENT BY {v}"));
        }
        if let Some(v) = self.min_value {
            parts.push(format!("MINVALUE {v}"));
        }
        if let Some(v) = self.max_value {
            parts.push(format!("MAXVALUE {v}"));
        }
        if let Some(v) = self.cache {
            parts.push(format!("CACHE {v}"));
        }
        if self.cycle {
            parts.push("CYCLE".to_string());
        }
        parts.join(" ")
    }
}

impl SequenceOptions {
    /// Every option spelled out for a sequence of `type_name` (`integer`, `bigint`,
    /// `smallint`, or a serial pseudo-type), with Postgres's defaults for those not given
    /// (CREATE SEQUENCE: min 1 and the type's max ascending, the type's min and -1 descending,
    /// START at the min ascending or the max descending, CACHE 1, NO CYCLE); for
    /// `ALTER SEQUENCE`, which keeps options it is not given.
    pub fn full_sql(&self, type_name: &str) -> String {
        let (type_min, type_max) = integer_range(type_name);
        let increment = self.increment.unwrap_or(1);
        let ascending = increment > 0;
        let min = self
            .min_value
            .unwrap_or(if ascending { 1 } else { type_min });
        let max = self
            .max_value
            .unwrap_or(if ascending { type_max } else { -1 });
        let start = self.start.unwrap_or(if ascending { min } else { max });
        format!(
            "START WITH {start} INCREMENT BY {increment} MINVALUE {min} MAXVALUE {max} CACHE {} {}",
            self.cache.unwrap_or(1),
            if self.cycle { "CYCLE" } else { "NO CYCLE" }
        )
    }

    /// The range `[min, max]` these options give a sequence of `type_name` (see
    /// [`SequenceOptions::full_sql`]).
    pub fn range(&self, type_name: &str) -> (i64, i64) {
        let (type_min, type_max) = integer_range(type_name);
        let ascending = self.increment.unwrap_or(1) > 0;
        (
            self.min_value
                .unwrap_or(if ascending { 1 } else { type_min }),
            self.max_value
                .unwrap_or(if ascending { type_max } else { -1 }),
        )
    }

    /// The options of a sequence as `pg_sequence` holds them (`seqstart`, `seqincrement`, ...)
    /// for a column of `type_name`, keeping only those that differ from what
    /// `CREATE SEQUENCE .. AS type_name` chooses (the inverse of [`SequenceOptions::full_sql`]).
    pub fn from_catalog(
        type_name: &str,
        start: i64,
        increment: i64,
        min: i64,
        max: i64,
        cache: i64,
        cycle: bool,
    ) -> Self {
        let (type_min, type_max) = integer_range(type_name);
        let ascending = increment > 0;
        let (default_min, default_max) = if ascending {
            (1, type_max)
        } else {
            (type_min, -1)
        };
        let default_start = if ascending { min } else { max };
        SequenceOptions {
            start: (start != default_start).then_some(start),
            increment: (increment != 1).then_some(increment),
            min_value: (min != default_min).then_some(min),
            max_value: (max != default_max).then_some(max),
            cache: (cache != 1).then_some(cache),
            cycle,
        }
    }

    /// `ALTER SEQUENCE` of the sequence a serial column owns (found with
    /// `pg_get_serial_sequence`, which takes the column name as it is), setting every option ([`SequenceOptions::full_sql`]) and
    /// keeping the sequence's current value; a sequence no value was drawn from yet restarts at
    /// its (new) START, as a new one would. `quoted_table` is the table as SQL names it
    /// (`"public"."t"`), `column` the column's name, `type_name` its type. Fails when the current
    /// value is outside the new MINVALUE / MAXVALUE (Postgres checks it).
    pub fn alter_serial_sql(&self, quoted_table: &str, column: &str, type_name: &str) -> String {
        let lit = |s: &str| s.replace('\'', "''");
        format!(
            "DO $ignis$\nDECLARE seq text := pg_get_serial_sequence('{}', '{}'); called boolean;\n\
             BEGIN\nEXECUTE format('SELECT is_called FROM %s', seq) INTO called;\n\
             EXECUTE format('ALTER SEQUENCE %s {}', seq) || CASE WHEN called THEN '' ELSE ' RESTART' END;\n\
             END\n$ignis$",
            lit(quoted_table),
            lit(column),
            self.full_sql(type_name)
        )
    }
}

impl SequenceOptions {
    /// For a serial column just added to a table with rows (which `ADD COLUMN` numbered with
    /// `serial`'s defaults): sets every option ([`SequenceOptions::full_sql`]), restarts the
    /// sequence and numbers the rows again from it. Arguments as
    /// [`SequenceOptions::alter_serial_sql`].
    pub fn renumber_serial_sql(&self, quoted_table: &str, column: &str, type_name: &str) -> String {
        let lit = |s: &str| s.replace('\'', "''");
        format!(
            "DO $ignis$\nDECLARE seq text := pg_get_serial_sequence('{table}', '{col}');\n\
             BEGIN\nEXECUTE format('ALTER SEQUENCE %s {} RESTART', seq);\n\
             EXECUTE format('UPDATE %s SET %I = nextval(%L)', '{table}', '{col}', seq);\n\
             END\n$ignis$",
            self.full_sql(type_name),
            table = lit(quoted_table),
            col = lit(column),
        )
    }
}

/// The range of a sequence's integer type; `type_name` as Postgres prints it or a serial
/// pseudo-type. Anything else is `bigint`'s.
fn integer_range(type_name: &str) -> (i64, i64) {
    match type_name {
        "smallint" | "int2" | "smallserial" | "serial2" => {
            (i64::from(i16::MIN), i64::from(i16::MAX))
        }
        "integer" | "int" | "int4" | "serial" | "serial4" => {
            (i64::from(i32::MIN), i64::from(i32::MAX))
        }
        _ => (i64::MIN, i64::MAX),
    }
}

/// `createdBy` -> `created_by`, `parentID` -> `parent_id`, `nValue` -> `n_value`; a name that is
/// already snake_case is returned unchanged.
///
/// ```
/// assert_eq!(ignis_schema::snake_case("lastLoginAt"), "last_login_at");
/// assert_eq!(ignis_schema::snake_case("boValue"), "bo_value");
/// assert_eq!(ignis_schema::snake_case("group"), "group");
/// ```
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_handles_acronyms_and_digits() {
        assert_eq!(snake_case("parentID"), "parent_id");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("value2X"), "value2_x");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("Id"), "id");
    }

    #[test]
    fn identity_sql_lists_only_given_options() {
        assert_eq!(Identity::always().to_sql(), "GENERATED ALWAYS AS IDENTITY");
        let id = Identity {
            generation: IdentityGeneration::ByDefault,
            sequence: SequenceOptions {
                start: Some(100),
                increment: Some(2),
                cycle: true,
                ..Default::default()
            },
        };
        assert_eq!(
            id.to_sql(),
            "GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 2 CYCLE)"
        );
    }

    #[test]
    fn full_sequence_options_read_back_as_the_options_given() {
        for (ty, o) in [
            ("integer", SequenceOptions::default()),
            (
                "bigint",
                SequenceOptions {
                    start: Some(-7),
                    increment: Some(-2),
                    max_value: Some(-5),
                    cache: Some(3),
                    cycle: true,
                    ..Default::default()
                },
            ),
            (
                "smallint",
                SequenceOptions {
                    min_value: Some(0),
                    max_value: Some(100),
                    ..Default::default()
                },
            ),
        ] {
            let sql = o.full_sql(ty);
            let n: Vec<i64> = sql.split(' ').filter_map(|w| w.parse().ok()).collect();
            let back = SequenceOptions::from_catalog(ty, n[0], n[1], n[2], n[3], n[4], o.cycle);
            assert_eq!(back, o, "{ty}: {sql}");
        }
        assert_eq!(
            SequenceOptions::default().full_sql("smallserial"),
            "START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 32767 CACHE 1 NO CYCLE"
        );
    }

    #[test]
    fn json_column_defaults_its_column_name_and_nullability() {
        let c: Column =
            serde_json::from_str(r#"{"property":"createdAt","type":"timestamptz"}"#).unwrap();
        assert_eq!(c.column, "", "filled in by the model, see Model::normalize");
        assert!(c.nullable);
        assert_eq!(c.pg_type, PgType::TIMESTAMPTZ);
    }
}

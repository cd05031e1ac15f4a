//! Postgres column types, parsed from what a user writes and printed the way Postgres prints them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::SchemaError;

/// A Postgres column type.
///
/// [`fmt::Display`] prints the canonical spelling of `format_type()` in the Postgres catalog
/// (`timestamp with time zone`, `character varying(255)`, `integer[]`), so a model's type compares
/// equal, as text, to what introspection of the live catalog reads back. [`FromStr`] also accepts
/// the usual aliases (`int4`, `timestamptz`, `varchar(255)`, `bool`, `float8`, `decimal(10,2)`).
/// Types this enum does not name (a user enum type, a domain, an extension's type) are kept as
/// [`PgType::Custom`] and written to DDL as given.
///
/// Source: Postgres manual, chapter 8 "Data Types" (table 8.1 lists names and aliases).
///
/// ```
/// use ignis_schema::PgType;
/// let t: PgType = "timestamptz(3)".parse().unwrap();
/// assert_eq!(t.to_string(), "timestamp(3) with time zone");
/// assert_eq!("varchar(40)[]".parse::<PgType>().unwrap().to_string(), "character varying(40)[]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PgType {
    /// `smallint` (`int2`), 2 bytes.
    SmallInt,
    /// `integer` (`int`, `int4`), 4 bytes.
    Integer,
    /// `bigint` (`int8`), 8 bytes.
    BigInt,
    /// `real` (`float4`).
    Real,
    /// `double precision` (`float8`).
    DoublePrecision,
    /// `numeric(precision, scale)` (`decimal`); both `None` means unconstrained `numeric`.
    Numeric {
        /// Total significant digits.
        precision: Option<u32>,
        /// Digits after the decimal point (only with a precision).
        scale: Option<u32>,
    },
    /// `text`.
    Text,
    /// `character varying(n)` (`varchar(n)`); `None` means no length limit.
    Varchar(Option<u32>),
    /// `character(n)` (`char(n)`, `bpchar`); Postgres treats a missing length as 1.
    Char(u32),
    /// `boolean` (`bool`).
    Boolean,
    /// `bytea`, binary data.
    Bytea,
    /// `date`.
    Date,
    /// `time(p) [with|without] time zone`.
    Time {
        /// Fractional-second digits, 0..=6; `None` is the default (6).
        precision: Option<u32>,
        /// `with time zone` (`timetz`).
        with_time_zone: bool,
    },
    /// `timestamp(p) [with|without] time zone`.
    Timestamp {
        /// Fractional-second digits, 0..=6; `None` is the default (6).
        precision: Option<u32>,
        /// `with time zone` (`timestamptz`).
        with_time_zone: bool,
    },
    /// `interval`.
    Interval,
    /// `uuid`.
    Uuid,
    /// `json`.
    Json,
    /// `jsonb`.
    Jsonb,
    /// `inet`.
    Inet,
    /// `cidr`.
    Cidr,
    /// An array of the element type (`integer[]`).
    Array(Box<PgType>),
    /// Any other type, written to DDL exactly as given (a user enum type, a domain, `vector(3)`).
    Custom(String),
}

impl PgType {
    /// `timestamp with time zone`, the type of the Ignis `tz` enricher's columns.
    pub const TIMESTAMPTZ: PgType = PgType::Timestamp {
        precision: None,
        with_time_zone: true,
    };

    /// The element type of an array, or `None` for a scalar type.
    pub fn element(&self) -> Option<&PgType> {
        match self {
            PgType::Array(inner) => Some(inner),
            _ => None,
        }
    }

    /// True for the pseudo-types `serial`, `bigserial`, `smallserial` (and `serial2/4/8`),
    /// which create a sequence named after the table and column (Postgres manual, 8.1.4
    /// "Serial Types").
    pub fn is_serial(&self) -> bool {
        matches!(
            self,
            PgType::Custom(name) if matches!(
                name.as_str(),
                "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
            )
        )
    }

    /// True for `json` and `jsonb`.
    pub fn is_json(&self) -> bool {
        matches!(self, PgType::Json | PgType::Jsonb)
    }

    /// True for `smallint`, `integer` and `bigint`.
    pub fn is_integer(&self) -> bool {
        matches!(self, PgType::SmallInt | PgType::Integer | PgType::BigInt)
    }

    /// True for the types that hold text (`text`, `character varying`, `character`).
    pub fn is_textual(&self) -> bool {
        matches!(self, PgType::Text | PgType::Varchar(_) | PgType::Char(_))
    }
}

impl fmt::Display for PgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn tz(with: bool) -> &'static str {
            if with {
                "with time zone"
            } else {
                "without time zone"
            }
        }
        match self {
            PgType::SmallInt => f.write_str("smallint"),
            PgType::Integer => f.write_str("integer"),
            PgType::BigInt => f.write_str("bigint"),
            PgType::Real => f.write_str("real"),
            PgType::DoublePrecision => f.write_str("double precision"),
            PgType::Numeric {
                precision: None, ..
            } => f.write_str("numeric"),
            PgType::Numeric {
                precision: Some(p),
                scale,
            } => write!(f, "numeric({},{})", p, scale.unwrap_or(0)),
            PgType::Text => f.write_str("text"),
            PgType::Varchar(None) => f.write_str("character varying"),
            PgType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            PgType::Char(n) => write!(f, "character({n})"),
            PgType::Boolean => f.write_str("boolean"),
            PgType::Bytea => f.write_str("bytea"),
            PgType::Date => f.write_str("date"),
            PgType::Time {
                precision,
                with_time_zone,
            } => match precision {
                Some(p) => write!(f, "time({p}) {}", tz(*with_time_zone)),
                None => write!(f, "time {}", tz(*with_time_zone)),
            },
            PgType::Timestamp {
                precision,
                with_time_zone,
            } => match precision {
                Some(p) => write!(f, "timestamp({p}) {}", tz(*with_time_zone)),
                None => write!(f, "timestamp {}", tz(*with_time_zone)),
            },
            PgType::Interval => f.write_str("interval"),
            PgType::Uuid => f.write_str("uuid"),
            PgType::Json => f.write_str("json"),
            PgType::Jsonb => f.write_str("jsonb"),
            PgType::Inet => f.write_str("inet"),
            PgType::Cidr => f.write_str("cidr"),
            PgType::Array(inner) => write!(f, "{inner}[]"),
            PgType::Custom(s) => f.write_str(s),
        }
    }
}

/// Splits `name(args)` into `("name", Some("args"))`; returns `None` on unbalanced parentheses.
fn split_args(s: &str) -> Option<(&str, Option<&str>)> {
    match s.find('(') {
        None => Some((s, None)),
        Some(open) => {
            let close = s.rfind(')')?;
            if close < open {
                return None;
            }
            Some((s[..open].trim_end(), Some(s[open + 1..close].trim())))
        }
    }
}

fn parse_u32(type_name: &str, s: &str) -> Result<u32, SchemaError> {
    s.trim()
        .parse::<u32>()
        .map_err(|_| SchemaError::InvalidType {
            type_name: type_name.to_string(),
            reason: format!("`{s}` is not a non-negative whole number"),
        })
}

impl FromStr for PgType {
    type Err = SchemaError;

    /// Parses a type name as Postgres accepts it (case-insensitive, aliases allowed).
    ///
    /// # Errors
    /// [`SchemaError::InvalidType`] for an empty name, unbalanced parentheses, or a modifier that
    /// is not a number where one is required (`varchar(x)`). Unknown names are not an error: they
    /// become [`PgType::Custom`].
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let original = input.trim();
        if original.is_empty() {
            return Err(SchemaError::InvalidType {
                type_name: input.to_string(),
                reason: "the type name is empty".into(),
            });
        }
        if let Some(inner) = original.strip_suffix("[]") {
            return Ok(PgType::Array(Box::new(inner.parse()?)));
        }
        let lower = original
            .to_ascii_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let invalid = |reason: &str| SchemaError::InvalidType {
            type_name: original.to_string(),
            reason: reason.to_string(),
        };
        // Time types put the precision before the zone: `timestamp(3) with time zone`.
        let (zone_free, zone) = if let Some(base) = lower.strip_suffix(" with time zone") {
            (base.to_string(), Some(true))
        } else if let Some(base) = lower.strip_suffix(" without time zone") {
            (base.to_string(), Some(false))
        } else {
            (lower.clone(), None)
        };
        let (name, args) =
            split_args(&zone_free).ok_or_else(|| invalid("unbalanced parentheses"))?;
        let is_numeric = matches!(name, "numeric" | "decimal");
        let precision = if is_numeric {
            None
        } else {
            args.map(|a| parse_u32(original, a)).transpose()?
        };
        if let Some(p) = precision {
            if matches!(name, "time" | "timetz" | "timestamp" | "timestamptz") && p > 6 {
                return Err(invalid("time precision must be between 0 and 6"));
            }
        }
        let ty = match (name, zone) {
            ("timestamp", z) => PgType::Timestamp {
                precision,
                with_time_zone: z.unwrap_or(false),
            },
            ("timestamptz", None) => PgType::Timestamp {
                precision,
                with_time_zone: true,
            },
            ("time", z) => PgType::Time {
                precision,
                with_time_zone: z.unwrap_or(false),
            },
            ("timetz", None) => PgType::Time {
                precision,
                with_time_zone: true,
            },
            (_, Some(_)) => return Err(invalid("only time and timestamp take a time zone")),
            ("numeric" | "decimal", None) => match args {
                None => PgType::Numeric {
                    precision: None,
                    scale: None,
                },
                Some(a) => {
                    let mut parts = a.split(',');
                    let p = parse_u32(original, parts.next().unwrap_or(""))?;
                    let s = parts.next().map(|s| parse_u32(original, s)).transpose()?;
                    if parts.next().is_some() {
                        return Err(invalid("numeric takes at most (precision, scale)"));
                    }
                    if p == 0 || p > 1000 {
                        return Err(invalid("numeric precision must be between 1 and 1000"));
                    }
                    PgType::Numeric {
                        precision: Some(p),
                        scale: Some(s.unwrap_or(0)),
                    }
                }
            },
            ("character varying" | "varchar", None) => PgType::Varchar(precision),
            ("character" | "char" | "bpchar", None) => PgType::Char(precision.unwrap_or(1)),
            (simple, None) => {
                if args.is_some() {
                    // A modifier on a type we do not model (`vector(3)`, `bit(8)`): keep it whole.
                    return Ok(PgType::Custom(original.to_string()));
                }
                match simple {
                    "smallint" | "int2" => PgType::SmallInt,
                    "integer" | "int" | "int4" => PgType::Integer,
                    "bigint" | "int8" => PgType::BigInt,
                    "real" | "float4" => PgType::Real,
                    "double precision" | "float8" | "double" => PgType::DoublePrecision,
                    "text" => PgType::Text,
                    "boolean" | "bool" => PgType::Boolean,
                    "bytea" => PgType::Bytea,
                    "date" => PgType::Date,
                    "interval" => PgType::Interval,
                    "uuid" => PgType::Uuid,
                    "json" => PgType::Json,
                    "jsonb" => PgType::Jsonb,
                    "inet" => PgType::Inet,
                    "cidr" => PgType::Cidr,
                    _ => PgType::Custom(original.to_string()),
                }
            }
        };
        Ok(ty)
    }
}

impl Serialize for PgType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PgType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_pseudo_types_are_recognised() {
        for t in ["serial", "bigserial", "smallserial", "serial8"] {
            assert!(t.parse::<PgType>().unwrap().is_serial(), "{t}");
        }
        assert!(!"integer".parse::<PgType>().unwrap().is_serial());
        assert!(!"serials".parse::<PgType>().unwrap().is_serial());
    }

    fn canon(s: &str) -> String {
        s.parse::<PgType>()
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .to_string()
    }

    #[test]
    fn aliases_print_as_postgres_format_type() {
        let cases = [
            ("int4", "integer"),
            ("INT", "integer"),
            ("int8", "bigint"),
            ("int2", "smallint"),
            ("float8", "double precision"),
            ("float4", "real"),
            ("bool", "boolean"),
            ("varchar", "character varying"),
            ("varchar(255)", "character varying(255)"),
            ("char", "character(1)"),
            ("char(3)", "character(3)"),
            ("decimal(10, 2)", "numeric(10,2)"),
            ("numeric(5)", "numeric(5,0)"),
            ("numeric", "numeric"),
            ("timestamptz", "timestamp with time zone"),
            ("timestamp", "timestamp without time zone"),
            ("timestamptz(3)", "timestamp(3) with time zone"),
            ("timestamp(0) with time zone", "timestamp(0) with time zone"),
            ("timetz", "time with time zone"),
            ("time", "time without time zone"),
            ("text[]", "text[]"),
            ("int[][]", "integer[][]"),
            ("jsonb", "jsonb"),
            ("my_enum", "my_enum"),
            ("vector(3)", "vector(3)"),
        ];
        for (input, expected) in cases {
            assert_eq!(canon(input), expected, "input {input}");
        }
    }

    #[test]
    fn canonical_form_round_trips() {
        for s in [
            "integer",
            "timestamp(3) with time zone",
            "character varying(20)[]",
            "numeric(12,4)",
            "double precision",
        ] {
            assert_eq!(canon(&canon(s)), s);
        }
    }

    #[test]
    fn bad_modifiers_are_typed_errors() {
        for bad in [
            "",
            "varchar(x)",
            "numeric(0)",
            "timestamp(7)",
            "text(",
            "integer with time zone",
        ] {
            assert!(
                matches!(bad.parse::<PgType>(), Err(SchemaError::InvalidType { .. })),
                "{bad:?} should be rejected"
            );
        }
    }
}

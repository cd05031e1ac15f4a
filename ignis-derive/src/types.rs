//! Rust types to Postgres types, and the check of a `pg_type = ".."` override.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, Type};

/// The last path segment of a plain path type (`chrono::DateTime<Utc>` -> `DateTime<Utc>`).
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The one type argument of `Wrapper<T>` when `ty`'s last segment is named `wrapper`.
fn wrapped<'t>(ty: &'t Type, wrapper: &str) -> Option<&'t Type> {
    let seg = last_segment(ty)?;
    if seg.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let first = types.next()?;
    types.next().is_none().then_some(first)
}

/// `T` of `Option<T>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    wrapped(ty, "Option")
}

/// `T` of `Vec<T>`.
pub(crate) fn vec_inner(ty: &Type) -> Option<&Type> {
    wrapped(ty, "Vec")
}

/// The type as the user wrote it, for messages (`Vec<u32>`).
pub(crate) fn display(ty: &Type) -> String {
    quote!(#ty).to_string().replace(' ', "")
}

/// The `ignis_schema::PgType` of a Rust type, as tokens; `None` when the type has no mapping.
///
/// `i16` smallint, `i32` integer, `i64` bigint, `f32` real, `f64` double precision, `bool`
/// boolean, `String` text, `Vec<u8>` bytea, `serde_json::Value` jsonb, chrono's `DateTime<Tz>`
/// timestamp with time zone, `NaiveDateTime` timestamp, `NaiveDate` date, `NaiveTime` time,
/// `uuid::Uuid` uuid, `Decimal` numeric, `Vec<T>` (or `Vec<Option<T>>`) an array of `T`'s type.
/// These are the types the `postgres` crate decodes those Postgres types into.
pub(crate) fn pg_type_of(ty: &Type) -> Option<TokenStream> {
    let pg = quote!(::ignis_schema::PgType);
    if let Some(element) = vec_inner(ty) {
        if last_segment(element).is_some_and(|s| s.ident == "u8" && s.arguments.is_none()) {
            return Some(quote!(#pg::Bytea));
        }
        let element = option_inner(element).unwrap_or(element);
        let inner = pg_type_of(element)?;
        return Some(quote!(#pg::Array(::std::boxed::Box::new(#inner))));
    }
    let seg = last_segment(ty)?;
    let plain = seg.arguments.is_none();
    let name = seg.ident.to_string();
    let tokens = match name.as_str() {
        "i16" if plain => quote!(#pg::SmallInt),
        "i32" if plain => quote!(#pg::Integer),
        "i64" if plain => quote!(#pg::BigInt),
        "f32" if plain => quote!(#pg::Real),
        "f64" if plain => quote!(#pg::DoublePrecision),
        "bool" if plain => quote!(#pg::Boolean),
        "String" if plain => quote!(#pg::Text),
        "Value" if plain && is_serde_json_value(ty) => quote!(#pg::Jsonb),
        "DateTime" => quote!(#pg::TIMESTAMPTZ),
        "NaiveDateTime" if plain => quote!(#pg::Timestamp {
            precision: ::std::option::Option::None,
            with_time_zone: false,
        }),
        "NaiveDate" if plain => quote!(#pg::Date),
        "NaiveTime" if plain => quote!(#pg::Time {
            precision: ::std::option::Option::None,
            with_time_zone: false,
        }),
        "Uuid" if plain => quote!(#pg::Uuid),
        "Decimal" if plain => quote!(#pg::Numeric {
            precision: ::std::option::Option::None,
            scale: ::std::option::Option::None,
        }),
        _ => return None,
    };
    Some(tokens)
}

/// Rust type names that are never a `#[derive(PgEnum)]` enum: primitives without a Postgres
/// type, and the names [`pg_type_of`] maps (with other arguments or from another crate).
const NOT_ENUM: &[&str] = &[
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i128",
    "isize",
    "char",
    "str",
    "i16",
    "i32",
    "i64",
    "f32",
    "f64",
    "bool",
    "String",
    "Value",
    "DateTime",
    "NaiveDateTime",
    "NaiveDate",
    "NaiveTime",
    "Uuid",
    "Decimal",
    "Vec",
    "Option",
];

/// The `ignis_schema::PgType` of a column of Rust type `ty` (without its `Option`), as tokens,
/// and the enum type it uses, if any; `None` when the type has no mapping.
///
/// The types [`pg_type_of`] maps come first; any other plain path type without generic
/// arguments (`Mood`, `crate::Status`) is taken for a `#[derive(PgEnum)]` enum, whose type is
/// `<T as ignis_schema::PgEnumDef>::pg_type()`: a type that is no such enum is then a compile
/// error at the field's type, with the `PgEnumDef` trait's message. `Vec<T>` (or
/// `Vec<Option<T>>`) of an enum is an array of it.
pub(crate) fn column_type(ty: &Type) -> Option<(TokenStream, Option<&Type>)> {
    if let Some(tokens) = pg_type_of(ty) {
        return Some((tokens, None));
    }
    if let Some(element) = vec_inner(ty) {
        let element = option_inner(element).unwrap_or(element);
        let (inner, used) = column_type(element)?;
        let pg = quote!(::ignis_schema::PgType);
        return Some((quote!(#pg::Array(::std::boxed::Box::new(#inner))), used));
    }
    let seg = last_segment(ty)?;
    let plain = seg.arguments.is_none() && matches!(ty, Type::Path(_));
    if !plain || NOT_ENUM.contains(&seg.ident.to_string().as_str()) {
        return None;
    }
    let tokens = quote::quote_spanned!(syn::spanned::Spanned::span(ty)=> <#ty as ::ignis_schema::PgEnumDef>::pg_type());
    Some((tokens, Some(ty)))
}

/// `Value` or `serde_json::Value` (not another crate's `Value`).
fn is_serde_json_value(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let segments: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    match segments.as_slice() {
        [_] => true,
        [krate, _] => krate == "serde_json",
        _ => false,
    }
}

/// Checks a `pg_type = ".."` text the way `ignis_schema::PgType`'s `FromStr` does, so a type it
/// would refuse is a compile error here rather than a surprise at run time: an empty name,
/// unbalanced parentheses, a modifier that is not a whole number, a numeric precision outside
/// 1..=1000 or more than `(precision, scale)`, a time precision above 6, a time zone on a type
/// other than time / timestamp. Unknown names are accepted (a user enum, a domain).
pub(crate) fn check_pg_type(input: &str) -> Result<(), String> {
    let original = input.trim();
    if original.is_empty() {
        return Err("the type name is empty".into());
    }
    if let Some(inner) = original.strip_suffix("[]") {
        return check_pg_type(inner);
    }
    let lower = original
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let (base, zone) = if let Some(b) = lower.strip_suffix(" with time zone") {
        (b, true)
    } else if let Some(b) = lower.strip_suffix(" without time zone") {
        (b, true)
    } else {
        (lower.as_str(), false)
    };
    let (name, args) = match base.find('(') {
        None => (base, None),
        Some(open) => match base.rfind(')') {
            Some(close) if close > open => (base[..open].trim_end(), Some(&base[open + 1..close])),
            _ => return Err("unbalanced parentheses".into()),
        },
    };
    let number = |s: &str| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("`{}` is not a non-negative whole number", s.trim()))
    };
    if matches!(name, "numeric" | "decimal") {
        if let Some(args) = args {
            let parts: Vec<&str> = args.split(',').collect();
            if parts.len() > 2 {
                return Err("numeric takes at most (precision, scale)".into());
            }
            let precision = number(parts[0])?;
            if let Some(scale) = parts.get(1) {
                number(scale)?;
            }
            if precision == 0 || precision > 1000 {
                return Err("numeric precision must be between 1 and 1000".into());
            }
        }
    } else if let Some(args) = args {
        let precision = number(args)?;
        if matches!(name, "time" | "timetz" | "timestamp" | "timestamptz") && precision > 6 {
            return Err("time precision must be between 0 and 6".into());
        }
    }
    if zone && !matches!(name, "time" | "timestamp") {
        return Err("only time and timestamp take a time zone".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_type_texts_are_checked_like_the_schema_parser() {
        for good in [
            "varchar(20)",
            "numeric(10, 2)",
            "timestamptz(3)",
            "timestamp(0) with time zone",
            "text[]",
            "my_enum",
            "vector(3)",
            "double precision",
        ] {
            assert_eq!(check_pg_type(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "varchar(x)",
            "numeric(0)",
            "numeric(1,2,3)",
            "timestamp(7)",
            "text(",
            "integer with time zone",
            "timestamptz with time zone",
        ] {
            assert!(check_pg_type(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn rust_types_map_to_postgres_types() {
        let mapped = |src: &str| {
            syn::parse_str::<Type>(src)
                .ok()
                .and_then(|t| pg_type_of(&t))
        };
        for ty in [
            "i32",
            "String",
            "Vec<u8>",
            "Vec<i64>",
            "Vec<Option<String>>",
            "serde_json::Value",
            "chrono::DateTime<chrono::Utc>",
            "uuid::Uuid",
        ] {
            assert!(mapped(ty).is_some(), "{ty}");
        }
        let enum_of = |src: &str| {
            syn::parse_str::<Type>(src)
                .ok()
                .and_then(|t| column_type(&t).map(|(_, e)| e.map(display)))
        };
        assert_eq!(enum_of("Mood"), Some(Some("Mood".into())));
        assert_eq!(
            enum_of("Vec<Option<app::Mood>>"),
            Some(Some("app::Mood".into()))
        );
        assert_eq!(enum_of("i32"), Some(None));
        for ty in [
            "u32",
            "Vec<u32>",
            "HashSet<String>",
            "sea_query::Value",
            "&str",
        ] {
            assert_eq!(enum_of(ty), None, "{ty}");
        }
        for ty in [
            "u32",
            "Vec<u32>",
            "sea_query::Value",
            "&str",
            "HashMap<String, i32>",
        ] {
            assert!(mapped(ty).is_none(), "{ty}");
        }
    }
}

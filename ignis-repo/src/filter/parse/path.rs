//! Field keys: a property, or a JSON path inside a json / jsonb property.

use ignis_schema::Model;

use crate::filter::condition::FieldRef;
use crate::filter::error::{excerpt, FilterError};

/// Most segments in one JSON path: in filters, order terms and update keys alike.
pub const MAX_PATH_SEGMENTS: usize = 32;

/// Longest JSON path segment, in bytes.
const MAX_SEGMENT_BYTES: usize = 128;

/// Resolves a where / order key to a property of `model`, or a JSON path inside a json / jsonb
/// property (`metadata.a.b`, `items[0].score`).
pub(crate) fn resolve_field(model: &Model, key: &str) -> Result<FieldRef, FilterError> {
    let Some(split) = key.bytes().position(|b| b == b'.' || b == b'[') else {
        let (index, column) = model
            .columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.property == key)
            .ok_or_else(|| FilterError::UnknownField {
                model: model.name.clone(),
                field: key.to_string(),
            })?;
        return Ok(FieldRef {
            property: column.property.as_str().into(),
            index,
            pg_type: column.pg_type.clone(),
            path: Vec::new(),
        });
    };
    let property = &key[..split];
    let invalid = |reason: String| FilterError::InvalidPath {
        field: property.to_string(),
        path: key.to_string(),
        reason,
    };
    if property.is_empty() {
        return Err(invalid("the path does not start with a property".into()));
    }
    let (index, column) = model
        .columns
        .iter()
        .enumerate()
        .find(|(_, c)| c.property == property)
        .ok_or_else(|| FilterError::UnknownField {
            model: model.name.clone(),
            field: property.to_string(),
        })?;
    if !column.pg_type.is_json() {
        return Err(invalid(format!(
            "`{property}` is a {} column; JSON paths need json or jsonb",
            column.pg_type
        )));
    }
    let path = parse_path(&key[split..]).map_err(invalid)?;
    Ok(FieldRef {
        property: column.property.as_str().into(),
        index,
        pg_type: column.pg_type.clone(),
        path,
    })
}

/// Splits `.a.b[0]` / `[0].score` into segments, validating each (Ignis `JSON_PATH_PATTERN`:
/// `^[a-zA-Z_][a-zA-Z0-9_-]*$|^\d+$`).
fn parse_path(mut rest: &str) -> Result<Vec<String>, String> {
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let segment;
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            segment = &after[..end];
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| "a `[` is not closed".to_string())?;
            segment = &after[..end];
            rest = &after[end + 1..];
            if !(rest.is_empty() || rest.starts_with(['.', '['])) {
                return Err("expected `.` or `[` after `]`".into());
            }
        } else {
            return Err("expected `.` or `[`".into());
        }
        if !valid_segment(segment) {
            return Err(format!(
                "segment `{}` is not an identifier ([A-Za-z_][A-Za-z0-9_-]*) or an array index",
                excerpt(segment)
            ));
        }
        segments.push(segment.to_string());
        if segments.len() > MAX_PATH_SEGMENTS {
            return Err(format!("more than {MAX_PATH_SEGMENTS} segments"));
        }
    }
    Ok(segments)
}

fn valid_segment(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_SEGMENT_BYTES {
        return false;
    }
    let bytes = s.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) {
        return true;
    }
    (bytes[0].is_ascii_alphabetic() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
}

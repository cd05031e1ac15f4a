//! `fields`: the array and object forms.

use ignis_schema::Model;
use serde_json::Value as JsonValue;

use crate::filter::error::{describe, FilterError};
use crate::filter::Fields;

/// `fields`: `["a", "b"]`, `{"a": true}` (only the true ones), `{"a": false}` (all but those).
pub(super) fn fields(model: &Model, value: &JsonValue) -> Result<Option<Fields>, FilterError> {
    let known = |p: &str| -> Result<String, FilterError> {
        match model.column_by_property(p) {
            Some(c) => Ok(c.property.clone()),
            None => Err(FilterError::UnknownField {
                model: model.name.clone(),
                field: p.to_string(),
            }),
        }
    };
    match value {
        JsonValue::Null => Ok(None),
        JsonValue::Array(items) => {
            let mut props: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let JsonValue::String(p) = item else {
                    return Err(FilterError::malformed(format!(
                        "`fields` must list property names, found {}",
                        describe(item)
                    )));
                };
                let p = known(p)?;
                if !props.contains(&p) {
                    props.push(p);
                }
            }
            Ok((!props.is_empty()).then_some(Fields::Include(props)))
        }
        JsonValue::Object(map) => {
            let mut included = Vec::new();
            let mut excluded = Vec::new();
            for (p, flag) in map {
                let p = known(p)?;
                match flag {
                    JsonValue::Bool(true) => included.push(p),
                    JsonValue::Bool(false) => excluded.push(p),
                    other => {
                        return Err(FilterError::invalid(
                            &format!("fields.{p}"),
                            "true or false",
                            other,
                        ))
                    }
                }
            }
            if !included.is_empty() {
                Ok(Some(Fields::Include(included)))
            } else if !excluded.is_empty() {
                Ok(Some(Fields::Exclude(excluded)))
            } else {
                Ok(None)
            }
        }
        other => Err(FilterError::malformed(format!(
            "`fields` must be an array or an object, found {}",
            describe(other)
        ))),
    }
}

//! `include`: entries, their scopes (parsed against the target model, with its default filter
//! merged when asked) and the include depth.

use ignis_schema::{Model, Schema};
use serde_json::{Map, Value as JsonValue};

use super::Parser;
use crate::filter::error::{describe, excerpt, FilterError};
use crate::filter::merge::merge_filter_json;
use crate::filter::Inclusion;

impl Parser<'_> {
    pub(super) fn include(
        &mut self,
        model: &Model,
        schema: &Schema,
        value: &JsonValue,
        include_depth: usize,
    ) -> Result<Vec<Inclusion>, FilterError> {
        let items: Vec<&JsonValue> = match value {
            JsonValue::Null => return Ok(Vec::new()),
            JsonValue::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        if !items.is_empty() && include_depth >= self.limits.max_include_depth {
            return Err(FilterError::TooDeep {
                limit: self.limits.max_include_depth,
            });
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            self.tick()?;
            let (relation, scope, skip_default) = match item {
                JsonValue::String(relation) => (relation.as_str(), None, false),
                JsonValue::Object(o) => inclusion_object(o)?,
                other => {
                    return Err(FilterError::malformed(format!(
                        "an include entry must be a relation name or {{relation, scope, \
                         shouldSkipDefaultFilter}}, found {}",
                        describe(other)
                    )))
                }
            };
            let unknown = || FilterError::UnknownRelation {
                model: model.name.clone(),
                relation: relation.to_string(),
            };
            let rel = model.relation_by_name(relation).ok_or_else(unknown)?;
            let target = schema.model(&rel.target).ok_or_else(unknown)?;
            let scope_depth = include_depth + 1;
            self.check_depth(scope_depth)?;
            let default = if self.apply_defaults && !skip_default {
                target.default_filter.as_ref()
            } else {
                None
            };
            let scope = match (scope, default) {
                (Some(scope), Some(default)) => Some(self.filter(
                    target,
                    schema,
                    &merge_filter_json(default, scope),
                    scope_depth,
                )?),
                (None, Some(default)) => Some(self.filter(target, schema, default, scope_depth)?),
                (Some(scope), None) => Some(self.filter(target, schema, scope, scope_depth)?),
                (None, None) => None,
            };
            out.push(Inclusion {
                relation: rel.name.clone(),
                scope,
                should_skip_default_filter: skip_default,
            });
        }
        Ok(out)
    }
}

/// Reads `{relation, scope, shouldSkipDefaultFilter}`.
fn inclusion_object(
    o: &Map<String, JsonValue>,
) -> Result<(&str, Option<&JsonValue>, bool), FilterError> {
    let mut relation = None;
    let mut scope = None;
    let mut skip = false;
    for (k, v) in o {
        match (k.as_str(), v) {
            ("relation", JsonValue::String(r)) => relation = Some(r.as_str()),
            ("scope", JsonValue::Null) => {}
            ("scope", s @ JsonValue::Object(_)) => scope = Some(s),
            ("shouldSkipDefaultFilter", JsonValue::Bool(b)) => skip = *b,
            ("shouldSkipDefaultFilter", JsonValue::Null) => {}
            ("relation" | "scope" | "shouldSkipDefaultFilter", other) => {
                return Err(FilterError::malformed(format!(
                    "include `{k}` has the wrong type: {}",
                    describe(other)
                )))
            }
            (other, _) => {
                return Err(FilterError::malformed(format!(
                    "unknown include key `{}` (expected relation, scope, \
                     shouldSkipDefaultFilter)",
                    excerpt(other)
                )))
            }
        }
    }
    let relation =
        relation.ok_or_else(|| FilterError::malformed("an include object needs a `relation`"))?;
    Ok((relation, scope, skip))
}

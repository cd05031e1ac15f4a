//! `order`: a string or an array of `property [ASC|DESC] [NULLS FIRST|NULLS LAST]` terms.

use ignis_schema::Model;
use serde_json::Value as JsonValue;

use super::path::resolve_field;
use super::Parser;
use crate::filter::error::{describe, excerpt, FilterError};
use crate::filter::{Direction, Nulls, OrderTerm};

impl Parser<'_> {
    pub(super) fn order(
        &mut self,
        model: &Model,
        value: &JsonValue,
    ) -> Result<Vec<OrderTerm>, FilterError> {
        let mut raw: Vec<&str> = Vec::new();
        match value {
            JsonValue::Null => return Ok(Vec::new()),
            JsonValue::String(s) => raw.extend(s.split(',')),
            JsonValue::Array(items) => {
                for item in items {
                    match item {
                        JsonValue::String(s) => raw.extend(s.split(',')),
                        other => {
                            return Err(FilterError::InvalidOrder {
                                term: describe(other),
                                reason: "an order term must be a string".into(),
                            })
                        }
                    }
                }
            }
            other => {
                return Err(FilterError::malformed(format!(
                    "`order` must be a string or an array of strings, found {}",
                    describe(other)
                )))
            }
        }
        let mut terms = Vec::with_capacity(raw.len());
        for term in raw {
            self.tick()?;
            terms.push(order_term(model, term)?);
        }
        Ok(terms)
    }
}

/// One order term: `key [ASC|DESC] [NULLS FIRST|NULLS LAST]`, case-insensitive.
fn order_term(model: &Model, term: &str) -> Result<OrderTerm, FilterError> {
    let invalid = |reason: &str| FilterError::InvalidOrder {
        term: excerpt(term.trim()).into_owned(),
        reason: reason.to_string(),
    };
    let words: Vec<&str> = term.split_whitespace().collect();
    let Some((key, rest)) = words.split_first() else {
        return Err(invalid("the term is empty"));
    };
    let field = resolve_field(model, key)?;
    let mut rest = rest.iter().map(|w| w.to_ascii_lowercase());
    let mut direction = Direction::Asc;
    let mut nulls = None;
    let mut next = rest.next();
    match next.as_deref() {
        Some("asc") => next = rest.next(),
        Some("desc") => {
            direction = Direction::Desc;
            next = rest.next();
        }
        _ => {}
    }
    match next.as_deref() {
        None => {}
        Some("nulls") => {
            nulls = match rest.next().as_deref() {
                Some("first") => Some(Nulls::First),
                Some("last") => Some(Nulls::Last),
                _ => return Err(invalid("NULLS must be followed by FIRST or LAST")),
            };
            if rest.next().is_some() {
                return Err(invalid("unexpected words after NULLS FIRST / LAST"));
            }
        }
        Some(_) => {
            return Err(invalid(
                "expected `property [ASC|DESC] [NULLS FIRST|NULLS LAST]`",
            ))
        }
    }
    Ok(OrderTerm {
        field,
        direction,
        nulls,
    })
}

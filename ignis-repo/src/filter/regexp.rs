//! Naming the `regexp` / `iregexp` term behind a server's "invalid regular expression".
//!
//! Postgres's regular expressions (Henry Spencer's ARE dialect) are not Rust's, so the parser
//! passes `regexp` / `iregexp` patterns through and the server judges them when the statement
//! runs, failing it with SQLSTATE 2201B (invalid_regular_expression) and a message that names
//! neither the field nor the pattern. [`regexp_error`] turns that failure back into a filter
//! error that names them, as every other filter error does.

use super::condition::{Condition, Operand, Operator};
use super::error::{describe_str, excerpt, FilterError};
use ignis_tx::Executor;

/// SQLSTATE invalid_regular_expression.
const INVALID_REGEXP: &str = "2201B";

/// At most this many candidate patterns are quoted when the failing one cannot be singled out.
const MAX_LISTED: usize = 4;

/// One `regexp` / `iregexp` comparison of a condition.
struct Term {
    /// The field as the filter wrote it (`title`, `meta.k`).
    field: String,
    /// `regexp` or `iregexp`.
    operator: &'static str,
    /// The pattern as bound.
    pattern: String,
}

impl Term {
    /// The probe that asks the server to compile this term's pattern.
    fn probe_sql(&self) -> &'static str {
        if self.operator == "iregexp" {
            "SELECT '' ~* $1"
        } else {
            "SELECT '' ~ $1"
        }
    }

    fn error(&self, server_message: &str) -> FilterError {
        FilterError::InvalidValue {
            field: self.field.clone(),
            expected: format!(
                "a `{}` pattern Postgres accepts ({server_message})",
                self.operator
            ),
            found: describe_str(&self.pattern),
        }
    }
}

/// The `regexp` / `iregexp` terms of `cond`, in the order they appear.
fn terms(cond: &Condition) -> Vec<Term> {
    let mut out = Vec::new();
    let mut pending = vec![cond];
    while let Some(c) = pending.pop() {
        match c {
            Condition::And(parts) | Condition::Or(parts) => pending.extend(parts.iter().rev()),
            Condition::Not(inner) => pending.push(inner),
            Condition::Const(_) => {}
            Condition::Compare(cmp) => {
                let operator = match cmp.op {
                    Operator::Regexp => "regexp",
                    Operator::IRegexp => "iregexp",
                    _ => continue,
                };
                if let Operand::One(bound) = &cmp.operand {
                    if let sea_query::Value::String(Some(pattern)) = &bound.value {
                        out.push(Term {
                            field: cmp.field.key().into_owned(),
                            operator,
                            pattern: pattern.to_string(),
                        });
                    }
                }
            }
        }
    }
    out
}

/// The filter error for a statement built from `cond` that the server failed with SQLSTATE
/// 2201B (invalid_regular_expression, message `server_message`): the `regexp` / `iregexp` term
/// whose pattern the server refused, by field, operator and pattern.
///
/// With one such term in `cond`, it is that one. With several, each pattern is compiled on
/// `exec` (`SELECT '' ~ $1`, or `~*`) until the server refuses one. That works outside a
/// transaction (each probe runs on its own); inside one, the failed statement has aborted the
/// transaction, the first probe fails with SQLSTATE 25P02, and the error then names every
/// candidate not yet proven valid. Probing sends only the patterns, as bound parameters.
///
/// Returns [`FilterError::InvalidValue`] naming the field (or the candidate fields), the
/// operator and the pattern; or, when `cond` holds no `regexp` / `iregexp` term (the pattern
/// came from elsewhere) or every pattern compiles on its own, [`FilterError::Malformed`] with
/// the server's message.
///
/// The repositories call it when a statement built from a parsed `where` fails with 2201B;
/// the engine passes it the condition it wrote.
pub(crate) fn regexp_error(
    cond: &Condition,
    exec: &mut dyn Executor,
    server_message: &str,
) -> FilterError {
    let mut candidates = terms(cond);
    // The same pattern under the same operator fails or passes alike: probe it once.
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|t| seen.insert((t.operator, t.pattern.clone())));
    match candidates.len() {
        0 => {
            return FilterError::malformed(format!(
                "invalid regexp / iregexp pattern: {server_message}"
            ))
        }
        1 => return candidates[0].error(server_message),
        _ => {}
    }
    let mut unproven = Vec::new();
    let mut probing = true;
    for term in candidates {
        if !probing {
            unproven.push(term);
            continue;
        }
        match exec.query(term.probe_sql(), &[&term.pattern]) {
            Ok(_) => {}
            Err(e) => match e.as_database_error() {
                Some(db) if db.code == INVALID_REGEXP => return term.error(&db.message),
                // Anything else (25P02 in a failed transaction, a lost connection): the
                // server cannot be asked; name every candidate left.
                _ => {
                    probing = false;
                    unproven.push(term);
                }
            },
        }
    }
    if unproven.is_empty() {
        // Every pattern compiles on its own; the server refused one while matching. Nothing
        // narrows it down further.
        return FilterError::malformed(format!(
            "invalid regexp / iregexp pattern: {server_message}"
        ));
    }
    if unproven.len() == 1 {
        return unproven[0].error(server_message);
    }
    let fields: Vec<&str> = unproven.iter().map(|t| t.field.as_str()).collect();
    let mut listed: Vec<String> = unproven
        .iter()
        .take(MAX_LISTED)
        .map(|t| {
            format!(
                "{} (`{}` on `{}`)",
                describe_str(&t.pattern),
                t.operator,
                excerpt(&t.field)
            )
        })
        .collect();
    if unproven.len() > MAX_LISTED {
        listed.push(format!("and {} more", unproven.len() - MAX_LISTED));
    }
    FilterError::InvalidValue {
        field: fields.join("` or `"),
        expected: format!(
            "`regexp` / `iregexp` patterns Postgres accepts ({server_message}; the server could \
             not be asked which one, as in a failed transaction)"
        ),
        found: format!("one of {}", listed.join(", ")),
    }
}

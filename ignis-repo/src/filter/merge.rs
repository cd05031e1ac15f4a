//! Default-filter merging and where emptiness, on the JSON level (before parsing).

use serde_json::{Map, Value as JsonValue};

/// Deepest object nesting the where merge descends into; below it the caller's value wins whole.
const MAX_MERGE_DEPTH: usize = 32;

/// Deepest `and` / `or` nesting [`is_empty_where`] looks through; deeper wheres count as
/// non-empty (and will be rejected by the parser's depth limit anyway).
const MAX_EMPTY_DEPTH: usize = 64;

/// Merges a caller's where over a default filter's where (Ignis default filter, e.g. soft delete
/// `{"deletedAt": null}`).
///
/// - Objects merge key by key, recursively; on a key both give, the caller's value wins (a scalar,
///   array or `null` replaces; two objects, such as operator objects `{"gt": 1}` and `{"lt": 5}`,
///   merge with the caller's operators winning). So a caller's `{"deletedAt": {"neq": null}}`
///   replaces a default `{"deletedAt": null}`.
/// - `and` and `or` are the shapes a default scope (soft delete, tenant) is written in, so the
///   merge never lets a caller's group drop the default's: two `and` lists are concatenated (both
///   must hold) and two `or` groups become two conjuncts (`{"and": [{"or": d}, {"or": c}]}`), as
///   the Ignis `FilterBuilder.mergeWhere` does.
/// - A `null` (or absent) caller where keeps the default's; a caller where that is not an object
///   replaces it (and the parser reports it).
///
/// The result holds clones of both inputs' values, and serde_json clones recursively: a value
/// nested deeper than the stack allows must be refused before the merge, as
/// [`super::parse_where_with_defaults`] does (with a depth walk that does not recurse).
pub fn merge_where_json(default: &JsonValue, caller: &JsonValue) -> JsonValue {
    merge_where_at(default, caller, 0)
}

fn merge_where_at(default: &JsonValue, caller: &JsonValue, depth: usize) -> JsonValue {
    match (default, caller) {
        (_, JsonValue::Null) => default.clone(),
        (JsonValue::Object(d), JsonValue::Object(c)) => {
            let mut out = d.clone();
            let mut composed: Vec<JsonValue> = Vec::new();
            for (key, cv) in c {
                let merged = match (key.as_str(), out.get(key), cv) {
                    (_, None, _) => cv.clone(),
                    ("and", Some(dv), _) if is_group(dv) && is_group(cv) => {
                        JsonValue::Array(members(dv).iter().chain(members(cv)).cloned().collect())
                    }
                    ("or", Some(dv), _) => {
                        let mut first = Map::new();
                        first.insert("or".into(), dv.clone());
                        let mut second = Map::new();
                        second.insert("or".into(), cv.clone());
                        composed.push(JsonValue::Object(first));
                        composed.push(JsonValue::Object(second));
                        out.remove("or");
                        continue;
                    }
                    (_, Some(dv @ JsonValue::Object(_)), JsonValue::Object(_))
                        if depth < MAX_MERGE_DEPTH =>
                    {
                        merge_where_at(dv, cv, depth + 1)
                    }
                    _ => cv.clone(),
                };
                out.insert(key.clone(), merged);
            }
            if !composed.is_empty() {
                match out.get_mut("and") {
                    Some(JsonValue::Array(conjuncts)) => conjuncts.extend(composed),
                    Some(_) => {
                        // A malformed `and` is left for the parser to report; keep the groups.
                        let existing = out.remove("and").unwrap_or(JsonValue::Null);
                        let mut all = vec![existing];
                        all.extend(composed);
                        out.insert("and".into(), JsonValue::Array(all));
                    }
                    None => {
                        out.insert("and".into(), JsonValue::Array(composed));
                    }
                }
            }
            JsonValue::Object(out)
        }
        _ => caller.clone(),
    }
}

/// An `and` / `or` value the parser accepts: an array of where objects, or one where object.
fn is_group(value: &JsonValue) -> bool {
    matches!(value, JsonValue::Array(_) | JsonValue::Object(_))
}

fn members(group: &JsonValue) -> &[JsonValue] {
    match group {
        JsonValue::Array(items) => items,
        single => std::slice::from_ref(single),
    }
}

/// Merges a caller's filter over a default filter (Ignis `applyDefaultFilter` /
/// `FilterBuilder.mergeFilter`): `where` is merged with [`merge_where_json`]; `order`, `limit`,
/// `skip` / `offset`, `fields` and `include` of the caller replace the default's when given
/// (not absent and not `null`). A caller `skip` or `offset` replaces both of the default's.
///
/// A caller that is `null` gives the default; a caller or default that is not an object is
/// returned as the caller gave it, for the parser to report. As with [`merge_where_json`], the
/// result clones the inputs recursively: [`super::Filter::parse_with_defaults`] refuses a
/// document too deep to be a filter before merging it.
pub fn merge_filter_json(default: &JsonValue, caller: &JsonValue) -> JsonValue {
    match (default, caller) {
        (JsonValue::Object(d), JsonValue::Object(c)) => {
            let mut out = d.clone();
            let caller_pages = ["skip", "offset"]
                .iter()
                .any(|k| c.get(*k).is_some_and(|v| !v.is_null()));
            if caller_pages {
                out.remove("skip");
                out.remove("offset");
            }
            for (key, cv) in c {
                if cv.is_null() {
                    continue;
                }
                let merged = match (key.as_str(), out.get(key)) {
                    ("where", Some(dw)) if !dw.is_null() => merge_where_json(dw, cv),
                    _ => cv.clone(),
                };
                out.insert(key.clone(), merged);
            }
            JsonValue::Object(out)
        }
        (JsonValue::Object(_), JsonValue::Null) => default.clone(),
        _ => caller.clone(),
    }
}

/// True when a where restricts nothing: absent, `null`, `{}`, or only `and` / `or` groups that
/// restrict nothing (an `and` whose members are all empty, an `or` with an empty member or none).
/// Judged on the caller's where before any default filter is merged, so `update_all` /
/// `delete_all` can refuse a mass write unless forced (Ignis merges first, so a soft-delete
/// model's default where hides an empty caller where; ignis-rs does not copy that).
pub fn is_empty_where(json: Option<&JsonValue>) -> bool {
    json.is_none_or(|w| empty_at(w, 0))
}

fn empty_at(json: &JsonValue, depth: usize) -> bool {
    if depth > MAX_EMPTY_DEPTH {
        return false;
    }
    match json {
        JsonValue::Null => true,
        JsonValue::Object(map) => map.iter().all(|(key, value)| match (key.as_str(), value) {
            ("and", JsonValue::Array(items)) => items.iter().all(|i| empty_at(i, depth + 1)),
            ("or", JsonValue::Array(items)) => {
                items.is_empty() || items.iter().any(|i| empty_at(i, depth + 1))
            }
            ("and" | "or", inner @ JsonValue::Object(_)) => empty_at(inner, depth + 1),
            _ => false,
        }),
        _ => false,
    }
}

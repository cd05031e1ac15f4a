//! Name conversions: a Rust field name to an Ignis property name (lowerCamelCase) and to a SQL
//! column name (snake_case).

/// The field's name as written, without a raw-identifier prefix (`r#type` -> `type`).
pub(crate) fn field_name(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    match s.strip_prefix("r#") {
        Some(rest) => rest.to_string(),
        None => s,
    }
}

/// `created_at` -> `createdAt`, `bo_value` -> `boValue`, `value2_x` -> `value2X`, `id` -> `id`:
/// the Ignis property name of a snake_case field. Leading underscores are kept; a name that
/// has no underscore after its first letter is returned unchanged.
pub(crate) fn lower_camel(name: &str) -> String {
    let leading = name.len() - name.trim_start_matches('_').len();
    let mut out = String::with_capacity(name.len());
    out.push_str(&name[..leading]);
    let mut upper_next = false;
    for c in name[leading..].chars() {
        if c == '_' {
            upper_next = true;
        } else if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `createdBy` -> `created_by`, `parentID` -> `parent_id`; a snake_case name is returned
/// unchanged. The same rule as `ignis_schema::snake_case`, which the macro cannot call (a
/// proc-macro crate cannot depend on the crates that re-export it).
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let before = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let prev_lower = before.is_some_and(|b| b.is_lowercase() || b.is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = before.is_some_and(char::is_uppercase);
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

/// `User` -> `user`, `OrderItem` -> `orderItem`: a model name as the first word of a property
/// (`userId`).
pub(crate) fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_ignis_property_names() {
        for (field, property) in [
            ("created_at", "createdAt"),
            ("bo_value", "boValue"),
            ("value2_x", "value2X"),
            ("id", "id"),
            ("last_login_at", "lastLoginAt"),
            ("_private", "_private"),
            ("already", "already"),
        ] {
            assert_eq!(lower_camel(field), property);
        }
    }

    #[test]
    fn property_names_become_column_names() {
        for (name, column) in [
            ("createdBy", "created_by"),
            ("parentID", "parent_id"),
            ("HTTPServer", "http_server"),
            ("value2X", "value2_x"),
            ("created_at", "created_at"),
        ] {
            assert_eq!(snake_case(name), column);
        }
        assert_eq!(lower_first("OrderItem"), "orderItem");
    }
}

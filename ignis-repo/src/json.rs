//! JSON documents of any depth: parsing the text Postgres sends for `json` / `jsonb` values into
//! `serde_json::Value` without recursion, and taking such a value apart without recursion.
//!
//! Postgres stores documents far deeper than `serde_json`'s default recursion limit of 128
//! levels (a `jsonb` parsed from text may nest about 13,000 levels with the default
//! `max_stack_depth` of 2 MB, and one built with `jsonb_build_array` in a loop has no limit), and
//! any client may have written them. Row decoding therefore tries `serde_json` first (the common,
//! shallow document) and falls back to [`parse_document`], which keeps its own stack on the heap
//! and never fails on a document Postgres produced.
//!
//! `serde_json::Value`'s `Drop`, `Clone` and `Serialize` are recursive: a document thousands of
//! levels deep can overflow a thread's stack when it is dropped or serialised. [`dismantle`]
//! drops one without recursion.

use serde_json::{Map, Number, Value};

/// One open container while parsing.
enum Frame {
    Array(Vec<Value>),
    /// The object so far and the key whose value is being parsed.
    Object(Map<String, Value>, String),
}

/// A JSON text (`json` column text, or a `jsonb` value's text after its version byte) parsed
/// into a `serde_json::Value`, iteratively: any depth, no stack growth.
///
/// Lenient where Postgres is: a `json` column keeps its text as written, so duplicate keys keep
/// the last value (as `serde_json` does) and a lone UTF-16 surrogate escape (`"\ud800"`, which
/// `json` accepts) becomes U+FFFD. A number outside `f64`'s range (`1e400`, which both `json` and
/// `jsonb` accept) is returned as a string of its text, as `numeric` columns are.
///
/// # Errors
/// A message when `text` is not JSON at all (Postgres never sends such a value).
pub(crate) fn parse_document(text: &[u8]) -> Result<Value, String> {
    let mut p = Parser { s: text, i: 0 };
    let mut stack: Vec<Frame> = Vec::new();
    'value: loop {
        // Parse one value (opening containers as we go).
        p.ws();
        let mut value = match p.peek() {
            Some(b'{') => {
                p.i += 1;
                p.ws();
                if p.peek() == Some(b'}') {
                    p.i += 1;
                    Value::Object(Map::new())
                } else {
                    let key = p.key()?;
                    stack.push(Frame::Object(Map::new(), key));
                    continue 'value;
                }
            }
            Some(b'[') => {
                p.i += 1;
                p.ws();
                if p.peek() == Some(b']') {
                    p.i += 1;
                    Value::Array(Vec::new())
                } else {
                    stack.push(Frame::Array(Vec::new()));
                    continue 'value;
                }
            }
            Some(b'"') => Value::String(p.string()?),
            Some(b't') => p.literal("true", Value::Bool(true))?,
            Some(b'f') => p.literal("false", Value::Bool(false))?,
            Some(b'n') => p.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => p.number()?,
            _ => return Err(p.unexpected()),
        };
        // Hand the value to the open container; close containers whose last value it was.
        loop {
            let Some(top) = stack.last_mut() else {
                p.ws();
                if p.i != p.s.len() {
                    return Err(p.unexpected());
                }
                return Ok(value);
            };
            p.ws();
            match top {
                Frame::Array(items) => {
                    items.push(value);
                    match p.next() {
                        Some(b',') => continue 'value,
                        Some(b']') => {}
                        _ => return Err(p.unexpected()),
                    }
                }
                Frame::Object(map, key) => {
                    map.insert(std::mem::take(key), value);
                    match p.next() {
                        Some(b',') => {
                            p.ws();
                            *key = p.key()?;
                            continue 'value;
                        }
                        Some(b'}') => {}
                        _ => return Err(p.unexpected()),
                    }
                }
            }
            value = match stack.pop() {
                Some(Frame::Array(items)) => Value::Array(items),
                Some(Frame::Object(map, _)) => Value::Object(map),
                None => return Err(p.unexpected()),
            };
        }
    }
}

/// Drops `value` without recursion, however deep it is (see the module doc).
///
/// ```
/// let mut deep = serde_json::Value::Null;
/// for _ in 0..100_000 {
///     deep = serde_json::Value::Array(vec![deep]);
/// }
/// ignis_repo::dismantle(deep); // `drop(deep)` would overflow the stack
/// ```
pub fn dismantle(value: Value) {
    let mut pending = vec![value];
    while let Some(v) = pending.pop() {
        match v {
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => pending.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn unexpected(&self) -> String {
        match self.peek() {
            Some(b) => format!(
                "unexpected byte 0x{b:02x} at offset {} of a JSON document",
                self.i
            ),
            None => "unexpected end of a JSON document".into(),
        }
    }

    /// An object key and the `:` after it.
    fn key(&mut self) -> Result<String, String> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected());
        }
        let key = self.string()?;
        self.ws();
        if self.next() != Some(b':') {
            return Err(self.unexpected());
        }
        Ok(key)
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(value)
        } else {
            Err(self.unexpected())
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
        let integer = !text.contains(['.', 'e', 'E']);
        if integer {
            if let Ok(n) = text.parse::<i64>() {
                return Ok(Value::Number(n.into()));
            }
            if let Ok(n) = text.parse::<u64>() {
                return Ok(Value::Number(n.into()));
            }
        }
        match text.parse::<f64>() {
            Ok(f) => Ok(Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(text.to_owned()))),
            Err(_) => Err(format!("invalid number `{text}` in a JSON document")),
        }
    }

    /// A string starting at `"`, escapes resolved.
    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // the opening quote
        let mut out = String::new();
        loop {
            // The run up to the next quote or backslash, copied at once.
            let run = self.s[self.i..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\')
                .ok_or_else(|| "unterminated string in a JSON document".to_string())?;
            let chunk = &self.s[self.i..self.i + run];
            out.push_str(&String::from_utf8_lossy(chunk));
            self.i += run;
            match self.next() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => {}
                _ => return Err(self.unexpected()),
            }
            match self.next() {
                Some(b'"') => out.push('"'),
                Some(b'\\') => out.push('\\'),
                Some(b'/') => out.push('/'),
                Some(b'b') => out.push('\u{8}'),
                Some(b'f') => out.push('\u{c}'),
                Some(b'n') => out.push('\n'),
                Some(b'r') => out.push('\r'),
                Some(b't') => out.push('\t'),
                Some(b'u') => {
                    let hi = self.hex4()?;
                    let c =
                        if (0xD800..0xDC00).contains(&hi) && self.s[self.i..].starts_with(b"\\u") {
                            let save = self.i;
                            self.i += 2;
                            let lo = self.hex4()?;
                            if (0xDC00..0xE000).contains(&lo) {
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                self.i = save;
                                None
                            }
                        } else {
                            char::from_u32(hi)
                        };
                    out.push(c.unwrap_or('\u{FFFD}'));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| self.unexpected())?;
        self.i += 4;
        Ok(digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Value {
        parse_document(s.as_bytes()).expect("valid JSON")
    }

    #[test]
    fn agrees_with_serde_json_on_ordinary_documents() {
        for doc in [
            r#"{"a": [1, -2, 3.5, 1e3, -0.0, true, false, null], "b": {"c": "d\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}}"#,
            r#"[]"#,
            r#"{}"#,
            r#"  [ {} , [] , "" ]  "#,
            r#"18446744073709551615"#,
            r#"-9223372036854775808"#,
            r#"123456789012345678901234567890"#,
            r#""plain""#,
        ] {
            let expected: Value = serde_json::from_str(doc).expect("serde_json parses it");
            assert_eq!(parse(doc), expected, "{doc}");
        }
    }

    #[test]
    fn parses_any_depth_and_takes_it_apart() {
        let n = 200_000;
        let doc = format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let v = parse(&doc);
        let mut depth = 0;
        let mut cur = &v;
        while let Value::Array(items) = cur {
            depth += 1;
            cur = &items[0];
        }
        assert_eq!(depth, n);
        assert_eq!(cur, &Value::from(1));
        dismantle(v);
        let doc = format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
        dismantle(parse(&doc));
    }

    #[test]
    fn keeps_out_of_range_numbers_as_text_and_lone_surrogates_as_replacement() {
        assert_eq!(parse("[1e400]"), serde_json::json!(["1e400"]));
        assert_eq!(parse(r#""\ud800x""#), Value::String("\u{FFFD}x".into()));
        assert_eq!(parse(r#"{"a":1,"a":2}"#), serde_json::json!({"a": 2}));
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            "[",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "tru",
            "[1] x",
            "\"abc",
            "01x",
        ] {
            assert!(parse_document(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

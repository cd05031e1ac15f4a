//! Walking a JSON value without recursion: how deep it nests arrays and objects, and whether
//! it holds a NUL character.

use serde_json::Value as JsonValue;

use crate::filter::error::FilterError;

/// Postgres text and jsonb cannot hold U+0000: the server would refuse the statement
/// (SQLSTATE 22021 for text, 22P05 for jsonb), so such values are refused before it is sent.
pub(crate) fn nul_error(field: &str, value: &JsonValue) -> FilterError {
    FilterError::invalid(
        field,
        "text without NUL characters (U+0000, which Postgres cannot store)",
        value,
    )
}

/// The deepest nesting of arrays and objects [`super::coerce_value`] accepts in a json / jsonb
/// value, whatever the repository's [`crate::filter::FilterLimits::max_value_depth`]: a coerced
/// value is cloned into the bound parameter, serialised when bound and dropped afterwards, and
/// serde_json does each of these recursively, one stack frame per level.
pub(crate) const MAX_VALUE_DEPTH: usize = 1024;

/// One container being walked by [`scan`]: the rest of its elements or entries.
enum Frame<'a> {
    Array(std::slice::Iter<'a, JsonValue>),
    Object(serde_json::map::Iter<'a>),
}

/// How many frames [`Frames`] holds before it spills to the heap: filters and written values
/// rarely nest deeper, so walking them allocates nothing.
const INLINE_FRAMES: usize = 8;

/// The stack of [`scan`]: the first [`INLINE_FRAMES`] frames in place, deeper ones on the heap.
struct Frames<'a> {
    inline: [Option<Frame<'a>>; INLINE_FRAMES],
    len: usize,
    spilled: Vec<Frame<'a>>,
}

impl<'a> Frames<'a> {
    fn new() -> Self {
        Frames {
            inline: [const { None }; INLINE_FRAMES],
            len: 0,
            spilled: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.len + self.spilled.len()
    }

    fn push(&mut self, frame: Frame<'a>) {
        if self.len < INLINE_FRAMES {
            self.inline[self.len] = Some(frame);
            self.len += 1;
        } else {
            self.spilled.push(frame);
        }
    }

    fn pop(&mut self) {
        if self.spilled.pop().is_none() && self.len > 0 {
            self.len -= 1;
            self.inline[self.len] = None;
        }
    }

    fn last_mut(&mut self) -> Option<&mut Frame<'a>> {
        if let Some(f) = self.spilled.last_mut() {
            return Some(f);
        }
        match self.len {
            0 => None,
            n => self.inline[n - 1].as_mut(),
        }
    }
}

/// Walks `value` without recursion (an explicit stack of at most `max_depth` frames), checking
/// that arrays and objects nest at most `max_depth` levels (a scalar is level 0, `[1]` level 1)
/// and, when `refuse_nul`, that no string or object key contains U+0000.
///
/// # Errors
/// [`FilterError::ValueTooDeep`] naming `field` and `max_depth`, or the NUL error of
/// [`nul_error`]; whichever the walk meets first.
pub(super) fn scan(
    field: &str,
    value: &JsonValue,
    max_depth: usize,
    refuse_nul: bool,
) -> Result<(), FilterError> {
    // A scalar (most values) is level 0: no stack to set up.
    match value {
        JsonValue::Array(_) | JsonValue::Object(_) => {}
        JsonValue::String(s) if refuse_nul && s.contains('\0') => {
            return Err(nul_error(field, value))
        }
        _ => return Ok(()),
    }
    let too_deep = || FilterError::ValueTooDeep {
        field: field.to_string(),
        limit: max_depth,
    };
    let mut stack = Frames::new();
    let mut next = Some(value);
    loop {
        match next.take() {
            Some(JsonValue::String(s)) if refuse_nul && s.contains('\0') => {
                return Err(nul_error(field, value))
            }
            Some(JsonValue::Array(items)) => {
                if stack.len() >= max_depth {
                    return Err(too_deep());
                }
                stack.push(Frame::Array(items.iter()));
            }
            Some(JsonValue::Object(map)) => {
                if stack.len() >= max_depth {
                    return Err(too_deep());
                }
                stack.push(Frame::Object(map.iter()));
            }
            _ => {}
        }
        let Some(top) = stack.last_mut() else {
            return Ok(());
        };
        match top {
            Frame::Array(items) => match items.next() {
                Some(item) => next = Some(item),
                None => {
                    stack.pop();
                }
            },
            Frame::Object(entries) => match entries.next() {
                Some((key, _)) if refuse_nul && key.contains('\0') => {
                    return Err(nul_error(field, value))
                }
                Some((_, item)) => next = Some(item),
                None => {
                    stack.pop();
                }
            },
        }
    }
}

/// Checks, without recursion, that `value` nests arrays and objects at most `max_depth` levels
/// deep (a scalar is level 0, `[1]` and `{"a": 1}` level 1, `{"a": [1]}` level 2).
///
/// The parser applies it, with [`crate::filter::FilterLimits::max_value_depth`], to every
/// `where` operand before anything else looks at the operand; a repository applies it to each
/// value of the data given to a write before coercing it. It walks with an explicit stack (at
/// most `max_depth` entries), so a value nested a million levels is refused in time
/// proportional to the part walked and without overflowing the stack, which serde_json's own
/// `Clone`, `Drop` and serialisation would do on such a value.
///
/// # Errors
/// [`FilterError::ValueTooDeep`] naming `field` (quoted in the message through a short
/// excerpt) and `max_depth`.
pub(crate) fn check_value_depth(
    field: &str,
    value: &JsonValue,
    max_depth: usize,
) -> Result<(), FilterError> {
    scan(field, value, max_depth, false)
}

/// True when `value` nests arrays and objects at most `max_depth` levels deep
/// ([`check_value_depth`] without building an error).
pub(crate) fn depth_within(value: &JsonValue, max_depth: usize) -> bool {
    scan("", value, max_depth, false).is_ok()
}

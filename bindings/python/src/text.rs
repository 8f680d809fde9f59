//! Small text helpers for `__repr__`.

/// `s` as a Python string literal in single quotes (as `repr(str)` writes it for plain text).
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An optional text as a Python literal (`None` or a quoted string).
pub(crate) fn quoted_opt(s: Option<&str>) -> String {
    s.map_or_else(|| "None".to_owned(), quoted)
}

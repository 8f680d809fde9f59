//! Quoting input in messages: at most the first [`MAX_QUOTED_CHARS`] characters of a field, so
//! that an error about a 5 MB field is a line, not 5 MB.

use std::fmt;

/// The most characters of one input field that a message quotes.
pub(crate) const MAX_QUOTED_CHARS: usize = 80;

/// A field of input as a message quotes it: `"text"` (escaped as `{:?}` writes a string) when it
/// has at most 80 characters, else its first 80 followed by `…` and its full length:
/// `"aaaa"… (5242880 characters)`. The alternate form (`{:#}`) leaves out the quotes, for names
/// that messages show bare (a SKU): `aaaa… (5242880 characters)`.
///
/// Every crate of the workspace quotes input in its error messages through this type, so that an
/// error about a 5 MB field is a line, not 5 MB.
///
/// ```
/// use wholesale_billing::Quoted;
/// assert_eq!(Quoted("ftp://x").to_string(), r#""ftp://x""#);
/// assert_eq!(format!("{:#}", Quoted("A-W-SKU")), "A-W-SKU");
/// let long = "z".repeat(100);
/// assert_eq!(Quoted(&long).to_string(), format!("\"{}\"… (100 characters)", "z".repeat(80)));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (shown, cut) = match self.0.char_indices().nth(MAX_QUOTED_CHARS) {
            None => (self.0, false),
            Some((at, _)) => (&self.0[..at], true),
        };
        if f.alternate() {
            f.write_str(shown)?;
        } else {
            write!(f, "{shown:?}")?;
        }
        if cut {
            write!(f, "… ({} characters)", self.0.chars().count())?;
        }
        Ok(())
    }
}

/// A message of a deserializer with every quoted part (`"..."` with `\` escapes, or `` `...` ``)
/// longer than [`MAX_QUOTED_CHARS`] characters cut as [`Quoted`] cuts a field: serde quotes the
/// whole value in its messages (`invalid type: string "…", expected a number`).
pub(crate) fn cut_quotes(message: &str) -> std::borrow::Cow<'_, str> {
    if message.chars().count() <= MAX_QUOTED_CHARS {
        return message.into();
    }
    let mut out = String::with_capacity(256);
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[open];
        out.push_str(&rest[..=open]);
        let body = &rest[open + 1..];
        let mut end = None;
        let mut escaped = false;
        for (i, b) in body.bytes().enumerate() {
            match b {
                b'\\' if quote == b'"' && !escaped => escaped = true,
                _ if b == quote && !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else {
            // An unterminated quote: the rest is quoted text.
            out.push_str(&format!("{:#}", Quoted(body)));
            return out.into();
        };
        let inner = &body[..end];
        match inner.char_indices().nth(MAX_QUOTED_CHARS) {
            None => {
                out.push_str(inner);
                out.push(quote as char);
            }
            Some((cut, _)) => {
                out.push_str(&inner[..cut]);
                out.push(quote as char);
                out.push_str(&format!("… ({} characters)", inner.chars().count()));
            }
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_fields_are_quoted_as_debug_does() {
        for text in ["", "abc", "with \"quotes\" and \\", "é\n", &"x".repeat(80)] {
            assert_eq!(Quoted(text).to_string(), format!("{text:?}"));
        }
    }

    #[test]
    fn long_fields_are_cut_to_80_characters_with_their_length() {
        let long = "é".repeat(5 * 1024 * 1024);
        let quoted = Quoted(&long).to_string();
        assert_eq!(quoted, format!("\"{}\"… (5242880 characters)", "é".repeat(80)));
        let eighty_one = "y".repeat(81);
        assert_eq!(
            Quoted(&eighty_one).to_string(),
            format!("\"{}\"… (81 characters)", "y".repeat(80))
        );
        assert_eq!(
            format!("{:#}", Quoted(&eighty_one)),
            format!("{}… (81 characters)", "y".repeat(80))
        );
        assert_eq!(format!("{:#}", Quoted("A-W-SKU")), "A-W-SKU");
    }

    #[test]
    fn deserializer_messages_have_their_long_quotes_cut() {
        let long = "z".repeat(1000);
        let message = format!("invalid type: string \"{long}\", expected u8 and `{long}` and \"short \\\" one\"");
        let cut = cut_quotes(&message);
        assert_eq!(
            cut,
            format!(
                "invalid type: string \"{z}\"… (1000 characters), expected u8 and `{z}`… (1000 characters) and \"short \\\" one\"",
                z = "z".repeat(80)
            )
        );
        assert_eq!(cut_quotes("missing field `x`"), "missing field `x`");
        let unterminated = format!("unknown \"{long}");
        assert_eq!(
            cut_quotes(&unterminated),
            format!("unknown \"{}… (1000 characters)", "z".repeat(80))
        );
    }
}

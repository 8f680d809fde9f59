//! Reading TOML and JSON configuration files (organisation, rate cards, price book, catalog
//! responses) with every error located by line, column and key path.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result, TextLocation};

/// The UTF-8 text of a file's bytes; bytes that are not UTF-8 are an [`Error::InvalidFile`] at
/// their line and column, whose source ([`Error::InvalidUtf8`]) names their byte offset.
pub(crate) fn utf8_text<'a>(bytes: &'a [u8], file: &'static str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|source| {
        let offset = source.valid_up_to();
        // The text before the bad byte is valid: count its lines and characters.
        let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
        let (line, column) = line_column(valid, offset, true);
        Error::InvalidUtf8 { offset, source }.in_file(
            file,
            TextLocation {
                line,
                column,
                path: None,
            },
        )
    })
}

/// Deserialises a TOML text, errors located by line, column (in characters) and key path.
pub(crate) fn parse_toml<T: DeserializeOwned>(text: &str, file: &'static str) -> Result<T> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let toml_error = |e: toml::de::Error, path: Option<String>| {
        let (line, column) = match e.span() {
            Some(span) => line_column(text, span.start, true),
            None => (None, None),
        };
        Error::Toml(e).in_file(file, TextLocation { line, column, path })
    };
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(e, None))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = known_path(e.path());
        toml_error(e.into_inner(), path)
    })
}

/// Deserialises a JSON text, errors located by line, column (in bytes, as serde_json counts) and
/// JSON path.
///
/// The number values of the keys in `quote_keys` are first rewritten as strings holding their
/// literal text (`"listPrice": 9.95` → `"listPrice": "9.95"`), so that a price written as a
/// JSON number is read exactly, digit for digit, and never through a binary float. Error
/// locations are given in the original text.
pub(crate) fn parse_json<T: DeserializeOwned>(text: &str, file: &'static str, quote_keys: &[&str]) -> Result<T> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (rewritten, inserted) = quote_numbers(text, quote_keys);
    let locate = |line: usize, column: usize, path: Option<String>| {
        let (line, column) = original_position(text, &rewritten, &inserted, line, column);
        TextLocation { line, column, path }
    };
    let mut de = serde_json::Deserializer::from_str(&rewritten);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = known_path(e.path());
        let inner = e.into_inner();
        let location = locate(inner.line(), inner.column(), path);
        Error::Json(inner).in_file(file, location)
    })?;
    de.end().map_err(|e| {
        let location = locate(e.line(), e.column(), None);
        Error::Json(e).in_file(file, location)
    })?;
    Ok(value)
}

/// The path of keys to an error, unless serde_path_to_error could not tell (`?`).
fn known_path(path: &serde_path_to_error::Path) -> Option<String> {
    let path = path.to_string();
    (path != "?" && path != ".").then_some(path)
}

/// `text` with the JSON numbers that are values of `keys` quoted, and the offsets in `text`
/// before which a `"` was inserted (in increasing order).
fn quote_numbers(text: &str, keys: &[&str]) -> (String, Vec<usize>) {
    let bytes = text.as_bytes();
    let mut inserted = Vec::new();
    if keys.is_empty() {
        return (text.to_owned(), inserted);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut copied = 0;
    let mut value_of_key = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while let Some(&c) = bytes.get(j) {
                    match c {
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                let content = text.get(start..j.min(text.len())).unwrap_or("");
                i = j + 1;
                let mut k = i;
                while bytes.get(k).is_some_and(u8::is_ascii_whitespace) {
                    k += 1;
                }
                value_of_key = bytes.get(k) == Some(&b':') && keys.contains(&content);
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
                {
                    i += 1;
                }
                if value_of_key {
                    out.push_str(&text[copied..start]);
                    out.push('"');
                    out.push_str(&text[start..i]);
                    out.push('"');
                    copied = i;
                    inserted.extend([start, i]);
                }
                value_of_key = false;
            }
            b':' | b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            _ => {
                value_of_key = false;
                i += 1;
            }
        }
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    (out, inserted)
}

/// The line and column in `original` of serde_json's (line, column) in `rewritten`.
fn original_position(
    original: &str,
    rewritten: &str,
    inserted: &[usize],
    line: usize,
    column: usize,
) -> (Option<usize>, Option<usize>) {
    if line == 0 {
        return (None, None);
    }
    if inserted.is_empty() {
        return (Some(line), Some(column));
    }
    let line_start = if line == 1 {
        0
    } else {
        rewritten
            .match_indices('\n')
            .nth(line - 2)
            .map_or(rewritten.len(), |(i, _)| i + 1)
    };
    let at = line_start + column;
    // The k-th inserted quote (0-based) sits at `inserted[k] + k` in the rewritten text.
    let before = inserted.iter().enumerate().take_while(|(k, o)| *o + k < at).count();
    let offset = at - before;
    let (l, c) = line_column(original, offset, false);
    (l, c.map(|c| c - 1))
}

/// The 1-based line and column of a byte offset; the column counts characters or bytes.
fn line_column(text: &str, offset: usize, in_chars: bool) -> (Option<usize>, Option<usize>) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let last = before.rsplit('\n').next().unwrap_or("");
    let column = if in_chars { last.chars().count() } else { last.len() } + 1;
    (Some(line), Some(column))
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, de};

    use super::*;

    #[test]
    fn quotes_only_the_numbers_of_the_named_keys() {
        let text = r#"{"listPrice": 9.95, "n": 1, "s": "listPrice", "a": ["listPrice", -1e2], "listPrice":"x"}"#;
        let (out, inserted) = quote_numbers(text, &["listPrice"]);
        assert_eq!(
            out,
            r#"{"listPrice": "9.95", "n": 1, "s": "listPrice", "a": ["listPrice", -1e2], "listPrice":"x"}"#
        );
        assert_eq!(inserted, vec![14, 18]);
        let escaped = r#"{"k\"listPrice": 1, "listPrice" :	-0.5}"#;
        assert_eq!(
            quote_numbers(escaped, &["listPrice"]).0,
            r#"{"k\"listPrice": 1, "listPrice" :	"-0.5"}"#
        );
        assert_eq!(
            quote_numbers("{\"a\": \"unterminated", &["a"]).0,
            "{\"a\": \"unterminated"
        );
    }

    #[test]
    fn error_positions_are_mapped_back_to_the_original_text() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Point {
            #[serde(rename = "listPrice")]
            list_price: de::IgnoredAny,
            n: u8,
        }
        let text = "{\"listPrice\": 9.95, \"n\": 300}";
        let err = parse_json::<Point>(text, "test", &["listPrice"]).unwrap_err();
        // serde_json points after the bad value: byte 28 of the original (30 of the rewritten).
        assert_eq!(
            crate::error_with_causes(&err),
            "test: line 1, column 28 at n: invalid value: integer `300`, expected u8"
        );
        // The rewrite changes no location: the same errors as without it.
        for text in [
            "[{\"listPrice\": 1, \"n\": 1}, {\"listPrice\": -2.5, \"n\": 1},\n {\"listPrice\":3e1,\"n\":256}]",
            "[{\"listPrice\": 1, \"n\": 1},\n{\"listPrice\": 2, \"n\": 1}, {\"listPrice\": 3, \"n\": 1}] x",
            "[{\"listPrice\": 1, \"listPrice\": 2, \"n\": 1}]",
            "[{\"listPrice\": 1.0, \"n\": 1}, {\"listPrice\": 2.0,\n \"n\": 1, \"n\": 1}]",
            "[{\"listPrice\": 1.0, \"n\": 1}, {\"listPrice\": 2.0}]",
            "[{\"listPrice\": 1.0, \"n\": \"é\"}, {\"listPrice\": 2.0}]",
        ] {
            let plain = crate::error_with_causes(&parse_json::<Vec<Point>>(text, "test", &[]).unwrap_err());
            let quoted = crate::error_with_causes(&parse_json::<Vec<Point>>(text, "test", &["listPrice"]).unwrap_err());
            assert_eq!(quoted, plain, "{text}");
        }
    }

    #[test]
    fn invalid_utf8_names_the_byte_offset_line_and_column() {
        let bytes = b"[partner]\norg_id = \"p\"\nname = \"Caf\xe9\"\n";
        let err = utf8_text(bytes, "organisation file").unwrap_err();
        assert_eq!(
            crate::error_with_causes(&err),
            "organisation file: line 3, column 12: invalid utf-8 at byte 34: \
             invalid utf-8 sequence of 1 bytes from index 34"
        );
        assert!(
            matches!(&err, Error::InvalidFile { source, .. } if matches!(**source, Error::InvalidUtf8 { offset: 34, .. }))
        );
        assert_eq!(utf8_text(b"ok", "x").unwrap(), "ok");
    }
}

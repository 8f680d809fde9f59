//! The CDR feed's JSON, `{"items": [{...}, ...]}`, streamed item by item into one reused
//! [`CallRecord`]: the document is never held in memory, only the item being read.

use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, Read};
use std::rc::Rc;

use hashbrown::HashMap;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};

use super::call_record::{CallRecord, RawValue, RecordOrigin};
use super::field::CdrField;
use super::reader::{CdrReader, Place};

/// How far the JSON parser has read: bytes, lines, and where the current line starts.
#[derive(Debug, Default)]
struct Position {
    offset: Cell<u64>,
    /// `\n` bytes read.
    newlines: Cell<u64>,
    /// The offset of the first byte of the current line.
    line_start: Cell<u64>,
}

impl Position {
    /// The 1-based line of the last byte read.
    fn line(&self) -> u64 {
        self.newlines.get() + 1
    }

    /// The 1-based column of the last byte read.
    fn column(&self) -> u64 {
        self.offset.get() - self.line_start.get()
    }
}

/// A reader that counts lines as the JSON parser takes its bytes (it takes them one at a time, so
/// the count is where the parser is).
struct Counting<R> {
    inner: R,
    position: Rc<Position>,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.inner.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.inner.consume(n);
        let p = &self.position;
        let start = p.offset.get();
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
            p.newlines.set(p.newlines.get() + 1);
            p.line_start.set(start + i as u64 + 1);
        }
        p.offset.set(start + n as u64);
        Ok(n)
    }
}

/// The state of one JSON input.
struct Ctx<'a> {
    reader: &'a mut CdrReader,
    on_record: &'a mut dyn FnMut(&CallRecord) -> Result<()>,
    position: Rc<Position>,
    /// An error that must stop the read (the consumer's, an overflow), carried through serde.
    fatal: Option<Error>,
    /// Key → index of its name in the record's names.
    keys: HashMap<String, u32>,
    /// The known field each name is, by name index.
    known: Vec<Option<CdrField>>,
    /// The item (plus one) in which each name was last met, by name index.
    seen: Vec<u64>,
    /// The index of the item being read (or next).
    item: u64,
    in_item: bool,
    saw_items: bool,
    /// The item has a value refused by the reader (a key twice).
    refused: bool,
    /// What the item is when it is not an object.
    not_object: Option<&'static str>,
}

impl Ctx<'_> {
    fn stop<E: de::Error>(&mut self, e: Error) -> E {
        self.fatal = Some(e);
        E::custom("stopped")
    }

    /// An issue at the current position, in the current item.
    fn issue_here(&self, kind: IssueKind, message: String) -> LoadIssue {
        let mut issue = LoadIssue::new(Severity::Error, self.position.line(), kind, message);
        issue.column = usize::try_from(self.position.column()).ok();
        issue.at_path(format!("items[{}]", self.item))
    }

    fn end_item(&mut self) -> Result<()> {
        self.in_item = false;
        let item = self.item;
        self.item += 1;
        if let Some(what) = self.not_object.take() {
            let mut issue = LoadIssue::new(
                Severity::Error,
                self.reader.record.origin.line,
                IssueKind::MalformedJson,
                format!("a call record must be an object, not {what}"),
            );
            issue = issue.at_path(format!("items[{item}]"));
            self.reader.reject(issue);
            return Ok(());
        }
        self.reader.finish_record(self.refused, self.on_record)
    }
}

pub(super) fn read_json<R: BufRead>(
    reader: &mut CdrReader,
    mut input: R,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
) -> Result<()> {
    let context = || format!("reading call records input {}", reader.input + 1);
    if input
        .fill_buf()
        .map_err(|e| Error::io(context(), e))?
        .starts_with(b"\xEF\xBB\xBF")
    {
        input.consume(3);
    }
    let context = context();
    let position = Rc::new(Position::default());
    let counting = Counting {
        inner: input,
        position: Rc::clone(&position),
    };
    reader.record.names.clear();
    let mut ctx = Ctx {
        reader,
        on_record,
        position,
        fatal: None,
        keys: HashMap::new(),
        known: Vec::new(),
        seen: Vec::new(),
        item: 0,
        in_item: false,
        saw_items: false,
        refused: false,
        not_object: None,
    };
    let mut de = serde_json::Deserializer::from_reader(counting);
    let result = Document(&mut ctx).deserialize(&mut de).and_then(|()| de.end());
    if let Some(fatal) = ctx.fatal.take() {
        return Err(fatal);
    }
    match result {
        Ok(()) if !ctx.saw_items => {
            let issue = LoadIssue::new(
                Severity::Error,
                1,
                IssueKind::MalformedJson,
                "no items array: the feed's json is {\"items\": [...]}",
            );
            ctx.reader.issue(issue);
        }
        Ok(()) => {}
        Err(e) if e.is_io() => return Err(Error::io(context, std::io::Error::from(e))),
        Err(e) => {
            let message = if e.is_eof() {
                "the file ends mid-document (a file cut short)".to_owned()
            } else {
                let text = e.to_string();
                let text = match text.rfind(" at line ") {
                    Some(i) => &text[..i],
                    None => &text,
                };
                format!("malformed json: {text}")
            };
            let mut issue = LoadIssue::new(Severity::Error, e.line() as u64, IssueKind::MalformedJson, message);
            issue.column = Some(e.column());
            if ctx.in_item {
                ctx.reader.reject(issue.at_path(format!("items[{}]", ctx.item)));
            } else {
                ctx.reader.issue(issue);
            }
        }
    }
    Ok(())
}

/// The whole document: an object whose `items` array holds the records; other keys are skipped.
struct Document<'c, 'a>(&'c mut Ctx<'a>);

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with an items array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "items" && !self.0.saw_items {
                self.0.saw_items = true;
                map.next_value_seed(Items(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The `items` array, read element by element.
struct Items<'c, 'a>(&'c mut Ctx<'a>);

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of call records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Item(&mut *self.0))?.is_some() {
            if let Err(e) = self.0.end_item() {
                return Err(self.0.stop(e));
            }
        }
        Ok(())
    }
}

/// One element of `items`: a call record (an object), or something else refused.
struct Item<'c, 'a>(&'c mut Ctx<'a>);

impl<'de> DeserializeSeed<'de> for Item<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let ctx = self.0;
        ctx.in_item = true;
        ctx.refused = false;
        ctx.not_object = None;
        let origin = RecordOrigin {
            input: ctx.reader.input,
            line: ctx.position.line(),
            item: Some(ctx.item),
        };
        ctx.reader.start_record(origin);
        deserializer.deserialize_any(Item(ctx))
    }
}

impl<'de> Visitor<'de> for Item<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a call record object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(slot) = map.next_key_seed(Key(&mut *self.0))? {
            map.next_value_seed(Value {
                ctx: &mut *self.0,
                slot,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.0.not_object = Some("an array");
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.0.not_object = Some("a string");
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.not_object = Some("a boolean");
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.not_object = Some("a number");
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.not_object = Some("a number");
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.not_object = Some("a number");
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.not_object = Some("null");
        Ok(())
    }
}

/// Where a value goes: the name index of its key, the known field it is, and whether the key was
/// already given in the record (the value is then read and dropped).
#[derive(Debug, Clone, Copy)]
struct Slot {
    name: u32,
    field: Option<CdrField>,
    duplicate: bool,
}

/// A key of a record.
struct Key<'c, 'a>(&'c mut Ctx<'a>);

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = Slot;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Slot, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = Slot;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Slot, E> {
        let ctx = self.0;
        let name = match ctx.keys.get(key) {
            Some(&name) => name,
            None => {
                let Ok(name) = u32::try_from(ctx.reader.record.names.len()) else {
                    return Err(ctx.stop(Error::overflow("more than 4 billion distinct keys")));
                };
                ctx.keys.insert(key.to_owned(), name);
                ctx.reader.record.names.push(key.to_owned());
                ctx.known.push(CdrField::from_name(key));
                ctx.seen.push(0);
                name
            }
        };
        let field = ctx.known.get(name as usize).copied().flatten();
        let line = ctx.position.line();
        // The parser has just read the closing quote: the key starts its length and two quotes
        // back (escapes in a key would shift this).
        let column = usize::try_from(ctx.position.column())
            .ok()
            .map(|c| c.saturating_sub(key.len() + 1).max(1));
        let stamp = ctx.item + 1;
        let duplicate = match ctx.seen.get_mut(name as usize) {
            Some(seen) if *seen == stamp => true,
            Some(seen) => {
                *seen = stamp;
                false
            }
            None => false,
        };
        let duplicate = duplicate || field.is_some_and(|f| ctx.reader.record.raw[f.index()] != RawValue::Absent);
        if duplicate {
            ctx.refused = true;
            let mut issue = ctx.issue_here(
                IssueKind::MalformedJson,
                format!("the key {} appears twice in the record", Quoted(key)),
            );
            issue.column = column;
            // A key of input may be huge: it is cut as a quoted field is.
            issue.field = Some(format!("items[{}].{:#}", ctx.item, Quoted(key)));
            ctx.reader.issue(issue);
        } else if let Some(f) = field {
            ctx.reader.places[f.index()] = Place {
                line,
                column,
                key: Some(name),
            };
        }
        Ok(Slot { name, field, duplicate })
    }
}

/// The value of a key: kept as met, the rules of SPEC §7.7 applied once the record is whole.
struct Value<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    slot: Slot,
}

impl Value<'_, '_> {
    /// Keeps the value: a known field's raw value from its text span, or an other column's text.
    fn keep<E: de::Error>(self, text: fmt::Arguments<'_>, raw: impl FnOnce(u32, u32) -> RawValue) -> Result<(), E> {
        if self.slot.duplicate {
            return Ok(());
        }
        let record = &mut self.ctx.reader.record;
        let pushed = match text.as_str() {
            Some(text) => record.push_text(text),
            None => record.push_display(text),
        };
        let (start, end) = match pushed {
            Ok(span) => span,
            Err(_) => return Err(self.ctx.stop(Error::overflow("a call record over 4 GiB of text"))),
        };
        match self.slot.field {
            Some(field) => record.raw[field.index()] = raw(start, end),
            None => record.other.push((self.slot.name, start, end)),
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Value<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.keep(format_args!("{v}"), RawValue::Text)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.keep(format_args!("{v}"), |_, _| RawValue::Bool(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.keep(format_args!("{v}"), RawValue::Number)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.keep(format_args!("{v}"), RawValue::Number)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // `{:?}` keeps the fraction of a whole float (`36.0`), which the rules then refuse.
        self.keep(format_args!("{v:?}"), RawValue::Number)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.keep(format_args!(""), |_, _| RawValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        self.keep(format_args!("{value}"), RawValue::Composite)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.keep(format_args!("{value}"), RawValue::Composite)
    }
}

use serde::Deserialize as _;

//! The spill: every rated record of a run in a compact binary form, written in input order by the
//! first phase and read back by the second, so that the rows never stay in memory.
//!
//! A row is its status and flags, its start (8 bytes), then its numbers as LEB128 varints (the
//! price only for a call an allowance may cover: the only one whose charge is computed again),
//! then five texts (`Report ID`, `Org UUID` when the organisation is no customer, `User UUID`,
//! the rated digits when charged or without destination, `Called number` as given when without
//! destination), each its length and bytes, read back as bytes (they were UTF-8 when written, and
//! are written out as they are): about 110 bytes for a record with UUID ids. (Texts as they are:
//! a UUID packed in 16 bytes saved 40 bytes a row but cost more in parsing and formatting than
//! the bytes cost to write and read.)
//! Rows are written in frames ([`super::frames`]).

use std::io;

use super::status::RatingStatus;

/// "None" of an index.
pub(crate) const NONE_U32: u32 = u32::MAX;
/// "None" of a band or class index.
pub(crate) const NONE_U16: u16 = u16::MAX;
/// The status byte of a record outside the period: no row, a warning.
pub(crate) const OUTSIDE: u8 = u8::MAX;

/// Flag: an allowance may cover the call.
const CANDIDATE: u8 = 1;
/// Flag: the record is a JSON item.
const ITEM: u8 = 2;
/// Flag: its `Report ID` and `User UUID` need no quotes in CSV.
const PLAIN: u8 = 4;

/// One rated record as the spill holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SpillRow {
    pub(crate) status: u8,
    /// Whether an allowance may cover the call (phase 2 looks up its covered seconds).
    pub(crate) candidate: bool,
    pub(crate) start: i64,
    pub(crate) duration: u32,
    pub(crate) customer: u32,
    pub(crate) destination: u32,
    pub(crate) band: u16,
    pub(crate) class: u16,
    pub(crate) prefix_len: u32,
    pub(crate) billable: u64,
    pub(crate) charge: i64,
    /// The price applied, in millionths: connect fee and per minute (kept for candidates only).
    pub(crate) price: (i64, i64),
    /// Where the record was read: input, line, JSON item (`u64::MAX`: none).
    pub(crate) input: u32,
    pub(crate) line: u64,
    pub(crate) item: u64,
    /// Whether `report_id` and `user` need no quotes in CSV.
    pub(crate) plain: bool,
    /// The texts, as the bytes of their UTF-8 (read back without being checked again).
    pub(crate) report_id: Vec<u8>,
    pub(crate) org: Vec<u8>,
    pub(crate) user: Vec<u8>,
    pub(crate) digits: Vec<u8>,
    /// `Called number` as given, for the issue of a record without destination.
    pub(crate) called: Vec<u8>,
}

/// Appends `value` as a LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn cut_short() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "a row of the spill cut short")
}

/// Reads a LEB128 varint from the front of `input`.
#[inline]
pub(crate) fn get_varint(input: &mut &[u8]) -> io::Result<u64> {
    // One byte, as most numbers of a row are, without the loop.
    if let Some((&byte, rest)) = input.split_first()
        && byte < 0x80
    {
        *input = rest;
        return Ok(u64::from(byte));
    }
    get_long_varint(input)
}

fn get_long_varint(input: &mut &[u8]) -> io::Result<u64> {
    // Two or three bytes, as a row's durations, indices, charges and lines mostly are, without
    // the loop.
    match **input {
        [b0, b1, ref rest @ ..] if b1 < 0x80 => {
            *input = rest;
            return Ok(u64::from(b0 & 0x7f) | u64::from(b1) << 7);
        }
        [b0, b1, b2, ref rest @ ..] if b2 < 0x80 => {
            *input = rest;
            return Ok(u64::from(b0 & 0x7f) | u64::from(b1 & 0x7f) << 7 | u64::from(b2) << 14);
        }
        _ => {}
    }
    let mut value = 0u64;
    let mut shift = 0u32;
    loop {
        let (&byte, rest) = input.split_first().ok_or_else(cut_short)?;
        *input = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
        if byte < 0x80 {
            return Ok(value);
        }
        shift = shift.saturating_add(7);
        if shift > 63 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a varint over 64 bits"));
        }
    }
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ ((value & 1).wrapping_neg() as i64)
}

/// A text: its length and its bytes.
fn put_text(out: &mut Vec<u8>, text: &[u8]) {
    put_varint(out, text.len() as u64);
    out.extend_from_slice(text);
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> io::Result<&'a [u8]> {
    if input.len() < n {
        return Err(cut_short());
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn get_text(input: &mut &[u8], text: &mut Vec<u8>) -> io::Result<()> {
    let len = usize::try_from(get_varint(input)?).map_err(|_| cut_short())?;
    let bytes = take(input, len)?;
    text.clear();
    text.extend_from_slice(bytes);
    Ok(())
}

fn narrow<T: TryFrom<u64>>(value: u64) -> io::Result<T> {
    T::try_from(value).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a number of the spill out of range"))
}

impl SpillRow {
    /// The status (an unknown byte, which the writer never writes, reads as `unknown_customer`).
    pub(crate) fn status(&self) -> RatingStatus {
        RatingStatus::from_index(self.status).unwrap_or(RatingStatus::UnknownCustomer)
    }

    /// Appends the row's bytes to `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.status);
        let mut flags = 0;
        if self.candidate {
            flags |= CANDIDATE;
        }
        if self.item != u64::MAX {
            flags |= ITEM;
        }
        if self.plain {
            flags |= PLAIN;
        }
        out.push(flags);
        out.extend_from_slice(&self.start.to_le_bytes());
        put_varint(out, u64::from(self.duration));
        put_varint(out, u64::from(self.customer.wrapping_add(1)));
        put_varint(out, u64::from(self.destination.wrapping_add(1)));
        put_varint(out, u64::from(self.band.wrapping_add(1)));
        put_varint(out, u64::from(self.class.wrapping_add(1)));
        put_varint(out, u64::from(self.prefix_len));
        put_varint(out, self.billable);
        put_varint(out, zigzag(self.charge));
        if self.candidate {
            put_varint(out, zigzag(self.price.0));
            put_varint(out, zigzag(self.price.1));
        }
        put_varint(out, u64::from(self.input));
        put_varint(out, self.line);
        if self.item != u64::MAX {
            put_varint(out, self.item);
        }
        for text in [&self.report_id, &self.org, &self.user, &self.digits, &self.called] {
            put_text(out, text);
        }
    }

    /// Reads the next row from the front of `input` into `self`; `false` when `input` is empty.
    pub(crate) fn decode(&mut self, input: &mut &[u8]) -> io::Result<bool> {
        let Some((&status, _)) = input.split_first() else {
            return Ok(false);
        };
        let head = take(input, 10)?;
        self.status = status;
        let flags = head.get(1).copied().unwrap_or(0);
        self.candidate = flags & CANDIDATE != 0;
        self.plain = flags & PLAIN != 0;
        let mut start = [0u8; 8];
        start.copy_from_slice(head.get(2..10).unwrap_or(&[0; 8]));
        self.start = i64::from_le_bytes(start);
        self.duration = narrow(get_varint(input)?)?;
        self.customer = narrow::<u32>(get_varint(input)?)?.wrapping_sub(1);
        self.destination = narrow::<u32>(get_varint(input)?)?.wrapping_sub(1);
        self.band = narrow::<u16>(get_varint(input)?)?.wrapping_sub(1);
        self.class = narrow::<u16>(get_varint(input)?)?.wrapping_sub(1);
        self.prefix_len = narrow(get_varint(input)?)?;
        self.billable = get_varint(input)?;
        self.charge = unzigzag(get_varint(input)?);
        self.price = if self.candidate {
            (unzigzag(get_varint(input)?), unzigzag(get_varint(input)?))
        } else {
            (0, 0)
        };
        self.input = narrow(get_varint(input)?)?;
        self.line = get_varint(input)?;
        self.item = if flags & ITEM != 0 {
            get_varint(input)?
        } else {
            u64::MAX
        };
        for text in [
            &mut self.report_id,
            &mut self.org,
            &mut self.user,
            &mut self.digits,
            &mut self.called,
        ] {
            get_text(input, text)?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_back_as_written() {
        let row = SpillRow {
            status: 5,
            candidate: true,
            start: -7,
            duration: 61,
            customer: 3,
            destination: 9,
            band: NONE_U16,
            class: 2,
            prefix_len: 3,
            billable: 120,
            charge: 1305,
            price: (100_000, 30_000),
            input: 2,
            line: 40,
            item: u64::MAX,
            plain: true,
            report_id: b"r1".to_vec(),
            org: Vec::new(),
            user: "u-é".into(),
            digits: b"447700".to_vec(),
            called: b"+44 7700".to_vec(),
        };
        let uuids = SpillRow {
            candidate: false,
            customer: NONE_U32,
            item: 7,
            charge: -3,
            price: (0, 0),
            plain: false,
            report_id: b"0a0c2eb7-f1f6-3326-86f9-565d2e11553d".to_vec(),
            user: b"0A0C2EB7-F1F6-3326-86F9-565D2E11553D".to_vec(),
            ..row.clone()
        };
        let mut bytes = Vec::new();
        row.encode(&mut bytes);
        uuids.encode(&mut bytes);
        row.encode(&mut bytes);
        let mut input = bytes.as_slice();
        let mut back = SpillRow::default();
        assert!(back.decode(&mut input).unwrap());
        assert_eq!(back, row);
        assert!(back.decode(&mut input).unwrap());
        assert_eq!(back, uuids);
        assert!(back.decode(&mut input).unwrap());
        assert!(!back.decode(&mut input).unwrap());
        assert_eq!(back.status(), RatingStatus::Charged);
        // A row cut anywhere is an error, not a shorter row.
        let mut one = Vec::new();
        row.encode(&mut one);
        for cut in 1..one.len() {
            assert!(back.decode(&mut &one[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn varints_round_trip() -> io::Result<()> {
        let mut values = vec![0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        // Every length, at both ends of it.
        for bits in (7..64).step_by(7) {
            values.extend([(1u64 << bits) - 1, 1u64 << bits, (1u64 << bits) + 1]);
        }
        for value in values {
            let mut bytes = Vec::new();
            put_varint(&mut bytes, value);
            bytes.push(0x55);
            let mut rest = bytes.as_slice();
            assert_eq!(get_varint(&mut rest)?, value);
            assert_eq!(rest, [0x55], "{value}: the bytes after it are left");
            // Cut short anywhere: an error, never another value.
            for cut in 0..bytes.len() - 1 {
                assert!(get_varint(&mut &bytes[..cut]).is_err(), "{value} cut at {cut}");
            }
        }
        for value in [0, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(value)), value);
        }
        Ok(())
    }
}

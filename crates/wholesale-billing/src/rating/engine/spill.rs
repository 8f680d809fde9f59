//! The spill: every rated record of a run in a compact binary form, written in input order by the
//! first phase and read back by the second, so that the rows never stay in memory.
//!
//! A row is 62 bytes of fixed fields (little-endian) then four length-prefixed texts (`Report ID`,
//! `Org UUID` when the organisation is no customer, `User UUID`, the rated digits when charged
//! or without destination): about 150 bytes for a record with 36-character UUIDs.

use std::io::{self, Read};

use super::status::RatingStatus;

/// The bytes of a row's fixed fields.
const FIXED: usize = 62;

/// "None" of an index.
pub(crate) const NONE_U32: u32 = u32::MAX;
/// "None" of a band or class index.
pub(crate) const NONE_U16: u16 = u16::MAX;

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
    /// The price applied, in millionths: connect fee and per minute.
    pub(crate) price: (i64, i64),
    pub(crate) report_id: String,
    pub(crate) org: String,
    pub(crate) user: String,
    pub(crate) digits: String,
}

impl SpillRow {
    /// The status (an unknown byte, which the writer never writes, reads as `unknown_customer`).
    pub(crate) fn status(&self) -> RatingStatus {
        RatingStatus::from_index(self.status).unwrap_or(RatingStatus::UnknownCustomer)
    }

    /// Appends the row's bytes to `out`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.status);
        out.push(u8::from(self.candidate));
        out.extend_from_slice(&self.start.to_le_bytes());
        out.extend_from_slice(&self.duration.to_le_bytes());
        out.extend_from_slice(&self.customer.to_le_bytes());
        out.extend_from_slice(&self.destination.to_le_bytes());
        out.extend_from_slice(&self.band.to_le_bytes());
        out.extend_from_slice(&self.class.to_le_bytes());
        out.extend_from_slice(&self.prefix_len.to_le_bytes());
        out.extend_from_slice(&self.billable.to_le_bytes());
        out.extend_from_slice(&self.charge.to_le_bytes());
        out.extend_from_slice(&self.price.0.to_le_bytes());
        out.extend_from_slice(&self.price.1.to_le_bytes());
        for text in [&self.report_id, &self.org, &self.user, &self.digits] {
            // A text of a record is far below 4 GB: the readers' spans are u32.
            let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(text.as_bytes().get(..len as usize).unwrap_or_default());
        }
    }

    /// Reads the next row into `self`; `false` at the end of the spill.
    pub(crate) fn decode(&mut self, input: &mut impl Read) -> io::Result<bool> {
        let mut fixed = [0u8; FIXED];
        match input.read_exact(&mut fixed[..1]) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
        input.read_exact(&mut fixed[1..])?;
        let mut at = 0usize;
        let mut take = |n: usize| {
            let end = at.saturating_add(n);
            let part = fixed.get(at..end).unwrap_or_default();
            at = end;
            part
        };
        let byte = |b: &[u8]| b.first().copied().unwrap_or_default();
        self.status = byte(take(1));
        self.candidate = byte(take(1)) != 0;
        self.start = i64::from_le_bytes(array(take(8)));
        self.duration = u32::from_le_bytes(array(take(4)));
        self.customer = u32::from_le_bytes(array(take(4)));
        self.destination = u32::from_le_bytes(array(take(4)));
        self.band = u16::from_le_bytes(array(take(2)));
        self.class = u16::from_le_bytes(array(take(2)));
        self.prefix_len = u32::from_le_bytes(array(take(4)));
        self.billable = u64::from_le_bytes(array(take(8)));
        self.charge = i64::from_le_bytes(array(take(8)));
        self.price = (i64::from_le_bytes(array(take(8))), i64::from_le_bytes(array(take(8))));
        for text in [&mut self.report_id, &mut self.org, &mut self.user, &mut self.digits] {
            let mut len = [0u8; 4];
            input.read_exact(&mut len)?;
            let len = u32::from_le_bytes(len) as usize;
            let mut bytes = std::mem::take(text).into_bytes();
            bytes.clear();
            bytes.resize(len, 0);
            input.read_exact(&mut bytes)?;
            *text = String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        }
        Ok(true)
    }
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(from) = bytes.get(..N) {
        out.copy_from_slice(from);
    }
    out
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
            report_id: "r1".into(),
            org: String::new(),
            user: "u-é".into(),
            digits: "447700".into(),
        };
        let mut bytes = Vec::new();
        row.encode(&mut bytes);
        row.encode(&mut bytes);
        let mut input = bytes.as_slice();
        let mut back = SpillRow::default();
        assert!(back.decode(&mut input).unwrap());
        assert_eq!(back, row);
        assert!(back.decode(&mut input).unwrap());
        assert!(!back.decode(&mut input).unwrap());
        assert_eq!(back.status(), RatingStatus::Charged);
    }
}

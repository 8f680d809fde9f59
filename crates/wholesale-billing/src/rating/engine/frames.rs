//! The spill's frames: the first phase writes rows (in input order), the keys of the duplicate
//! search (by partition) and the runs of allowance candidates to the same caller's file, each in frames of a kind byte, a
//! 32-bit length and the bytes, so that the rows are read back in order skipping the others, and
//! each partition of keys is read alone by the offsets of its frames.

use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

use crate::error::{Error, Result};

use super::spill::SpillRow;

/// A frame of rows.
const ROWS: u8 = 0;
/// A frame of other bytes.
const SIDE: u8 = 1;
/// Rows are written in frames of about this many bytes.
const ROWS_FRAME: usize = 1 << 16;

fn write_error(e: io::Error) -> Error {
    Error::io("writing the rating spill", e)
}

/// Writes frames to the spill.
#[derive(Debug)]
pub(crate) struct FrameWriter<S: Write> {
    out: BufWriter<S>,
    /// The rows of the frame being filled.
    rows: Vec<u8>,
    /// Bytes written so far (the spill is given empty).
    written: u64,
}

impl<S: Write> FrameWriter<S> {
    pub(crate) fn new(out: S) -> Self {
        FrameWriter {
            out: BufWriter::with_capacity(super::IO_BUFFER_BYTES, out),
            rows: Vec::with_capacity(ROWS_FRAME),
            written: 0,
        }
    }

    /// Bytes written to the spill, and buffered for it.
    pub(crate) fn bytes(&self) -> u64 {
        self.written.saturating_add(self.rows.len() as u64)
    }

    /// Appends a row (written once its frame is full).
    pub(crate) fn push_row(&mut self, row: &SpillRow) -> Result<()> {
        row.encode(&mut self.rows);
        if self.rows.len() >= ROWS_FRAME {
            self.flush_rows()?;
        }
        Ok(())
    }

    fn frame(&mut self, kind: u8, bytes: &[u8]) -> Result<(u64, u32)> {
        let len = u32::try_from(bytes.len()).map_err(|_| Error::overflow("a frame of the rating spill over 4 GiB"))?;
        self.out.write_all(&[kind]).map_err(write_error)?;
        self.out.write_all(&len.to_le_bytes()).map_err(write_error)?;
        let at = self.written.saturating_add(5);
        self.out.write_all(bytes).map_err(write_error)?;
        self.written = at.saturating_add(u64::from(len));
        Ok((at, len))
    }

    fn flush_rows(&mut self) -> Result<()> {
        if !self.rows.is_empty() {
            let rows = std::mem::take(&mut self.rows);
            self.frame(ROWS, &rows)?;
            self.rows = rows;
            self.rows.clear();
        }
        Ok(())
    }

    /// Writes a frame of other bytes (the keys of the duplicate search, runs of allowance
    /// candidates), which the rows' reader skips: the offset of its bytes and their length.
    pub(crate) fn write_side(&mut self, bytes: &[u8]) -> Result<(u64, u32)> {
        self.frame(SIDE, bytes)
    }

    /// Writes a frame of other bytes at the end of a spill that is being read from.
    pub(crate) fn append_side(&mut self, bytes: &[u8]) -> Result<(u64, u32)>
    where
        S: Seek,
    {
        self.inner()?.seek(io::SeekFrom::End(0)).map_err(write_error)?;
        let at = self.write_side(bytes)?;
        self.inner()?;
        Ok(at)
    }

    /// Writes every frame and gives the spill, to read from (and seek back to its end after).
    pub(crate) fn inner(&mut self) -> Result<&mut S> {
        self.flush_rows()?;
        self.out.flush().map_err(write_error)?;
        Ok(self.out.get_mut())
    }

    /// Writes every frame and gives the spill back.
    pub(crate) fn into_inner(mut self) -> Result<S> {
        self.flush_rows()?;
        self.out.into_inner().map_err(|e| write_error(e.into_error()))
    }
}

/// Reads the rows back in input order, skipping the other frames.
pub(crate) struct FrameReader<R: Read + Seek> {
    input: BufReader<R>,
    frame: Vec<u8>,
    at: usize,
}

impl<R: Read + Seek> FrameReader<R> {
    /// Reads from the current position of `input` (the spill's start).
    pub(crate) fn new(input: R) -> Self {
        FrameReader {
            input: BufReader::with_capacity(super::IO_BUFFER_BYTES, input),
            frame: Vec::new(),
            at: 0,
        }
    }

    /// Reads the next row into `row`; `false` after the last.
    pub(crate) fn next_row(&mut self, row: &mut SpillRow) -> io::Result<bool> {
        while self.at >= self.frame.len() {
            let mut header = [0u8; 5];
            match self.input.read_exact(&mut header[..1]) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
                Err(e) => return Err(e),
            }
            self.input.read_exact(&mut header[1..])?;
            let [kind, len @ ..] = header;
            let len = u32::from_le_bytes(len);
            if kind == ROWS {
                self.frame.resize(len as usize, 0);
                self.input.read_exact(&mut self.frame)?;
                self.at = 0;
            } else {
                self.input.seek_relative(i64::from(len))?;
            }
        }
        let mut rest = self.frame.get(self.at..).unwrap_or_default();
        let before = rest.len();
        if !row.decode(&mut rest)? {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "a row cut short"));
        }
        self.at = self.at.saturating_add(before.saturating_sub(rest.len()));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_in_order_between_frames_of_keys() {
        let mut writer = FrameWriter::new(io::Cursor::new(Vec::new()));
        let mut row = SpillRow::default();
        let mut offsets = Vec::new();
        for i in 0..5_000u32 {
            row.duration = i;
            row.report_id = format!("r{i}");
            writer.push_row(&row).unwrap();
            if i % 700 == 0 {
                offsets.push(writer.write_side(&i.to_le_bytes()).unwrap());
            }
        }
        let spill = writer.into_inner().unwrap();
        let bytes = spill.get_ref();
        for (i, (offset, len)) in offsets.iter().enumerate() {
            let at = *offset as usize;
            let key = &bytes[at..at + *len as usize];
            assert_eq!(key, (i as u32 * 700).to_le_bytes());
        }
        let mut reader = FrameReader::new(io::Cursor::new(bytes.clone()));
        let mut back = SpillRow::default();
        let mut n = 0u32;
        while reader.next_row(&mut back).unwrap() {
            assert_eq!((back.duration, back.report_id.as_str()), (n, format!("r{n}").as_str()));
            n += 1;
        }
        assert_eq!(n, 5_000);
    }
}

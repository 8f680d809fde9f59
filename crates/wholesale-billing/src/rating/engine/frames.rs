//! The spill's frames: the first phase writes rows (in input order), the keys of the duplicate
//! search (by partition) and the runs of allowance candidates to the same caller's file, each in frames of a kind byte, a
//! 32-bit length and the bytes, so that the rows are read back in order skipping the others, and
//! each partition of keys is read alone by the offsets of its frames.

use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

use crate::error::{Error, Result};

use super::spill::SpillRow;
use super::storage::SpillStorage;

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

/// The reading of the spill for the last time gives back what it has read every this many
/// bytes ([`SpillStorage::release`]).
const RELEASE_EVERY: u64 = 32 << 20;

/// Reads the rows back in input order, skipping the other frames.
pub(crate) struct FrameReader<R: SpillStorage> {
    input: BufReader<R>,
    frame: Vec<u8>,
    at: usize,
    /// The offset of the next frame (the reading starts at the spill's start).
    next_frame: u64,
    /// Up to where the spill was given back; `None`: it is not (it will be read again).
    released: Option<u64>,
    /// Bytes read between two releases ([`RELEASE_EVERY`] but in tests).
    release_every: u64,
}

impl<R: SpillStorage> FrameReader<R> {
    /// Reads from the start of `input`, positioned there; `last` when the spill will not be
    /// read again, so that what is read is given back as the reading goes.
    pub(crate) fn new(input: R, last: bool) -> Self {
        FrameReader {
            input: BufReader::with_capacity(super::IO_BUFFER_BYTES, input),
            frame: Vec::new(),
            at: 0,
            next_frame: 0,
            released: last.then_some(0),
            release_every: RELEASE_EVERY,
        }
    }

    /// Gives back the spill before the next frame, in steps of [`RELEASE_EVERY`] (whole pages).
    fn release(&mut self) -> io::Result<()> {
        if let Some(released) = self.released {
            let upto = self.next_frame & !4095;
            if upto.saturating_sub(released) >= self.release_every {
                self.input.get_mut().release(upto)?;
                self.released = Some(upto);
            }
        }
        Ok(())
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
            self.next_frame = self.next_frame.saturating_add(5).saturating_add(u64::from(len));
            if kind == ROWS {
                self.frame.resize(len as usize, 0);
                self.input.read_exact(&mut self.frame)?;
                self.at = 0;
            } else {
                self.input.seek_relative(i64::from(len))?;
            }
            self.release()?;
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
            row.report_id = format!("r{i}").into_bytes();
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
        let mut reader = FrameReader::new(io::Cursor::new(bytes.clone()), true);
        let mut back = SpillRow::default();
        let mut n = 0u32;
        while reader.next_row(&mut back).unwrap() {
            assert_eq!(
                (back.duration, back.report_id.as_slice()),
                (n, format!("r{n}").as_bytes())
            );
            n += 1;
        }
        assert_eq!(n, 5_000);
    }

    /// Read for the last time, a spill file is given back as it is read: its rows all come back,
    /// and it holds fewer blocks after than before (where the file system punches holes).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_spill_read_for_the_last_time_is_given_back() -> io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let mut writer = FrameWriter::new(tempfile::tempfile()?);
        let mut row = SpillRow::default();
        for i in 0..20_000u32 {
            row.duration = i;
            row.report_id = format!("a report id of some length, number {i}").into_bytes();
            writer.push_row(&row).map_err(io::Error::other)?;
        }
        let mut file = writer.into_inner().map_err(io::Error::other)?;
        file.sync_all()?;
        let before = file.metadata()?.blocks();
        file.rewind()?;
        let mut reader = FrameReader::new(&mut file, true);
        reader.release_every = 64 << 10;
        let mut back = SpillRow::default();
        let mut n = 0u32;
        while reader.next_row(&mut back)? {
            assert_eq!(back.duration, n);
            n += 1;
        }
        assert_eq!(n, 20_000);
        drop(reader);
        let after = file.metadata()?.blocks();
        let probe = tempfile::tempfile()?;
        probe.set_len(1 << 20)?;
        let punched = rustix::fs::fallocate(
            &probe,
            rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE,
            0,
            4096,
        );
        if punched.is_ok() {
            assert!(after * 2 < before, "{after} blocks of 512 bytes left of {before}");
        }
        Ok(())
    }
}

//! [`SpillStorage`]: where a rating run keeps its spill, and how it gives back what it has read
//! for the last time.

use std::io::{self, Cursor, Read, Seek, Write};

/// Where a [`RatingRun`](super::RatingRun) keeps its spill: any `Read + Write + Seek`, with a
/// way to give back the bytes the run will not read again.
///
/// The second phase reads the spill once, front to back, and calls [`SpillStorage::release`]
/// as it goes: a file gives back the disk space and the page cache of what is read (a hole
/// punched, on Linux), so that a month's spill never holds more than the part still to read,
/// and the pages freed are the ones the rated output is then written into. Other storage keeps
/// its bytes (the default).
///
/// ```
/// use std::io::{Read, Seek, SeekFrom, Write};
/// use wholesale_billing::SpillStorage;
/// let mut file = tempfile::tempfile()?;
/// file.write_all(&[7u8; 3 * 4096])?;
/// file.release(2 * 4096)?;
/// // The size stays; the bytes before the offset read as zeros where holes are supported.
/// assert_eq!(file.metadata()?.len(), 3 * 4096);
/// let mut back = Vec::new();
/// file.seek(SeekFrom::Start(0))?;
/// file.read_to_end(&mut back)?;
/// assert_eq!(&back[2 * 4096..], &[7u8; 4096][..]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait SpillStorage: Read + Write + Seek {
    /// Gives back the storage of the bytes before `offset`, which will not be read again. A
    /// hint: storage that cannot give bytes back keeps them (the default does nothing).
    ///
    /// # Errors
    /// An I/O error of the storage; not being able to give bytes back is none.
    fn release(&mut self, offset: u64) -> io::Result<()> {
        let _ = offset;
        Ok(())
    }
}

impl SpillStorage for std::fs::File {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn release(&mut self, offset: u64) -> io::Result<()> {
        use rustix::fs::{FallocateFlags, fallocate};
        match fallocate(
            &*self,
            FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
            0,
            offset,
        ) {
            Ok(()) => Ok(()),
            // A file system without holes keeps the bytes.
            Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl SpillStorage for Cursor<Vec<u8>> {}

impl<T: SpillStorage + ?Sized> SpillStorage for &mut T {
    fn release(&mut self, offset: u64) -> io::Result<()> {
        (**self).release(offset)
    }
}

impl<T: SpillStorage + ?Sized> SpillStorage for Box<T> {
    fn release(&mut self, offset: u64) -> io::Result<()> {
        (**self).release(offset)
    }
}

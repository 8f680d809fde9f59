//! How many threads the library's parallel work uses when the caller does not say.

/// The threads a reader, a report writer, a rating or a reconciliation uses by default: the
/// machine's available parallelism (1 when it cannot be told). Each takes a count of its own
/// (`threads(n)`); with 1 nothing is spawned and everything runs on the caller's thread.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

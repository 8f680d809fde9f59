//! How many threads the library's parallel work uses when the caller does not say, and work
//! made on several threads and taken in order.

use crate::error::{Error, Result};

/// The threads a reader, a report writer, a rating or a reconciliation uses by default: the
/// machine's available parallelism (1 when it cannot be told). Each takes a count of its own
/// (`threads(n)`); with 1 nothing is spawned and everything runs on the caller's thread.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Makes items `0..count` with `make` and hands them to `take` in index order, on `threads`
/// threads: with 2 or more, `threads − 1` helpers and the calling thread make them and the calling
/// thread takes them all. In each cycle of `2 × helpers + 1` items the calling thread makes the
/// first (taking is its share of the work) and helper `t` the two after `2t`; each helper has one
/// made item waiting at most, so no more than `2 × helpers + 1` items are held at once. With 1
/// thread (or one item) nothing is spawned. `take` sees the same items in the same order with
/// any thread count; the first error (of `make` or `take`, in index order) ends the work.
///
/// `task` names the work in [`Error::ThreadFailed`] when a helper panics.
pub(crate) fn in_order<T: Send>(
    count: usize,
    threads: usize,
    task: &'static str,
    make: impl Fn(usize) -> Result<T> + Sync,
    mut take: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let helpers = threads.saturating_sub(1).min(count.saturating_sub(1));
    if helpers == 0 {
        for i in 0..count {
            take(make(i)?)?;
        }
        return Ok(());
    }
    let make = &make;
    std::thread::scope(|scope| -> Result<()> {
        let mut from_helpers = Vec::with_capacity(helpers);
        let mut workers = Vec::with_capacity(helpers);
        for t in 0..helpers {
            let (to_taker, from_helper) = std::sync::mpsc::sync_channel::<Result<T>>(1);
            from_helpers.push(from_helper);
            workers.push(scope.spawn(move || {
                for i in (0..count).filter(|&i| maker(i, helpers) == Some(t)) {
                    if to_taker.send(make(i)).is_err() {
                        break;
                    }
                }
            }));
        }
        let failed = || Error::ThreadFailed { task };
        for i in 0..count {
            let item = match maker(i, helpers) {
                None => make(i)?,
                Some(t) => from_helpers.get(t).ok_or_else(failed)?.recv().map_err(|_| failed())??,
            };
            take(item)?;
        }
        drop(from_helpers);
        for worker in workers {
            worker.join().map_err(|_| failed())?;
        }
        Ok(())
    })
}

/// Who makes item `i` in [`in_order`] with `helpers` helper threads: `None` the calling thread
/// (the first of each cycle of `2 × helpers + 1` items), `Some(t)` helper `t` (the two after `2t`).
fn maker(i: usize, helpers: usize) -> Option<usize> {
    match i % (2 * helpers + 1) {
        0 => None,
        p => Some((p - 1) / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_item_has_one_maker_in_cycles() {
        let one: Vec<_> = (0..6).map(|i| maker(i, 1)).collect();
        assert_eq!(one, [None, Some(0), Some(0), None, Some(0), Some(0)]);
        let three: Vec<_> = (0..8).map(|i| maker(i, 3)).collect();
        assert_eq!(
            three,
            [None, Some(0), Some(0), Some(1), Some(1), Some(2), Some(2), None]
        );
    }

    #[test]
    fn items_are_taken_in_order_on_any_number_of_threads() -> Result<()> {
        for count in [0, 1, 2, 5, 40] {
            for threads in [1, 2, 3, 7] {
                let mut taken = Vec::new();
                in_order(
                    count,
                    threads,
                    "test",
                    |i| Ok(i * i),
                    |x| {
                        taken.push(x);
                        Ok(())
                    },
                )?;
                let expected: Vec<usize> = (0..count).map(|i| i * i).collect();
                assert_eq!(taken, expected, "{count} items on {threads} threads");
            }
        }
        Ok(())
    }

    #[test]
    fn the_first_error_in_order_ends_the_work() {
        for threads in [1, 2, 3, 7] {
            let mut taken = 0;
            let result = in_order(
                30,
                threads,
                "test",
                |i| {
                    if i == 11 || i == 20 {
                        Err(Error::overflow("item"))
                    } else {
                        Ok(i)
                    }
                },
                |_| {
                    taken += 1;
                    Ok(())
                },
            );
            assert!(result.is_err(), "{threads} threads");
            assert_eq!(taken, 11, "{threads} threads");
        }
    }
}

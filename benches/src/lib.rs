//! Benchmarks live in `benches/`; this library holds the inputs several of them share.

use std::collections::HashSet;

/// A deterministic xorshift generator (the benchmarks' inputs are the same on every run).
///
/// ```
/// use wholesale_billing_benches::Rng;
/// let (mut a, mut b) = (Rng(7), Rng(7));
/// assert_eq!(a.next(), b.next());
/// assert!(a.below(10) < 10);
/// ```
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    ///
    /// ```
    /// let mut rng = wholesale_billing_benches::Rng(1);
    /// assert_ne!(rng.next(), rng.next());
    /// ```
    #[allow(clippy::should_implement_trait)] // not an iterator: it never ends
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n` > 0).
    ///
    /// ```
    /// let mut rng = wholesale_billing_benches::Rng(3);
    /// assert!((0..1000).all(|_| rng.below(6) < 6));
    /// ```
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A destination table CSV of `count` distinct random prefixes of 5 to 10 digits under 200
/// country codes (`20`, `24`, … `816`), ten prefixes a destination (classes national, mobile,
/// international and premium in turn), and its prefixes in the order of the rows.
///
/// ```
/// use wholesale_billing_benches::{Rng, prefix_table};
/// let (csv, prefixes) = prefix_table(&mut Rng(42), 100);
/// assert_eq!(prefixes.len(), 100);
/// assert_eq!(csv.lines().count(), 101);
/// assert!(prefixes.iter().all(|p| (5..=10).contains(&p.len())));
/// assert!(csv.lines().nth(1).is_some_and(|row| row.starts_with(&format!("{},D0,national,", prefixes[0]))));
/// ```
pub fn prefix_table(rng: &mut Rng, count: usize) -> (String, Vec<String>) {
    let countries: Vec<String> = (0..200).map(|i| format!("{}", 20 + i * 4)).collect();
    let mut seen = HashSet::new();
    let mut prefixes = Vec::with_capacity(count);
    let mut csv = String::from("prefix,destination,class,connect_fee,per_minute,initial,subsequent\n");
    while prefixes.len() < count {
        let country = &countries[rng.below(200) as usize];
        let tail: String = (0..3 + rng.below(5))
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        let prefix = format!("{country}{tail}");
        if !seen.insert(prefix.clone()) {
            continue;
        }
        let d = prefixes.len() / 10;
        let class = ["national", "mobile", "international", "premium"][d % 4];
        csv.push_str(&format!(
            "{prefix},D{d},{class},0.0{},0.{:04},60,{}\n",
            d % 10,
            d % 9999,
            1 + d % 60
        ));
        prefixes.push(prefix);
    }
    (csv, prefixes)
}

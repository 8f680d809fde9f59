//! The numbering plan shared by the generated calls ([`super::cdrs`]) and the generated tariff
//! ([`super::tariff`]): countries, their number ranges and how numbers are written, and the sites
//! (time zones and cities) of the generated customers.
//!
//! The partner is in the United Kingdom (the home country): its tariff prices every number by
//! destination, classes UK fixed lines `national`, UK mobiles `mobile`, `premium` and `tollfree`
//! ranges as such and every other country `international` (mobile ranges of a country are their
//! own destination). Every number a call dials is drawn from a range below, and every range is a
//! prefix of the tariff, so every charged call finds a destination (unless the generator is asked
//! for [`UNRATED_PREFIX`] numbers).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A country of the numbering plan. Prefixes are E.164 digits, country code included.
pub(super) struct Country {
    /// ISO 3166 alpha-2 code (the `International country` column).
    pub iso: &'static str,
    /// English name (the tariff's destination names).
    pub name: &'static str,
    /// E.164 country code.
    pub code: &'static str,
    /// Digits of a whole E.164 number, country code included.
    pub digits: usize,
    /// Digit groups of the national number when written with spaces (`+44 20 7946 0000`).
    pub groups: &'static [usize],
    /// Fixed-line ranges.
    pub fixed: &'static [&'static str],
    /// Mobile ranges (empty: mobiles share the fixed ranges, as in North America).
    pub mobile: &'static [&'static str],
    /// Premium-rate ranges.
    pub premium: &'static [&'static str],
    /// Toll-free (freephone) ranges.
    pub tollfree: &'static [&'static str],
    /// The emergency number, as dialled.
    pub emergency: &'static str,
    /// Weight as the destination of an international call.
    pub weight: u32,
    /// Price tier of its international destinations: 0 near and cheap … 3 far and dear.
    pub tier: u8,
}

/// The home country's index in [`COUNTRIES`].
pub(super) const HOME: usize = 0;

/// Digits of an international network (`+882 16`, satellite and roaming services) that the
/// tariff deliberately does not price: numbers under it are `no_destination` when rated.
pub(super) const UNRATED_PREFIX: &str = "88216";

/// The "country" of [`UNRATED_PREFIX`]: international networks (`+882`).
pub(super) const UNRATED: Country = Country {
    iso: "",
    name: "International networks",
    code: "882",
    digits: 12,
    groups: &[2, 4, 4],
    fixed: &[UNRATED_PREFIX],
    mobile: &[],
    premium: &[],
    tollfree: &[],
    emergency: "",
    weight: 0,
    tier: 3,
};

/// Directory enquiries (`118 xxx`), dialled in the home country only.
pub(super) const SHORT_CODE_PREFIX: &str = "118";

/// Every country a call may reach. The home country comes first.
pub(super) const COUNTRIES: &[Country] = &[
    Country {
        iso: "GB",
        name: "United Kingdom",
        code: "44",
        digits: 12,
        groups: &[2, 4, 4],
        fixed: &["4420", "44113", "44121", "44131", "44161", "44117", "443"],
        mobile: &["4477", "4478", "4479", "4474", "4475"],
        premium: &["44909", "44906"],
        tollfree: &["44800", "44808"],
        emergency: "999",
        weight: 150,
        tier: 0,
    },
    Country {
        iso: "DE",
        name: "Germany",
        code: "49",
        digits: 12,
        groups: &[2, 4, 4],
        fixed: &["4930", "4940", "4989", "4969", "49221"],
        mobile: &["49151", "49152", "49160", "49170", "49176"],
        premium: &["49900"],
        tollfree: &["49800"],
        emergency: "112",
        weight: 100,
        tier: 0,
    },
    Country {
        iso: "US",
        name: "United States",
        code: "1",
        digits: 11,
        groups: &[3, 3, 4],
        fixed: &[
            "1212", "1646", "1312", "1415", "1617", "1202", "1305", "1713", "1404", "1206",
        ],
        mobile: &[],
        premium: &["1900"],
        tollfree: &["1800", "1888", "1877"],
        emergency: "911",
        weight: 200,
        tier: 0,
    },
    Country {
        iso: "IN",
        name: "India",
        code: "91",
        digits: 12,
        groups: &[2, 4, 4],
        fixed: &["9111", "9122", "9180", "9144"],
        mobile: &["919", "917", "916"],
        premium: &[],
        tollfree: &["911800"],
        emergency: "112",
        weight: 90,
        tier: 1,
    },
    Country {
        iso: "AU",
        name: "Australia",
        code: "61",
        digits: 11,
        groups: &[1, 4, 4],
        fixed: &["612", "613", "617", "618"],
        mobile: &["614"],
        premium: &["61190"],
        tollfree: &["611800"],
        emergency: "000",
        weight: 40,
        tier: 1,
    },
    Country {
        iso: "IE",
        name: "Ireland",
        code: "353",
        digits: 12,
        groups: &[1, 3, 4],
        fixed: &["3531", "35321", "35391"],
        mobile: &["35383", "35385", "35386", "35387", "35389"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 80,
        tier: 0,
    },
    Country {
        iso: "FR",
        name: "France",
        code: "33",
        digits: 11,
        groups: &[1, 2, 2, 2, 2],
        fixed: &["331", "332", "334", "335"],
        mobile: &["336", "337"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 70,
        tier: 0,
    },
    Country {
        iso: "NL",
        name: "Netherlands",
        code: "31",
        digits: 11,
        groups: &[2, 3, 4],
        fixed: &["3110", "3120", "3130", "3170"],
        mobile: &["316"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 40,
        tier: 0,
    },
    Country {
        iso: "ES",
        name: "Spain",
        code: "34",
        digits: 11,
        groups: &[3, 3, 3],
        fixed: &["3491", "3493", "3496"],
        mobile: &["346", "347"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 40,
        tier: 0,
    },
    Country {
        iso: "IT",
        name: "Italy",
        code: "39",
        digits: 12,
        groups: &[2, 4, 4],
        fixed: &["3902", "3906", "39011"],
        mobile: &["393"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 35,
        tier: 0,
    },
    Country {
        iso: "BE",
        name: "Belgium",
        code: "32",
        digits: 11,
        groups: &[1, 3, 2, 2],
        fixed: &["322", "323", "329"],
        mobile: &["3247", "3248", "3249"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 20,
        tier: 0,
    },
    Country {
        iso: "CH",
        name: "Switzerland",
        code: "41",
        digits: 11,
        groups: &[2, 3, 2, 2],
        fixed: &["4122", "4144", "4131"],
        mobile: &["4176", "4177", "4178", "4179"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 20,
        tier: 1,
    },
    Country {
        iso: "SE",
        name: "Sweden",
        code: "46",
        digits: 11,
        groups: &[1, 3, 3, 2],
        fixed: &["468", "4631", "4640"],
        mobile: &["4670", "4672", "4673"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 15,
        tier: 0,
    },
    Country {
        iso: "PL",
        name: "Poland",
        code: "48",
        digits: 11,
        groups: &[2, 3, 2, 2],
        fixed: &["4822", "4812", "4842"],
        mobile: &["485", "486", "487"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 25,
        tier: 1,
    },
    Country {
        iso: "CA",
        name: "Canada",
        code: "1",
        digits: 11,
        groups: &[3, 3, 4],
        fixed: &["1416", "1604", "1514", "1403", "1613"],
        mobile: &[],
        premium: &[],
        tollfree: &[],
        emergency: "911",
        weight: 35,
        tier: 0,
    },
    Country {
        iso: "SG",
        name: "Singapore",
        code: "65",
        digits: 10,
        groups: &[4, 4],
        fixed: &["656"],
        mobile: &["658", "659"],
        premium: &[],
        tollfree: &[],
        emergency: "999",
        weight: 15,
        tier: 1,
    },
    Country {
        iso: "HK",
        name: "Hong Kong",
        code: "852",
        digits: 11,
        groups: &[4, 4],
        fixed: &["8522", "8523"],
        mobile: &["8525", "8526", "8529"],
        premium: &[],
        tollfree: &[],
        emergency: "999",
        weight: 10,
        tier: 1,
    },
    Country {
        iso: "JP",
        name: "Japan",
        code: "81",
        digits: 12,
        groups: &[1, 4, 4],
        fixed: &["813", "816"],
        mobile: &["8170", "8180", "8190"],
        premium: &[],
        tollfree: &[],
        emergency: "110",
        weight: 12,
        tier: 2,
    },
    Country {
        iso: "CN",
        name: "China",
        code: "86",
        digits: 13,
        groups: &[2, 4, 4],
        fixed: &["8610", "8621", "86755"],
        mobile: &["8613", "8615", "8618"],
        premium: &[],
        tollfree: &[],
        emergency: "110",
        weight: 15,
        tier: 2,
    },
    Country {
        iso: "AE",
        name: "United Arab Emirates",
        code: "971",
        digits: 12,
        groups: &[1, 3, 4],
        fixed: &["9714", "9712"],
        mobile: &["97150", "97155", "97156"],
        premium: &[],
        tollfree: &[],
        emergency: "999",
        weight: 15,
        tier: 2,
    },
    Country {
        iso: "ZA",
        name: "South Africa",
        code: "27",
        digits: 11,
        groups: &[2, 3, 4],
        fixed: &["2711", "2721", "2731"],
        mobile: &["2782", "2783", "2784"],
        premium: &[],
        tollfree: &[],
        emergency: "10111",
        weight: 12,
        tier: 2,
    },
    Country {
        iso: "NG",
        name: "Nigeria",
        code: "234",
        digits: 13,
        groups: &[3, 3, 4],
        fixed: &["2341", "2349"],
        mobile: &["234803", "234806", "234813"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 10,
        tier: 3,
    },
    Country {
        iso: "BR",
        name: "Brazil",
        code: "55",
        digits: 13,
        groups: &[2, 5, 4],
        fixed: &["5511", "5521", "5531"],
        mobile: &[],
        premium: &[],
        tollfree: &[],
        emergency: "190",
        weight: 10,
        tier: 2,
    },
    Country {
        iso: "MX",
        name: "Mexico",
        code: "52",
        digits: 12,
        groups: &[2, 4, 4],
        fixed: &["5255", "5233", "5281"],
        mobile: &[],
        premium: &[],
        tollfree: &[],
        emergency: "911",
        weight: 8,
        tier: 2,
    },
    Country {
        iso: "PH",
        name: "Philippines",
        code: "63",
        digits: 12,
        groups: &[1, 4, 4],
        fixed: &["632"],
        mobile: &["639"],
        premium: &[],
        tollfree: &[],
        emergency: "911",
        weight: 12,
        tier: 3,
    },
    Country {
        iso: "IL",
        name: "Israel",
        code: "972",
        digits: 12,
        groups: &[1, 3, 4],
        fixed: &["9722", "9723"],
        mobile: &["97250", "97252", "97254"],
        premium: &[],
        tollfree: &[],
        emergency: "100",
        weight: 8,
        tier: 2,
    },
    Country {
        iso: "TR",
        name: "Turkey",
        code: "90",
        digits: 12,
        groups: &[3, 3, 4],
        fixed: &["90212", "90216", "90312"],
        mobile: &["905"],
        premium: &[],
        tollfree: &[],
        emergency: "112",
        weight: 8,
        tier: 2,
    },
    Country {
        iso: "PK",
        name: "Pakistan",
        code: "92",
        digits: 12,
        groups: &[2, 4, 4],
        fixed: &["9221", "9242", "9251"],
        mobile: &["923"],
        premium: &[],
        tollfree: &[],
        emergency: "15",
        weight: 10,
        tier: 3,
    },
    Country {
        iso: "KE",
        name: "Kenya",
        code: "254",
        digits: 12,
        groups: &[3, 3, 3],
        fixed: &["25420"],
        mobile: &["2547"],
        premium: &[],
        tollfree: &[],
        emergency: "999",
        weight: 6,
        tier: 3,
    },
];

/// A time zone of the customers' sites: its offset, its country and its cities.
pub(super) struct Zone {
    /// `Site timezone`: minutes east of UTC.
    pub offset: i16,
    /// Index in [`COUNTRIES`].
    pub country: usize,
    /// Site (location) names.
    pub cities: &'static [&'static str],
    /// Share of the sites, per mille.
    pub weight: u32,
}

/// The sites' time zones; the shares add up to 1000.
pub(super) const ZONES: &[Zone] = &[
    Zone {
        offset: 0,
        country: 0,
        cities: &["London", "Manchester", "Birmingham", "Leeds", "Edinburgh", "Bristol"],
        weight: 550,
    },
    Zone {
        offset: 60,
        country: 1,
        cities: &["Berlin", "Frankfurt", "Munich", "Hamburg"],
        weight: 150,
    },
    Zone {
        offset: -300,
        country: 2,
        cities: &["New York", "Boston", "Atlanta", "Miami"],
        weight: 150,
    },
    Zone {
        offset: 330,
        country: 3,
        cities: &["Bengaluru", "Mumbai", "Pune"],
        weight: 80,
    },
    Zone {
        offset: 600,
        country: 4,
        cities: &["Sydney", "Melbourne", "Brisbane"],
        weight: 70,
    },
];

/// How a number is written in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// `+442079460000`
    E164,
    /// `+44 20 7946 0000`; North American numbers `+1 (212) 555-0100`.
    Spaced,
    /// `442079460000` (digits only).
    Digits,
    /// `02079460000` (the home country's national form; other countries are written `E164`).
    National,
}

/// A number of at most 24 digits, as digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Number {
    digits: [u8; 24],
    len: u8,
}

impl Number {
    /// A number written as it is dialled (short codes, emergency numbers, extensions).
    pub fn dialled(text: &str) -> Number {
        let mut number = Number {
            digits: [b'0'; 24],
            len: 0,
        };
        for (slot, &b) in number.digits.iter_mut().zip(text.as_bytes()) {
            *slot = b;
            number.len += 1;
        }
        number
    }

    /// A random number of `country` under `prefix` (E.164 digits).
    pub fn draw(rng: &mut ChaCha8Rng, country: &Country, prefix: &str) -> Number {
        let mut number = Number::dialled(prefix);
        while usize::from(number.len) < country.digits.min(24) {
            number.push(b'0' + rng.random_range(0..10u8));
        }
        number
    }

    /// A number of `country` under `prefix` made from `hash` (a subscriber's own number: the same
    /// for every call).
    pub fn from_hash(mut hash: u64, country: &Country, prefix: &str) -> Number {
        let mut number = Number::dialled(prefix);
        while usize::from(number.len) < country.digits.min(24) {
            number.push(b'0' + (hash % 10) as u8);
            hash /= 10;
        }
        number
    }

    /// An extension `2xxx`–`8xxx` of a subscriber's index in its customer.
    pub fn extension(index: u32) -> Number {
        let mut number = Number::dialled("");
        let value = 2000 + index % 7000;
        for divisor in [1000, 100, 10, 1] {
            number.push(b'0' + (value / divisor % 10) as u8);
        }
        number
    }

    fn push(&mut self, digit: u8) {
        if let Some(slot) = self.digits.get_mut(usize::from(self.len)) {
            *slot = digit;
            self.len += 1;
        }
    }

    /// The digits.
    pub fn digits(&self) -> &[u8] {
        self.digits.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Appends the number written in `style`, for a number of `country` (E.164 digits).
    pub fn write(&self, out: &mut Vec<u8>, country: &Country, style: Style) {
        let digits = self.digits();
        let code = country.code.len().min(digits.len());
        let (cc, national) = digits.split_at(code);
        match style {
            Style::E164 => {
                out.push(b'+');
                out.extend_from_slice(digits);
            }
            Style::Digits => out.extend_from_slice(digits),
            Style::National => {
                out.push(b'0');
                out.extend_from_slice(national);
            }
            Style::Spaced if country.code == "1" && national.len() == 10 => {
                out.extend_from_slice(b"+1 (");
                out.extend_from_slice(national.get(..3).unwrap_or_default());
                out.extend_from_slice(b") ");
                out.extend_from_slice(national.get(3..6).unwrap_or_default());
                out.push(b'-');
                out.extend_from_slice(national.get(6..).unwrap_or_default());
            }
            Style::Spaced => {
                out.push(b'+');
                out.extend_from_slice(cc);
                let mut rest = national;
                for &group in country.groups {
                    if rest.is_empty() {
                        break;
                    }
                    let (head, tail) = rest.split_at(group.min(rest.len()));
                    out.push(b' ');
                    out.extend_from_slice(head);
                    rest = tail;
                }
                if !rest.is_empty() {
                    out.extend_from_slice(rest);
                }
            }
        }
    }
}

/// A stable 64-bit hash of `bytes` under `seed` (FNV-1a, then a SplitMix64 finaliser): the same on
/// every platform and in every run, unlike the standard library's hashers.
pub(super) fn stable_hash(seed: u64, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Picks an item by weight from a hash (for attributes fixed per subscriber or site).
pub(super) fn pick_weighted<T>(hash: u64, items: &[T], weight: impl Fn(&T) -> u32) -> usize {
    let total: u64 = items.iter().map(|i| u64::from(weight(i))).sum();
    if total == 0 {
        return 0;
    }
    let mut r = hash % total;
    for (index, item) in items.iter().enumerate() {
        let w = u64::from(weight(item));
        if r < w {
            return index;
        }
        r -= w;
    }
    0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ranges_are_consistent() {
        let mut all: Vec<&str> = Vec::new();
        for country in COUNTRIES {
            for prefix in country
                .fixed
                .iter()
                .chain(country.mobile)
                .chain(country.premium)
                .chain(country.tollfree)
            {
                assert!(prefix.starts_with(country.code), "{prefix} of {}", country.name);
                assert!(prefix.len() < country.digits, "{prefix}");
                assert!(prefix.bytes().all(|b| b.is_ascii_digit()));
                all.push(prefix);
            }
        }
        // No range is given twice or nested in another, so a number drawn under one range is
        // priced as that range's destination.
        for (i, a) in all.iter().enumerate() {
            for b in all.iter().skip(i + 1) {
                assert!(!a.starts_with(b) && !b.starts_with(a), "{a} and {b} overlap");
            }
            assert!(!a.starts_with(UNRATED_PREFIX) && !UNRATED_PREFIX.starts_with(a));
            assert!(!a.starts_with(SHORT_CODE_PREFIX) && !SHORT_CODE_PREFIX.starts_with(a));
        }
        assert_eq!(ZONES.iter().map(|z| z.weight).sum::<u32>(), 1000);
        assert!(ZONES.iter().all(|z| z.country < COUNTRIES.len()));
    }

    #[test]
    fn numbers_are_written_in_every_style() {
        let uk = &COUNTRIES[HOME];
        let number = Number::dialled("442079460000");
        let text = |style| {
            let mut out = Vec::new();
            number.write(&mut out, uk, style);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(Style::E164), "+442079460000");
        assert_eq!(text(Style::Spaced), "+44 20 7946 0000");
        assert_eq!(text(Style::Digits), "442079460000");
        assert_eq!(text(Style::National), "02079460000");
        let us = &COUNTRIES[2];
        let mut out = Vec::new();
        Number::dialled("12125550100").write(&mut out, us, Style::Spaced);
        assert_eq!(out, b"+1 (212) 555-0100");
        assert_eq!(Number::extension(345).digits(), b"2345");
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        let drawn = Number::draw(&mut rng, uk, "4477");
        assert_eq!(drawn.digits().len(), 12);
        assert!(drawn.digits().starts_with(b"4477"));
        assert_eq!(stable_hash(1, b"a"), stable_hash(1, b"a"));
        assert_ne!(stable_hash(1, b"a"), stable_hash(2, b"a"));
    }
}

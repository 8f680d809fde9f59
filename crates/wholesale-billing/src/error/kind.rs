//! [`ErrorKind`]: the name of each variant of [`Error`], as a plain enum that callers (the
//! Python binding) can match exhaustively.

use super::Error;

/// Declares [`ErrorKind`] with one kind per variant of [`Error`], and [`Error::kind`]. The match
/// of `kind` is exhaustive: a variant added to [`Error`] without its kind here does not compile,
/// and neither does an exhaustive match on [`ErrorKind`] elsewhere (the Python binding's) until
/// the new kind is handled there.
macro_rules! error_kinds {
    ($($name:ident),* $(,)?) => {
        /// The kind of an [`Error`]: one per variant, without its fields.
        ///
        /// Not `#[non_exhaustive]` on purpose: a `match` on it without a `_` arm names every kind,
        /// so a kind added with a new variant cannot go unhandled silently.
        ///
        /// ```
        /// use wholesale_billing::{Error, ErrorKind};
        /// let err = "x".parse::<wholesale_billing::Quantity>().unwrap_err();
        /// assert_eq!(err.kind(), ErrorKind::InvalidQuantity);
        /// assert_eq!(err.kind().name(), "InvalidQuantity");
        /// assert!(ErrorKind::ALL.contains(&ErrorKind::MissingRate));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $(
                #[doc = concat!("[`Error::", stringify!($name), "`].")]
                $name,
            )*
        }

        impl ErrorKind {
            /// Every kind, in the order of the variants of [`Error`].
            ///
            /// ```
            /// use wholesale_billing::ErrorKind;
            /// assert_eq!(ErrorKind::ALL.first(), Some(&ErrorKind::Io));
            /// assert!(ErrorKind::ALL.len() > 50);
            /// ```
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$name),*];

            /// The variant's name.
            ///
            /// ```
            /// assert_eq!(wholesale_billing::ErrorKind::MissingRate.name(), "MissingRate");
            /// ```
            pub fn name(self) -> &'static str {
                match self {
                    $(ErrorKind::$name => stringify!($name),)*
                }
            }
        }

        impl Error {
            /// The kind of this error: which variant it is.
            ///
            /// ```
            /// use wholesale_billing::{ErrorKind, Period};
            /// let err = Period::from_dates("2024-05-02", "2024-05-01").unwrap_err();
            /// assert_eq!(err.kind(), ErrorKind::PeriodReversed);
            /// ```
            pub fn kind(&self) -> ErrorKind {
                match self {
                    $(Error::$name { .. } => ErrorKind::$name,)*
                }
            }
        }
    };
}

error_kinds![
    Io,
    Csv,
    WriteToml,
    WriteJson,
    ThreadFailed,
    Rejected,
    RecordsRejected,
    InvalidTimestamp,
    InvalidDate,
    InvalidQuantity,
    InvalidMoney,
    InvalidPrice,
    UnknownName,
    UnknownCurrency,
    InvalidCurrency,
    CurrencyMismatch,
    InvalidFile,
    Toml,
    Json,
    InvalidUtf8,
    EmptyOrganisationField,
    DuplicateOrgId,
    OrganisationTooLarge,
    IncompleteCatalogPackage,
    UnknownSubPartner,
    UnknownRowOrg,
    MinutesOfUnknownCustomer,
    MinutesCostMissing,
    NoCustomers,
    TooFewSubscribers,
    TooManySubscribers,
    GeneratorPackageMissing,
    PeriodReversed,
    PeriodMismatch,
    ReportWithoutPeriod,
    RowsOutsidePeriod,
    NotAWholeMonth,
    YearOutOfRange,
    WrongReportLevel,
    CannotRollUp,
    MixedReportLevels,
    NoReports,
    NothingToPlant,
    MissingRate,
    MissingPrice,
    TiersPerLocation,
    EmptySku,
    DuplicateSku,
    NegativePrice,
    NegativeValue,
    PercentAbove100,
    InvalidSkuPricing,
    OpenBandNotLast,
    BandsNotAscending,
    NegativeCommitment,
    NegativeFixedLine,
    CatalogRefused,
    NoOfferItems,
    MissingProductId,
    OfferItem,
    InvalidDecimalCount,
    TooManyDecimals,
    DifferingPrices,
    NoListPrice,
    MissingCurrency,
    ItemCurrencyConflict,
    MixedCurrencies,
    PrefixNotDigits,
    DuplicatePrefix,
    DuplicateTariffName,
    EmptyTariffField,
    IncrementTooSmall,
    TariffDecimals,
    RatingDecimalsTooMany,
    InvalidClockTime,
    EmptyBandRange,
    UnknownBand,
    UnknownDestination,
    UnusedClass,
    InconsistentDestination,
    PrefixTableNotLoaded,
    TariffCurrencyMismatch,
    UnknownAllowancePackage,
    Overflow,
];

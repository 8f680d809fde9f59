//! The one macro behind the crate's named values: enums whose every value has a fixed name in
//! files, reports and on the command line (`started`, `USER`, `sku_mismatch`, ...).
//!
//! `string_enum!` writes the enum as given (attributes, derives and serde renames included) and
//! derives from one list of `Variant = "name"` pairs:
//!
//! - `ALL`, every value in declaration order, and `as_str()`, the value's name;
//! - `Display`, the name (padded as asked: `{:<20}` works);
//! - `FromStr`, the name ignoring ASCII case and surrounding white space, refused with
//!   [`Error::UnknownName`](crate::Error::UnknownName) naming the set and listing every name;
//! - `from_name_bytes()`, the same match on bytes for the CSV readers (no trimming).
//!
//! An *open* enum (`other = Other`) also has a variant `Other(String)` for any name it does not
//! know; it has no `ALL` and no `FromStr`, and reads any text (`From<&str>`, `From<String>`),
//! keeping unknown text as sent. It serialises as its name.
//!
//! Serde names stay with serde's own attributes (`rename_all`); a unit test of each enum checks
//! that they are the names given here.
//!
//! A hand-written macro rather than `strum`: the crate's enums keep `ALL` as an array, `as_str()`
//! as a `const fn`, trimming and case-insensitive parsing, and parse errors of the crate's own
//! `Error` type with the list of names; strum would still need each of those written by hand
//! per enum, and a second spelling of every name next to serde's.

/// See the module documentation.
macro_rules! string_enum {
    // A closed set of values.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            #[doc = concat!("Every ", $what, ", in declaration order.\n\n```\nuse wholesale_billing::",
                stringify!($name), ";\nassert_eq!(", stringify!($name), "::ALL.map(|v| v.as_str()), [",
                $( "\"", $text, "\", ", )+ "]);\n```")]
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The names, in the order of `ALL`.
            const NAMES: [&'static str; [$($text),+].len()] = [$($text),+];

            #[doc = concat!("The name of the ", $what, ": ", $( "`", $text, "` ", )+
                "(its `Display` and what `FromStr` reads, ignoring case).\n\n```\nuse wholesale_billing::",
                stringify!($name), ";\nfor value in ", stringify!($name), "::ALL {\n",
                "    assert_eq!(value.as_str().parse::<", stringify!($name), ">()?, value);\n",
                "    assert_eq!(value.as_str().to_lowercase().parse::<", stringify!($name), ">()?, value);\n",
                "    assert_eq!(value.to_string(), value.as_str());\n}\n",
                "assert!(\"no such name\".parse::<", stringify!($name), ">().is_err());\n",
                "# Ok::<(), wholesale_billing::Error>(())\n```")]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The value named `name`, ignoring ASCII case (no trimming).
            #[allow(dead_code)]
            pub(crate) fn from_name_bytes(name: &[u8]) -> Option<$name> {
                // One comparison per name, unrolled: the events reader calls this per row.
                $( if name.eq_ignore_ascii_case($text.as_bytes()) {
                    return Some($name::$variant);
                } )+
                None
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> $crate::Result<$name> {
                $name::from_name_bytes(s.trim().as_bytes()).ok_or_else(|| $crate::Error::UnknownName {
                    what: $what,
                    value: s.to_owned(),
                    expected: &$name::NAMES,
                })
            }
        }
    };

    // An open set: the known values, and any other text as sent.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident($what:literal, other = $other:ident, path = $path:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// Any other value, as sent.
            $other(String),
        }

        impl $name {
            #[doc = concat!("The ", $what, " as written: ", $( "`", $text, "`, ", )+
                "or the other text as sent.\n\n```\nuse ", $path, "::", stringify!($name), ";\n",
                $( "assert_eq!(", stringify!($name), "::from(\"", $text, "\").as_str(), \"", $text, "\");\n", )+
                "assert_eq!(", stringify!($name), "::from(\"something new\").as_str(), \"something new\");\n```")]
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::$other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            /// The known value named `text` (ignoring ASCII case and surrounding white space), else
            /// the text as given.
            fn from(text: &str) -> Self {
                let name = text.trim();
                $( if name.eq_ignore_ascii_case($text) {
                    return $name::$variant;
                } )+
                $name::$other(text.to_owned())
            }
        }

        impl From<String> for $name {
            /// As `From<&str>`, keeping the string of an unknown value.
            fn from(text: String) -> Self {
                match $name::from(text.as_str()) {
                    $name::$other(_) => $name::$other(text),
                    known => known,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::Error;

    string_enum! {
        /// A test set.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Colour("colour") {
            /// Red.
            Red = "red",
            /// Dark blue.
            DarkBlue = "dark_blue",
        }
    }

    string_enum! {
        /// A test open set.
        #[derive(Debug, Clone, PartialEq, Eq)]
        enum Answer("answer", other = Other, path = "x") {
            /// Yes.
            Yes = "Yes",
            /// No.
            No = "No",
        }
    }

    #[test]
    fn closed_sets_parse_names_and_refuse_others() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::DarkBlue]);
        assert_eq!(" DARK_blue ".parse::<Colour>().unwrap(), Colour::DarkBlue);
        assert_eq!(format!("[{:>5}]", Colour::Red), "[  red]");
        assert_eq!(Colour::from_name_bytes(b"RED"), Some(Colour::Red));
        assert_eq!(Colour::from_name_bytes(b" red"), None);
        let err = "green".parse::<Colour>().unwrap_err();
        assert!(matches!(
            err,
            Error::UnknownName { what: "colour", ref value, expected: ["red", "dark_blue"] } if value == "green"
        ));
        assert_eq!(
            err.to_string(),
            "unknown colour \"green\" (expected one of: red, dark_blue)"
        );
    }

    /// Every value of `E` serialises as its name and reads back from it.
    fn serde_names_are_the_names<E>(all: &[E])
    where
        E: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + serde::Serialize,
    {
        for value in all {
            let json = serde_json::to_value(value).ok();
            assert_eq!(
                json.as_ref().and_then(|v| v.as_str()),
                Some(value.to_string().as_str()),
                "{value:?}"
            );
        }
    }

    fn serde_reads_the_names<E>(all: &[E])
    where
        E: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + serde::de::DeserializeOwned,
    {
        for value in all {
            let read: E = serde_json::from_value(serde_json::Value::String(value.to_string())).unwrap();
            assert_eq!(read, *value);
        }
    }

    #[test]
    fn every_named_enum_serialises_as_its_names() {
        use crate::{
            Action, FindingClass, FindingUnit, HourPolicy, IssueKind, LineKind, ReportLevel, RoundingMode, Severity,
            SubscriberType, TierKind, UnitMode,
        };
        serde_names_are_the_names(&HourPolicy::ALL);
        serde_names_are_the_names(&ReportLevel::ALL);
        serde_names_are_the_names(&Action::ALL);
        serde_names_are_the_names(&SubscriberType::ALL);
        serde_names_are_the_names(&IssueKind::ALL);
        serde_names_are_the_names(&Severity::ALL);
        serde_names_are_the_names(&FindingClass::ALL);
        serde_names_are_the_names(&FindingUnit::ALL);
        serde_names_are_the_names(&LineKind::ALL);
        serde_names_are_the_names(&UnitMode::ALL);
        serde_names_are_the_names(&TierKind::ALL);
        serde_names_are_the_names(&RoundingMode::ALL);
        serde_reads_the_names(&HourPolicy::ALL);
        serde_reads_the_names(&ReportLevel::ALL);
        serde_reads_the_names(&Action::ALL);
        serde_reads_the_names(&SubscriberType::ALL);
        serde_reads_the_names(&FindingClass::ALL);
        serde_reads_the_names(&FindingUnit::ALL);
        serde_reads_the_names(&LineKind::ALL);
        serde_reads_the_names(&UnitMode::ALL);
        serde_reads_the_names(&TierKind::ALL);
        serde_reads_the_names(&RoundingMode::ALL);
        for status in ["Success", "Warning", "Error"] {
            let status = crate::ccws::OfferStatus::from(status);
            let read: crate::ccws::OfferStatus =
                serde_json::from_str(&serde_json::to_string(&status).unwrap()).unwrap();
            assert_eq!(read, status);
            assert!(!matches!(status, crate::ccws::OfferStatus::Other(_)));
        }
    }

    #[test]
    fn open_sets_keep_other_text() {
        assert_eq!(Answer::from(" yes "), Answer::Yes);
        assert_eq!(Answer::from(String::from("NO")), Answer::No);
        assert_eq!(Answer::from(" Maybe "), Answer::Other(" Maybe ".into()));
        assert_eq!(Answer::Other("Maybe".into()).to_string(), "Maybe");
        assert_eq!(serde_json::to_string(&Answer::Yes).unwrap(), "\"Yes\"");
    }
}

//! The package catalog: package (API name) → `SERVICE_NAME`, `SKU`, `DESCRIPTION`.
//!
//! The catalog is data, not code. [`Catalog::default`] carries the packages known from the Webex
//! documents (SPEC.md §1); SKUs the documents do not give are **placeholders**, flagged by
//! [`CatalogEntry::placeholder`], to be configured in the organisation file.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::org::OrgFormat;
use crate::textfile::{parse_json, parse_toml, utf8_text};

/// The committed-spend SKU of the vendor invoice.
pub const COMMITTED_SPEND_SKU: &str = "A-W-CS-MNTH";

/// One package of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogEntry {
    /// The package's API name (`webex_calling`).
    pub package: String,
    /// The report's `SERVICE_NAME` (`WEBEX_CALLING`).
    pub service_name: String,
    /// The SKU billed (`A-W-WXC-CALL-U`).
    pub sku: String,
    /// The report's `DESCRIPTION`.
    pub description: String,
    /// True when the SKU is not known from the documents and was not configured: reports that
    /// use it should be checked.
    pub placeholder: bool,
}

/// A per-package override from the organisation file (`[catalog.webex_suite]`).
///
/// For a package the default catalog does not know, `sku` and `description` are required;
/// `service_name` defaults to the package name in upper case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogOverride {
    /// The SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The `SERVICE_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// The `DESCRIPTION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What [`Catalog::from_slice_with_format`] reads of an organisation file: its `catalog`; the
/// partner and sub-partners may be there and are not read, any other key is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogSection {
    #[serde(default, rename = "partner")]
    _partner: Option<IgnoredAny>,
    #[serde(default, rename = "sub_partners")]
    _sub_partners: Option<IgnoredAny>,
    #[serde(default)]
    catalog: BTreeMap<String, CatalogOverride>,
}

/// The file name in errors of [`Catalog::from_slice_with_format`].
const CATALOG_FILE: &str = "catalog file";

/// Index of a package in its [`Catalog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageId(pub(crate) u16);

impl PackageId {
    /// The position of the package in [`Catalog::entries`].
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// The packages a partner can assign, with what each is billed as.
///
/// ```
/// use wholesale_billing::Catalog;
/// let catalog = Catalog::default();
/// let calling = catalog.get("webex_calling").unwrap();
/// assert_eq!(calling.sku, "A-W-WXC-CALL-U");
/// assert_eq!(calling.service_name, "WEBEX_CALLING");
/// assert!(catalog.get("webex_suite").unwrap().placeholder);
/// assert!(catalog.get("WEBEX_CALLING").is_some(), "package names are case-insensitive");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
}

const DEFAULTS: [(&str, &str, &str, &str, bool); 6] = [
    (
        "common_area_calling",
        "COMMON_AREA_CALLING",
        "A-W-CA-CALL-U",
        "Wholesale Common Area Calling Usage",
        false,
    ),
    (
        "webex_calling",
        "WEBEX_CALLING",
        "A-W-WXC-CALL-U",
        "Wholesale Webex Calling Usage",
        false,
    ),
    (
        "webex_voice",
        "WEBEX_VOICE",
        "A-W-WXE-CALL-U",
        "Wholesale Enhanced Calling Usage",
        false,
    ),
    (
        "webex_meetings",
        "WEBEX_MEETINGS",
        "A-W-WXM-MEET-U",
        "Wholesale Webex Meetings Usage",
        false,
    ),
    (
        "webex_suite",
        "WEBEX_SUITE",
        "PLACEHOLDER-WEBEX-SUITE",
        "Wholesale Webex Suite Usage",
        true,
    ),
    (
        "cx_essentials",
        "CX_ESSENTIALS",
        "PLACEHOLDER-CX-ESSENTIALS",
        "Wholesale Customer Experience Essentials Usage",
        true,
    ),
];

impl Default for Catalog {
    fn default() -> Self {
        Catalog {
            entries: DEFAULTS
                .iter()
                .map(|&(package, service_name, sku, description, placeholder)| CatalogEntry {
                    package: package.to_owned(),
                    service_name: service_name.to_owned(),
                    sku: sku.to_owned(),
                    description: description.to_owned(),
                    placeholder,
                })
                .collect(),
        }
    }
}

impl Catalog {
    /// The default catalog with `overrides` applied (keys are package names).
    ///
    /// # Errors
    /// [`Error::EmptyOrganisationField`] for an empty package name or SKU,
    /// [`Error::IncompleteCatalogPackage`] for a new package without `sku` or `description`,
    /// [`Error::OrganisationTooLarge`] beyond 65,535 packages.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use wholesale_billing::{Catalog, CatalogOverride};
    /// let mut overrides = BTreeMap::new();
    /// overrides.insert("webex_suite".to_owned(), CatalogOverride {
    ///     sku: Some("A-W-SUITE-U".into()), ..Default::default()
    /// });
    /// let catalog = Catalog::with_overrides(&overrides)?;
    /// let suite = catalog.get("webex_suite").unwrap();
    /// assert_eq!(suite.sku, "A-W-SUITE-U");
    /// assert!(!suite.placeholder);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn with_overrides(overrides: &BTreeMap<String, CatalogOverride>) -> Result<Self> {
        let mut catalog = Catalog::default();
        for (package, o) in overrides {
            catalog.apply(package, o)?;
        }
        Ok(catalog)
    }

    /// The catalog of an organisation file (TOML or JSON, SPEC.md §2): the default catalog with
    /// the file's `[catalog.<package>]` overrides. Only `catalog` is read: the file may be a whole
    /// organisation file (its `partner` and `sub_partners` are skipped unread) or hold the
    /// catalog alone; a file without `catalog` gives the default catalog.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] naming the line, column and key path of bad syntax, of a key other
    /// than `partner`, `sub_partners` and `catalog` at the top, or of an unknown or mistyped key
    /// of an override, and the byte offset of bytes that are not UTF-8; as
    /// [`Catalog::with_overrides`] for an incomplete or empty override.
    ///
    /// ```
    /// use wholesale_billing::{Catalog, OrgFormat};
    /// let toml = b"[catalog.webex_suite]\nsku = \"A-W-SUITE-U\"\n";
    /// let catalog = Catalog::from_slice_with_format(toml, OrgFormat::Toml)?;
    /// assert_eq!(catalog.get("webex_suite").unwrap().sku, "A-W-SUITE-U");
    /// assert!(catalog.get("cx_essentials").unwrap().placeholder);
    ///
    /// let json = br#"{"partner": {"org_id": "p"}, "catalog": {"cx_essentials": {"sku": "A-W-CX-U"}}}"#;
    /// let catalog = Catalog::from_slice_with_format(json, OrgFormat::Json)?;
    /// assert!(!catalog.get("cx_essentials").unwrap().placeholder);
    ///
    /// let err = Catalog::from_slice_with_format(b"[catalog.webex_suite]\nskus = \"X\"\n", OrgFormat::Toml)
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("catalog file: line 2, column 1 at catalog.webex_suite"), "{err}");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_slice_with_format(bytes: &[u8], format: OrgFormat) -> Result<Self> {
        let text = utf8_text(bytes, CATALOG_FILE)?;
        let section: CatalogSection = match format {
            OrgFormat::Toml => parse_toml(text, CATALOG_FILE)?,
            OrgFormat::Json => parse_json(text, CATALOG_FILE, &[])?,
        };
        Catalog::with_overrides(&section.catalog)
    }

    fn apply(&mut self, package: &str, o: &CatalogOverride) -> Result<()> {
        let name = package.trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(Error::EmptyOrganisationField {
                field: "a catalog package name".to_owned(),
            });
        }
        for (field, value) in [
            ("sku", &o.sku),
            ("service_name", &o.service_name),
            ("description", &o.description),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(Error::EmptyOrganisationField {
                    field: format!("catalog.{name}.{field}"),
                });
            }
        }
        if let Some(entry) = self.entries.iter_mut().find(|e| e.package == name) {
            if let Some(sku) = &o.sku {
                entry.sku.clone_from(sku);
                entry.placeholder = false;
            }
            if let Some(service) = &o.service_name {
                entry.service_name.clone_from(service);
            }
            if let Some(description) = &o.description {
                entry.description.clone_from(description);
            }
            return Ok(());
        }
        let (Some(sku), Some(description)) = (&o.sku, &o.description) else {
            return Err(Error::IncompleteCatalogPackage { package: name });
        };
        if self.entries.len() >= usize::from(u16::MAX) {
            return Err(Error::OrganisationTooLarge {
                what: "catalog packages",
                count: self.entries.len() + 1,
                max: usize::from(u16::MAX),
            });
        }
        self.entries.push(CatalogEntry {
            service_name: o.service_name.clone().unwrap_or_else(|| name.to_ascii_uppercase()),
            package: name,
            sku: sku.clone(),
            description: description.clone(),
            placeholder: false,
        });
        Ok(())
    }

    /// All packages, in catalog order.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// The entry of a package name (case-insensitive).
    pub fn get(&self, package: &str) -> Option<&CatalogEntry> {
        self.lookup(package).map(|id| &self.entries[id.index()])
    }

    /// The id of a package name (case-insensitive).
    pub fn lookup(&self, package: &str) -> Option<PackageId> {
        self.entries
            .iter()
            .position(|e| e.package.eq_ignore_ascii_case(package))
            .map(|i| PackageId(i as u16))
    }

    /// The entry of a package id.
    ///
    /// # Panics
    /// When `id` comes from another catalog with more packages; [`Catalog::entries`] with
    /// `get(id.index())` is the checked form.
    pub fn entry(&self, id: PackageId) -> &CatalogEntry {
        &self.entries[id.index()]
    }

    /// The first entry billed as `sku`, if any.
    pub fn by_sku(&self, sku: &str) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.sku == sku)
    }

    /// Package names, comma-separated (for error hints).
    pub(crate) fn package_names(&self) -> String {
        self.entries
            .iter()
            .map(|e| e.package.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The overrides that turn the default catalog into this one (for writing organisation files).
    pub fn overrides(&self) -> BTreeMap<String, CatalogOverride> {
        let defaults = Catalog::default();
        let mut out = BTreeMap::new();
        for entry in &self.entries {
            let base = defaults.get(&entry.package);
            let differs = |a: &str, f: fn(&CatalogEntry) -> &str| base.is_none_or(|b| f(b) != a);
            let o = CatalogOverride {
                sku: differs(&entry.sku, |e| &e.sku).then(|| entry.sku.clone()),
                service_name: differs(&entry.service_name, |e| &e.service_name).then(|| entry.service_name.clone()),
                description: differs(&entry.description, |e| &e.description).then(|| entry.description.clone()),
            };
            if o != CatalogOverride::default() {
                out.insert(entry.package.clone(), o);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_package_needs_sku_and_description() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "webex_ai_agent".to_owned(),
            CatalogOverride {
                sku: Some("A-W-AI-U".into()),
                ..Default::default()
            },
        );
        let err = Catalog::with_overrides(&overrides).unwrap_err();
        assert!(err.to_string().contains("needs `sku` and `description`"), "{err}");
        overrides.get_mut("webex_ai_agent").unwrap().description = Some("AI Agent".into());
        let catalog = Catalog::with_overrides(&overrides).unwrap();
        let entry = catalog.get("webex_ai_agent").unwrap();
        assert_eq!(entry.service_name, "WEBEX_AI_AGENT");
        assert_eq!(catalog.overrides(), overrides_with_service(&overrides));
    }

    fn overrides_with_service(o: &BTreeMap<String, CatalogOverride>) -> BTreeMap<String, CatalogOverride> {
        let mut o = o.clone();
        o.get_mut("webex_ai_agent").unwrap().service_name = Some("WEBEX_AI_AGENT".into());
        o
    }

    #[test]
    fn empty_values_are_refused() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "webex_calling".to_owned(),
            CatalogOverride {
                sku: Some("  ".into()),
                ..Default::default()
            },
        );
        assert!(Catalog::with_overrides(&overrides).is_err());
    }

    #[test]
    fn a_catalog_is_read_from_an_organisation_file_and_nothing_else() {
        let org = "[partner]\norg_id = \"p\"\n\n[[sub_partners]]\nname = \"no org id: not read\"\n\n\
                   [catalog.webex_suite]\nsku = \"A-W-SUITE-TEST\"\n";
        let catalog = Catalog::from_slice_with_format(org.as_bytes(), OrgFormat::Toml).unwrap();
        assert_eq!(catalog.get("webex_suite").unwrap().sku, "A-W-SUITE-TEST");
        assert_eq!(
            Catalog::from_slice_with_format(b"", OrgFormat::Toml).unwrap(),
            Catalog::default()
        );
        assert_eq!(
            Catalog::from_slice_with_format(b"{}", OrgFormat::Json).unwrap(),
            Catalog::default()
        );

        let err = Catalog::from_slice_with_format(b"[catalg.webex_suite]\nsku = \"X\"\n", OrgFormat::Toml).unwrap_err();
        let text = crate::error_with_causes(&err);
        assert!(text.starts_with("catalog file: line 1, column 2"), "{text}");
        assert!(text.contains("unknown field `catalg`"), "{text}");
        let err = Catalog::from_slice_with_format(br#"{"catalog": {"x": {"sku": "A"}}}"#, OrgFormat::Json).unwrap_err();
        assert!(matches!(err, Error::IncompleteCatalogPackage { .. }), "{err}");
        let err = Catalog::from_slice_with_format(b"[catalog.x]\nsku = \"\xff\"\n", OrgFormat::Toml).unwrap_err();
        assert!(
            crate::error_with_causes(&err).contains("invalid utf-8 at byte 19"),
            "{err}"
        );
    }

    #[test]
    fn default_has_no_overrides() {
        assert!(Catalog::default().overrides().is_empty());
    }
}

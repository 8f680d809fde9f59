//! The organisation: the partner, its sub-partners and its catalog (SPEC.md §1–§2).
//!
//! Read from an organisation file, TOML or JSON with the same structure:
//!
//! ```toml
//! [partner]
//! org_id = "..."
//! name = "..."
//! subscription_id = "..."
//!
//! [[sub_partners]]
//! org_id = "..."
//! name = "..."
//! billing_start = "2024-05-10T12:00:00Z"   # optional, RFC 3339
//!
//! [catalog.webex_suite]                     # optional, per package
//! sku = "..."
//! ```

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogOverride};
use crate::error::{Error, Result};
use crate::textfile::{parse_json, parse_toml, utf8_text};
use crate::time::Timestamp;

/// The service provider holding the Webex Wholesale subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// The partner's org id.
    pub org_id: String,
    /// The partner's name (`PARTNER_NAME`).
    pub name: String,
    /// The Wholesale subscription id (`SUBSCRIPTION_ID`), shared by every sub-partner.
    pub subscription_id: String,
}

/// A reseller under the partner, sharing its subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubPartner {
    /// The sub-partner's org id (`subPartnerOrgId`).
    pub org_id: String,
    /// The sub-partner's name (its reports' `PARTNER_NAME`).
    pub name: String,
    /// Usage of its customers before this instant is not billed; `None`: all usage counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_start: Option<Timestamp>,
}

/// Who owns a customer, and whose report it appears in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    /// The partner itself.
    Partner,
    /// The sub-partner at this index of [`Organisation::sub_partners`].
    SubPartner(u16),
}

/// The partner, its sub-partners and the catalog: everything a usage report needs besides events.
///
/// ```
/// use wholesale_billing::Organisation;
/// let org = Organisation::from_toml_str(r#"
///     [partner]
///     org_id = "p-1"
///     name = "Acme Telecom"
///     subscription_id = "Sub123"
///
///     [[sub_partners]]
///     org_id = "sp-1"
///     name = "Reseller One"
///     billing_start = "2024-05-10T12:00:00+02:00"
///
///     [catalog.webex_suite]
///     sku = "A-W-SUITE-U"
/// "#)?;
/// assert_eq!(org.partner.name, "Acme Telecom");
/// assert_eq!(org.sub_partners[0].billing_start.unwrap().to_string(), "2024-05-10T10:00:00Z");
/// assert_eq!(org.catalog.get("webex_suite").unwrap().sku, "A-W-SUITE-U");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// The partner.
    pub partner: Partner,
    /// The sub-partners, in file order.
    pub sub_partners: Vec<SubPartner>,
    /// The package catalog (defaults with the file's overrides).
    pub catalog: Catalog,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationFile {
    partner: Partner,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sub_partners: Vec<SubPartner>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    catalog: BTreeMap<String, CatalogOverride>,
}

/// The two forms of an organisation file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgFormat {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl OrgFormat {
    /// The format a file name implies (`.json` → JSON, anything else → TOML).
    ///
    /// ```
    /// use wholesale_billing::OrgFormat;
    /// assert_eq!(OrgFormat::from_file_name("org.JSON"), OrgFormat::Json);
    /// assert_eq!(OrgFormat::from_file_name("org.toml"), OrgFormat::Toml);
    /// ```
    pub fn from_file_name(name: &str) -> Self {
        if name.to_ascii_lowercase().ends_with(".json") {
            OrgFormat::Json
        } else {
            OrgFormat::Toml
        }
    }
}

impl Organisation {
    /// A new organisation with no sub-partners and the default catalog.
    ///
    /// # Errors
    /// [`Error::EmptyOrganisationField`] when a field is empty.
    pub fn new(partner: Partner) -> Result<Self> {
        let org = Organisation {
            partner,
            sub_partners: Vec::new(),
            catalog: Catalog::default(),
        };
        org.validate()?;
        Ok(org)
    }

    /// Reads a TOML organisation file.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] with line, column and key path for bad syntax or a missing,
    /// unknown or mistyped key (its source, [`Error::Toml`], says what is wrong); as
    /// [`Organisation::validate`] for duplicate org ids or empty names;
    /// [`Error::EmptyOrganisationField`], [`Error::IncompleteCatalogPackage`] or
    /// [`Error::OrganisationTooLarge`] for a bad catalog override.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        Organisation::from_file(parse_toml(text, FILE)?)
    }

    /// Reads a JSON organisation file (same structure as the TOML form).
    ///
    /// # Errors
    /// As [`Organisation::from_toml_str`].
    ///
    /// ```
    /// let err = wholesale_billing::Organisation::from_json_str(r#"{"partner": {"org_id": "p", "name": "P"}}"#)
    ///     .unwrap_err();
    /// assert_eq!(wholesale_billing::error_with_causes(&err),
    ///     "organisation file: line 1, column 40 at partner: missing field `subscription_id`");
    /// ```
    pub fn from_json_str(text: &str) -> Result<Self> {
        Organisation::from_file(parse_json(text, FILE, &[])?)
    }

    /// Reads an organisation file in the given format.
    ///
    /// # Errors
    /// As [`Organisation::from_toml_str`].
    pub fn from_str_with_format(text: &str, format: OrgFormat) -> Result<Self> {
        match format {
            OrgFormat::Toml => Organisation::from_toml_str(text),
            OrgFormat::Json => Organisation::from_json_str(text),
        }
    }

    /// Reads an organisation file from its bytes, in the given format.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] naming the line, column and byte offset of the first byte that is
    /// not UTF-8 (its source is an [`Error::InvalidUtf8`]), else as
    /// [`Organisation::from_toml_str`].
    ///
    /// ```
    /// use wholesale_billing::{Organisation, OrgFormat, error_with_causes};
    /// let bytes = b"[partner]\norg_id = \"p\"\nname = \"Caf\xe9\"\nsubscription_id = \"S\"\n";
    /// let err = Organisation::from_slice_with_format(bytes, OrgFormat::Toml).unwrap_err();
    /// assert_eq!(error_with_causes(&err), "organisation file: line 3, column 12: invalid utf-8 at byte 34: \
    ///     invalid utf-8 sequence of 1 bytes from index 34");
    /// ```
    pub fn from_slice_with_format(bytes: &[u8], format: OrgFormat) -> Result<Self> {
        Organisation::from_str_with_format(utf8_text(bytes, FILE)?, format)
    }

    /// Reads an organisation file from any reader.
    ///
    /// # Errors
    /// [`Error::Io`] when reading fails, else as [`Organisation::from_slice_with_format`].
    pub fn from_reader(mut reader: impl std::io::Read, format: OrgFormat) -> Result<Self> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("reading the organisation file", e))?;
        Organisation::from_slice_with_format(&bytes, format)
    }

    fn from_file(file: OrganisationFile) -> Result<Self> {
        let org = Organisation {
            partner: file.partner,
            sub_partners: file.sub_partners,
            catalog: Catalog::with_overrides(&file.catalog)?,
        };
        org.validate()?;
        Ok(org)
    }

    /// Checks names and ids: none empty, org ids unique, at most 65,534 sub-partners.
    ///
    /// # Errors
    /// The first problem: [`Error::EmptyOrganisationField`], [`Error::OrganisationTooLarge`] or
    /// [`Error::DuplicateOrgId`].
    pub fn validate(&self) -> Result<()> {
        let empty = |field: String| Err(Error::EmptyOrganisationField { field });
        for (field, value) in [
            ("partner.org_id", &self.partner.org_id),
            ("partner.name", &self.partner.name),
            ("partner.subscription_id", &self.partner.subscription_id),
        ] {
            if value.trim().is_empty() {
                return empty(field.to_owned());
            }
        }
        if self.sub_partners.len() >= usize::from(u16::MAX) {
            return Err(Error::OrganisationTooLarge {
                what: "sub-partners",
                count: self.sub_partners.len(),
                max: usize::from(u16::MAX) - 1,
            });
        }
        let mut seen = HashSet::new();
        seen.insert(self.partner.org_id.as_str());
        for (i, sp) in self.sub_partners.iter().enumerate() {
            if sp.org_id.trim().is_empty() {
                return empty(format!("sub_partners[{i}].org_id"));
            }
            if sp.name.trim().is_empty() {
                return empty(format!("sub_partners[{i}].name"));
            }
            if !seen.insert(sp.org_id.as_str()) {
                return Err(Error::DuplicateOrgId {
                    org_id: sp.org_id.clone(),
                    index: i,
                });
            }
        }
        Ok(())
    }

    /// Writes the organisation as a TOML organisation file.
    ///
    /// # Errors
    /// [`Error::WriteToml`] if TOML cannot represent a value (never for valid data).
    ///
    /// ```
    /// use wholesale_billing::{Organisation, Partner};
    /// let org = Organisation::new(Partner {
    ///     org_id: "p-1".into(), name: "Acme".into(), subscription_id: "Sub1".into(),
    /// })?;
    /// let text = org.to_toml_string()?;
    /// assert_eq!(Organisation::from_toml_str(&text)?, org);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(&self.to_file()).map_err(|source| Error::WriteToml {
            what: "organisation",
            source,
        })
    }

    /// Writes the organisation as a JSON organisation file (pretty-printed).
    ///
    /// # Errors
    /// Never for valid data; typed for symmetry with [`Organisation::to_toml_string`].
    pub fn to_json_string(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.to_file()).map_err(|source| Error::WriteJson {
            what: "organisation",
            source,
        })
    }

    fn to_file(&self) -> OrganisationFile {
        OrganisationFile {
            partner: self.partner.clone(),
            sub_partners: self.sub_partners.clone(),
            catalog: self.catalog.overrides(),
        }
    }

    /// The owner with this org id: the partner or one of the sub-partners.
    pub fn owner_by_org_id(&self, org_id: &str) -> Option<Owner> {
        if org_id == self.partner.org_id {
            return Some(Owner::Partner);
        }
        self.sub_partner_index(org_id).map(Owner::SubPartner)
    }

    /// The index of the sub-partner with this org id.
    pub fn sub_partner_index(&self, org_id: &str) -> Option<u16> {
        self.sub_partners
            .iter()
            .position(|sp| sp.org_id == org_id)
            .map(|i| i as u16)
    }

    /// The sub-partner with this org id.
    ///
    /// # Errors
    /// [`Error::UnknownSubPartner`] listing the known sub-partners.
    pub fn sub_partner(&self, org_id: &str) -> Result<&SubPartner> {
        self.sub_partners
            .iter()
            .find(|sp| sp.org_id == org_id)
            .ok_or_else(|| Error::UnknownSubPartner {
                org_id: org_id.to_owned(),
                known: self.sub_partners.iter().map(|s| s.org_id.clone()).collect(),
            })
    }

    /// The name and org id that an owner's reports carry (`PARTNER_NAME`, `PARTNER_ORG_ID`).
    pub fn owner_identity(&self, owner: Owner) -> (&str, &str) {
        match owner {
            Owner::Partner => (&self.partner.name, &self.partner.org_id),
            Owner::SubPartner(i) => self
                .sub_partners
                .get(usize::from(i))
                .map_or((&self.partner.name, &self.partner.org_id), |sp| {
                    (sp.name.as_str(), sp.org_id.as_str())
                }),
        }
    }

    /// The billing start of an owner (`None` for the partner and for sub-partners without one).
    pub fn billing_start(&self, owner: Owner) -> Option<Timestamp> {
        match owner {
            Owner::Partner => None,
            Owner::SubPartner(i) => self.sub_partners.get(usize::from(i)).and_then(|sp| sp.billing_start),
        }
    }
}

/// The file name in errors.
const FILE: &str = "organisation file";

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[partner]
org_id = "p-1"
name = "Acme"
subscription_id = "Sub1"

[[sub_partners]]
org_id = "sp-1"
name = "One"
billing_start = "2024-05-10T12:00:00Z"
"#;

    #[test]
    fn toml_and_json_agree() {
        let from_toml = Organisation::from_toml_str(TOML).unwrap();
        let json = from_toml.to_json_string().unwrap();
        let from_json = Organisation::from_json_str(&json).unwrap();
        assert_eq!(from_toml, from_json);
        assert_eq!(from_toml.owner_by_org_id("sp-1"), Some(Owner::SubPartner(0)));
        assert_eq!(from_toml.owner_by_org_id("p-1"), Some(Owner::Partner));
        assert_eq!(from_toml.owner_by_org_id("x"), None);
    }

    #[test]
    fn toml_errors_are_located() {
        let bad = TOML.replace(
            "billing_start = \"2024-05-10T12:00:00Z\"",
            "billing_start = \"2024-05-10\"",
        );
        let err = crate::error_with_causes(&Organisation::from_toml_str(&bad).unwrap_err());
        assert!(err.contains("line 10"), "{err}");
        assert!(err.contains("sub_partners[0].billing_start"), "{err}");

        let typo = TOML.replace("name = \"One\"", "nmae = \"One\"");
        let err = crate::error_with_causes(&Organisation::from_toml_str(&typo).unwrap_err());
        assert!(err.contains("nmae"), "{err}");
        assert!(err.contains("line 9"), "{err}");

        let syntax = "[partner\norg_id = 1";
        let err = Organisation::from_toml_str(syntax).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn duplicate_org_ids_are_refused() {
        let dup = TOML.replace("org_id = \"sp-1\"", "org_id = \"p-1\"");
        let err = Organisation::from_toml_str(&dup).unwrap_err();
        assert!(
            matches!(&err, Error::DuplicateOrgId { org_id, index: 0 } if org_id == "p-1"),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "invalid organisation: org id \"p-1\" appears twice (sub_partners[0])"
        );
    }

    #[test]
    fn json_trailing_garbage_is_refused() {
        let json = Organisation::from_toml_str(TOML).unwrap().to_json_string().unwrap() + " x";
        assert!(Organisation::from_json_str(&json).is_err());
    }

    #[test]
    fn unknown_sub_partner_lists_known() {
        let org = Organisation::from_toml_str(TOML).unwrap();
        let err = org.sub_partner("nope").unwrap_err().to_string();
        assert_eq!(err, "unknown sub-partner \"nope\"; known: sp-1");
    }
}

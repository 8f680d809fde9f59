//! The customers of the dataset, as the Wholesale Customers API shows them: every customer named by
//! an `ASSIGN` row, with its owner, latest external id and every package ever assigned.

use std::collections::BTreeMap;

use wholesale_billing::AssignmentLedger;

/// One customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomerEntry {
    pub(crate) org_id: String,
    /// The latest non-empty external id, in time order (ties: file order), as the ledger keeps it.
    pub(crate) external_id: String,
    /// The org id of the partner or sub-partner owning it.
    pub(crate) owner_org_id: String,
    /// API package names, sorted.
    pub(crate) packages: Vec<String>,
}

/// The customers, by org id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    customers: BTreeMap<String, CustomerEntry>,
}

impl Directory {
    /// The customers of a ledger, with the org id of their owner.
    pub(crate) fn from_ledger(ledger: &AssignmentLedger) -> Self {
        let org = ledger.organisation();
        let customers = ledger
            .customers()
            .into_iter()
            .map(|c| {
                let entry = CustomerEntry {
                    org_id: c.org_id.to_owned(),
                    external_id: c.external_id.to_owned(),
                    owner_org_id: org.owner_identity(c.owner).1.to_owned(),
                    packages: c.packages.iter().map(|p| (*p).to_owned()).collect(),
                };
                (entry.org_id.clone(), entry)
            })
            .collect();
        Directory { customers }
    }

    /// The customers owned by `owner_org_id`, by org id.
    pub(crate) fn owned_by<'a>(&'a self, owner_org_id: &'a str) -> impl Iterator<Item = &'a CustomerEntry> + 'a {
        self.customers.values().filter(move |c| c.owner_org_id == owner_org_id)
    }

    /// The customer with this org id.
    pub(crate) fn get(&self, org_id: &str) -> Option<&CustomerEntry> {
        self.customers.get(org_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_owners_external_ids_and_packages() {
        let org = wholesale_billing::Organisation::from_toml_str(
            "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n\
             [[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"\n",
        )
        .unwrap();
        let csv = "\u{feff}Event ID,Occurred At,ACTION,subscriber_id,customer_org_id,customer_external_id,\
                   sub_partner_org_id,subscriber_type,package\n\
                   e1,2024-05-02T00:00:00Z,ASSIGN,s1,c1,NEW,,USER,Webex_Calling\n\
                   e2,2024-05-01T00:00:00Z,assign,s2,c1,OLD,,USER,webex_voice\n\
                   e3,2024-05-03T00:00:00Z,REMOVE,s1,,,,,\n\
                   e4,2024-05-01T00:00:00Z,ASSIGN,s3,c2,,sp,WORKSPACE,common_area_calling\n";
        let (ledger, _) = AssignmentLedger::from_csv(csv.as_bytes(), org, wholesale_billing::LoadMode::Strict).unwrap();
        let d = Directory::from_ledger(&ledger);
        let c1 = d.get("c1").unwrap();
        assert_eq!(c1.external_id, "NEW");
        assert_eq!(c1.packages, vec!["webex_calling", "webex_voice"]);
        assert_eq!(c1.owner_org_id, "p");
        let sp: Vec<_> = d.owned_by("sp").map(|c| c.org_id.as_str()).collect();
        assert_eq!(sp, vec!["c2"]);
        assert_eq!(d.get("c2").unwrap().external_id, "");
    }
}

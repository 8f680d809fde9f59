//! Turns a small assignment history into the three usage report levels for May 2024.
//!
//! Run with `cargo run -p wholesale-billing-examples --example monthly_usage`.

use wholesale_billing::{
    AssignmentLedger, Event, HourPolicy, LoadMode, Organisation, Period, ReportLevel, ReportOptions, Scope, SubPartner,
};

fn main() -> wholesale_billing::Result<()> {
    let mut org = Organisation::from_toml_str(
        r#"
        [partner]
        org_id = "partner-1"
        name = "Acme Telecom"
        subscription_id = "Sub1234567"
        "#,
    )?;
    org.sub_partners.push(SubPartner {
        org_id: "reseller-1".into(),
        name: "Reseller One".into(),
        billing_start: Some("2024-05-10T12:00:00Z".parse()?),
    });

    let at = |text: &str| text.parse();
    let mut builder = AssignmentLedger::builder(org);
    builder
        .push(Event::assign("e1", at("2024-04-20T09:00:00Z")?, "sub-1", "cust-1", "webex_calling").user("user-1"))
        .push(Event::assign("e2", at("2024-05-03T10:30:00Z")?, "sub-1", "cust-1", "webex_suite").user("user-1"))
        .push(
            Event::assign(
                "e3",
                at("2024-05-01T00:00:00+02:00")?,
                "ws-1",
                "cust-1",
                "common_area_calling",
            )
            .workspace("ws-1"),
        )
        .push(Event::remove("e4", at("2024-05-20T18:00:00Z")?, "ws-1"))
        .push(
            Event::assign("e5", at("2024-05-01T00:00:00Z")?, "sub-2", "cust-2", "webex_voice")
                .user("user-2")
                .sub_partner("reseller-1"),
        );
    let (ledger, diagnostics) = builder.finish(LoadMode::Strict)?;
    println!(
        "{} events accepted, {} warnings",
        diagnostics.rows_accepted,
        diagnostics.warning_count()
    );

    let may = Period::month(2024, 5)?;
    for scope in [Scope::Partner, Scope::SubPartner("reseller-1".into())] {
        for level in [ReportLevel::User, ReportLevel::Customer, ReportLevel::Partner] {
            let options = ReportOptions::new(level)
                .scope(scope.clone())
                .hour_policy(HourPolicy::Started);
            let report = ledger.usage_report(may, &options)?;
            println!("\n{scope:?} {level} report, {} rows:", report.len());
            report.write_csv(std::io::stdout().lock())?;
        }
    }
    Ok(())
}

//! The report e-mail of a period: its destinations (the `rua` URIs, the
//! external ones checked in DNS) and the message, built by the core
//! (`mailauth::report::deliver`).

use mailauth::Machine;
use mailauth::dns::Name;
use mailauth::machine::Poll;
use mailauth::report::deliver::{
    Authorization, EmailParams, ExternalCheck, destinations, report_email,
};
use mailauth::report::xml::XmlForm;
use mailauth::session::Settings;
use mailauth_store::PeriodReport;

/// A report e-mail ready to go.
pub(crate) struct Email {
    /// The message (CRLF line ends).
    pub(crate) bytes: Vec<u8>,
    /// The addresses it is for (also in its To field).
    pub(crate) recipients: Vec<String>,
}

/// Why a period has no e-mail.
pub(crate) enum NoEmail {
    /// The domain asks for none: no usable `rua`, no authorized external
    /// destination, or the report is larger than every destination takes.
    Nowhere(String),
}

/// The report e-mail of `period` at `now`, or why there is none.
///
/// # Errors
/// A message when it cannot be decided now (a DNS lookup of the external
/// destination check failed for now) or the e-mail cannot be built: the
/// period is tried again at the next run.
pub(crate) fn build(
    settings: &Settings,
    period: &PeriodReport,
    report_id: &str,
    now: u64,
) -> Result<Result<Email, NoEmail>, String> {
    let report = &settings.file().report;
    let domain = &period.policy_published.domain;
    let listed = destinations(
        &period.aggregate_report_uris,
        settings.file().dmarc.max_report_uris,
    );
    if listed.is_empty() {
        return Ok(Err(NoEmail::Nowhere(
            "no usable rua destination".to_owned(),
        )));
    }
    let policy_domain = Name::new(domain).map_err(|e| format!("policy domain {domain}: {e}"))?;
    let psl = settings.inbound_config().dmarc.public_suffix_list();
    let mut check = ExternalCheck::new(&policy_domain, listed, &psl);
    // The resolver is made only when an external destination needs a
    // lookup.
    let mut resolver = None;
    let checked = loop {
        match check.poll() {
            Poll::Done(checked) => break checked,
            Poll::Lookups(queries) => {
                let resolver = match &mut resolver {
                    Some(resolver) => resolver,
                    None => resolver.insert(
                        settings
                            .dns()
                            .resolver()
                            .map_err(|e| format!("DNS resolver: {e}"))?,
                    ),
                };
                for query in queries {
                    let answer = mailauth::dns::Resolver::lookup(&*resolver, &query);
                    check
                        .supply(&query, answer)
                        .map_err(|e| format!("external destination check: {e:?}"))?;
                }
            }
        }
    };
    let mut accepted = Vec::new();
    for (destination, authorization) in checked {
        match authorization {
            Authorization::SameOrganization | Authorization::Authorized => {
                accepted.push(destination);
            }
            Authorization::TempError => {
                return Err(format!(
                    "the external destination check of {} failed for now",
                    destination.uri
                ));
            }
            _ => {}
        }
    }
    if accepted.is_empty() {
        return Ok(Err(NoEmail::Nowhere(
            "no rua destination authorized to receive the reports".to_owned(),
        )));
    }
    let receiver = report
        .email
        .rsplit_once('@')
        .map_or(report.org_name.as_str(), |(_, domain)| domain)
        .to_owned();
    let feedback = period.feedback(&report.org_name, &report.email, report_id);
    let mut params = EmailParams {
        from: report.email.clone(),
        to: accepted.iter().filter_map(|d| d.mailbox.clone()).collect(),
        receiver: receiver.clone(),
        message_id: format!("{report_id}@{receiver}"),
        date: rfc5322_date(now),
        boundary: format!("=_mailauth_{}", report_id.replace(['!', ' '], "_")),
        unique_id: None,
        form: XmlForm::Rfc9990,
    };
    let (bytes, size) = report_email(&feedback, &params).map_err(|e| e.to_string())?;
    // Destinations that take a report this size only.
    let fits: Vec<String> = accepted
        .iter()
        .filter(|d| d.accepts(size))
        .filter_map(|d| d.mailbox.clone())
        .collect();
    if fits.is_empty() {
        return Ok(Err(NoEmail::Nowhere(format!(
            "the report ({size} bytes compressed) is larger than every destination takes"
        ))));
    }
    if fits.len() == params.to.len() {
        return Ok(Ok(Email {
            bytes,
            recipients: fits,
        }));
    }
    params.to.clone_from(&fits);
    let (bytes, _) = report_email(&feedback, &params).map_err(|e| e.to_string())?;
    Ok(Ok(Email {
        bytes,
        recipients: fits,
    }))
}

/// An RFC 5322 date-time in UTC: `Fri, 04 Dec 2026 10:00:00 +0000`.
pub(crate) fn rfc5322_date(time: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = time / 86_400;
    let seconds = time % 86_400;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::rfc5322_date;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_700_000_000),
            "Tue, 14 Nov 2023 22:13:20 +0000"
        );
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_796_342_400),
            "Fri, 04 Dec 2026 00:00:00 +0000"
        );
    }
}

//! The report e-mail of a period: its recipients (the `rua` mailto URIs)
//! and the message.

use mailauth::report::Feedback;
use mailauth::session::Settings;
use mailauth_store::PeriodReport;

/// The addresses of the `mailto:` URIs of `rua` (RFC 9990: `mailto:ADDR`,
/// optionally `!SIZE`), lowercase domain; other schemes are not
/// supported and skipped.
pub(crate) fn recipients(
    _settings: &Settings,
    period: &PeriodReport,
) -> Result<Vec<String>, String> {
    let mut addresses = Vec::new();
    for uri in &period.aggregate_report_uris {
        let Some(rest) = uri.trim().strip_prefix("mailto:") else {
            continue;
        };
        let address = rest.split('!').next().unwrap_or("").trim();
        if address.contains('@')
            && !address.contains(|c: char| c.is_control() || c == ',' || c.is_whitespace())
            && !addresses
                .iter()
                .any(|a: &String| a.eq_ignore_ascii_case(address))
        {
            addresses.push(address.to_owned());
        }
    }
    Ok(addresses)
}

/// The report e-mail (RFC 9990 §5: the gzipped XML attached).
pub(crate) fn build(
    _settings: &Settings,
    _feedback: &Feedback,
    _recipients: &[String],
    _now: u64,
) -> Result<Vec<u8>, String> {
    Err("report rendering is not in this build yet".to_owned())
}

//! The core's report model in the store: a [`report::Verdict`] becomes an
//! [`Entry`] (its record key and published policy as JSON, the key's
//! digest as the row's identity), and stored rows become
//! [`report::Record`]s and a [`PeriodReport`] again.
//!
//! The JSON is the store's own format (the model types carry no serde):
//! keywords as the report writes them (`as_str`), read back with the
//! keyword's `parse`, so an unknown word survives as `Other`.

use std::net::IpAddr;

use mailauth::report::aggregate::{
    AlignedResult, Alignment, DiscoveryMethod, Disposition, DkimResult, PolicyOverride,
    PublishedPolicy, SpfResult, SpfScope,
};
use mailauth::report::{
    AuthResults, DateRange, DkimAuthResult, Feedback, Identifiers, PolicyEvaluated,
    PolicyOverrideReason, PolicyPublished, Record, RecordKey, ReportMetadata, SpfAuthResult,
    Verdict,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::period::Period;
use crate::recorder::Recordable;
use crate::store::{Entry, StoreError, Stored};

/// The record key as the store's JSON.
pub fn record_json(key: &RecordKey) -> String {
    let evaluated = &key.policy_evaluated;
    let reasons: Vec<Value> = evaluated
        .reasons
        .iter()
        .map(|r| json!({"type": r.kind.as_str(), "comment": r.comment}))
        .collect();
    let dkim: Vec<Value> = key
        .auth_results
        .dkim
        .iter()
        .map(|d| {
            json!({"domain": d.domain, "selector": d.selector, "result": d.result.as_str(),
                   "human_result": d.human_result})
        })
        .collect();
    let spf: Vec<Value> = key
        .auth_results
        .spf
        .iter()
        .map(|s| {
            json!({"domain": s.domain, "scope": s.scope.as_ref().map(SpfScope::as_str),
                   "result": s.result.as_str(), "human_result": s.human_result})
        })
        .collect();
    json!({
        "source_ip": key.source_ip.to_string(),
        "disposition": evaluated.disposition.as_str(),
        "dkim": evaluated.dkim.as_ref().map(AlignedResult::as_str),
        "spf": evaluated.spf.as_ref().map(AlignedResult::as_str),
        "reasons": reasons,
        "header_from": key.identifiers.header_from,
        "envelope_from": key.identifiers.envelope_from,
        "envelope_to": key.identifiers.envelope_to,
        "dkim_results": dkim,
        "spf_results": spf,
    })
    .to_string()
}

/// The published policy and the report URIs (`rua`) as the store's JSON.
pub fn policy_json(policy: &PolicyPublished, aggregate_report_uris: &[String]) -> String {
    json!({
        "domain": policy.domain,
        "adkim": policy.dkim_alignment.as_ref().map(Alignment::as_str),
        "aspf": policy.spf_alignment.as_ref().map(Alignment::as_str),
        "p": policy.policy.as_ref().map(PublishedPolicy::as_str),
        "sp": policy.subdomain_policy.as_ref().map(PublishedPolicy::as_str),
        "np": policy.nonexistent_subdomain_policy.as_ref().map(PublishedPolicy::as_str),
        "testing": policy.testing,
        "pct": policy.percent,
        "fo": policy.failure_options,
        "discovery_method": policy.discovery_method.as_ref().map(DiscoveryMethod::as_str),
        "rua": aggregate_report_uris,
    })
    .to_string()
}

/// The row identity of a record: the SHA-256 of its JSON, in hex.
pub fn row_key(record_json: &str) -> String {
    let digest = Sha256::digest(record_json.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Recordable for Verdict {
    fn entry(&self, period: Period) -> Option<Entry> {
        let domain = self.report_key();
        if domain.is_empty() {
            return None;
        }
        let record = record_json(&self.record_key());
        Some(Entry {
            period,
            policy_domain: domain.to_owned(),
            key: row_key(&record),
            record,
            policy: policy_json(&self.policy_published, &self.aggregate_report_uris),
            count: 1,
        })
    }
}

fn parse(text: &str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StoreError::Data("not a JSON object".to_owned())),
        Err(e) => Err(StoreError::Data(e.to_string())),
    }
}

fn text(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn required(map: &Map<String, Value>, name: &str) -> Result<String, StoreError> {
    text(map, name).ok_or_else(|| StoreError::Data(format!("no {name}")))
}

fn objects<'a>(map: &'a Map<String, Value>, name: &str) -> Vec<&'a Map<String, Value>> {
    map.get(name)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

/// A stored record's JSON and count as the core's [`Record`].
///
/// # Errors
/// [`StoreError::Data`] for JSON this crate did not write.
pub fn record_from_json(text_json: &str, count: u64) -> Result<Record, StoreError> {
    let map = parse(text_json)?;
    let source_ip: IpAddr = required(&map, "source_ip")?
        .parse()
        .map_err(|_| StoreError::Data("bad source_ip".to_owned()))?;
    let reasons = objects(&map, "reasons")
        .into_iter()
        .map(|r| {
            let mut reason = PolicyOverrideReason::new(PolicyOverride::parse(
                &text(r, "type").unwrap_or_default(),
            ));
            reason.comment = text(r, "comment");
            reason
        })
        .collect();
    let evaluated = PolicyEvaluated::new(
        Disposition::parse(&required(&map, "disposition")?),
        text(&map, "dkim").map(|w| AlignedResult::parse(&w)),
        text(&map, "spf").map(|w| AlignedResult::parse(&w)),
        reasons,
    );
    let mut identifiers = Identifiers::default();
    identifiers.header_from = required(&map, "header_from")?;
    identifiers.envelope_from = text(&map, "envelope_from");
    identifiers.envelope_to = text(&map, "envelope_to");
    let mut auth = AuthResults::default();
    for d in objects(&map, "dkim_results") {
        let mut result = DkimAuthResult::new(
            required(d, "domain")?,
            text(d, "selector"),
            DkimResult::parse(&required(d, "result")?),
        );
        result.human_result = text(d, "human_result");
        auth.dkim.push(result);
    }
    for s in objects(&map, "spf_results") {
        let mut result = SpfAuthResult::new(
            required(s, "domain")?,
            text(s, "scope").map(|w| SpfScope::parse(&w)),
            SpfResult::parse(&required(s, "result")?),
        );
        result.human_result = text(s, "human_result");
        auth.spf.push(result);
    }
    Ok(Record::new(
        RecordKey::new(source_ip, evaluated, identifiers, auth),
        count,
    ))
}

/// A stored policy's JSON as the core's [`PolicyPublished`] and the
/// report URIs.
///
/// # Errors
/// [`StoreError::Data`] for JSON this crate did not write.
pub fn policy_from_json(text_json: &str) -> Result<(PolicyPublished, Vec<String>), StoreError> {
    let map = parse(text_json)?;
    let mut policy = PolicyPublished::default();
    policy.domain = required(&map, "domain")?;
    policy.dkim_alignment = text(&map, "adkim").map(|w| Alignment::parse(&w));
    policy.spf_alignment = text(&map, "aspf").map(|w| Alignment::parse(&w));
    policy.policy = text(&map, "p").map(|w| PublishedPolicy::parse(&w));
    policy.subdomain_policy = text(&map, "sp").map(|w| PublishedPolicy::parse(&w));
    policy.nonexistent_subdomain_policy = text(&map, "np").map(|w| PublishedPolicy::parse(&w));
    policy.testing = map.get("testing").and_then(Value::as_bool);
    policy.percent = map
        .get("pct")
        .and_then(Value::as_u64)
        .and_then(|p| u8::try_from(p).ok());
    policy.failure_options = text(&map, "fo");
    policy.discovery_method = text(&map, "discovery_method").map(|w| DiscoveryMethod::parse(&w));
    let rua = map
        .get("rua")
        .and_then(Value::as_array)
        .map(|uris| {
            uris.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok((policy, rua))
}

/// What the store counted for one period and policy domain, as the core's
/// model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeriodReport {
    /// The period.
    pub period: Period,
    /// The policy published (the last one seen in the period).
    pub policy_published: PolicyPublished,
    /// Where aggregate reports go (`rua`).
    pub aggregate_report_uris: Vec<String>,
    /// The records with their counts, in key order.
    pub records: Vec<Record>,
}

impl PeriodReport {
    /// Reads what [`crate::ReportStore::load`] returned.
    ///
    /// # Errors
    /// [`StoreError::Data`] for rows this crate did not write.
    pub fn from_stored(stored: &Stored) -> Result<PeriodReport, StoreError> {
        let (policy_published, aggregate_report_uris) = policy_from_json(&stored.policy)?;
        let records = stored
            .rows
            .iter()
            .map(|(record, count)| record_from_json(record, *count))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PeriodReport {
            period: stored.period,
            policy_published,
            aggregate_report_uris,
            records,
        })
    }

    /// The aggregate report of the period (RFC 9990), from `org_name`
    /// (`email` its contact) with this `report_id`; the date range is the
    /// period (its end the last second in it).
    pub fn feedback(&self, org_name: &str, email: &str, report_id: &str) -> Feedback {
        let range = DateRange {
            begin: self.period.start,
            end: self.period.end.saturating_sub(1),
        };
        Feedback::new(
            ReportMetadata::new(org_name, email, report_id, range),
            self.policy_published.clone(),
            self.records.clone(),
        )
    }

    /// The number of messages over all records.
    pub fn message_count(&self) -> u64 {
        self.records
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(r.row.count))
    }
}

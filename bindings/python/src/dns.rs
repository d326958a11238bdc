//! `Query`, the bundled resolvers, and what a Python resolver may answer.
//!
//! A resolver is any object with a `lookup(query)` method. It returns a list
//! of records of the asked type (an empty list is "no data") or raises one
//! of `NXDomain`, `NoData`, `TempFail`, `PermFail`; `TimeoutError` counts as
//! a temporary timeout and any other `OSError` as a temporary network
//! failure. Other exceptions are bugs of the resolver and propagate.
//!
//! Records, by type: TXT as `bytes` or `str` (one string) or a tuple of
//! them (the character-strings); A and AAAA as `str` or `ipaddress`
//! objects; MX as `(preference, exchange)`; PTR as `str`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mailauth::dns::{
    Answer, CachingResolver, Failure, Mx, Name, NameServer, Query, RecordType, Records, Resolver,
    StubConfig, StubResolver, Txt, ZoneResolver,
};
use pyo3::exceptions::{PyOSError, PyTimeoutError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use crate::errors::{self, Error};
use crate::py_repr;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyQuery>()?;
    m.add_class::<PyZoneResolver>()?;
    m.add_class::<PyStubResolver>()?;
    Ok(())
}

/// The most records accepted from a Python resolver for one query.
const MAX_RECORDS: usize = 1024;

/// One DNS question, as handed to a resolver's `lookup`.
#[pyclass(frozen, eq, hash, module = "mailauth.dns", name = "Query")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PyQuery {
    pub(crate) query: Query,
}

fn name_from_str(text: &str) -> Result<Name, Error> {
    Name::new(text).map_err(|e| Error::Config(format!("invalid domain name {text:?}: {e}")))
}

#[pymethods]
impl PyQuery {
    #[new]
    fn new(name: &str, record_type: &str) -> PyResult<PyQuery> {
        Ok(PyQuery {
            query: Query::new(
                name_from_str(name)?,
                record_type.parse::<RecordType>().map_err(|e| {
                    Error::Config(format!("unsupported record type {record_type:?}: {e}"))
                })?,
            ),
        })
    }

    /// The name asked about, without the final dot.
    #[getter]
    fn name(&self) -> &str {
        self.query.name.as_str()
    }

    /// The record type: "A", "AAAA", "MX", "TXT" or "PTR".
    #[getter]
    fn record_type(&self) -> &'static str {
        self.query.record_type.as_str()
    }

    fn __repr__(&self) -> String {
        format!(
            "Query(name={}, record_type={})",
            py_repr(self.query.name.as_str()),
            py_repr(self.query.record_type.as_str())
        )
    }
}

/// The resolver behind a bundled Python resolver object.
pub(crate) type NativeResolver = Arc<dyn Resolver + Send + Sync>;

/// An in-memory resolver filled from zone-file text (RFC 1035 master format).
#[pyclass(frozen, module = "mailauth.dns", name = "ZoneResolver")]
pub(crate) struct PyZoneResolver {
    resolver: Arc<ZoneResolver>,
}

#[pymethods]
impl PyZoneResolver {
    #[new]
    #[pyo3(signature = (zone_text = "", *, origin = None))]
    fn new(zone_text: &str, origin: Option<&str>) -> PyResult<PyZoneResolver> {
        let origin = origin.map(name_from_str).transpose()?;
        let mut zone = ZoneResolver::new();
        zone.load_zone_text(zone_text, origin.as_ref())
            .map_err(Error::from)?;
        Ok(PyZoneResolver {
            resolver: Arc::new(zone),
        })
    }

    /// Answers one query: a list of records, or raises `NXDomain`, `NoData`,
    /// `TempFail` or `PermFail`.
    fn lookup<'py>(&self, py: Python<'py>, query: &PyQuery) -> PyResult<Bound<'py, PyAny>> {
        answer_to_python(py, self.resolver.lookup(&query.query))
    }

    fn __repr__(&self) -> String {
        "ZoneResolver(...)".to_owned()
    }
}

/// A blocking DNS client asking recursive name servers, with a cache in
/// front of it when it comes from `Settings.resolver()`.
#[pyclass(frozen, module = "mailauth.dns", name = "StubResolver")]
pub(crate) struct PyStubResolver {
    config: StubConfig,
    /// Answers held at most (0: no cache).
    cache_entries: usize,
    /// What lookups go through: the client, or the cache in front of it.
    resolver: NativeResolver,
}

impl PyStubResolver {
    /// A resolver over a caching stub resolver (the one of `[dns]`).
    pub(crate) fn cached(cache: CachingResolver<StubResolver>) -> PyStubResolver {
        PyStubResolver {
            config: cache.inner().config().clone(),
            cache_entries: cache.config().max_entries,
            resolver: Arc::new(cache),
        }
    }
}

#[pymethods]
impl PyStubResolver {
    #[new]
    #[pyo3(signature = (nameservers = None, *, timeout = None, attempts = None, tcp_only = None))]
    fn new(
        nameservers: Option<Vec<String>>,
        timeout: Option<f64>,
        attempts: Option<u32>,
        tcp_only: Option<bool>,
    ) -> PyResult<PyStubResolver> {
        let mut config = match &nameservers {
            Some(list) => StubConfig {
                nameservers: list
                    .iter()
                    .map(|s| {
                        s.parse::<NameServer>()
                            .map(SocketAddr::from)
                            .map_err(|e| Error::Config(e.to_string()))
                    })
                    .collect::<Result<_, _>>()?,
                ..StubConfig::default()
            },
            None => StubResolver::from_system()
                .map_err(|e| Error::Config(e.to_string()))?
                .config()
                .clone(),
        };
        if let Some(seconds) = timeout {
            if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
                return Err(Error::Config(format!(
                    "timeout must be more than 0 and at most 3600 seconds, not {seconds}"
                ))
                .into());
            }
            config.timeout = Duration::from_secs_f64(seconds);
        }
        if let Some(attempts) = attempts {
            config.attempts = attempts;
        }
        if let Some(tcp_only) = tcp_only {
            config.tcp_only = tcp_only;
        }
        Ok(PyStubResolver {
            resolver: Arc::new(StubResolver::new(config.clone())),
            config,
            cache_entries: 0,
        })
    }

    /// The name servers asked, as `"address:port"` strings.
    #[getter]
    fn nameservers(&self) -> Vec<String> {
        self.config
            .nameservers
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Seconds to wait for one server in one round.
    #[getter]
    fn timeout(&self) -> f64 {
        self.config.timeout.as_secs_f64()
    }

    /// How many answers the resolver's cache holds at most; 0 when it has
    /// no cache.
    #[getter]
    fn cache_entries(&self) -> usize {
        self.cache_entries
    }

    /// Answers one query (blocking, without holding the GIL): a list of
    /// records, or raises `NXDomain`, `NoData`, `TempFail` or `PermFail`.
    fn lookup<'py>(&self, py: Python<'py>, query: &PyQuery) -> PyResult<Bound<'py, PyAny>> {
        let resolver = &self.resolver;
        let answer = py.detach(|| resolver.lookup(&query.query));
        answer_to_python(py, answer)
    }

    fn __repr__(&self) -> String {
        format!(
            "StubResolver(nameservers=[{}], timeout={})",
            self.nameservers()
                .iter()
                .map(|s| py_repr(s))
                .collect::<Vec<_>>()
                .join(", "),
            self.timeout()
        )
    }
}

/// The Rust resolver behind a bundled resolver object, if `resolver` is
/// one, and whether its lookups wait on the network (so are worth asking in
/// parallel).
pub(crate) fn native_resolver(resolver: &Bound<'_, PyAny>) -> Option<(NativeResolver, bool)> {
    if let Ok(zone) = resolver.cast::<PyZoneResolver>() {
        return Some((zone.get().resolver.clone(), false));
    }
    if let Ok(stub) = resolver.cast::<PyStubResolver>() {
        return Some((stub.get().resolver.clone(), true));
    }
    None
}

/// A core answer as what `lookup` returns or raises.
pub(crate) fn answer_to_python(py: Python<'_>, answer: Answer) -> PyResult<Bound<'_, PyAny>> {
    let records = match answer {
        Answer::Records(records) => records,
        Answer::NxDomain => return Err(errors::NXDomain::new_err(())),
        Answer::NoData => return Ok(PyList::empty(py).into_any()),
        Answer::TempFail(failure) => return Err(errors::TempFail::new_err(failure.as_str())),
        Answer::PermFail(failure) => return Err(errors::PermFail::new_err(failure.as_str())),
        _ => return Err(errors::PermFail::new_err("other")),
    };
    let list = PyList::empty(py);
    match records {
        Records::A(v) => v.into_iter().try_for_each(|a| list.append(a))?,
        Records::Aaaa(v) => v.into_iter().try_for_each(|a| list.append(a))?,
        Records::Mx(v) => v
            .into_iter()
            .try_for_each(|mx| list.append((mx.preference, record_name(&mx.exchange))))?,
        Records::Txt(v) => v.into_iter().try_for_each(|txt| {
            let strings: Vec<Bound<'_, PyBytes>> =
                txt.strings().iter().map(|s| PyBytes::new(py, s)).collect();
            list.append(PyTuple::new(py, strings)?)
        })?,
        Records::Ptr(v) => v
            .into_iter()
            .try_for_each(|n| list.append(record_name(&n)))?,
        _ => {}
    }
    Ok(list.into_any())
}

/// What a Python `lookup` call gave (its value or its exception) as a core
/// answer. Exceptions that are not DNS answers are returned as errors.
pub(crate) fn answer_from_lookup(
    py: Python<'_>,
    query: &Query,
    outcome: PyResult<Bound<'_, PyAny>>,
) -> PyResult<Answer> {
    match outcome {
        Ok(value) => answer_from_value(query, &value),
        Err(error) => answer_from_exception(py, error),
    }
}

/// A raised exception as a core answer, or the exception itself when it is
/// not one that stands for a DNS answer.
pub(crate) fn answer_from_exception(py: Python<'_>, error: PyErr) -> PyResult<Answer> {
    let kind = || -> Failure {
        error
            .value(py)
            .getattr("args")
            .ok()
            .and_then(|args| args.get_item(0).ok())
            .and_then(|first| first.extract::<String>().ok())
            .map_or(Failure::Other, |name| {
                name.parse().unwrap_or(Failure::Other)
            })
    };
    if error.is_instance_of::<errors::NXDomain>(py) {
        Ok(Answer::NxDomain)
    } else if error.is_instance_of::<errors::NoData>(py) {
        Ok(Answer::NoData)
    } else if error.is_instance_of::<errors::TempFail>(py) {
        Ok(Answer::TempFail(kind()))
    } else if error.is_instance_of::<errors::PermFail>(py) {
        Ok(Answer::PermFail(kind()))
    } else if error.is_instance_of::<PyTimeoutError>(py) {
        Ok(Answer::TempFail(Failure::Timeout))
    } else if error.is_instance_of::<PyOSError>(py) {
        Ok(Answer::TempFail(Failure::Network))
    } else {
        Err(error)
    }
}

/// A returned value as a core answer: a list of records of the asked type.
pub(crate) fn answer_from_value(query: &Query, value: &Bound<'_, PyAny>) -> PyResult<Answer> {
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "lookup({}) must return a list of records, not a single {}",
            query,
            value.get_type().name()?
        )));
    }
    let iter = value.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "lookup({}) must return a list of records or raise a mailauth.dns.DnsError",
            query
        ))
    })?;
    let mut items = Vec::new();
    for item in iter {
        if items.len() == MAX_RECORDS {
            return Err(Error::Resolver(format!(
                "lookup({query}) returned more than {MAX_RECORDS} records"
            ))
            .into());
        }
        items.push(item?);
    }
    let records = match query.record_type {
        RecordType::A => Records::A(collect(query, &items, ipv4_from_python)?),
        RecordType::Aaaa => Records::Aaaa(collect(query, &items, ipv6_from_python)?),
        RecordType::Mx => Records::Mx(collect(query, &items, mx_from_python)?),
        RecordType::Txt => Records::Txt(collect(query, &items, txt_from_python)?),
        RecordType::Ptr => Records::Ptr(collect(query, &items, name_from_python)?),
        _ => return Ok(Answer::PermFail(Failure::Other)),
    };
    Ok(Answer::from_records(records))
}

fn collect<T>(
    query: &Query,
    items: &[Bound<'_, PyAny>],
    convert: fn(&Bound<'_, PyAny>) -> Option<T>,
) -> PyResult<Vec<T>> {
    items
        .iter()
        .map(|item| {
            convert(item).ok_or_else(|| {
                let shown = item
                    .repr()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|_| "?".to_owned());
                PyErr::from(Error::Resolver(format!(
                    "lookup({query}) returned {shown}, which is not a {} record",
                    query.record_type
                )))
            })
        })
        .collect()
}

fn text_of(item: &Bound<'_, PyAny>) -> Option<String> {
    if item.is_instance_of::<PyString>() {
        item.extract::<String>().ok()
    } else {
        item.str().ok().map(|s| s.to_string())
    }
}

fn ipv4_from_python(item: &Bound<'_, PyAny>) -> Option<Ipv4Addr> {
    if let Ok(IpAddr::V4(ip)) = item.extract::<IpAddr>() {
        return Some(ip);
    }
    item.extract::<String>().ok()?.parse().ok()
}

fn ipv6_from_python(item: &Bound<'_, PyAny>) -> Option<Ipv6Addr> {
    if let Ok(IpAddr::V6(ip)) = item.extract::<IpAddr>() {
        return Some(ip);
    }
    item.extract::<String>().ok()?.parse().ok()
}

/// A name in record data as Python sees it: `"."` for the root (a null
/// MX), as [`Name::in_record_data`] reads it back.
fn record_name(name: &Name) -> &str {
    if name.is_root() { "." } else { name.as_str() }
}

fn name_from_python(item: &Bound<'_, PyAny>) -> Option<Name> {
    let text = item.extract::<String>().ok()?;
    Name::in_record_data(&text).ok()
}

fn mx_from_python(item: &Bound<'_, PyAny>) -> Option<Mx> {
    let (preference, exchange): (u16, Bound<'_, PyAny>) = item.extract().ok()?;
    Some(Mx {
        preference,
        exchange: Name::in_record_data(&text_of(&exchange)?).ok()?,
    })
}

fn bytes_of(item: &Bound<'_, PyAny>) -> Option<Vec<u8>> {
    if let Ok(bytes) = item.cast::<PyBytes>() {
        return Some(bytes.as_bytes().to_vec());
    }
    if let Ok(text) = item.cast::<PyString>() {
        return Some(text.extract::<String>().ok()?.into_bytes());
    }
    None
}

fn txt_from_python(item: &Bound<'_, PyAny>) -> Option<Txt> {
    if let Some(bytes) = bytes_of(item) {
        return Some(Txt::from_text(bytes));
    }
    if item.is_instance_of::<PyTuple>() || item.is_instance_of::<PyList>() {
        let strings: Option<Vec<Vec<u8>>> = item
            .try_iter()
            .ok()?
            .map(|s| s.ok().and_then(|s| bytes_of(&s)))
            .collect();
        return Some(Txt::new(strings?));
    }
    None
}

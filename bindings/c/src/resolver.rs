//! Resolvers (blocking lookups) and DNS answers built in C.

use std::ffi::{c_char, c_void};
use std::net::{Ipv4Addr, Ipv6Addr};

use mailauth::dns::{Answer, Failure, Mx, Name, Query, Records, Resolver, Txt, ZoneResolver};

use crate::ffi::{Out, borrow, borrow_mut, bytes, free_handle, guard, into_handle, text, tri};
use crate::status::mailauth_status::{self, *};

/// The kinds of DNS answer besides records, for
/// [`mailauth_answer_set_status`] and `mailauth_check_supply_status`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mailauth_dns_status {
    /// The name exists but has no records of the asked type.
    MAILAUTH_DNS_NODATA = 0,
    /// The name does not exist (RCODE 3).
    MAILAUTH_DNS_NXDOMAIN = 1,
    /// A failure that may go away later: timeout, SERVFAIL, network error.
    MAILAUTH_DNS_TEMPFAIL = 2,
    /// A failure that will not go away by asking again.
    MAILAUTH_DNS_PERMFAIL = 3,
}

impl mailauth_dns_status {
    fn from_code(code: u32) -> Option<mailauth_dns_status> {
        use mailauth_dns_status::*;
        [
            MAILAUTH_DNS_NODATA,
            MAILAUTH_DNS_NXDOMAIN,
            MAILAUTH_DNS_TEMPFAIL,
            MAILAUTH_DNS_PERMFAIL,
        ]
        .into_iter()
        .find(|s| *s as u32 == code)
    }
}

/// The answer for a status code (`None` for an unknown code).
pub(crate) fn status_answer(code: u32) -> Option<Answer> {
    Some(match mailauth_dns_status::from_code(code)? {
        mailauth_dns_status::MAILAUTH_DNS_NODATA => Answer::NoData,
        mailauth_dns_status::MAILAUTH_DNS_NXDOMAIN => Answer::NxDomain,
        mailauth_dns_status::MAILAUTH_DNS_TEMPFAIL => Answer::TempFail(Failure::Network),
        mailauth_dns_status::MAILAUTH_DNS_PERMFAIL => Answer::PermFail(Failure::Other),
    })
}

/// A DNS answer built by the caller: records of one type, or a status
/// (NXDOMAIN, no data, failure).
///
/// A new answer is "no data". Add records with the `mailauth_answer_add_*`
/// functions (all of one type) or set a status with
/// [`mailauth_answer_set_status`].
///
/// Thread-safety: not thread-safe; use it from one thread at a time (it may
/// move between threads).
pub struct mailauth_answer {
    records: Option<Records>,
    status: Answer,
}

impl mailauth_answer {
    fn empty() -> mailauth_answer {
        mailauth_answer {
            records: None,
            status: Answer::NoData,
        }
    }

    pub(crate) fn to_answer(&self) -> Answer {
        match &self.records {
            Some(records) => Answer::from_records(records.clone()),
            None => self.status.clone(),
        }
    }

    fn add(&mut self, record: Records) -> mailauth_status {
        if !matches!(self.status, Answer::NoData) {
            return MAILAUTH_INVALID_ARGUMENT;
        }
        match (&mut self.records, record) {
            (None, record) => self.records = Some(record),
            (Some(Records::A(all)), Records::A(mut new)) => all.append(&mut new),
            (Some(Records::Aaaa(all)), Records::Aaaa(mut new)) => all.append(&mut new),
            (Some(Records::Mx(all)), Records::Mx(mut new)) => all.append(&mut new),
            (Some(Records::Txt(all)), Records::Txt(mut new)) => all.append(&mut new),
            (Some(Records::Ptr(all)), Records::Ptr(mut new)) => all.append(&mut new),
            _ => return MAILAUTH_INVALID_ARGUMENT,
        }
        MAILAUTH_OK
    }
}

/// Creates an empty answer ("no data") in `*out`; free it with
/// [`mailauth_answer_free`].
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_answer_new(out: *mut *mut mailauth_answer) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        out.write(into_handle(mailauth_answer::empty()))
    })
}

/// Frees an answer. NULL is a no-op; freeing twice is undefined behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_answer_free(answer: *mut mailauth_answer) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(answer) }
}

/// Adds a TXT record holding `data` (`len` bytes, any octets), split into
/// character-strings of 255 bytes as a DNS server would.
///
/// `MAILAUTH_INVALID_ARGUMENT` when the answer already holds records of
/// another type or a status.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_answer_add_txt(
    answer: *mut mailauth_answer,
    data: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `answer` is NULL or a live answer used by this thread only.
        let answer = tri!(unsafe { borrow_mut(answer) });
        // SAFETY: `data` points to `len` readable bytes (contract).
        let data = tri!(unsafe { bytes(data, len) });
        answer.add(Records::Txt(vec![Txt::from_text(data)]))
    })
}

/// Adds an A record: `address` points to 4 bytes in network order.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_answer_add_a(
    answer: *mut mailauth_answer,
    address: *const u8,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `answer` is NULL or a live answer used by this thread only.
        let answer = tri!(unsafe { borrow_mut(answer) });
        // SAFETY: `address` points to 4 readable bytes (contract).
        let octets = tri!(unsafe { bytes(address, 4) });
        let mut ip = [0u8; 4];
        ip.copy_from_slice(octets);
        answer.add(Records::A(vec![Ipv4Addr::from(ip)]))
    })
}

/// Adds an AAAA record: `address` points to 16 bytes in network order.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_answer_add_aaaa(
    answer: *mut mailauth_answer,
    address: *const u8,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `answer` is NULL or a live answer used by this thread only.
        let answer = tri!(unsafe { borrow_mut(answer) });
        // SAFETY: `address` points to 16 readable bytes (contract).
        let octets = tri!(unsafe { bytes(address, 16) });
        let mut ip = [0u8; 16];
        ip.copy_from_slice(octets);
        answer.add(Records::Aaaa(vec![Ipv6Addr::from(ip)]))
    })
}

/// Adds an MX record: `preference` and the host name `exchange` (`"."`
/// for the null MX of a domain that accepts no mail, RFC 7505).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_answer_add_mx(
    answer: *mut mailauth_answer,
    preference: u16,
    exchange: *const c_char,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `answer` is NULL or a live answer used by this thread only.
        let answer = tri!(unsafe { borrow_mut(answer) });
        // SAFETY: `exchange` is NULL or NUL-terminated (contract).
        let exchange = tri!(unsafe { text(exchange) });
        let exchange = tri!(Name::in_record_data(exchange).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        answer.add(Records::Mx(vec![Mx {
            preference,
            exchange,
        }]))
    })
}

/// Adds a PTR record pointing to the host name `target` (`"."`: the root).
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_answer_add_ptr(
    answer: *mut mailauth_answer,
    target: *const c_char,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `answer` is NULL or a live answer used by this thread only.
        let answer = tri!(unsafe { borrow_mut(answer) });
        // SAFETY: `target` is NULL or NUL-terminated (contract).
        let target = tri!(unsafe { text(target) });
        let target = tri!(Name::in_record_data(target).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        answer.add(Records::Ptr(vec![target]))
    })
}

/// Makes the answer a status instead of records: `status` is one of
/// `mailauth_dns_status`.
///
/// `MAILAUTH_INVALID_ARGUMENT` for an unknown status or when records were
/// added already.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_answer_set_status(
    answer: *mut mailauth_answer,
    status: u32,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `answer` is NULL or a live answer used by this thread only.
        let answer = tri!(unsafe { borrow_mut(answer) });
        let Some(status) = status_answer(status) else {
            return MAILAUTH_INVALID_ARGUMENT;
        };
        if answer.records.is_some() {
            return MAILAUTH_INVALID_ARGUMENT;
        }
        answer.status = status;
        MAILAUTH_OK
    })
}

/// A blocking lookup done by the caller, for [`mailauth_resolver_callbacks`].
///
/// Called with the name (NUL-terminated, no final dot, valid only during the
/// call), the RR type number (1 A, 12 PTR, 15 MX, 16 TXT, 28 AAAA) and an
/// empty answer to fill with `mailauth_answer_add_*` or
/// `mailauth_answer_set_status`. Return `MAILAUTH_OK`; any other status is
/// taken as a temporary failure of the lookup. The callback must not free
/// `answer` nor keep it after returning, and must not use the check being
/// resolved (it is in the middle of `mailauth_check_resolve`).
pub type mailauth_lookup_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        name: *const c_char,
        rr_type: u16,
        answer: *mut mailauth_answer,
    ) -> mailauth_status,
>;

/// A resolver made of C callbacks.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mailauth_resolver_callbacks {
    /// Passed to every callback as is.
    pub userdata: *mut c_void,
    /// Answers one query; required.
    pub lookup: mailauth_lookup_callback,
}

struct CallbackResolver {
    callbacks: mailauth_resolver_callbacks,
}

impl Resolver for CallbackResolver {
    fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
        let Some(lookup) = self.callbacks.lookup else {
            return (Answer::TempFail(Failure::Network), None);
        };
        let name = crate::string::c_string(query.name.as_str());
        let mut answer = mailauth_answer::empty();
        // SAFETY: the callback was given by the caller for this purpose;
        // `name` and `answer` outlive the call, and the callback's contract
        // forbids keeping or freeing them.
        let status = unsafe {
            lookup(
                self.callbacks.userdata,
                name.as_ptr(),
                query.record_type.code(),
                &mut answer,
            )
        };
        if status != MAILAUTH_OK {
            return (Answer::TempFail(Failure::Network), None);
        }
        (answer.to_answer(), None)
    }
}

/// A blocking resolver: an in-memory zone, the network stub resolver, or
/// C callbacks. Used by `mailauth_check_resolve`.
///
/// Thread-safety: zone and stub resolvers may be used from several threads
/// at once (lookups take a `const` pointer). A callback resolver is as
/// thread-safe as its callback.
pub struct mailauth_resolver {
    inner: Box<dyn Resolver>,
}

impl mailauth_resolver {
    pub(crate) fn new(inner: Box<dyn Resolver>) -> mailauth_resolver {
        mailauth_resolver { inner }
    }

    pub(crate) fn resolver(&self) -> &dyn Resolver {
        self.inner.as_ref()
    }
}

/// Frees a resolver. NULL is a no-op; freeing twice is undefined behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_resolver_free(resolver: *mut mailauth_resolver) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(resolver) }
}

/// Creates a resolver answering from zone-file text (RFC 1035 master
/// format, `len` bytes of UTF-8, `$ORIGIN` and `$TTL` understood). Names not
/// in the zone do not exist.
///
/// `MAILAUTH_ZONE_SYNTAX` when the text does not parse,
/// `MAILAUTH_INVALID_ARGUMENT` when it is not UTF-8.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_resolver_new_zone(
    zone_text: *const u8,
    len: usize,
    out: *mut *mut mailauth_resolver,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `zone_text` points to `len` readable bytes (contract).
        let data = tri!(unsafe { bytes(zone_text, len) });
        let text = tri!(std::str::from_utf8(data).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        zone_resolver(text, out)
    })
}

/// Creates a resolver answering from the zone file at `path`; see
/// [`mailauth_resolver_new_zone`]. `MAILAUTH_IO_ERROR` when the file cannot
/// be read.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_resolver_new_zone_file(
    path: *const c_char,
    out: *mut *mut mailauth_resolver,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `path` is NULL or NUL-terminated (contract).
        let path = tri!(unsafe { text(path) });
        let Ok(data) = std::fs::read(path) else {
            return MAILAUTH_IO_ERROR;
        };
        let text = tri!(std::str::from_utf8(&data).map_err(|_| MAILAUTH_INVALID_ARGUMENT));
        zone_resolver(text, out)
    })
}

fn zone_resolver(text: &str, out: Out<*mut mailauth_resolver>) -> mailauth_status {
    match ZoneResolver::from_zone_text(text) {
        Ok(zone) => out.write(into_handle(mailauth_resolver {
            inner: Box::new(zone),
        })),
        Err(_) => MAILAUTH_ZONE_SYNTAX,
    }
}

/// Creates a resolver that calls `callbacks->lookup` for every query. The
/// struct is copied; `userdata` must stay valid as long as the resolver.
/// `MAILAUTH_NULL_PARAMETER` when `callbacks` or its `lookup` is NULL.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_resolver_new_callbacks(
    callbacks: *const mailauth_resolver_callbacks,
    out: *mut *mut mailauth_resolver,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        // SAFETY: `callbacks` is NULL or points to a readable struct.
        let callbacks = *tri!(unsafe { borrow(callbacks) });
        if callbacks.lookup.is_none() {
            return MAILAUTH_NULL_PARAMETER;
        }
        out.write(into_handle(mailauth_resolver {
            inner: Box::new(CallbackResolver { callbacks }),
        }))
    })
}

/// Creates a network stub resolver asking the recursive name servers in
/// `servers` (`count` NUL-terminated strings: `"192.0.2.53"`,
/// `"192.0.2.53:5353"`, `"[2001:db8::53]:53"`), each try waiting up to
/// `timeout_ms` milliseconds (0: 5000), two rounds over the servers; UDP
/// with EDNS0, TCP when the answer is truncated.
///
/// `MAILAUTH_INVALID_ARGUMENT` when a server is not an address or `count`
/// is 0.
#[cfg(feature = "stub-resolver")]
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_resolver_new_stub(
    servers: *const *const c_char,
    count: usize,
    timeout_ms: u32,
    out: *mut *mut mailauth_resolver,
) -> mailauth_status {
    use mailauth::dns::{NameServer, StubConfig, StubResolver};
    use std::time::Duration;
    guard(|| {
        let out = tri!(Out::new(out));
        if servers.is_null() {
            return MAILAUTH_NULL_PARAMETER;
        }
        if count == 0 || count > 64 {
            return MAILAUTH_INVALID_ARGUMENT;
        }
        // SAFETY: `servers` points to `count` string pointers (contract);
        // `count` is at most 64.
        let pointers = unsafe { std::slice::from_raw_parts(servers, count) };
        let mut nameservers = Vec::with_capacity(count);
        for &pointer in pointers {
            // SAFETY: each pointer is NULL or NUL-terminated (contract).
            let server = tri!(unsafe { text(pointer) });
            let server: NameServer = tri!(server.parse().map_err(|_| MAILAUTH_INVALID_ARGUMENT));
            nameservers.push(server.into());
        }
        let mut config = StubConfig {
            nameservers,
            ..StubConfig::default()
        };
        if timeout_ms != 0 {
            config.timeout = Duration::from_millis(u64::from(timeout_ms));
        }
        out.write(into_handle(mailauth_resolver {
            inner: Box::new(StubResolver::new(config)),
        }))
    })
}

/// Creates a network stub resolver configured from /etc/resolv.conf.
/// `MAILAUTH_RESOLVER_SETUP` when the file cannot be read.
#[cfg(feature = "stub-resolver")]
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_resolver_new_system(
    out: *mut *mut mailauth_resolver,
) -> mailauth_status {
    guard(|| {
        let out = tri!(Out::new(out));
        match mailauth::dns::StubResolver::from_system() {
            Ok(stub) => out.write(into_handle(mailauth_resolver {
                inner: Box::new(stub),
            })),
            Err(_) => MAILAUTH_RESOLVER_SETUP,
        }
    })
}

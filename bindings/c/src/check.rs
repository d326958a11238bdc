//! The event-loop path: a check hands out queries and takes answers.

use std::ffi::c_char;

use std::ffi::CString;

use mailauth::dns::{Answer, PacketError, build_query, parse_response};
use mailauth::{Driver, Machine, MachineExt};

use crate::ffi::{Out, borrow, borrow_mut, bytes, free_handle, guard, tri};
use crate::resolver::{mailauth_answer, mailauth_resolver, status_answer};
use crate::status::mailauth_status::{self, *};

/// The outcome of a finished check, by kind.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Spf(mailauth::spf::Outcome),
    Dkim(mailauth::dkim::verify::Verification),
    Inbound(Box<mailauth::inbound::Verdict>),
    Dmarc(Box<mailauth::dmarc::Outcome>),
    Arc(Box<mailauth::arc::Outcome>),
}

impl From<mailauth::spf::Outcome> for Outcome {
    fn from(outcome: mailauth::spf::Outcome) -> Outcome {
        Outcome::Spf(outcome)
    }
}

impl From<mailauth::inbound::Verdict> for Outcome {
    fn from(verdict: mailauth::inbound::Verdict) -> Outcome {
        Outcome::Inbound(Box::new(verdict))
    }
}

impl From<mailauth::dkim::verify::Verification> for Outcome {
    fn from(outcome: mailauth::dkim::verify::Verification) -> Outcome {
        Outcome::Dkim(outcome)
    }
}

/// A check in progress: SPF, DKIM verification, DMARC, ARC validation or the
/// inbound pipeline, driven by DNS answers.
///
/// Drive it either with [`mailauth_check_resolve`] and a blocking
/// resolver, or from an event loop:
///
/// 1. [`mailauth_check_poll`] gives the number of queries the check needs
///    now (0 when it has finished);
/// 2. for each index below that number, [`mailauth_check_query`] gives the
///    name and type (or [`mailauth_check_query_packet`] the wire query);
///    resolve them in any order, in parallel if you like, and hand each
///    answer back with `mailauth_check_supply_packet`,
///    `mailauth_check_supply_answer` or `mailauth_check_supply_status`;
/// 3. poll again. Polling before every query is answered gives the ones
///    still open, renumbered from 0.
///
/// Once finished, take the outcome with the function of the check's kind
/// (`mailauth_check_spf_outcome`, `mailauth_check_dkim_outcome`,
/// `mailauth_check_dmarc_outcome`, `mailauth_check_arc_outcome`,
/// `mailauth_check_inbound_outcome`).
///
/// Thread-safety: none. Use a check only on the thread that created it
/// (some checks hold non-atomic reference counts); run checks on several
/// threads by creating one per thread.
pub struct mailauth_check {
    pump: Pump<Box<dyn Machine<Output = Outcome>>>,
}

impl mailauth_check {
    pub(crate) fn new<M>(machine: M) -> mailauth_check
    where
        M: Machine + 'static,
        M::Output: Into<Outcome>,
    {
        mailauth_check {
            pump: Pump::new(Box::new(machine.map_output(Into::into))),
        }
    }

    pub(crate) fn outcome(&self) -> Result<&Outcome, mailauth_status> {
        self.pump.driver.outcome().ok_or(MAILAUTH_NOT_DONE)
    }
}

/// A machine driven from C: its driver and the names of the open queries
/// as C strings. The event-loop functions of checks and sessions share it.
pub(crate) struct Pump<M: Machine> {
    pub(crate) driver: Driver<M>,
    /// The names of the driver's pending queries, as C strings.
    names: Vec<CString>,
}

impl<M: Machine> Pump<M> {
    pub(crate) fn new(machine: M) -> Pump<M> {
        Pump {
            driver: Driver::new(machine),
            names: Vec::new(),
        }
    }

    /// The machine, to feed it its next stage.
    pub(crate) fn machine_mut(&mut self) -> &mut M {
        self.names.clear();
        self.driver.machine_mut()
    }

    pub(crate) fn poll(&mut self, query_count: Out<usize>) -> mailauth_status {
        let pending = self.driver.poll();
        self.names = pending
            .iter()
            .map(|q| crate::string::c_string(q.name.as_str()))
            .collect();
        query_count.write(self.names.len())
    }

    fn supply(&mut self, index: usize, answer: Answer) -> mailauth_status {
        match self.driver.supply_at(index, answer) {
            Ok(()) => MAILAUTH_OK,
            Err(_) => MAILAUTH_UNEXPECTED_ANSWER,
        }
    }

    pub(crate) fn query(
        &self,
        index: usize,
        name: Out<*const c_char>,
        rr_type: Out<u16>,
    ) -> mailauth_status {
        let (Some(query), Some(text)) = (self.driver.pending().get(index), self.names.get(index))
        else {
            return MAILAUTH_INVALID_ARGUMENT;
        };
        rr_type.write(query.record_type.code());
        name.write(text.as_ptr())
    }

    pub(crate) fn query_packet(
        &self,
        index: usize,
        id: u16,
        buf: *mut u8,
        len: usize,
        written: Out<usize>,
    ) -> mailauth_status {
        if buf.is_null() {
            return MAILAUTH_NULL_PARAMETER;
        }
        let Some(query) = self.driver.pending().get(index) else {
            return MAILAUTH_INVALID_ARGUMENT;
        };
        let packet = build_query(query, id, Some(1232));
        if packet.len() > len {
            return MAILAUTH_INSUFFICIENT_SIZE;
        }
        // SAFETY: `buf` is non-NULL and holds `len` writable bytes
        // (contract of the exported functions); the packet is no longer
        // (checked).
        unsafe { std::ptr::copy_nonoverlapping(packet.as_ptr(), buf, packet.len()) };
        written.write(packet.len())
    }

    pub(crate) fn supply_packet(&mut self, index: usize, packet: &[u8]) -> mailauth_status {
        let Some(query) = self.driver.pending().get(index) else {
            return MAILAUTH_UNEXPECTED_ANSWER;
        };
        let answer = match parse_response(query, packet) {
            Ok((answer, _ttl)) => answer,
            Err(PacketError::Truncated) => return MAILAUTH_DNS_TRUNCATED,
            Err(_) => return MAILAUTH_DNS_MALFORMED,
        };
        self.supply(index, answer)
    }

    pub(crate) fn supply_answer(
        &mut self,
        index: usize,
        answer: &mailauth_answer,
    ) -> mailauth_status {
        self.supply(index, answer.to_answer())
    }

    pub(crate) fn supply_status(&mut self, index: usize, status: u32) -> mailauth_status {
        let Some(answer) = status_answer(status) else {
            return MAILAUTH_INVALID_ARGUMENT;
        };
        self.supply(index, answer)
    }

    pub(crate) fn resolve(&mut self, resolver: &mailauth_resolver) -> mailauth_status {
        self.driver.resolve(resolver.resolver());
        self.names.clear();
        MAILAUTH_OK
    }
}

/// Frees a check. NULL is a no-op; freeing twice is undefined behavior.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_free(check: *mut mailauth_check) {
    // SAFETY: the contract of this function is the one `free_handle` needs.
    unsafe { free_handle(check) }
}

/// Advances the check and stores in `*query_count` how many queries it
/// needs answered now; 0 means it has finished and its outcome can be
/// taken. Names returned by [`mailauth_check_query`] for the previous poll
/// are invalid after this call.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_poll(
    check: *mut mailauth_check,
    query_count: *mut usize,
) -> mailauth_status {
    guard(|| {
        let query_count = tri!(Out::new(query_count));
        // SAFETY: `check` is NULL or a live check used by this thread only.
        let check = tri!(unsafe { borrow_mut(check) });
        check.pump.poll(query_count)
    })
}

/// The query at `index` of the last poll: `*name` is the name
/// (NUL-terminated, without final dot, owned by the check and valid until
/// the next `mailauth_check_poll`, `mailauth_check_resolve` or
/// `mailauth_check_free`), `*rr_type` the RR type number (1 A, 12 PTR,
/// 15 MX, 16 TXT, 28 AAAA). `MAILAUTH_INVALID_ARGUMENT` for an index out of
/// range.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_query(
    check: *const mailauth_check,
    index: usize,
    name: *mut *const c_char,
    rr_type: *mut u16,
) -> mailauth_status {
    guard(|| {
        let name = tri!(Out::new(name));
        let rr_type = tri!(Out::new(rr_type));
        // SAFETY: `check` is NULL or a live check not mutated during the call.
        let check = tri!(unsafe { borrow(check) });
        check.pump.query(index, name, rr_type)
    })
}

/// Writes the DNS query packet for the query at `index` of the last poll
/// into `buf` (`len` bytes), with message ID `id`, recursion desired and
/// EDNS0 advertising 1232 bytes; `*written` is its length (at most 512).
/// `MAILAUTH_INSUFFICIENT_SIZE` when it does not fit.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_query_packet(
    check: *const mailauth_check,
    index: usize,
    id: u16,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> mailauth_status {
    guard(|| {
        let written = tri!(Out::new(written));
        // SAFETY: `check` is NULL or a live check not mutated during the call.
        let check = tri!(unsafe { borrow(check) });
        check.pump.query_packet(index, id, buf, len, written)
    })
}

/// Supplies the answer to the query at `index` of the last poll as a raw DNS
/// response packet (`len` bytes, as received over UDP or TCP without the
/// TCP length prefix). The packet is parsed by the library; the message ID
/// is not checked, the question is.
///
/// `MAILAUTH_DNS_TRUNCATED` (ask again over TCP) and `MAILAUTH_DNS_MALFORMED`
/// supply nothing; `MAILAUTH_UNEXPECTED_ANSWER` when the check is not
/// waiting for that query.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_supply_packet(
    check: *mut mailauth_check,
    index: usize,
    packet: *const u8,
    len: usize,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `check` is NULL or a live check used by this thread only.
        let check = tri!(unsafe { borrow_mut(check) });
        // SAFETY: `packet` points to `len` readable bytes (contract).
        let packet = tri!(unsafe { bytes(packet, len) });
        check.pump.supply_packet(index, packet)
    })
}

/// Supplies the answer to the query at `index` of the last poll as records
/// or a status built with `mailauth_answer_*`. The answer is copied; free it
/// when convenient.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_supply_answer(
    check: *mut mailauth_check,
    index: usize,
    answer: *const mailauth_answer,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `check` is NULL or a live check used by this thread only.
        let check = tri!(unsafe { borrow_mut(check) });
        // SAFETY: `answer` is NULL or a live answer not mutated meanwhile.
        let answer = tri!(unsafe { borrow(answer) });
        check.pump.supply_answer(index, answer)
    })
}

/// Supplies a status (one of `mailauth_dns_status`: no data, NXDOMAIN,
/// temporary or permanent failure) as the answer to the query at `index`
/// of the last poll.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_supply_status(
    check: *mut mailauth_check,
    index: usize,
    status: u32,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `check` is NULL or a live check used by this thread only.
        let check = tri!(unsafe { borrow_mut(check) });
        check.pump.supply_status(index, status)
    })
}

/// Drives the check to its end with a blocking resolver: polls, looks up
/// each query in turn and supplies the answers. Returns when the outcome
/// can be taken.
#[unsafe(no_mangle)]
pub extern "C" fn mailauth_check_resolve(
    check: *mut mailauth_check,
    resolver: *const mailauth_resolver,
) -> mailauth_status {
    guard(|| {
        // SAFETY: `check` is NULL or a live check used by this thread only.
        let check = tri!(unsafe { borrow_mut(check) });
        // SAFETY: `resolver` is NULL or a live resolver; lookups take it by
        // shared reference.
        let resolver = tri!(unsafe { borrow(resolver) });
        check.pump.resolve(resolver)
    })
}

//! ARC chain validation (RFC 8617 §5.2) as a sans-IO machine.
//!
//! 1. [`Validator`]: feed the message in chunks. When the header ends, the
//!    ARC fields are parsed and grouped into sets, and the structure is
//!    checked (§5.1.1: every instance from 1 to the highest has exactly one
//!    of each field; at most [`Config::max_sets`]); the newest AS's `cv=`
//!    and the `cv=` of every AS are checked. The body is hashed while it
//!    streams, for the newest AMS (and the older ones when
//!    [`Config::oldest_pass`] is set).
//! 2. [`Validator::finish`] gives a [`Validation`]: one round of key
//!    lookups (every AS and AMS key at once), then the newest AMS and every
//!    AS are verified: n + 1 signature checks for n sets (2n with
//!    [`Config::oldest_pass`]).
//!
//! The ARC-Seal of instance k signs, in order, the ARC-Authentication-
//! Results, ARC-Message-Signature and ARC-Seal of instances 1 to k, relaxed
//! canonicalization, the `b=` value of its own seal removed (RFC 8617
//! §5.1.1.3). No time checks are made on `t=` (RFC 8617 gives none).

use super::parse::{self, ArcField, FieldError, MessageSignature, Seal};
use super::{ArcResult, Config, Outcome, Reason, SetSummary, StructureError};
use crate::dkim::Algorithm;
use crate::dkim::canon::{BodyHash, BodyHashers, HeaderCanonicalization};
use crate::dkim::verify::{
    FieldLookup, check_key_record, public_key, read_key, signed_header_data, verify_signature,
};
use crate::dns::{Answer, Query};
use crate::machine::{Machine, Poll, UnexpectedAnswer};
use crate::message::{HeaderField, HeaderLimits, MessageReader};

/// Streams a message and collects what validation needs.
///
/// Call [`feed`](Self::feed) with each chunk of the message (any split),
/// then [`finish`](Self::finish), and drive the returned [`Validation`].
#[derive(Debug)]
pub struct Validator {
    config: Config,
    reader: MessageReader,
    prepared: bool,
    state: State,
    hashers: BodyHashers,
    fields: Vec<HeaderField>,
}

/// What validation knows once the header is read.
#[derive(Debug, Clone)]
enum State {
    /// The outcome is known without any key.
    Decided(Outcome),
    /// Signatures to check.
    Pending(Box<Pending>),
}

#[derive(Debug, Clone)]
struct Pending {
    /// One per instance, oldest first.
    sets: Vec<PendingSet>,
    /// The relaxed canonical AAR, AMS and AS of every set, oldest first:
    /// the prefix each seal signs.
    chain: Vec<u8>,
    instances: Vec<SetSummary>,
    /// Lowest instance whose AMS is checked (n without oldest-pass).
    lowest_checked: u32,
    /// The header fields, kept only when older AMSes are checked: their
    /// header data is built one at a time, after the newest passed, so
    /// that memory stays within one header's size.
    fields: Vec<HeaderField>,
}

#[derive(Debug, Clone)]
struct PendingSet {
    seal: Seal,
    /// Where this set's ARC-Seal starts in `chain`.
    seal_start: usize,
    /// This set's ARC-Seal, canonical, its `b=` value removed, no CRLF.
    seal_unsigned: Vec<u8>,
    signature: Option<SignatureCheck>,
}

#[derive(Debug, Clone)]
struct SignatureCheck {
    signature: MessageSignature,
    /// The data signed, built up front for the newest AMS only.
    header_data: Option<Vec<u8>>,
    /// Where the AMS is among the header fields.
    position: usize,
    body_hash: usize,
}

impl Validator {
    /// A validator for one message.
    pub fn new(config: &Config) -> Validator {
        Validator {
            config: config.clone(),
            reader: MessageReader::new(HeaderLimits {
                max_fields: config.max_header_fields,
                max_bytes: config.max_header_bytes,
            }),
            prepared: false,
            state: State::Decided(Outcome::none()),
            hashers: BodyHashers::default(),
            fields: Vec::new(),
        }
    }

    /// Feeds the next chunk of the message.
    pub fn feed(&mut self, chunk: &[u8]) {
        let body = self.reader.feed(chunk);
        if !self.prepared && self.reader.header_complete() {
            self.prepare();
        }
        self.hashers.update(body);
    }

    /// Ends the message; the returned machine fetches the keys and
    /// validates the chain.
    pub fn finish(self) -> Validation {
        self.finish_with_fields().0
    }

    /// As [`finish`](Self::finish), also returning the header fields read
    /// (within the configured header bounds).
    pub fn finish_with_fields(mut self) -> (Validation, Vec<HeaderField>) {
        self.reader.finish();
        if !self.prepared {
            self.prepare();
        }
        let body_hashes: Vec<BodyHash> = self.hashers.finish();
        let validation = Validation::new(self.config, self.state, body_hashes);
        (validation, self.fields)
    }

    fn prepare(&mut self) {
        self.prepared = true;
        let fields = self.reader.take_fields();
        let header_error = self.reader.error();
        self.state = match self.read_chain(&fields) {
            Ok(pending) => State::Pending(pending),
            Err(mut outcome) => {
                outcome.header_error = header_error;
                State::Decided(*outcome)
            }
        };
        if let (Some(error), State::Pending(pending)) = (header_error, &self.state) {
            let sets = pending.sets.len();
            self.state = State::Decided(failed(sets, Reason::HeaderLimit(error), header_error));
            self.hashers.clear();
        }
        self.fields = fields;
    }

    /// Parses and groups the ARC fields, checks the structure and `cv=`,
    /// and prepares the signature checks. `Err` holds a decided outcome.
    fn read_chain(&mut self, fields: &[HeaderField]) -> Result<Box<Pending>, Box<Outcome>> {
        let max_sets = self.config.max_sets.min(super::MAX_INSTANCE as usize);
        // Slot [instance - 1] of each kind: the field's position.
        let mut slots: [Vec<Option<usize>>; 3] = Default::default();
        let mut highest = 0u32;
        let mut structure_error: Option<StructureError> = None;
        for (position, field) in fields.iter().enumerate() {
            let Some(kind) = field.name().and_then(ArcField::from_name) else {
                continue;
            };
            let instance = match parse::instance(kind, field.value()) {
                Ok(instance) => instance,
                Err(error) => {
                    structure_error
                        .get_or_insert(StructureError::InvalidInstance { field: kind, error });
                    continue;
                }
            };
            highest = highest.max(instance);
            let slots = &mut slots[kind_index(kind)];
            let index = instance as usize - 1;
            if slots.len() <= index {
                slots.resize(index + 1, None);
            }
            match slots.get_mut(index) {
                Some(slot @ None) => *slot = Some(position),
                _ => {
                    structure_error.get_or_insert(StructureError::DuplicateField {
                        instance,
                        field: kind,
                    });
                }
            }
        }
        if highest == 0 && structure_error.is_none() {
            return Err(Box::new(Outcome::none()));
        }
        let sets = highest as usize;
        let fail = |reason| Box::new(failed(sets, reason, None));
        if let Some(error) = structure_error {
            return Err(fail(Reason::Structure(error)));
        }
        if sets > max_sets {
            return Err(fail(Reason::Structure(StructureError::TooManySets {
                found: highest,
                max: max_sets,
            })));
        }
        // Every instance from 1 to the highest, each with its three fields.
        let mut positions = Vec::with_capacity(sets);
        for instance in 1..=highest {
            let index = instance as usize - 1;
            let get = |kind: ArcField| slots[kind_index(kind)].get(index).copied().flatten();
            let found = [
                get(ArcField::AuthenticationResults),
                get(ArcField::MessageSignature),
                get(ArcField::Seal),
            ];
            if found.iter().all(Option::is_none) {
                return Err(fail(Reason::Structure(StructureError::MissingSet {
                    instance,
                })));
            }
            let [Some(aar), Some(ams), Some(seal)] = found else {
                let field = [
                    ArcField::AuthenticationResults,
                    ArcField::MessageSignature,
                    ArcField::Seal,
                ]
                .into_iter()
                .zip(found)
                .find_map(|(kind, position)| position.is_none().then_some(kind))
                .unwrap_or(ArcField::Seal);
                return Err(fail(Reason::Structure(StructureError::MissingField {
                    instance,
                    field,
                })));
            };
            positions.push((instance, aar, ams, seal));
        }
        // Parse every field (any malformation fails the chain).
        let field_at = |position: usize| fields.get(position);
        let mut parsed = Vec::with_capacity(sets);
        for &(instance, aar, ams, seal) in &positions {
            let malformed = |field, error: FieldError| {
                fail(Reason::Malformed {
                    instance,
                    field,
                    error,
                })
            };
            let (Some(aar_field), Some(ams_field), Some(seal_field)) =
                (field_at(aar), field_at(ams), field_at(seal))
            else {
                return Err(fail(Reason::Structure(StructureError::MissingSet {
                    instance,
                })));
            };
            parse::AuthenticationResults::parse(aar_field.value())
                .map_err(|e| malformed(ArcField::AuthenticationResults, e))?;
            let signature = MessageSignature::parse(ams_field.value())
                .map_err(|e| malformed(ArcField::MessageSignature, e))?;
            let seal = Seal::parse(seal_field.value()).map_err(|e| malformed(ArcField::Seal, e))?;
            parsed.push((aar_field, ams_field, seal_field, signature, seal));
        }
        let instances: Vec<SetSummary> = parsed
            .iter()
            .map(|(_, _, _, signature, seal)| SetSummary {
                instance: seal.instance,
                seal_domain: seal.domain.clone(),
                seal_selector: seal.selector.clone(),
                signature_domain: signature.domain.clone(),
                signature_selector: signature.selector.clone(),
                chain_status: seal.chain_status,
            })
            .collect();
        let fail_with = |reason| {
            let mut outcome = failed(sets, reason, None);
            outcome.instances.clone_from(&instances);
            Box::new(outcome)
        };
        // §5.2 step 3: the newest seal's cv=fail ends validation.
        if let Some((_, _, _, _, newest)) = parsed.last()
            && newest.chain_status == ArcResult::Fail
        {
            return Err(fail_with(Reason::ChainFailed {
                instance: newest.instance,
            }));
        }
        // §5.1.1 / §5.2 step 4: cv=none for instance 1, pass for the others.
        for (_, _, _, _, seal) in &parsed {
            let expected = if seal.instance == 1 {
                ArcResult::None
            } else {
                ArcResult::Pass
            };
            if seal.chain_status != expected {
                return Err(fail_with(Reason::UnexpectedChainStatus {
                    instance: seal.instance,
                    found: seal.chain_status,
                }));
            }
        }
        // Algorithms refused before any lookup (RFC 8301).
        if !self.config.allow_sha1 {
            let newest = parsed.last().map(|(_, _, _, sig, _)| sig.instance);
            for (_, _, _, signature, seal) in &parsed {
                if seal.algorithm == Algorithm::RsaSha1 {
                    return Err(fail_with(Reason::Seal {
                        instance: seal.instance,
                        reason: crate::dkim::Reason::Sha1Refused,
                    }));
                }
                if Some(signature.instance) == newest && signature.algorithm == Algorithm::RsaSha1 {
                    return Err(fail_with(Reason::MessageSignature {
                        instance: signature.instance,
                        reason: crate::dkim::Reason::Sha1Refused,
                    }));
                }
            }
        }
        let lowest_checked = if self.config.oldest_pass { 1 } else { highest };
        let lookup = FieldLookup::new(fields);
        let mut chain = Vec::new();
        let mut pending_sets = Vec::with_capacity(sets);
        let relaxed = HeaderCanonicalization::Relaxed;
        for ((aar_field, ams_field, seal_field, signature, seal), &(_, _, position, _)) in
            parsed.into_iter().zip(&positions)
        {
            let instance = seal.instance;
            for field in [aar_field, ams_field] {
                relaxed.append(
                    field.raw_name().unwrap_or_default(),
                    field.value(),
                    &mut chain,
                );
            }
            let seal_start = chain.len();
            relaxed.append(
                seal_field.raw_name().unwrap_or_default(),
                seal_field.value(),
                &mut chain,
            );
            let mut seal_unsigned = Vec::new();
            relaxed.append_without(
                seal_field.raw_name().unwrap_or_default(),
                seal_field.value(),
                seal.signature_value_range.clone(),
                &mut seal_unsigned,
            );
            seal_unsigned.truncate(seal_unsigned.len().saturating_sub(2));
            if seal.key_name().is_err() {
                return Err(fail_with(Reason::Malformed {
                    instance,
                    field: ArcField::Seal,
                    error: FieldError::InvalidSelector,
                }));
            }
            let signature = if instance >= lowest_checked {
                if signature.key_name().is_err() {
                    return Err(fail_with(Reason::Malformed {
                        instance,
                        field: ArcField::MessageSignature,
                        error: FieldError::InvalidSelector,
                    }));
                }
                let header_data = (instance == highest).then(|| {
                    signed_header_data(
                        signature.canonicalization.header,
                        &signature.signed_headers,
                        ams_field,
                        signature.signature_value_range.clone(),
                        &lookup,
                    )
                });
                let body_hash = self.hashers.index_for(
                    signature.canonicalization.body,
                    signature.algorithm.hash(),
                    signature.body_length,
                );
                Some(SignatureCheck {
                    signature,
                    header_data,
                    position,
                    body_hash,
                })
            } else {
                None
            };
            pending_sets.push(PendingSet {
                seal,
                seal_start,
                seal_unsigned,
                signature,
            });
        }
        Ok(Box::new(Pending {
            sets: pending_sets,
            chain,
            instances,
            lowest_checked,
            fields: if lowest_checked < highest {
                fields.to_vec()
            } else {
                Vec::new()
            },
        }))
    }
}

fn kind_index(kind: ArcField) -> usize {
    match kind {
        ArcField::AuthenticationResults => 0,
        ArcField::MessageSignature => 1,
        ArcField::Seal => 2,
    }
}

fn failed(
    sets: usize,
    reason: Reason,
    header_error: Option<crate::message::HeaderError>,
) -> Outcome {
    Outcome {
        result: ArcResult::Fail,
        reason: Some(reason),
        sets,
        oldest_pass: None,
        instances: Vec::new(),
        header_error,
    }
}

/// The key lookups and signature checks of one chain: a [`Machine`] whose
/// output is an [`Outcome`].
#[derive(Debug, Clone)]
pub struct Validation {
    config: Config,
    state: State,
    body_hashes: Vec<BodyHash>,
    lookups: Vec<(Query, Option<Answer>)>,
}

impl Validation {
    fn new(config: Config, state: State, body_hashes: Vec<BodyHash>) -> Validation {
        let mut lookups: Vec<(Query, Option<Answer>)> = Vec::new();
        if let State::Pending(pending) = &state {
            let mut ask = |query: Query| {
                if !lookups.iter().any(|(q, _)| *q == query) {
                    lookups.push((query, None));
                }
            };
            for set in &pending.sets {
                if let Ok(name) = set.seal.key_name() {
                    ask(Query::txt(name));
                }
                if let Some(check) = &set.signature
                    && let Ok(name) = check.signature.key_name()
                {
                    ask(Query::txt(name));
                }
            }
        }
        Validation {
            config,
            state,
            body_hashes,
            lookups,
        }
    }

    fn answer(&self, name: Result<crate::dns::Name, crate::dns::NameError>) -> Option<&Answer> {
        let query = Query::txt(name.ok()?);
        self.lookups
            .iter()
            .find(|(q, _)| *q == query)
            .and_then(|(_, a)| a.as_ref())
    }

    /// Checks a signature with the key in `answer`.
    fn check(
        &self,
        answer: Option<&Answer>,
        algorithm: Algorithm,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), crate::dkim::Reason> {
        let parsed = read_key(answer, self.config.key_cache.as_ref())?;
        check_key_record(&parsed, algorithm)?;
        let mut bits = None;
        let key = public_key(&parsed, self.config.min_rsa_bits, &mut bits)?;
        verify_signature(key, algorithm, data, signature)
    }

    fn check_message_signature(
        &self,
        check: &SignatureCheck,
        fields: &[HeaderField],
    ) -> Result<(), crate::dkim::Reason> {
        let signature = &check.signature;
        if signature.algorithm == Algorithm::RsaSha1 && !self.config.allow_sha1 {
            return Err(crate::dkim::Reason::Sha1Refused);
        }
        let parsed = read_key(
            self.answer(signature.key_name()),
            self.config.key_cache.as_ref(),
        )?;
        check_key_record(&parsed, signature.algorithm)?;
        let mut bits = None;
        let key = public_key(&parsed, self.config.min_rsa_bits, &mut bits)?;
        let body = self
            .body_hashes
            .get(check.body_hash)
            .ok_or(crate::dkim::Reason::BodyHashMismatch)?;
        if body.digest != signature.body_hash {
            return Err(crate::dkim::Reason::BodyHashMismatch);
        }
        let built;
        let header_data = match &check.header_data {
            Some(data) => data,
            None => {
                let own = fields
                    .get(check.position)
                    .ok_or(crate::dkim::Reason::SignatureMismatch)?;
                built = signed_header_data(
                    signature.canonicalization.header,
                    &signature.signed_headers,
                    own,
                    signature.signature_value_range.clone(),
                    &FieldLookup::new(fields),
                );
                &built
            }
        };
        verify_signature(key, signature.algorithm, header_data, &signature.signature)
    }

    fn evaluate(&self, pending: &Pending) -> Outcome {
        let sets = pending.sets.len();
        let fail = |reason| {
            let mut outcome = failed(sets, reason, None);
            outcome.instances.clone_from(&pending.instances);
            outcome
        };
        // §5.2 step 5: the newest AMS.
        let Some(newest) = pending.sets.last() else {
            return Outcome::none();
        };
        let newest_instance = newest.seal.instance;
        if let Some(check) = &newest.signature
            && let Err(reason) = self.check_message_signature(check, &pending.fields)
        {
            return fail(Reason::MessageSignature {
                instance: newest_instance,
                reason,
            });
        }
        // §5.2 step 7: every seal, newest first.
        let mut data = Vec::new();
        for set in pending.sets.iter().rev() {
            data.clear();
            data.extend_from_slice(pending.chain.get(..set.seal_start).unwrap_or_default());
            data.extend_from_slice(&set.seal_unsigned);
            if set.seal.algorithm == Algorithm::RsaSha1 && !self.config.allow_sha1 {
                return fail(Reason::Seal {
                    instance: set.seal.instance,
                    reason: crate::dkim::Reason::Sha1Refused,
                });
            }
            if let Err(reason) = self.check(
                self.answer(set.seal.key_name()),
                set.seal.algorithm,
                &data,
                &set.seal.signature,
            ) {
                return fail(Reason::Seal {
                    instance: set.seal.instance,
                    reason,
                });
            }
        }
        // §5.2 step 6: the oldest AMS from which all newer ones validate;
        // 0 when every one does.
        let oldest_pass = (pending.lowest_checked == 1).then(|| {
            let mut oldest = newest_instance;
            for set in pending.sets.iter().rev().skip(1) {
                match &set.signature {
                    Some(check) if self.check_message_signature(check, &pending.fields).is_ok() => {
                        oldest = set.seal.instance;
                    }
                    _ => return oldest,
                }
            }
            0
        });
        Outcome {
            result: ArcResult::Pass,
            reason: None,
            sets,
            oldest_pass,
            instances: pending.instances.clone(),
            header_error: None,
        }
    }
}

impl Machine for Validation {
    type Output = Outcome;

    fn poll(&mut self) -> Poll<Outcome> {
        if let State::Pending(pending) = &self.state {
            let waiting: Vec<Query> = self
                .lookups
                .iter()
                .filter(|(_, answer)| answer.is_none())
                .map(|(query, _)| query.clone())
                .collect();
            if !waiting.is_empty() {
                return Poll::Lookups(waiting);
            }
            let outcome = self.evaluate(pending);
            self.state = State::Decided(outcome);
        }
        match &self.state {
            State::Decided(outcome) => Poll::Done(outcome.clone()),
            State::Pending(_) => Poll::Done(Outcome::none()),
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        let pending = matches!(self.state, State::Pending(_));
        match self
            .lookups
            .iter_mut()
            .find(|(q, a)| q == query && a.is_none())
        {
            Some((_, slot)) if pending => {
                *slot = Some(answer);
                Ok(())
            }
            _ => Err(UnexpectedAnswer {
                query: query.clone(),
            }),
        }
    }
}

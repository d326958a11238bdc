//! The sans-IO seam shared by every check.
//!
//! A check (SPF, DKIM verification, DMARC, the inbound pipeline) is a value
//! that never performs I/O. The caller drives it:
//!
//! 1. call [`Machine::poll`]: it returns either the DNS queries the check
//!    needs now ([`Poll::Lookups`]) or the final outcome ([`Poll::Done`]);
//! 2. resolve those queries in any way (blocking, async, in parallel, from
//!    raw packets handed over by an MTA) and hand each answer back with
//!    [`Machine::supply`], in any order;
//! 3. go back to 1.
//!
//! The queries of one [`Poll::Lookups`] are independent of each other, so a
//! caller may resolve them concurrently. Calling `poll` again before all of
//! them are answered returns the ones still outstanding (the call is
//! idempotent); once every outstanding query has an answer, `poll` moves the
//! check forward. [`resolve`] is the blocking driver over a [`Resolver`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::dns::{Answer, Query, Resolver};

/// The answers a machine has received, by query: a list searched in
/// order. A check asks a bounded, small number of queries (SPF at most a
/// few dozen), where comparing names beats hashing them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answers {
    /// A typical check's answers are held inline.
    entries: smallvec::SmallVec<[(Query, Arc<Answer>); 8]>,
}

impl Answers {
    /// The answer to `query`, shared.
    pub(crate) fn get(&self, query: &Query) -> Option<&Arc<Answer>> {
        self.entries
            .iter()
            .find(|(asked, _)| asked == query)
            .map(|(_, answer)| answer)
    }

    /// Whether `query` has an answer.
    pub(crate) fn contains_key(&self, query: &Query) -> bool {
        self.get(query).is_some()
    }

    /// Where the answer to `query` is kept, for [`at`](Self::at).
    pub(crate) fn position(&self, query: &Query) -> Option<usize> {
        self.entries.iter().position(|(asked, _)| asked == query)
    }

    /// The answer kept at `index` (from [`position`](Self::position)).
    pub(crate) fn at(&self, index: usize) -> Option<&Arc<Answer>> {
        self.entries.get(index).map(|(_, answer)| answer)
    }

    /// Keeps the answer to `query`, which has none yet.
    pub(crate) fn push(&mut self, query: Query, answer: Arc<Answer>) {
        self.entries.push((query, answer));
    }
}

/// What a check asks for next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll<T> {
    /// The check needs the answers to these queries before it can go on.
    /// The list is never empty.
    Lookups(Vec<Query>),
    /// The check has finished with this outcome. Polling again returns the
    /// same outcome.
    Done(T),
}

/// How far [`Machine::progress`] took a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The check needs the answers to the queries it added to the list.
    Waiting,
    /// The check has finished: [`Machine::into_output`] hands the outcome
    /// over.
    Done,
}

/// An answer was supplied for a query the check is not waiting for.
///
/// The answer is dropped and the check is unchanged; this is a caller bug,
/// not a protocol outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("answer supplied for a query that was not asked: {query}")]
pub struct UnexpectedAnswer {
    /// The query the unexpected answer was for.
    pub query: Query,
}

/// A check driven by DNS answers: the common shape of every sans-IO machine
/// in this crate.
pub trait Machine {
    /// The outcome of the check.
    type Output: Clone;

    /// Advances the check as far as the answers supplied so far allow, and
    /// says what it needs next (see the [module docs](self)).
    fn poll(&mut self) -> Poll<Self::Output>;

    /// Hands over the answer to one query returned by [`Machine::poll`].
    ///
    /// # Errors
    /// [`UnexpectedAnswer`] when the check is not waiting for `query` (never
    /// asked, or answered already).
    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer>;

    /// Hands over the answer to one query returned by [`Machine::poll`]
    /// or [`Machine::progress`], shared: a check that keeps answers keeps
    /// this one without copying it (a resolver that holds its answers
    /// shared, such as [`ZoneResolver`](crate::dns::ZoneResolver), gives
    /// them through [`Resolver::lookup_shared`]). The default hands a copy
    /// to [`supply`](Self::supply) unless the answer is not shared.
    ///
    /// # Errors
    /// As [`supply`](Self::supply).
    fn supply_shared(
        &mut self,
        query: &Query,
        answer: Arc<Answer>,
    ) -> Result<(), UnexpectedAnswer> {
        self.supply(query, Arc::unwrap_or_clone(answer))
    }

    /// Moves the check forward as [`poll`](Self::poll) does, without
    /// copying the outcome or allocating the list of queries: the queries
    /// needed now are added to `queries` (the caller empties it between
    /// rounds), and once it says [`Progress::Done`],
    /// [`into_output`](Self::into_output) hands the outcome over. For a
    /// caller that takes the outcome for good, as [`resolve`] does. The
    /// default calls `poll`; checks override it.
    fn progress(&mut self, queries: &mut Vec<Query>) -> Progress {
        match self.poll() {
            Poll::Done(_) => Progress::Done,
            Poll::Lookups(asked) => {
                queries.extend(asked);
                Progress::Waiting
            }
        }
    }

    /// The outcome of a finished check, moved out of it.
    ///
    /// # Errors
    /// The check itself, unchanged, when it has not finished (poll it
    /// further).
    fn into_output(mut self) -> Result<Self::Output, Self>
    where
        Self: Sized,
    {
        match self.poll() {
            Poll::Done(output) => Ok(output),
            Poll::Lookups(_) => Err(self),
        }
    }

    /// [`into_output`](Self::into_output) for a check held in a box, as
    /// a caller that drives several checks side by side may keep them:
    /// checks that override it take the outcome out of the box instead
    /// of moving the whole check out first. The default moves it out and
    /// calls `into_output`.
    ///
    /// # Errors
    /// The check, still boxed, when it has not finished.
    fn into_output_boxed(self: Box<Self>) -> Result<Self::Output, Box<Self>>
    where
        Self: Sized,
    {
        (*self).into_output().map_err(Box::new)
    }

    /// The outcome of a finished check taken out where the check is kept,
    /// leaving it spent (call nothing on it afterwards but `drop`): a
    /// caller that owns the check, as [`resolve`] does, gets the outcome
    /// without moving the whole check into
    /// [`into_output`](Self::into_output) first. `None` when the check has
    /// not finished, and from checks that do not override it (the
    /// default); then call `into_output`.
    fn take_output(&mut self) -> Option<Self::Output> {
        None
    }
}

/// The queries a machine has asked and their answers, once supplied: the
/// bookkeeping behind `poll` and `supply` of a machine that asks queries in
/// rounds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Lookups {
    asked: HashMap<Query, Option<Answer>>,
}

impl Lookups {
    /// Asks `query` (again: no change).
    pub(crate) fn ask(&mut self, query: Query) {
        self.asked.entry(query).or_insert(None);
    }

    /// Whether `query` was asked.
    pub(crate) fn contains(&self, query: &Query) -> bool {
        self.asked.contains_key(query)
    }

    /// How many queries were asked.
    pub(crate) fn len(&self) -> usize {
        self.asked.len()
    }

    /// The answer to `query`, once supplied.
    pub(crate) fn answer(&self, query: &Query) -> Option<&Answer> {
        self.asked.get(query).and_then(Option::as_ref)
    }

    /// The queries still unanswered, ordered by name and type code (so that a
    /// machine's rounds do not depend on hash order).
    pub(crate) fn open(&self) -> Vec<Query> {
        let mut open: Vec<Query> = self
            .asked
            .iter()
            .filter(|(_, answer)| answer.is_none())
            .map(|(query, _)| query.clone())
            .collect();
        open.sort_by(|a, b| (&a.name, a.record_type.code()).cmp(&(&b.name, b.record_type.code())));
        open
    }

    /// Takes the answer to an open query.
    ///
    /// # Errors
    /// [`UnexpectedAnswer`] when `query` was not asked or is answered.
    pub(crate) fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        match self.asked.get_mut(query) {
            Some(slot @ None) => {
                *slot = Some(answer);
                Ok(())
            }
            _ => Err(UnexpectedAnswer {
                query: query.clone(),
            }),
        }
    }

    /// Removes every query, giving the answered ones with their answers.
    pub(crate) fn drain_answered(&mut self) -> impl Iterator<Item = (Query, Answer)> + '_ {
        self.asked
            .drain()
            .filter_map(|(query, answer)| Some((query, answer?)))
    }
}

/// Drives `machine` to its outcome with a blocking `resolver`.
///
/// ```
/// use mailauth::dns::{Name, ZoneResolver};
/// use mailauth::spf;
///
/// let mut zone = ZoneResolver::new();
/// zone.add_txt(&Name::new("example.org").unwrap(), "v=spf1 ip4:192.0.2.0/24 -all");
/// let input = spf::Input::mail_from("192.0.2.7".parse().unwrap(), "mx.example.org", "alice@example.org");
/// let outcome = mailauth::resolve(spf::Check::new(&input, &spf::Config::default()), &zone);
/// assert_eq!(outcome.result, spf::SpfResult::Pass);
/// ```
pub fn resolve<M: Machine, R: Resolver + ?Sized>(mut machine: M, resolver: &R) -> M::Output {
    let mut queries = QueryList::take();
    loop {
        queries.clear();
        match machine.progress(&mut queries) {
            Progress::Done => {
                // Taken where the check is, when it can be: a check may be
                // kilobytes, moved whole into `into_output` otherwise.
                if let Some(output) = machine.take_output() {
                    return output;
                }
                return match machine.into_output() {
                    Ok(output) => output,
                    // Not finished after all: go on by polling alone.
                    Err(unfinished) => resolve_by_polling(unfinished, resolver),
                };
            }
            // Waiting for nothing breaks the contract of `progress`: the
            // check's `poll` decides.
            Progress::Waiting if queries.is_empty() => {
                return resolve_by_polling(machine, resolver);
            }
            Progress::Waiting => {
                for query in queries.iter() {
                    let answer = resolver.lookup_shared(query);
                    // The machine asked for exactly these queries, so it
                    // cannot refuse the answer.
                    let _ = machine.supply_shared(query, answer);
                }
            }
        }
    }
}

/// The list [`resolve`] gathers each round's queries in: one per thread,
/// kept between calls (emptied) so that a check driven by `resolve`
/// allocates no list of its own. A `resolve` called while another runs on
/// the thread (from inside a resolver) gets a list of its own.
pub(crate) struct QueryList(Vec<Query>);

thread_local! {
    /// Spare lists, a few deep: a check driven by `resolve` may drive
    /// checks of its own (the inbound pipeline does), each with a list.
    static SPARE_QUERIES: std::cell::RefCell<Vec<Vec<Query>>> = const {
        std::cell::RefCell::new(Vec::new())
    };
}

/// A spare list longer than this is not kept: what a hostile run of
/// queries made it grow to is given back.
const SPARE_QUERIES_KEPT: usize = 64;
/// How many spare lists a thread keeps.
const SPARE_LISTS: usize = 4;

impl QueryList {
    /// An empty list, one kept by this thread when there is one.
    pub(crate) fn take() -> QueryList {
        let spare = SPARE_QUERIES
            .try_with(|spare| {
                spare
                    .try_borrow_mut()
                    .ok()
                    .and_then(|mut lists| lists.pop())
            })
            .ok()
            .flatten();
        QueryList(spare.unwrap_or_default())
    }
}

impl std::ops::Deref for QueryList {
    type Target = Vec<Query>;

    fn deref(&self) -> &Vec<Query> {
        &self.0
    }
}

impl std::ops::DerefMut for QueryList {
    fn deref_mut(&mut self) -> &mut Vec<Query> {
        &mut self.0
    }
}

impl Drop for QueryList {
    fn drop(&mut self) {
        let mut queries = std::mem::take(&mut self.0);
        if queries.capacity() == 0 || queries.capacity() > SPARE_QUERIES_KEPT {
            return;
        }
        queries.clear();
        // Gone when the thread is ending; then the list is just freed.
        let _ = SPARE_QUERIES.try_with(|spare| {
            if let Ok(mut lists) = spare.try_borrow_mut()
                && lists.len() < SPARE_LISTS
            {
                lists.push(queries);
            }
        });
    }
}

/// [`resolve`] through [`Machine::poll`] only.
fn resolve_by_polling<M: Machine, R: Resolver + ?Sized>(mut machine: M, resolver: &R) -> M::Output {
    loop {
        match machine.poll() {
            Poll::Done(output) => return output,
            Poll::Lookups(queries) => {
                for query in queries {
                    let answer = resolver.lookup(&query);
                    let _ = machine.supply(&query, answer);
                }
            }
        }
    }
}

impl<M: Machine + ?Sized> Machine for Box<M> {
    type Output = M::Output;

    fn poll(&mut self) -> Poll<M::Output> {
        (**self).poll()
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        (**self).supply(query, answer)
    }

    fn supply_shared(
        &mut self,
        query: &Query,
        answer: Arc<Answer>,
    ) -> Result<(), UnexpectedAnswer> {
        (**self).supply_shared(query, answer)
    }

    fn progress(&mut self, queries: &mut Vec<Query>) -> Progress {
        (**self).progress(queries)
    }

    fn take_output(&mut self) -> Option<M::Output> {
        (**self).take_output()
    }
}

/// A machine whose outcome is converted by a function: see
/// [`MachineExt::map_output`].
#[derive(Debug, Clone)]
pub struct MapOutput<M, F> {
    machine: M,
    map: F,
}

impl<M, F, T> Machine for MapOutput<M, F>
where
    M: Machine,
    F: Fn(M::Output) -> T,
    T: Clone,
{
    type Output = T;

    fn poll(&mut self) -> Poll<T> {
        match self.machine.poll() {
            Poll::Done(output) => Poll::Done((self.map)(output)),
            Poll::Lookups(queries) => Poll::Lookups(queries),
        }
    }

    fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        self.machine.supply(query, answer)
    }

    fn supply_shared(
        &mut self,
        query: &Query,
        answer: Arc<Answer>,
    ) -> Result<(), UnexpectedAnswer> {
        self.machine.supply_shared(query, answer)
    }

    fn progress(&mut self, queries: &mut Vec<Query>) -> Progress {
        self.machine.progress(queries)
    }

    fn into_output(self) -> Result<T, Self> {
        let MapOutput { machine, map } = self;
        match machine.into_output() {
            Ok(output) => Ok(map(output)),
            Err(machine) => Err(MapOutput { machine, map }),
        }
    }

    fn take_output(&mut self) -> Option<T> {
        self.machine.take_output().map(&self.map)
    }
}

/// Combinators over any [`Machine`].
pub trait MachineExt: Machine + Sized {
    /// The same check with its outcome converted by `map`: how a front end
    /// gives checks of different kinds one outcome type (an enum of its
    /// own), to keep them as `Box<dyn Machine<Output = ...>>` in a
    /// [`Driver`].
    fn map_output<F, T>(self, map: F) -> MapOutput<Self, F>
    where
        F: Fn(Self::Output) -> T,
        T: Clone,
    {
        MapOutput { machine: self, map }
    }
}

impl<M: Machine> MachineExt for M {}

/// A machine with the state a front end needs to drive it one query at a
/// time: the queries of the last poll, numbered from 0, and the outcome once
/// known.
///
/// This is the shape of the C ABI's `mailauth_check` and Python's `Check`:
/// [`Driver::poll`] gives the open queries (empty once finished),
/// [`Driver::supply_at`] answers one by its index, [`Driver::outcome`]
/// takes the result. [`Driver::resolve`] and [`Driver::resolve_parallel`]
/// run the loop with a blocking resolver.
#[derive(Debug, Clone)]
pub struct Driver<M: Machine> {
    machine: M,
    pending: Vec<Query>,
    outcome: Option<M::Output>,
}

impl<M: Machine> Driver<M> {
    /// Wraps a machine that has not been polled yet.
    pub fn new(machine: M) -> Driver<M> {
        Driver {
            machine,
            pending: Vec::new(),
            outcome: None,
        }
    }

    /// Advances the machine and returns the queries it needs now, empty once
    /// it has finished (then [`outcome`](Self::outcome) is set). The indices
    /// of this slice are the ones [`supply_at`](Self::supply_at) takes,
    /// until the next poll.
    pub fn poll(&mut self) -> &[Query] {
        if self.outcome.is_none() {
            match self.machine.poll() {
                Poll::Done(outcome) => {
                    self.outcome = Some(outcome);
                    self.pending.clear();
                }
                Poll::Lookups(queries) => self.pending = queries,
            }
        }
        &self.pending
    }

    /// The machine.
    pub fn machine(&self) -> &M {
        &self.machine
    }

    /// The machine, to change it (as an MTA session is fed its next
    /// stage): the outcome and the open queries are forgotten, and the
    /// next poll asks the machine anew.
    pub fn machine_mut(&mut self) -> &mut M {
        self.outcome = None;
        self.pending.clear();
        &mut self.machine
    }

    /// The machine, for a change that leaves its work as it is (a label
    /// such as an MTA session's queue ID): unlike
    /// [`machine_mut`](Self::machine_mut), the outcome and the open
    /// queries stay.
    pub fn machine_mut_in_place(&mut self) -> &mut M {
        &mut self.machine
    }

    /// The queries of the last poll (empty once finished).
    pub fn pending(&self) -> &[Query] {
        &self.pending
    }

    /// Answers the query at `index` of the last poll.
    ///
    /// # Errors
    /// [`SupplyError::NoSuchQuery`] for an index out of range,
    /// [`SupplyError::Unexpected`] for a query answered already.
    pub fn supply_at(&mut self, index: usize, answer: Answer) -> Result<(), SupplyError> {
        let query = self
            .pending
            .get(index)
            .ok_or(SupplyError::NoSuchQuery { index })?;
        Ok(self.machine.supply(query, answer)?)
    }

    /// Answers `query`, one of the last poll.
    ///
    /// # Errors
    /// [`UnexpectedAnswer`] when the machine is not waiting for `query`.
    pub fn supply(&mut self, query: &Query, answer: Answer) -> Result<(), UnexpectedAnswer> {
        self.machine.supply(query, answer)
    }

    /// The outcome, once a poll returned no query.
    pub fn outcome(&self) -> Option<&M::Output> {
        self.outcome.as_ref()
    }

    /// Runs the machine to its end, looking the queries of each round up one
    /// after the other; then [`outcome`](Self::outcome) is set.
    pub fn resolve<R: Resolver + ?Sized>(&mut self, resolver: &R) {
        self.run(|queries| queries.iter().map(|q| resolver.lookup(q)).collect());
    }

    /// Runs the machine to its end, looking the queries of each round up at
    /// the same time, one thread per query (see [`resolve_parallel`]); then
    /// [`outcome`](Self::outcome) is set.
    pub fn resolve_parallel<R: Resolver + Sync + ?Sized>(&mut self, resolver: &R) {
        self.run(|queries| lookup_parallel(queries, resolver));
    }

    /// Runs the machine to its end with a lookup that may fail, such as a
    /// resolver written in another language that can raise: the queries of
    /// each round are looked up one after the other, and the first error
    /// stops the run and is returned. The answers supplied until then stay
    /// with the machine; driving it again asks the open queries anew.
    ///
    /// # Errors
    /// The first error of `lookup`.
    pub fn try_resolve<E>(
        &mut self,
        mut lookup: impl FnMut(&Query) -> Result<Answer, E>,
    ) -> Result<(), E> {
        while !self.poll().is_empty() {
            for query in &self.pending {
                let answer = lookup(query)?;
                // The machine asked for this query.
                let _ = self.machine.supply(query, answer);
            }
        }
        Ok(())
    }

    fn run(&mut self, mut lookup: impl FnMut(&[Query]) -> Vec<Answer>) {
        while !self.poll().is_empty() {
            let answers = lookup(&self.pending);
            for (query, answer) in self.pending.iter().zip(answers) {
                // The machine asked for exactly these queries.
                let _ = self.machine.supply(query, answer);
            }
        }
    }
}

/// An answer handed to a [`Driver`] by index was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupplyError {
    /// The last poll returned fewer queries.
    #[error("no query at index {index}")]
    NoSuchQuery {
        /// The index given.
        index: usize,
    },
    /// The query at that index was answered already.
    #[error(transparent)]
    Unexpected(#[from] UnexpectedAnswer),
}

/// Drives `machine` to its outcome with a blocking `resolver`, looking up
/// the queries of each round at the same time, one scoped thread per query.
///
/// For a resolver that waits on the network (a `StubResolver`), a message
/// whose checks need several queries at once then waits one round trip per
/// round instead of one per query. A round of a single query is looked up
/// on the calling thread; a lookup that panics on a worker thread counts
/// as a temporary failure ([`Failure::Other`](crate::dns::Failure::Other)).
///
/// ```
/// use mailauth::dns::{Name, ZoneResolver};
/// use mailauth::spf;
///
/// let mut zone = ZoneResolver::new();
/// zone.add_txt(&Name::new("example.org").unwrap(), "v=spf1 a mx -all");
/// let input = spf::Input::mail_from("192.0.2.7".parse().unwrap(), "mx.example.org", "alice@example.org");
/// let outcome = mailauth::resolve_parallel(spf::Check::new(&input, &spf::Config::default()), &zone);
/// assert_eq!(outcome.result, spf::SpfResult::Fail);
/// ```
pub fn resolve_parallel<M, R>(mut machine: M, resolver: &R) -> M::Output
where
    M: Machine,
    R: Resolver + Sync + ?Sized,
{
    loop {
        match machine.poll() {
            Poll::Done(output) => return output,
            Poll::Lookups(queries) => {
                let answers = lookup_parallel(&queries, resolver);
                for (query, answer) in queries.iter().zip(answers) {
                    // The machine asked for exactly these queries.
                    let _ = machine.supply(query, answer);
                }
            }
        }
    }
}

fn lookup_parallel<R: Resolver + Sync + ?Sized>(queries: &[Query], resolver: &R) -> Vec<Answer> {
    if queries.len() < 2 {
        return queries.iter().map(|q| resolver.lookup(q)).collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = queries
            .iter()
            .map(|q| scope.spawn(move || resolver.lookup(q)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or(Answer::TempFail(crate::dns::Failure::Other))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{Failure, Name, ZoneResolver};
    use crate::spf;

    fn zone() -> ZoneResolver {
        ZoneResolver::from_zone_text(
            "$ORIGIN example.org.\n\
             @ 3600 IN TXT \"v=spf1 a mx include:_spf.example.org -all\"\n\
             @ 3600 IN A 192.0.2.1\n\
             @ 3600 IN MX 10 mx\n\
             mx 3600 IN A 192.0.2.2\n\
             _spf 3600 IN TXT \"v=spf1 ip4:198.51.100.0/24 -all\"\n",
        )
        .unwrap()
    }

    fn check(ip: &str) -> spf::Check {
        let input = spf::Input::mail_from(ip.parse().unwrap(), "mx.example.org", "a@example.org");
        spf::Check::new(&input, &spf::Config::default())
    }

    #[test]
    fn drivers_agree() {
        for ip in ["192.0.2.2", "198.51.100.9", "203.0.113.1"] {
            let sequential = resolve(check(ip), &zone());
            let parallel = resolve_parallel(check(ip), &zone());
            let mut driver = Driver::new(check(ip));
            driver.resolve_parallel(&zone());
            assert_eq!(sequential, parallel);
            assert_eq!(driver.outcome(), Some(&sequential));
            assert!(driver.poll().is_empty());
        }
    }

    #[test]
    fn driver_by_index() {
        let zone = zone();
        let mut driver = Driver::new(Box::new(check("192.0.2.2").map_output(|o| o.result))
            as Box<dyn Machine<Output = spf::SpfResult>>);
        assert_eq!(driver.outcome(), None);
        while !driver.poll().is_empty() {
            let count = driver.pending().len();
            assert_eq!(
                driver.supply_at(count, Answer::NoData),
                Err(SupplyError::NoSuchQuery { index: count })
            );
            for index in (0..count).rev() {
                let answer = zone.lookup(&driver.pending()[index]);
                driver.supply_at(index, answer).unwrap();
                assert!(matches!(
                    driver.supply_at(index, Answer::NoData),
                    Err(SupplyError::Unexpected(_))
                ));
            }
        }
        assert_eq!(driver.outcome(), Some(&spf::SpfResult::Pass));
    }

    #[test]
    fn a_failing_lookup_stops_the_driver_where_it_was() {
        let zone = zone();
        let mut driver = Driver::new(check("192.0.2.2"));
        let mut asked = 0;
        let stopped = driver.try_resolve(|query| {
            asked += 1;
            if query.record_type == crate::dns::RecordType::Mx {
                Err("no MX today")
            } else {
                Ok(zone.lookup(query))
            }
        });
        assert_eq!(stopped, Err("no MX today"));
        assert_eq!(driver.outcome(), None);
        // Driven again, the machine goes on from where it stopped.
        driver
            .try_resolve(|query| Ok::<_, ()>(zone.lookup(query)))
            .unwrap();
        assert_eq!(
            driver.outcome().map(|o| o.result),
            Some(spf::SpfResult::Pass)
        );
        assert!(asked >= 2);
    }

    /// A resolver whose lookups of one name panic: the parallel driver
    /// answers a temporary failure for it instead.
    struct Panicking;

    impl Resolver for Panicking {
        fn lookup_with_ttl(&self, query: &Query) -> (Answer, Option<u32>) {
            assert!(query.name.as_str() != "_dmarc.example.org", "lookup failed");
            (Answer::NxDomain, None)
        }
    }

    #[test]
    fn a_panicking_lookup_is_a_temporary_failure() {
        let mut check = crate::dmarc::Check::from_author_domain(
            &Name::new("a.b.example.org").unwrap(),
            &crate::dmarc::Config::default(),
        );
        let Poll::Lookups(queries) = check.poll() else {
            panic!("queries expected");
        };
        assert!(queries.len() > 1);
        let answers = lookup_parallel(&queries, &Panicking);
        for (query, answer) in queries.iter().zip(&answers) {
            if query.name.as_str() == "_dmarc.example.org" {
                assert_eq!(answer, &Answer::TempFail(Failure::Other));
            } else {
                assert_eq!(answer, &Answer::NxDomain);
            }
        }
    }
}

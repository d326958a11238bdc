//! Recording without delaying mail: a bounded queue in front of a writer
//! thread.
//!
//! [`Recorder::record`] only tries to put the verdict in a bounded queue:
//! it never waits, for the queue or for the database. A writer thread
//! takes verdicts off the queue, adds up those that share an aggregation
//! key, and writes them in one transaction per batch
//! ([`RecorderConfig::batch_size`] verdicts, or what came in
//! [`RecorderConfig::flush_interval`]). When the store is down the writer
//! keeps its batch and reconnects with exponential backoff; meanwhile the
//! queue fills, and once it is full new verdicts are dropped and counted
//! ([`Recorder::lost`]), and the count is logged (`log` crate, target
//! `mailauth_store`). Mail never waits for the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::period::{Period, Periods};
use crate::store::{Entry, ReportStore, StoreError};

/// Something the recorder can count: a verdict of one message.
pub trait Recordable: Send + 'static {
    /// This verdict's row (count 1) in `period`, or `None` when it has
    /// nothing to report (no DMARC policy domain).
    fn entry(&self, period: Period) -> Option<Entry>;
}

/// Opens (or reopens, after a failure) the store the writer writes to.
pub type Connect = Box<dyn FnMut() -> Result<Box<dyn ReportStore>, StoreError> + Send>;

/// The recorder's limits and timings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderConfig {
    /// Verdicts waiting for the writer at most; past that new ones are
    /// dropped and counted. Default 100 000 (a few tens of MB at most).
    pub queue_capacity: usize,
    /// Verdicts written per transaction at most. Default 1 000.
    pub batch_size: usize,
    /// A partial batch is written after this long. Default 1 s.
    pub flush_interval: Duration,
    /// The first wait before reconnecting to a failed store; doubled at
    /// each failure. Default 100 ms.
    pub retry_initial: Duration,
    /// The longest wait between reconnections. Default 30 s.
    pub retry_max: Duration,
    /// Writes tried once all recorders are dropped before what is left is
    /// counted lost. Default 3.
    pub final_attempts: u32,
    /// The reporting periods.
    pub periods: Periods,
}

impl Default for RecorderConfig {
    fn default() -> RecorderConfig {
        RecorderConfig {
            queue_capacity: 100_000,
            batch_size: 1_000,
            flush_interval: Duration::from_secs(1),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(30),
            final_attempts: 3,
            periods: Periods::default(),
        }
    }
}

enum Message<T> {
    Verdict(T, u64),
    Flush(u64),
}

#[derive(Default)]
struct Counters {
    lost: AtomicU64,
    written: AtomicU64,
    failures: AtomicU64,
}

#[derive(Default)]
struct FlushState {
    requested: u64,
    done: u64,
}

struct Shared {
    counters: Counters,
    flush: Mutex<FlushState>,
    flushed: Condvar,
    writer: Mutex<Option<thread::JoinHandle<()>>>,
}

/// The handle front ends record verdicts with: cheap to clone, `Send` and
/// `Sync`. See the [module docs](self). The writer thread ends, after
/// writing what is queued, when the last clone is dropped.
pub struct Recorder<T> {
    queue: SyncSender<Message<T>>,
    shared: Arc<Shared>,
}

impl<T> Clone for Recorder<T> {
    fn clone(&self) -> Recorder<T> {
        Recorder {
            queue: self.queue.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> std::fmt::Debug for Recorder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("lost", &self.lost())
            .field("written", &self.written())
            .finish_non_exhaustive()
    }
}

impl<T: Recordable> Recorder<T> {
    /// Starts the writer thread, which opens the store with `connect` (and
    /// again after each failure), and returns the first handle.
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn start(connect: Connect, config: RecorderConfig) -> std::io::Result<Recorder<T>> {
        let (queue, receiver) = mpsc::sync_channel(config.queue_capacity.max(1));
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            flush: Mutex::new(FlushState::default()),
            flushed: Condvar::new(),
            writer: Mutex::new(None),
        });
        let writer = Writer {
            receiver,
            shared: Arc::clone(&shared),
            connect,
            store: None,
            pending: HashMap::new(),
            pending_verdicts: 0,
            config,
        };
        let handle = thread::Builder::new()
            .name("mailauth-store".to_owned())
            .spawn(move || writer.run())?;
        if let Ok(mut slot) = shared.writer.lock() {
            *slot = Some(handle);
        }
        Ok(Recorder { queue, shared })
    }

    /// Queues a verdict of a message received at `time` (seconds since the
    /// Unix epoch), without waiting. `false` when it was dropped (the
    /// queue is full: the store is down or slower than the mail), which
    /// [`lost`](Self::lost) counts.
    pub fn record(&self, verdict: T, time: u64) -> bool {
        match self.queue.try_send(Message::Verdict(verdict, time)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared.counters.lost.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }
}

/// Joins the writer thread when the handle holding `shared` (its sender
/// already dropped) was the last one.
///
/// The writer holds one reference and ends only once every sender is
/// gone, so more than two references means another handle is still open.
/// Two are this handle and the writer's; one alone means the writer has
/// already seen the last sender go and let its reference go on its way
/// out, but its thread may still be closing the database: it is joined
/// all the same, so that nothing of it is left running when `close`
/// returns.
fn join_when_last(shared: &Arc<Shared>) {
    if Arc::strong_count(shared) > 2 {
        return;
    }
    let handle = shared.writer.lock().ok().and_then(|mut slot| slot.take());
    if let Some(handle) = handle {
        let _ = handle.join();
    }
}

impl<T> Recorder<T> {
    /// Verdicts dropped so far (the queue was full).
    pub fn lost(&self) -> u64 {
        self.shared.counters.lost.load(Ordering::Relaxed)
    }

    /// Verdicts written to the store so far.
    pub fn written(&self) -> u64 {
        self.shared.counters.written.load(Ordering::Relaxed)
    }

    /// Failed writes or connections so far.
    pub fn failures(&self) -> u64 {
        self.shared.counters.failures.load(Ordering::Relaxed)
    }

    /// Drops this handle; when it is the last one, waits for the writer
    /// thread to write what is queued (retrying a failed store
    /// [`RecorderConfig::final_attempts`] times) and end. For an orderly
    /// stop: a program that exits without it loses what is queued.
    pub fn close(self) {
        let Recorder { queue, shared } = self;
        drop(queue);
        join_when_last(&shared);
    }

    /// Waits up to `timeout` until every verdict this thread queued before
    /// the call is written; `false` on timeout (the store is down). For
    /// tests and an orderly shutdown, not for the mail path.
    pub fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let generation = {
            let Ok(mut state) = self.shared.flush.lock() else {
                return false;
            };
            state.requested += 1;
            state.requested
        };
        // Behind every verdict queued before; when the queue is full, retry
        // until the writer makes room or the time is up.
        loop {
            match self.queue.try_send(Message::Flush(generation)) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(_)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    thread::sleep(Duration::from_millis(5));
                }
            }
        }
        let Ok(mut state) = self.shared.flush.lock() else {
            return false;
        };
        while state.done < generation {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = match self.shared.flushed.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(_) => return false,
            };
        }
        true
    }
}

type Key = (u64, String, String);

struct Writer<T> {
    receiver: Receiver<Message<T>>,
    shared: Arc<Shared>,
    connect: Connect,
    store: Option<Box<dyn ReportStore>>,
    pending: HashMap<Key, Entry>,
    pending_verdicts: usize,
    config: RecorderConfig,
}

impl<T: Recordable> Writer<T> {
    fn run(mut self) {
        let mut backoff = self.config.retry_initial;
        let mut flush_generation = 0u64;
        let mut lost_logged = 0u64;
        let mut open = true;
        let mut final_attempts = 0u32;
        loop {
            let deadline = Instant::now() + self.config.flush_interval;
            let mut flush_now = false;
            while open && !flush_now && self.pending_verdicts < self.config.batch_size {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.receiver.recv_timeout(left) {
                    Ok(Message::Verdict(verdict, time)) => self.add(&verdict, time),
                    Ok(Message::Flush(generation)) => {
                        flush_generation = flush_generation.max(generation);
                        flush_now = true;
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => open = false,
                }
            }
            let lost = self.shared.counters.lost.load(Ordering::Relaxed);
            if lost > lost_logged {
                log::warn!(
                    target: "mailauth_store",
                    "{} DMARC verdicts dropped (report store queue full), {lost} in all",
                    lost - lost_logged
                );
                lost_logged = lost;
            }
            match self.write() {
                Ok(()) => {
                    backoff = self.config.retry_initial;
                    self.flushed(flush_generation);
                    if !open {
                        return;
                    }
                }
                Err(error) => {
                    self.shared
                        .counters
                        .failures
                        .fetch_add(1, Ordering::Relaxed);
                    self.store = None;
                    log::warn!(
                        target: "mailauth_store",
                        "report store: {error}; {} verdicts kept, retrying in {} ms",
                        self.pending_verdicts,
                        backoff.as_millis()
                    );
                    if !open {
                        final_attempts += 1;
                        if final_attempts >= self.config.final_attempts {
                            let left = self.pending_verdicts as u64;
                            self.shared.counters.lost.fetch_add(left, Ordering::Relaxed);
                            log::error!(
                                target: "mailauth_store",
                                "report store: {left} DMARC verdicts lost at shutdown"
                            );
                            return;
                        }
                    }
                    thread::sleep(backoff);
                    backoff = (backoff * 2).min(self.config.retry_max);
                }
            }
        }
    }

    fn add(&mut self, verdict: &T, time: u64) {
        let Some(entry) = verdict.entry(self.config.periods.of(time)) else {
            return;
        };
        self.pending_verdicts += 1;
        let key = (
            entry.period.start,
            entry.policy_domain.clone(),
            entry.key.clone(),
        );
        match self.pending.get_mut(&key) {
            Some(pending) => {
                pending.count += entry.count;
                pending.policy = entry.policy;
            }
            None => {
                self.pending.insert(key, entry);
            }
        }
    }

    fn write(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let store = match &mut self.store {
            Some(store) => store,
            None => self.store.insert((self.connect)()?),
        };
        let entries: Vec<Entry> = self.pending.values().cloned().collect();
        store.record(&entries)?;
        self.shared
            .counters
            .written
            .fetch_add(self.pending_verdicts as u64, Ordering::Relaxed);
        self.pending.clear();
        self.pending_verdicts = 0;
        Ok(())
    }

    fn flushed(&self, generation: u64) {
        if let Ok(mut state) = self.shared.flush.lock()
            && generation > state.done
        {
            state.done = generation;
            self.shared.flushed.notify_all();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Nothing;

    impl Recordable for Nothing {
        fn entry(&self, _period: Period) -> Option<Entry> {
            None
        }
    }

    /// The writer may see the last sender go and drop its reference before
    /// the closing handle counts them: the thread is joined all the same.
    #[test]
    fn close_joins_a_writer_already_on_its_way_out() {
        let connect: Connect =
            Box::new(|| Ok(Box::new(crate::SqliteStore::in_memory()?) as Box<dyn ReportStore>));
        let recorder: Recorder<Nothing> =
            Recorder::start(connect, RecorderConfig::default()).unwrap();
        let Recorder { queue, shared } = recorder;
        drop(queue);
        while Arc::strong_count(&shared) > 1 {
            thread::sleep(Duration::from_millis(1));
        }
        join_when_last(&shared);
        assert!(shared.writer.lock().unwrap().is_none());
    }
}

//! One rate budget per connection, shared by syncs, writes and live reads: at most `calls`
//! connector calls in any `per` window (a sliding window, so neither a sliding nor a fixed
//! window on the ATS's side is overrun), and a cool-down after the ATS answered 429 with
//! `Retry-After`, during which nothing is sent to that ATS for that connection. The host's
//! default comes from `[sync] calls_per_second`; a connection may set its own
//! ([`RateBudget`], `PUT /v1/connections/{id}/rate-budget`).
//!
//! Callers wait in one queue per connection and are served in order: writes before sync
//! pages and live reads ([`Priority`]), first in, first out within each class. A write keeps
//! its place ([`Ticket`]) for every call it makes, so a push that has started finishes
//! before pushes that came later start. A write that cannot get its turn within its deadline
//! is refused with an estimate of when to retry ([`BudgetExhausted`]) instead of waiting on.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A connection's own rate budget: at most `calls` connector calls in any `per_secs`
/// seconds (e.g. Greenhouse: 50 per 10 s; Personio's recruiting API: 20 per 60 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateBudget {
    pub calls: u32,
    pub per_secs: u32,
}

impl RateBudget {
    /// Accepted values of `calls`.
    pub const CALLS: RangeInclusive<u32> = 1..=10_000;
    /// Accepted values of `per_secs` (up to an hour).
    pub const PER_SECS: RangeInclusive<u32> = 1..=3_600;

    /// The first value out of range, as (field, problem).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (field, value, range) in
            [("calls", self.calls, Self::CALLS), ("per_secs", self.per_secs, Self::PER_SECS)]
        {
            if !range.contains(&value) {
                return Err((
                    field,
                    format!("{value} is out of range: use {}..={}", range.start(), range.end()),
                ));
            }
        }
        Ok(())
    }

    fn limit(self) -> Limit {
        Limit {
            calls: u64::from(self.calls.max(1)),
            per: Duration::from_secs(u64::from(self.per_secs.max(1))),
        }
    }
}

/// The limit a connection's calls are held to: at most `calls` in any `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub calls: u64,
    pub per: Duration,
}

impl Limit {
    /// `per_second` calls a second as a window: whole calls over the window that holds them
    /// (10.0 → 10 per 1 s, 2.5 → 2 per 800 ms, 0.5 → 1 per 2 s). At least 0.01 a second.
    pub fn from_rate(per_second: f64) -> Limit {
        let rate = if per_second.is_finite() { per_second.max(0.01) } else { f64::MAX };
        let calls = rate.floor().clamp(1.0, 1e15);
        // `calls` is a whole number in 1..=1e15: the cast is exact.
        Limit { calls: calls as u64, per: Duration::from_secs_f64(calls / rate) }
    }

    pub fn calls_per_second(&self) -> f64 {
        self.calls as f64 / self.per.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} calls per {:?}", self.calls, self.per)
    }
}

/// Who waits: writes are served before sync pages and live reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Write,
    Sync,
}

/// A place in a connection's queue, kept by a write over all its calls (older tickets are
/// served first within a class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(u64);

/// A call's turn in the budget, taken at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub at: Instant,
    /// How long the caller waited for it.
    pub waited: Duration,
}

/// A write could not get a turn in its connection's budget within its deadline.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "connection `{connection}` has no free call in its rate budget ({limit}) within {}ms ({waiting_writes} writes waiting); retry in about {}s",
    deadline.as_millis(),
    self.retry_after_secs()
)]
pub struct BudgetExhausted {
    pub connection: String,
    pub limit: Limit,
    pub deadline: Duration,
    /// When a write arriving now would be expected to get its turn (an estimate).
    pub retry_after: Duration,
    pub waiting_writes: usize,
}

impl BudgetExhausted {
    /// `retry_after` in whole seconds, rounded up, at least 1 (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        let millis = u64::try_from(self.retry_after.as_millis()).unwrap_or(u64::MAX);
        millis.div_ceil(1000).max(1)
    }
}

/// What a connection's budget looks like now.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetStatus {
    /// The limit in force: the connection's own, else the host default.
    pub limit: Limit,
    /// The connection's own budget, if set.
    pub own: Option<RateBudget>,
    /// Calls started within the current window.
    pub calls_in_window: usize,
    pub waiting_writes: usize,
    pub waiting_syncs: usize,
    pub cool_down_left: Option<Duration>,
}

/// What a waiter does next.
enum Step {
    Served(Grant),
    Refused(BudgetExhausted),
    Sleep(Instant),
    Wait,
}

/// A waiter's key in its connection's queue: served in this order.
type Key = (Priority, Ticket, u64);

#[derive(Default)]
struct Lane {
    own: Option<RateBudget>,
    /// Start times of the calls in the current window, oldest first.
    grants: VecDeque<Instant>,
    cool_down_until: Option<Instant>,
    /// Who waits, in serving order, with how to wake each.
    queue: BTreeMap<Key, Arc<Notify>>,
}

impl Lane {
    fn limit(&self, default: Limit) -> Limit {
        self.own.map_or(default, RateBudget::limit)
    }

    /// Forgets calls that left the window and a cool-down that ended.
    fn prune(&mut self, now: Instant, limit: Limit) {
        while self.grants.front().is_some_and(|at| *at + limit.per <= now) {
            self.grants.pop_front();
        }
        if self.cool_down_until.is_some_and(|until| until <= now) {
            self.cool_down_until = None;
        }
    }

    /// When the next call may start (after [`Lane::prune`]).
    fn next_free(&self, now: Instant, limit: Limit) -> Instant {
        self.estimate(now, limit, 0)
    }

    /// When the waiter with `ahead` waiters in front of it would get its turn, if nobody
    /// else came in front and the limit stayed as it is.
    fn estimate(&self, now: Instant, limit: Limit, ahead: usize) -> Instant {
        let base = self.cool_down_until.filter(|until| *until > now).unwrap_or(now);
        let calls = usize::try_from(limit.calls).unwrap_or(usize::MAX);
        let past = self.grants.len();
        let mut future: Vec<Instant> = Vec::with_capacity(ahead + 1);
        for j in 0..=ahead {
            let mut at = future.last().copied().unwrap_or(base).max(base);
            // The grant `calls` places before this one must have left the window.
            if let Some(index) = (past + j).checked_sub(calls) {
                let earlier = if index < past { self.grants[index] } else { future[index - past] };
                at = at.max(earlier + limit.per);
            }
            future.push(at);
        }
        future.last().copied().unwrap_or(base)
    }

    fn is_head(&self, key: Key) -> bool {
        self.queue.first_key_value().is_some_and(|(first, _)| *first == key)
    }

    fn wake_head(&self) {
        if let Some((_, wake)) = self.queue.first_key_value() {
            wake.notify_one();
        }
    }

    fn waiting(&self, priority: Priority) -> usize {
        self.queue.keys().filter(|(p, _, _)| *p == priority).count()
    }
}

pub struct RateBudgets {
    default: Limit,
    lanes: Mutex<HashMap<String, Lane>>,
    /// Tickets and queue keys.
    next: AtomicU64,
}

/// A waiter's place in a queue; leaving it (served, refused, or the caller gave up) hands
/// the turn to the next waiter.
struct Place<'a> {
    budgets: &'a RateBudgets,
    connection: &'a str,
    key: Key,
    served: bool,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if self.served {
            return;
        }
        let mut lanes = self.budgets.lanes();
        if let Some(lane) = lanes.get_mut(self.connection) {
            let was_head = lane.is_head(self.key);
            lane.queue.remove(&self.key);
            if was_head {
                lane.wake_head();
            }
        }
    }
}

impl RateBudgets {
    /// Budgets with a host default of `per_second` calls a second per connection.
    pub fn new(per_second: f64) -> Self {
        Self::with_default(Limit::from_rate(per_second))
    }

    /// Budgets with a host default of `limit` per connection.
    pub fn with_default(limit: Limit) -> Self {
        let limit = Limit { calls: limit.calls.max(1), per: limit.per };
        RateBudgets { default: limit, lanes: Mutex::new(HashMap::new()), next: AtomicU64::new(1) }
    }

    fn lanes(&self) -> MutexGuard<'_, HashMap<String, Lane>> {
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lane<'m>(lanes: &'m mut HashMap<String, Lane>, connection: &str) -> &'m mut Lane {
        lanes.entry(connection.to_string()).or_default()
    }

    /// The host default limit.
    pub fn default_limit(&self) -> Limit {
        self.default
    }

    /// Sets `connection`'s own budget (`None`: the host default). Waiters re-check at once.
    pub fn set_limit(&self, connection: &str, own: Option<RateBudget>) {
        let mut lanes = self.lanes();
        match lanes.get_mut(connection) {
            Some(lane) => {
                lane.own = own;
                lane.wake_head();
            }
            None if own.is_some() => {
                lanes.insert(connection.to_string(), Lane { own, ..Lane::default() });
            }
            None => {}
        }
    }

    /// The state of `connection`'s budget.
    pub fn status(&self, connection: &str) -> BudgetStatus {
        let mut lanes = self.lanes();
        let now = Instant::now();
        match lanes.get_mut(connection) {
            Some(lane) => {
                let limit = lane.limit(self.default);
                lane.prune(now, limit);
                BudgetStatus {
                    limit,
                    own: lane.own,
                    calls_in_window: lane.grants.len(),
                    waiting_writes: lane.waiting(Priority::Write),
                    waiting_syncs: lane.waiting(Priority::Sync),
                    cool_down_left: lane.cool_down_until.map(|until| until - now),
                }
            }
            None => BudgetStatus {
                limit: self.default,
                own: None,
                calls_in_window: 0,
                waiting_writes: 0,
                waiting_syncs: 0,
                cool_down_left: None,
            },
        }
    }

    /// A new place in line, for a write to keep over all its calls.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// Waits for a turn in `connection`'s budget as a sync page or live read (after the
    /// writes, first in first out among the rest); returns how long it waited.
    pub async fn acquire(&self, connection: &str, connector: &str) -> Duration {
        let ticket = self.ticket();
        match self.wait(connection, connector, Priority::Sync, ticket, None).await {
            Ok(grant) => grant.waited,
            Err(refused) => refused.deadline,
        }
    }

    /// Waits for a turn in `connection`'s budget as a write holding `ticket`, for at most
    /// `deadline` (`None`: as long as it takes). Refused at once when even the estimate
    /// says the turn comes after the deadline.
    pub async fn acquire_write(
        &self,
        connection: &str,
        connector: &str,
        ticket: Ticket,
        deadline: Option<Duration>,
    ) -> Result<Grant, BudgetExhausted> {
        self.wait(connection, connector, Priority::Write, ticket, deadline).await
    }

    /// Gives back a turn that was not used (the write made no call after all).
    pub fn refund(&self, connection: &str, grant: Grant) {
        let mut lanes = self.lanes();
        if let Some(lane) = lanes.get_mut(connection)
            && let Some(index) = lane.grants.iter().rposition(|at| *at == grant.at)
        {
            lane.grants.remove(index);
            lane.wake_head();
        }
    }

    async fn wait(
        &self,
        connection: &str,
        connector: &str,
        priority: Priority,
        ticket: Ticket,
        deadline: Option<Duration>,
    ) -> Result<Grant, BudgetExhausted> {
        let started = Instant::now();
        let deadline_at = deadline.map(|d| started + d);
        let key = (priority, ticket, self.next.fetch_add(1, Ordering::Relaxed));
        let wake = Arc::new(Notify::new());
        {
            let mut lanes = self.lanes();
            let lane = Self::lane(&mut lanes, connection);
            let now = Instant::now();
            let limit = lane.limit(self.default);
            lane.prune(now, limit);
            let ahead = lane.queue.range(..key).count();
            if ahead == 0 && lane.next_free(now, limit) <= now {
                lane.grants.push_back(now);
                return Ok(Grant { at: now, waited: Duration::ZERO });
            }
            if let Some(deadline_at) = deadline_at {
                let turn = lane.estimate(now, limit, ahead);
                if turn > deadline_at {
                    return Err(self.refusal(connection, lane, limit, now, deadline, turn));
                }
            }
            lane.queue.insert(key, wake.clone());
        }
        let mut place = Place { budgets: self, connection, key, served: false };
        loop {
            let step = {
                let mut lanes = self.lanes();
                let lane = Self::lane(&mut lanes, connection);
                let now = Instant::now();
                let limit = lane.limit(self.default);
                lane.prune(now, limit);
                let head = lane.is_head(key);
                let free = lane.next_free(now, limit);
                if head && free <= now {
                    lane.queue.remove(&key);
                    place.served = true;
                    lane.grants.push_back(now);
                    lane.wake_head();
                    Step::Served(Grant { at: now, waited: now - started })
                } else if deadline_at.is_some_and(|d| now >= d) {
                    let ahead = lane.queue.range(..key).count();
                    let turn = lane.estimate(now, limit, ahead);
                    Step::Refused(self.refusal(connection, lane, limit, now, deadline, turn))
                } else {
                    // The head sleeps until its turn, the others until they are woken (a
                    // waiter with a deadline at most until then).
                    match (head.then_some(free), deadline_at) {
                        (Some(turn), Some(d)) => Step::Sleep(turn.min(d)),
                        (Some(at), None) | (None, Some(at)) => Step::Sleep(at),
                        (None, None) => Step::Wait,
                    }
                }
            };
            match step {
                Step::Served(grant) => {
                    if !grant.waited.is_zero() {
                        crate::metrics::global().rate_limit_wait(connector, grant.waited);
                    }
                    return Ok(grant);
                }
                Step::Refused(refused) => return Err(refused),
                Step::Sleep(at) => {
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep_until(at.into()) => {}
                    }
                }
                Step::Wait => wake.notified().await,
            }
        }
    }

    fn refusal(
        &self,
        connection: &str,
        lane: &Lane,
        limit: Limit,
        now: Instant,
        deadline: Option<Duration>,
        turn: Instant,
    ) -> BudgetExhausted {
        BudgetExhausted {
            connection: connection.to_string(),
            limit,
            deadline: deadline.unwrap_or_default(),
            retry_after: turn.saturating_duration_since(now),
            waiting_writes: lane.waiting(Priority::Write),
        }
    }

    /// The time left of `connection`'s cool-down, if any.
    pub fn cool_down_left(&self, connection: &str) -> Option<Duration> {
        let lanes = self.lanes();
        let until = lanes.get(connection)?.cool_down_until?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// The ATS asked to wait `retry_after` before calling again for `connection`.
    pub fn cool_down(&self, connection: &str, retry_after: Duration) {
        let mut lanes = self.lanes();
        let lane = Self::lane(&mut lanes, connection);
        let until = Instant::now() + retry_after;
        lane.cool_down_until = Some(lane.cool_down_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN: &str = "conn";

    fn every(per_ms: u64) -> RateBudgets {
        RateBudgets::with_default(Limit { calls: 1, per: Duration::from_millis(per_ms) })
    }

    /// Sync-class waiters spawned one after the other, each queued before the next.
    #[derive(Default)]
    struct Waiters {
        arrived: usize,
        served: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Waiters {
        async fn queue(&mut self, budgets: &Arc<RateBudgets>) -> tokio::task::JoinHandle<Instant> {
            let (b, served) = (budgets.clone(), self.served.clone());
            let task = tokio::spawn(async move {
                b.acquire(CONN, "x").await;
                served.fetch_add(1, Ordering::SeqCst);
                Instant::now()
            });
            self.arrived += 1;
            // Queued, or already served (which counts once the task has noted it).
            while budgets.status(CONN).waiting_syncs + self.served.load(Ordering::SeqCst)
                < self.arrived
            {
                tokio::task::yield_now().await;
            }
            task
        }
    }

    #[tokio::test]
    async fn the_budget_spaces_calls_and_a_cool_down_blocks_the_connection_only() {
        let budgets = RateBudgets::new(20.0);
        for _ in 0..20 {
            assert_eq!(budgets.acquire("a", "x").await, Duration::ZERO, "burst is free");
        }
        assert!(budgets.acquire("a", "x").await > Duration::ZERO, "the 21st call waits");
        budgets.cool_down("a", Duration::from_millis(200));
        assert!(budgets.cool_down_left("a").is_some());
        assert!(budgets.cool_down_left("b").is_none());
        assert_eq!(
            budgets.acquire("b", "x").await,
            Duration::ZERO,
            "other connections are not affected"
        );
        assert!(budgets.acquire("a", "x").await >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn waiters_are_served_first_in_first_out() {
        let budgets = Arc::new(every(15));
        budgets.acquire(CONN, "x").await;
        let (mut waiters, mut tasks) = (Waiters::default(), Vec::new());
        for _ in 0..6 {
            tasks.push(waiters.queue(&budgets).await);
        }
        let mut served = Vec::new();
        for task in tasks {
            served.push(task.await.expect("join"));
        }
        assert!(served.windows(2).all(|w| w[0] < w[1]), "served out of order: {served:?}");
    }

    #[tokio::test]
    async fn a_write_goes_before_queued_syncs_and_keeps_its_place() {
        // Long turns: the write is queued well before the first sync's turn comes.
        let budgets = Arc::new(every(200));
        budgets.acquire(CONN, "x").await;
        let (mut waiters, mut syncs) = (Waiters::default(), Vec::new());
        for _ in 0..3 {
            syncs.push(waiters.queue(&budgets).await);
        }
        let early = budgets.ticket();
        let late = budgets.ticket();
        let b = budgets.clone();
        let newer = tokio::spawn(async move { b.acquire_write(CONN, "x", late, None).await });
        while budgets.status(CONN).waiting_writes < 1 {
            tokio::task::yield_now().await;
        }
        // A write that started earlier (an older ticket) goes before one that came later.
        let older = budgets.acquire_write(CONN, "x", early, None).await.expect("no deadline");
        let newer = newer.await.expect("join").expect("no deadline");
        assert!(older.at < newer.at);
        for sync in syncs {
            assert!(newer.at < sync.await.expect("join"), "a sync page went before a write");
        }
    }

    #[tokio::test]
    async fn a_write_is_refused_at_once_when_its_turn_is_past_the_deadline() {
        let budgets = RateBudgets::with_default(Limit { calls: 1, per: Duration::from_secs(10) });
        let ticket = budgets.ticket();
        budgets.acquire_write(CONN, "x", ticket, Some(Duration::ZERO)).await.expect("free");
        let refused = budgets
            .acquire_write(CONN, "x", budgets.ticket(), Some(Duration::from_millis(100)))
            .await
            .expect_err("no turn within 100 ms");
        assert!((9..=10).contains(&refused.retry_after_secs()), "{refused}");
        assert_eq!(budgets.status(CONN).waiting_writes, 0, "a refused write leaves the queue");
    }

    #[tokio::test]
    async fn a_write_gives_up_at_its_deadline_when_a_cool_down_starts_while_it_waits() {
        let budgets = Arc::new(every(50));
        budgets.acquire(CONN, "x").await;
        let b = budgets.clone();
        let waiting = tokio::spawn(async move {
            b.acquire_write(CONN, "x", b.ticket(), Some(Duration::from_millis(300))).await
        });
        while budgets.status(CONN).waiting_writes < 1 {
            tokio::task::yield_now().await;
        }
        budgets.cool_down(CONN, Duration::from_secs(10));
        let refused = waiting.await.expect("join").expect_err("the cool-down outlasts it");
        assert!(refused.retry_after_secs() >= 9, "{refused}");
        assert_eq!(budgets.status(CONN).waiting_writes, 0);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_hands_the_turn_on() {
        let budgets = Arc::new(every(30));
        budgets.acquire(CONN, "x").await;
        let mut waiters = Waiters::default();
        let first = waiters.queue(&budgets).await;
        let second = waiters.queue(&budgets).await;
        first.abort();
        let served = tokio::time::timeout(Duration::from_secs(5), second).await;
        assert!(matches!(served, Ok(Ok(_))), "the next waiter was not served: {served:?}");
        assert_eq!(budgets.status(CONN).waiting_syncs, 0);
    }

    #[tokio::test]
    async fn raising_a_connection_budget_releases_its_waiters_and_a_refund_frees_a_turn() {
        let budgets = Arc::new(RateBudgets::new(1000.0));
        budgets.set_limit(CONN, Some(RateBudget { calls: 1, per_secs: 3600 }));
        let grant = budgets.acquire_write(CONN, "x", budgets.ticket(), None).await.expect("free");
        budgets.refund(CONN, grant);
        assert_eq!(budgets.acquire(CONN, "x").await, Duration::ZERO, "the refunded turn");
        let waiting = Waiters::default().queue(&budgets).await;
        assert_eq!(budgets.status(CONN).limit.per, Duration::from_secs(3600));
        budgets.set_limit(CONN, Some(RateBudget { calls: 100, per_secs: 1 }));
        let served = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert!(matches!(served, Ok(Ok(_))), "{served:?}");
        assert_eq!(budgets.status("other").limit.calls, 1000, "others keep the default");
    }

    #[test]
    fn rates_become_windows_and_budgets_are_checked() {
        let window = |rate: f64| {
            let limit = Limit::from_rate(rate);
            (limit.calls, limit.per.as_micros())
        };
        assert_eq!(window(10.0), (10, 1_000_000));
        assert!(matches!(window(2.5), (2, 799_999..=800_001)), "{:?}", window(2.5));
        assert_eq!(window(0.5), (1, 2_000_000));
        assert!(matches!(window(0.0), (1, 99_999_999..=100_000_001)), "{:?}", window(0.0));
        assert!(Limit::from_rate(1e9).calls_per_second() > 9e8);
        assert!(RateBudget { calls: 50, per_secs: 10 }.check().is_ok());
        assert_eq!(RateBudget { calls: 0, per_secs: 10 }.check().map_err(|e| e.0), Err("calls"));
        assert_eq!(
            RateBudget { calls: 10, per_secs: 3601 }.check().map_err(|e| e.0),
            Err("per_secs")
        );
    }
}

//! Failover on real processes (a topology of its own per test, through ignis-cluster): a
//! datasource on the topology's multi-host URL keeps writing while the primary is stopped and
//! a standby promoted. Work in flight fails with a retryable error, the pool reaches the new
//! primary by itself, and with a synchronous standby every acknowledged write is there after
//! the promotion.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ignis_cluster::{NodeId, Topology, TopologyOptions};
use ignis_tx::{
    DataSource, DataSourceConfig, Error, ErrorKind, Executor, PoolOptions, TargetSessionAttrs,
    TransactionOptions,
};

/// What a writer saw: ids whose insert was acknowledged, and errors by kind.
#[derive(Default)]
struct Outcome {
    acknowledged: BTreeSet<i64>,
    /// Ids whose commit may or may not have happened (the connection failed during COMMIT).
    uncertain: BTreeSet<i64>,
    errors: Vec<(ErrorKind, String)>,
}

fn start(name: &str, synchronous_standby: bool) -> Topology {
    let options = TopologyOptions {
        replicas: 2,
        synchronous_standby,
        ..TopologyOptions::default()
    };
    Topology::start(&Topology::dir_in_target(name), &options)
        .unwrap_or_else(|e| panic!("starting the topology {name}: {e}"))
}

fn datasource(topology: &Topology) -> DataSource {
    let config = DataSourceConfig::from_url(&topology.multi_host_url("postgres")).unwrap();
    assert_eq!(config.target_session_attrs, TargetSessionAttrs::ReadWrite);
    assert_eq!(config.failover_hosts.len(), 2);
    DataSource::new(config.with_pool(PoolOptions {
        max_size: 4,
        // Bounds how long a checkout waits for the new primary.
        connection_timeout: Duration::from_secs(30),
        ..PoolOptions::default()
    }))
    .unwrap()
}

fn server_port(exec: &mut dyn Executor) -> Result<u16, Error> {
    let port: i32 = exec.query_one("SELECT inet_server_port()", &[])?.get(0);
    Ok(u16::try_from(port).unwrap_or(0))
}

/// Inserts ids 0, 1, 2, ... one transaction each (retried on retryable errors) until `stop`;
/// an id whose outcome is unknown is inserted again (idempotently) before the next one.
fn write_until(ds: &DataSource, stop: &AtomicBool, outcome: &Mutex<Outcome>) {
    let options = TransactionOptions::new().retries(20);
    let mut id: i64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let r = ds.transaction(options, |tx| {
            tx.execute(
                "INSERT INTO written (id) VALUES ($1) ON CONFLICT (id) DO NOTHING",
                &[&id],
            )
        });
        let mut o = outcome.lock().unwrap();
        match r {
            Ok(_) => {
                o.uncertain.remove(&id);
                o.acknowledged.insert(id);
                id += 1;
            }
            Err(e) => {
                if e.kind() == ErrorKind::CommitOutcomeUnknown {
                    o.uncertain.insert(id);
                }
                o.errors.push((e.kind(), e.to_string()));
                drop(o);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Runs a writer across `stop primary, promote standby 1`, then returns what it saw and the
/// ids found on the new primary.
fn fail_over_while_writing(topology: &mut Topology) -> (Outcome, BTreeSet<i64>) {
    let ds = datasource(topology);
    ds.connection()
        .unwrap()
        .batch_execute("CREATE TABLE written (id bigint PRIMARY KEY)")
        .unwrap();
    let old_primary = topology.port(NodeId::Primary).unwrap();
    let new_primary = topology.port(NodeId::Standby(1)).unwrap();
    assert_eq!(
        server_port(&mut ds.connection().unwrap()).unwrap(),
        old_primary
    );

    let stop = AtomicBool::new(false);
    let outcome = Mutex::new(Outcome::default());
    let acknowledged = || outcome.lock().unwrap().acknowledged.len();
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !done() {
            assert!(Instant::now() < deadline, "gave up waiting: {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let in_flight = std::thread::scope(|s| {
        s.spawn(|| write_until(&ds, &stop, &outcome));
        // Work in flight when the primary goes: a transaction waiting on the server.
        let in_flight = s.spawn(|| {
            ds.transaction(TransactionOptions::default(), |tx| {
                tx.execute("SELECT pg_sleep(60)", &[])
            })
        });
        wait_for("writes before the failover", &|| acknowledged() >= 100);
        topology.stop_node(NodeId::Primary).unwrap();
        topology.promote(1).unwrap();
        let before = acknowledged();
        wait_for("writes on the new primary", &|| {
            acknowledged() >= before + 100
        });
        stop.store(true, Ordering::Relaxed);
        in_flight.join().unwrap()
    });

    // The in-flight transaction failed with a typed, retryable error.
    let err = in_flight.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::ConnectionLost | ErrorKind::ServerShutdown
        ),
        "{err:?}"
    );
    // The pool follows: new connections reach the promoted standby.
    let mut conn = ds.connection().unwrap();
    assert_eq!(server_port(&mut conn).unwrap(), new_primary);
    let in_recovery: bool = conn
        .query_one("SELECT pg_is_in_recovery()", &[])
        .unwrap()
        .get(0);
    assert!(!in_recovery);
    let found: BTreeSet<i64> = conn
        .query("SELECT id FROM written", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (outcome.into_inner().unwrap(), found)
}

#[test]
fn with_a_synchronous_standby_the_pool_follows_the_promotion_and_loses_no_acknowledged_write() {
    let mut topology = start("failover-sync", true);
    let (outcome, found) = fail_over_while_writing(&mut topology);
    // What reached the writer after its retries is a typed failover error, never another kind.
    for (kind, message) in &outcome.errors {
        assert_ne!(*kind, ErrorKind::Other, "{message}");
    }
    // Every id was retried until acknowledged, so the uncertain ones were settled.
    assert!(outcome.uncertain.is_empty(), "{:?}", outcome.uncertain);
    assert_eq!(outcome.acknowledged.len(), found.len());
    assert_eq!(outcome.acknowledged, found);
}

#[test]
fn with_an_asynchronous_standby_the_pool_follows_the_promotion() {
    let mut topology = start("failover-async", false);
    let (outcome, found) = fail_over_while_writing(&mut topology);
    // Asynchronous replication guarantees no more than this: the promoted standby holds only
    // rows that were written, and the writer goes on on the new primary. An acknowledged commit
    // may be missing (it had not reached the standby when the primary stopped).
    let next = outcome.acknowledged.last().map_or(0, |last| last + 1);
    assert!(found.iter().all(|id| *id <= next), "{found:?}");
    assert!(found.contains(&(next - 1)));
    let lost: Vec<_> = outcome.acknowledged.difference(&found).collect();
    eprintln!(
        "asynchronous failover: {} acknowledged, {} found after promotion, {} acknowledged but \
         missing, {} errors seen by the writer",
        outcome.acknowledged.len(),
        found.len(),
        lost.len(),
        outcome.errors.len()
    );
}

//! Read replicas on real streaming standbys (a topology of its own per test, through
//! ignis-cluster): reads outside transactions land on replicas, writes and transactions on the
//! primary, a thread reads its own writes while a standby's replay is paused, and reads keep
//! succeeding while a standby is stopped and started again.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ignis_cluster::{NodeId, Topology, TopologyOptions};
use ignis_migrate::Migrator;
use ignis_repo::prelude::*;
use ignis_schema::{Model, ModelDef, Schema};
use ignis_tx::{
    DataSourceConfig, Error, Executor, HostPort, PoolOptions, ReplicaOptions, TransactionOptions,
};
use serde_json::json;

#[derive(Model, FromRow, Properties, Debug, Clone, PartialEq)]
#[ignis(id = "number")]
struct Note {
    id: i32,
    title: String,
}

fn start(name: &str) -> Topology {
    let options = TopologyOptions {
        replicas: 2,
        ..TopologyOptions::default()
    };
    Topology::start(&Topology::dir_in_target(name), &options)
        .unwrap_or_else(|e| panic!("starting the topology {name}: {e}"))
}

/// A datasource on the topology's primary with both standbys as read replicas, checked every
/// 200 ms, once both are usable.
fn datasource(topology: &Topology, replica: ReplicaOptions) -> DataSource {
    let config = DataSourceConfig::from_url(&topology.primary_url("postgres"))
        .unwrap()
        .with_read_replicas(topology.replica_urls("postgres"))
        .unwrap()
        .with_replica_options(ReplicaOptions {
            recheck_after: Duration::from_millis(200),
            ..replica
        })
        .with_pool(PoolOptions {
            max_size: 4,
            connection_timeout: Duration::from_secs(10),
            ..PoolOptions::default()
        });
    let ds = DataSource::new(config).unwrap();
    wait_until("both replicas usable", || {
        ds.check_replicas().iter().all(|s| s.usable)
    });
    ds
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn migrate(ds: &DataSource) -> (Arc<Schema>, DefaultCrudRepository<Note>) {
    let schema = Arc::new(Schema::new(vec![Note::model()]).unwrap());
    Migrator::new(ds.clone()).migrate(&schema, |_| {}).unwrap();
    let notes = DefaultCrudRepository::<Note>::for_model(ds.clone(), schema.clone()).unwrap();
    (schema, notes)
}

/// Whether the server running `exec` is in recovery, and its port.
fn served_by(exec: &mut dyn Executor) -> Result<(bool, u16), Error> {
    let row = exec.query_one("SELECT pg_is_in_recovery(), inet_server_port()", &[])?;
    let port: i32 = row.get(1);
    Ok((row.get(0), u16::try_from(port).unwrap_or(0)))
}

fn standby_port(topology: &Topology, n: usize) -> u16 {
    topology.port(NodeId::Standby(n)).unwrap()
}

fn client(topology: &Topology, node: NodeId) -> postgres::Client {
    let url = topology.node_url(node, "postgres").unwrap();
    postgres::Client::connect(&url, postgres::NoTls).unwrap()
}

#[test]
fn reads_go_to_replicas_while_writes_and_transactions_stay_on_the_primary() {
    let topology = start("replicas-routing");
    let ds = datasource(&topology, ReplicaOptions::default());
    let primary = topology.port(NodeId::Primary).unwrap();
    let (schema, notes) = migrate(&ds);

    // A replica would refuse the write (SQLSTATE 25006).
    notes.create(&json!({"title": "first"})).unwrap();
    topology.wait_for_replay(Duration::from_secs(30)).unwrap();
    // The datasource knows a standby has replayed this thread's write from its last check of
    // it: until the next background check, reads go only to a standby known to be past it.
    // Check both now, so both are.
    ds.check_replicas();

    // Reads are served by standbys, round robin over both.
    let mut ports = HashSet::new();
    for _ in 0..10 {
        let (in_recovery, port) = ds.read(|c| served_by(c)).unwrap();
        assert!(in_recovery, "read served by {port}");
        ports.insert(port);
    }
    let standbys: HashSet<u16> = [standby_port(&topology, 1), standby_port(&topology, 2)].into();
    assert_eq!(ports, standbys);
    let mut conn = ds.read_connection().unwrap();
    let (_, port) = served_by(&mut conn).unwrap();
    assert_eq!(conn.replica(), Some(&HostPort::new("127.0.0.1", port)));
    drop(conn);

    // The primary: a connection (may write), transactions (read-only ones too), and a
    // primary-only handle's reads.
    assert_eq!(
        served_by(&mut ds.connection().unwrap()).unwrap(),
        (false, primary)
    );
    for options in [
        TransactionOptions::default(),
        TransactionOptions::new().read_only(true),
    ] {
        let served = ds.transaction(options, |tx| served_by(tx)).unwrap();
        assert_eq!(served, (false, primary));
    }
    let primary_only = ds.primary_only();
    assert!(!primary_only.routes_reads() && ds.routes_reads());
    assert_eq!(
        primary_only.read(|c| served_by(c)).unwrap(),
        (false, primary)
    );
    assert!(primary_only.read_connection().unwrap().replica().is_none());

    // Repository reads go to the replicas: with both replays paused, a row another thread
    // wrote is not there (that thread's write position binds only that thread's reads), while
    // the primary-only handle and a transaction see it.
    for n in [1, 2] {
        client(&topology, NodeId::Standby(n))
            .batch_execute("SELECT pg_wal_replay_pause()")
            .unwrap();
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            notes
                .create(&json!({"title": "from another thread"}))
                .unwrap()
        });
    });
    assert_eq!(notes.count(&json!({})).unwrap(), 1);
    assert_eq!(notes.find(&json!({})).unwrap().len(), 1);
    let on_primary = DefaultCrudRepository::<Note>::for_model(ds.primary_only(), schema).unwrap();
    assert_eq!(on_primary.count(&json!({})).unwrap(), 2);
    let in_tx = ds
        .transaction(TransactionOptions::default(), |tx| {
            notes.on(tx).count(&json!({}))
        })
        .unwrap();
    assert_eq!(in_tx, 2);
    for n in [1, 2] {
        client(&topology, NodeId::Standby(n))
            .batch_execute("SELECT pg_wal_replay_resume()")
            .unwrap();
    }
    topology.wait_for_replay(Duration::from_secs(30)).unwrap();
    assert_eq!(notes.count(&json!({})).unwrap(), 2);
}

#[test]
fn a_thread_reads_its_own_writes_while_a_standby_replays_nothing() {
    let topology = start("replicas-read-your-writes");
    // Lag bounds out of reach: the paused standby stays usable, so only the write position
    // keeps the reads after a write off it.
    let ds = datasource(
        &topology,
        ReplicaOptions {
            max_lag: Duration::from_secs(3600),
            max_lag_bytes: None,
            ..ReplicaOptions::default()
        },
    );
    let (_, notes) = migrate(&ds);
    topology.wait_for_replay(Duration::from_secs(30)).unwrap();
    let paused = standby_port(&topology, 1);
    client(&topology, NodeId::Standby(1))
        .batch_execute("SELECT pg_wal_replay_pause()")
        .unwrap();

    for i in 0..20 {
        // A repository write, then repository reads.
        let created = notes
            .create(&json!({"title": format!("note {i}")}))
            .unwrap()
            .data
            .unwrap();
        assert_eq!(notes.find_by_id(created.id).unwrap(), Some(created.clone()));
        assert_eq!(notes.count(&json!({})).unwrap(), i + 1);
        // A write through a transaction, then a raw read: never from the paused standby.
        ds.transaction(TransactionOptions::default(), |tx| {
            tx.execute(
                "UPDATE \"Note\" SET title = title || '!' WHERE id = $1",
                &[&created.id],
            )
        })
        .unwrap();
        let (title, port): (String, i32) = ds
            .read(|c| {
                let row = c.query_one(
                    "SELECT title, inet_server_port() FROM \"Note\" WHERE id = $1",
                    &[&created.id],
                )?;
                Ok::<_, Error>((row.get(0), row.get(1)))
            })
            .unwrap();
        assert_eq!(title, format!("note {i}!"));
        assert_ne!(u16::try_from(port).unwrap(), paused);
    }
    // The paused standby was usable all along: it was the write position that kept reads off.
    let status = ds.check_replicas();
    assert!(status.iter().all(|s| s.usable), "{status:?}");
    assert!(status[0].lag_bytes.unwrap_or(0) > 0, "{status:?}");

    // Another thread, which wrote nothing, may read from the paused standby.
    let seen_on_paused = std::thread::scope(|s| {
        s.spawn(|| (0..10).any(|_| ds.read(|c| served_by(c)).unwrap().1 == paused))
            .join()
            .unwrap()
    });
    assert!(seen_on_paused);
    client(&topology, NodeId::Standby(1))
        .batch_execute("SELECT pg_wal_replay_resume()")
        .unwrap();
}

#[test]
fn reads_keep_succeeding_while_a_standby_is_stopped_and_started() {
    let mut topology = start("replicas-standby-stops");
    let ds = datasource(&topology, ReplicaOptions::default());
    let (_, notes) = migrate(&ds);
    notes.create(&json!({"title": "one"})).unwrap();
    topology.wait_for_replay(Duration::from_secs(30)).unwrap();
    let stopped = standby_port(&topology, 1);

    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    let served = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    match notes.count(&json!({})) {
                        Ok(1) => {}
                        other => errors.lock().unwrap().push(format!("count: {other:?}")),
                    }
                    match ds.read(|c| served_by(c)) {
                        Ok((_, port)) => served.lock().unwrap().push(port),
                        Err(e) => errors.lock().unwrap().push(format!("read: {e}")),
                    }
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let wait_reads = |n: usize| {
            let target = reads.load(Ordering::Relaxed) + n;
            wait_until("reads progress", || reads.load(Ordering::Relaxed) >= target);
        };
        wait_reads(50);
        topology.stop_node(NodeId::Standby(1)).unwrap();
        wait_reads(20);
        served.lock().unwrap().clear();
        wait_reads(200);
        // While it is down, nothing is served by it.
        let status = ds.replica_status();
        assert!(!status[0].usable, "{status:?}");
        assert!(!served.lock().unwrap().contains(&stopped));

        topology.start_node(NodeId::Standby(1)).unwrap();
        wait_until("the restarted standby is usable", || {
            ds.replica_status()[0].usable
        });
        served.lock().unwrap().clear();
        wait_until("reads reach the restarted standby", || {
            served.lock().unwrap().contains(&stopped)
        });
        done.store(true, Ordering::Relaxed);
    });
    let errors = errors.into_inner().unwrap();
    assert!(
        errors.is_empty(),
        "{} errors: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
}

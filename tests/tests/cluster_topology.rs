//! Local topologies (`ignis_cluster::Topology`): a primary, streaming hot standbys and
//! PgBouncer in transaction pooling mode, started from the server binaries of this machine in a
//! directory of their own under `target/`, independent of `DATABASE_URL`.

use std::time::Duration;

use ignis_cluster::{ClusterError, NodeId, Role, SynchronousCommit, Topology, TopologyOptions};
use postgres::{Client, NoTls};

fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

fn in_recovery(client: &mut Client) -> bool {
    client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .unwrap_or_else(|e| panic!("pg_is_in_recovery(): {e}"))
        .get(0)
}

fn count(client: &mut Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap_or_else(|e| panic!("count {table}: {e}"))
        .get(0)
}

fn start(name: &str, options: &TopologyOptions) -> Topology {
    Topology::start(&Topology::dir_in_target(name), options).unwrap_or_else(|e| {
        panic!("cannot start a topology (needs the PostgreSQL server binaries and pgbouncer): {e}")
    })
}

#[test]
fn standbys_replay_the_primary_pgbouncer_pools_and_a_standby_takes_over() {
    let options = TopologyOptions {
        replicas: 2,
        pgbouncer: true,
        ..TopologyOptions::default()
    };
    let mut topology = start("cluster-topology-failover", &options);

    // Roles as the servers report them.
    let status = topology.status().unwrap();
    let roles: Vec<(NodeId, bool, Option<Role>)> =
        status.iter().map(|s| (s.node, s.running, s.role)).collect();
    assert_eq!(
        roles,
        [
            (NodeId::Primary, true, Some(Role::Primary)),
            (NodeId::Standby(1), true, Some(Role::Standby)),
            (NodeId::Standby(2), true, Some(Role::Standby)),
            (NodeId::PgBouncer, true, Some(Role::Pooler)),
        ],
        "{status:#?}"
    );

    // A write on the primary reaches both standbys.
    let mut primary = connect(&topology.primary_url("postgres"));
    assert!(!in_recovery(&mut primary));
    primary
        .batch_execute(
            "CREATE TABLE item (id int PRIMARY KEY, name text); INSERT INTO item VALUES (1, 'one')",
        )
        .unwrap();
    topology.wait_for_replay(Duration::from_secs(30)).unwrap();
    let replica_urls = topology.replica_urls("postgres");
    assert_eq!(replica_urls.len(), 2);
    for url in &replica_urls {
        let mut standby = connect(url);
        assert!(in_recovery(&mut standby), "{url} is a standby");
        let name: String = standby
            .query_one("SELECT name FROM item WHERE id = 1", &[])
            .unwrap()
            .get(0);
        assert_eq!(name, "one", "{url}");
        let refused = standby
            .batch_execute("INSERT INTO item VALUES (2, 'two')")
            .unwrap_err();
        assert_eq!(
            refused.code(),
            Some(&postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION),
            "{url}: {refused}"
        );
    }

    // Replication is asynchronous by default; the standbys connect under their own names.
    let mut names: Vec<(String, String)> = primary
        .query(
            "SELECT application_name, sync_state FROM pg_stat_replication",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("standby1".to_string(), "async".to_string()),
            ("standby2".to_string(), "async".to_string())
        ]
    );

    // A standby whose replay is paused falls behind; wait_for_replay says which one.
    let mut standby2 = connect(&replica_urls[1]);
    standby2
        .batch_execute("SELECT pg_wal_replay_pause()")
        .unwrap();
    primary
        .batch_execute("INSERT INTO item VALUES (3, 'three')")
        .unwrap();
    match topology.wait_for_replay(Duration::from_secs(1)) {
        Err(ClusterError::Timeout { what, .. }) => {
            assert!(what.contains("standby 2"), "{what}");
            assert!(!what.contains("standby 1"), "{what}");
        }
        other => panic!("a paused standby cannot catch up: {other:?}"),
    }
    let behind = topology
        .status()
        .unwrap()
        .into_iter()
        .find(|s| s.node == NodeId::Standby(2))
        .unwrap();
    assert_eq!(behind.replay_paused, Some(true));
    assert!(behind.lag_bytes.is_some_and(|b| b > 0), "{behind:?}");
    standby2
        .batch_execute("SELECT pg_wal_replay_resume()")
        .unwrap();
    topology.wait_for_replay(Duration::from_secs(30)).unwrap();
    assert_eq!(count(&mut standby2, "item"), 2);
    drop(standby2);

    // PgBouncer: transaction pooling in front of the primary, any database name passes.
    primary.batch_execute("CREATE DATABASE fresh").unwrap();
    let bouncer_url = topology.pgbouncer_url("fresh").unwrap();
    let mut through = connect(&bouncer_url);
    let row = through
        .query_one(
            "SELECT current_database(), current_setting('port')::int, pg_is_in_recovery()",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "fresh");
    assert_eq!(
        row.get::<_, i32>(1),
        i32::from(topology.port(NodeId::Primary).unwrap())
    );
    assert!(!row.get::<_, bool>(2));
    drop(through);
    let mut admin = connect(&topology.pgbouncer_url("pgbouncer").unwrap());
    let config = admin.simple_query("SHOW CONFIG").unwrap();
    let pool_mode = config.iter().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some("pool_mode") => {
            r.get(1).map(str::to_string)
        }
        _ => None,
    });
    assert_eq!(pool_mode.as_deref(), Some("transaction"));
    drop(admin);

    // Failover: standby 2 stops, the primary stops, standby 1 is promoted and takes writes.
    topology.stop_node(NodeId::Standby(2)).unwrap();
    assert!(!topology.is_running(NodeId::Standby(2)));
    assert!(Client::connect(&replica_urls[1], NoTls).is_err());
    drop(primary);
    topology.stop_node(NodeId::Primary).unwrap();
    topology.promote(1).unwrap();
    assert_eq!(topology.current_primary(), NodeId::Standby(1));
    let mut promoted = connect(&replica_urls[0]);
    assert!(!in_recovery(&mut promoted));
    promoted
        .batch_execute("INSERT INTO item VALUES (4, 'four')")
        .unwrap();
    assert_eq!(count(&mut promoted, "item"), 3);

    // The multi-host URL finds the one node that accepts writes.
    let mut any = connect(&topology.multi_host_url("postgres"));
    let port: i32 = any
        .query_one("SELECT current_setting('port')::int", &[])
        .unwrap()
        .get(0);
    assert_eq!(port, i32::from(topology.port(NodeId::Standby(1)).unwrap()));
    drop(any);

    let status = topology.status().unwrap();
    let roles: Vec<(NodeId, bool, Option<Role>)> =
        status.iter().map(|s| (s.node, s.running, s.role)).collect();
    assert_eq!(
        roles,
        [
            (NodeId::Primary, false, None),
            (NodeId::Standby(1), true, Some(Role::Primary)),
            (NodeId::Standby(2), false, None),
            (NodeId::PgBouncer, true, Some(Role::Pooler)),
        ],
        "{status:#?}"
    );

    // A stopped standby starts again on its port, still a standby.
    topology.start_node(NodeId::Standby(2)).unwrap();
    let mut standby2 = connect(&replica_urls[1]);
    assert!(in_recovery(&mut standby2));
    assert_eq!(count(&mut standby2, "item"), 2);
}

#[test]
fn a_synchronous_standby_has_applied_each_commit_when_it_returns() {
    let options = TopologyOptions {
        replicas: 1,
        synchronous_standby: true,
        synchronous_commit: SynchronousCommit::RemoteApply,
        ..TopologyOptions::default()
    };
    let topology = start("cluster-topology-synchronous", &options);
    let mut primary = connect(&topology.primary_url("postgres"));
    let row = primary
        .query_one(
            "SELECT current_setting('synchronous_standby_names'), \
                    current_setting('synchronous_commit'), \
                    (SELECT sync_state FROM pg_stat_replication \
                     WHERE application_name = 'standby1')",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "FIRST 1 (standby1)");
    assert_eq!(row.get::<_, String>(1), "remote_apply");
    assert_eq!(row.get::<_, String>(2), "sync");
    let mut standby = connect(&topology.replica_urls("postgres")[0]);
    primary.batch_execute("CREATE TABLE t (id int)").unwrap();
    for i in 0..20 {
        primary.execute("INSERT INTO t VALUES ($1)", &[&i]).unwrap();
        // No wait: remote_apply returned only after the standby replayed the commit.
        assert_eq!(count(&mut standby, "t"), i64::from(i) + 1);
    }
}

#[test]
fn a_directory_holding_other_files_is_refused_and_left_alone() {
    let dir = Topology::dir_in_target("cluster-topology-not-empty");
    std::fs::create_dir_all(&dir).unwrap();
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "mine").unwrap();
    match Topology::start(&dir, &TopologyOptions::default()) {
        Err(ClusterError::Invalid(message)) => assert!(message.contains("notes.txt"), "{message}"),
        Err(ClusterError::Missing(message)) => {
            eprintln!("skipped: {message}");
        }
        other => panic!("a directory with other files must be refused: {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine");
    std::fs::remove_dir_all(&dir).unwrap();
}

"""Data tier facts on captured output: Patroni's member list, the leader's replication, etcd health, Redis."""
from pathlib import Path

from ops.facts import data as D

FIX = Path(__file__).parent / "fixtures"
MEMBERS = D.parse_patroni((FIX / "patronictl_list.json").read_text())


def test_patroni_members_and_roles():
    assert [(m.name, m.role, m.state) for m in MEMBERS] == [
        ("pg1", "Sync Standby", "running"), ("pg2", "Replica", "running"), ("pg3", "Leader", "running")]
    assert D.leader(MEMBERS).name == "pg3" and D.sync_standbys(MEMBERS) == ["pg1"]


def test_a_whole_cluster_has_no_problems_and_one_line():
    standbys = D.parse_replication("pg1 streaming 0 pg2 streaming 56")
    assert D.database_problems(MEMBERS, standbys, 3) == []
    assert D.database_summary(MEMBERS, standbys, 3) == (
        "postgres: leader pg3 (timeline 1); pg1 sync standby streaming lag 0 B, pg2 replica streaming lag 56 B")


def test_degraded_when_a_replica_does_not_stream_or_is_missing():
    standbys = D.parse_replication("pg1 streaming 0")
    assert D.database_problems(MEMBERS, standbys, 3) == ["1 of 2 replicas streaming (not streaming: pg2)"]
    two = [m for m in MEMBERS if m.name != "pg2"]
    assert D.database_problems(two, standbys, 3) == ["1 of 2 replicas streaming, 1 member(s) missing"]


def test_no_leader_and_no_sync_standby_are_flagged():
    replicas = [D.Member("pg1", "Replica", "running", 2, 0), D.Member("pg2", "Replica", "running", 2, 0)]
    line = D.database_summary(replicas, [], 3)
    assert line.startswith("postgres: NO LEADER; pg1 replica running, pg2 replica running; DEGRADED: NO LEADER; "
                           "no synchronous standby")


def test_etcd_health_lines():
    health = D.parse_etcd_health((FIX / "etcd_endpoint_health.txt").read_text())
    assert health == {"http://etcd1:2379": True, "http://etcd3:2379": True, "http://etcd2:2379": False}
    assert D.etcd_summary(health, 3) == "etcd: 2/3 members healthy (etcd1, etcd3); DEGRADED: quorum needs 2"


def test_redis_summary_flags_disagreement():
    roles = D.parse_roles({"redis1": "role:master connected_slaves:2", "redis2": "role:slave master_host:redis1"})
    assert D.redis_summary({"sentinel1": "redis1 6379"}, roles) == (
        "redis: sentinels 1/3 say master is redis1; roles: redis1=master, redis2=slave")
    both = {**roles, "redis2": "master"}
    assert D.redis_summary({"sentinel1": "redis1 6379"}, both).endswith("DEGRADED: sentinels and roles disagree")

"""Planned switchovers: who takes over (synchronous mode allows the sync standby only), the PgBouncer pause and
the proxies' view, from captured output; the commands as whole strings."""
import pytest

from ops.builders import switchover as B
from ops.core.errors import OpsError
from ops.facts.data import Member
from ops.facts.switchover import (all_paused, choose_candidate, proxies_switched, replicas_caught_up,
                                  server_connections)

MEMBERS = [Member("pg1", "Leader", "running", 3, None), Member("pg2", "Sync Standby", "streaming", 3, 0),
           Member("pg3", "Replica", "streaming", 3, 0)]


def test_default_is_the_sync_standby():
    assert choose_candidate(MEMBERS, None) == "pg2"
    assert choose_candidate(MEMBERS, "pg2") == "pg2"


def test_the_leader_itself_means_nothing_to_do():
    assert choose_candidate(MEMBERS, "pg1") is None


def test_a_plain_replica_is_refused_in_synchronous_mode_naming_the_fix():
    with pytest.raises(OpsError) as exc:
        choose_candidate(MEMBERS, "pg3")
    assert str(exc.value) == ("pg3 is not the synchronous standby (pg2 is): in synchronous mode Patroni hands over "
                              "to it only, so nothing committed is lost; run `inv failover.db` (it picks pg2) or "
                              "`--to pg2`")


def test_without_sync_mode_any_streaming_replica_least_lag_first():
    asynchronous = [MEMBERS[0], Member("pg2", "Replica", "streaming", 3, 5),
                    Member("pg3", "Replica", "streaming", 3, 1)]
    assert choose_candidate(asynchronous, None) == "pg3"
    assert choose_candidate(asynchronous, "pg2") == "pg2"


@pytest.mark.parametrize("members, wanted, text", [
    ([Member("pg1", "Replica", "running", 3, 0)], None, "no running PostgreSQL leader"),
    (MEMBERS, "pg9", "'pg9' is not a member of the PostgreSQL cluster (members: pg1, pg2, pg3)"),
    ([MEMBERS[0], Member("pg2", "Replica", "starting", 3, None)], None, "no standby is streaming"),
    ([MEMBERS[0], Member("pg2", "Replica", "stopped", None, None)], "pg2", "pg2 is stopped, not streaming"),
])
def test_refusals(members, wanted, text):
    with pytest.raises(OpsError, match=text.replace("(", r"\(").replace(")", r"\)")):
        choose_candidate(members, wanted)


def test_pause_is_done_when_every_pgbouncer_closed_its_server_connections():
    assert server_connections("a1|3 \nb2|0 \n") == {"a1": 3, "b2": 0}
    assert not all_paused(server_connections("a1|3 \nb2|0 \n"))
    assert all_paused(server_connections("a1|0 \nb2|0 \n"))
    assert not all_paused({}) and not all_paused(server_connections("a1|Error: No such container \n"))


def test_proxies_switched_needs_both_lines_in_every_container():
    assert proxies_switched("a1|1|1\nb2|2|1\n") == {"a1": True, "b2": True}
    assert proxies_switched("a1|1|0\nb2|0|0\n") == {"a1": False, "b2": False}


def test_commands():
    each = "for c in $(docker ps -q --filter label=com.docker.swarm.service.name=pretix_pg-proxy); do "
    assert B.resume_pgbouncer("pretix") == each + (
        "echo \"$c|$(docker exec $c sh -c 'for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = pgbouncer ] "
        "&& kill -USR2 ${p#/proc/} && echo sent; done; true' 2>&1 | tr '\\n' ' ')\"; done; true")
    count = "awk '\"'\"'$3 == \"0100007F:1539\" && $4 == \"01\"'\"'\"' /proc/net/tcp | wc -l"
    assert B.pause_pgbouncer_drained("pretix", 10) == each + (
        "echo \"$c|$(docker exec $c sh -c 'for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = pgbouncer ] "
        f"&& kill -USR1 ${{p#/proc/}}; done; i=0; while [ $i -lt 50 ]; do n=$({count}); [ \"$n\" = 0 ] && break; "
        f"sleep 0.2; i=$((i + 1)); done; {count}' 2>&1 | tr '\\n' ' ')\"; done; true")
    assert B.proxy_changes("pretix", "pg-proxy", 42, "pg_primary", "pg2", "pg1") == each + (
        "l=$(docker logs --since 42s $c 2>&1); echo \"$c|$(echo \"$l\" | grep -c 'pg_primary/pg2 is UP')|"
        "$(echo \"$l\" | grep -c 'pg_primary/pg1 is DOWN')\"; done; true")
    assert B.REDIS_RUN_ID == ("REDISCLI_AUTH=$(cat /run/secrets/redis_password) redis-cli --no-auth-warning "
                              "-h 127.0.0.1 -p 6379 info server | grep '^run_id:'")


def test_replicas_caught_up():
    info = ("role:master connected_slaves:2 slave0:ip=redis2,port=6379,state=online,offset=900,lag=0 "
            "slave1:ip=redis3,port=6379,state=online,offset={o},lag=1 master_replid:ab master_repl_offset:900")
    assert replicas_caught_up(info.format(o=900))
    assert not replicas_caught_up(info.format(o=880))
    assert not replicas_caught_up("role:master connected_slaves:0 master_repl_offset:900")
    counted = info.format(o=900).replace("connected_slaves:2", "connected_slaves:2 min_slaves_good_slaves:{g}")
    assert replicas_caught_up(counted.format(g=1))
    assert not replicas_caught_up(counted.format(g=0))     # online, not yet counted: writes get NOREPLICAS


def test_redis_commands():
    assert B.haproxy("pretix", "redis-proxy", "disable health redis_master/redis1") == (
        "for c in $(docker ps -q --filter label=com.docker.swarm.service.name=pretix_redis-proxy); do echo \"$c|$("
        "docker exec $c sh -c 'perl -MIO::Socket::UNIX -e '\"'\"'$s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or "
        "die \"haproxy runtime API $ARGV[0]: $!\\n\"; print $s \"$ARGV[1]\\n\"; print while <$s>'\"'\"' "
        "/run/haproxy/admin.sock '\"'\"'disable health redis_master/redis1'\"'\"'' 2>&1 | tr '\\n' ' ')\"; done; true")
    auth = "REDISCLI_AUTH=$(cat /run/secrets/redis_password) redis-cli --no-auth-warning -p 6379 "
    assert B.redis_pause_writes(45000) == (
        f"n=$({auth}config get min-replicas-to-write | tail -n 1); if [ \"$n\" != 0 ]; then echo \"$n\" > "
        f"/tmp/pxc-min-replicas-to-write; fi; {auth}config set min-replicas-to-write 0 && {auth}client pause 45000 write")
    assert B.REDIS_UNPAUSE == (f"{auth}config set min-replicas-to-write \"$(cat /tmp/pxc-min-replicas-to-write "
                               f"2>/dev/null || echo 1)\" && {auth}client unpause")

#!/bin/bash
# etcd 3.4 member, addressed by its service name (task IPs change on restart).
# Environment: ETCD_NAME (required: etcd1, = service name = container hostname),
#   ETCD_PEERS ("etcd1 etcd2 etcd3"), ETCD_HEARTBEAT_MS (100), ETCD_ELECTION_MS (1000),
#   ETCD_CLUSTER_TOKEN (pretix-cluster)
# An empty data dir (fresh volume) starts as "new" only while no cluster answers (all members
# bootstrap together). If the other members already form a cluster, it joins as "existing";
# if that cluster knows it as a started member, its data was lost: remove and re-add it first
# (restarting it as "new" with an empty raft log is unsafe).
set -euo pipefail
: "${ETCD_NAME:?ETCD_NAME is required (etcd1, etcd2, ...)}"
: "${ETCD_PEERS:=etcd1 etcd2 etcd3}"
: "${ETCD_HEARTBEAT_MS:=100}"
: "${ETCD_ELECTION_MS:=1000}"
: "${ETCD_CLUSTER_TOKEN:=pretix-cluster}"
DATA=/var/lib/etcd
me=$ETCD_NAME
log() { echo "etcd-entrypoint[$me]: $*" >&2; }

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$DATA" && chown etcd:etcd "$DATA" && chmod 0700 "$DATA"
    exec setpriv --reuid=etcd --regid=etcd --init-groups "$0" "$@"
fi

name=$ETCD_NAME peers=$ETCD_PEERS token=$ETCD_CLUSTER_TOKEN hb=$ETCD_HEARTBEAT_MS el=$ETCD_ELECTION_MS
cluster="" others=""
for p in $peers; do
    cluster+="${cluster:+,}$p=http://$p:2380"
    [ "$p" = "$name" ] || others+="${others:+,}http://$p:2379"
done
unset "${!ETCD_@}"  # etcd would read ETCD_* variables as flags
ctl() { etcdctl --endpoints "$others" --dial-timeout 2s --command-timeout 5s "$@"; }

state=new
if [ ! -d "$DATA/member" ] && members=$(ctl member list 2>/dev/null); then
    # lines: "id, started|unstarted, name, peer urls, client urls, learner"
    line=$(grep -F ", http://$name:2380," <<<"$members" || true)
    if [ -n "$line" ] && [ "$(cut -d, -f3 <<<"$line" | tr -d ' ')" = "$name" ]; then
        log "data dir empty but the cluster knows me as a started member: removing and re-adding myself"
        ctl member remove "${line%%,*}" >&2
        line=""
    fi
    if [ -z "$line" ]; then
        ctl member add "$name" --peer-urls "http://$name:2380" >&2
    fi
    state=existing
fi

log "starting (initial cluster $cluster, state $state)"
# --pre-vote (etcd 3.5's default, off in 3.4): a member cut off the network kept starting elections (term 621 ->
# 650 in a 45 s partition drill); back, its higher term made the leader step down, and etcd had no leader for
# seconds while Patroni's leader updated its key (read timeouts on pg's leader). With pre-vote an isolated member
# does not raise its term unless a majority would vote for it.
exec etcd --name "$name" --data-dir "$DATA" \
    --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://$name:2379" \
    --listen-peer-urls http://0.0.0.0:2380 --initial-advertise-peer-urls "http://$name:2380" \
    --initial-cluster "$cluster" --initial-cluster-state "$state" \
    --initial-cluster-token "$token" \
    --heartbeat-interval "$hb" --election-timeout "$el" \
    --pre-vote \
    --auto-compaction-mode periodic --auto-compaction-retention 1h \
    --snapshot-count 10000 --logger zap --log-outputs stderr

#!/bin/bash
# pretix-cluster object store (SeaweedFS). Usage: <mode>
#   server  one store node: a master (raft with the peers), a volume server and a filer, data in /data.
#           Every object is written to two volume servers on different nodes (replication 001: one more copy in
#           the same rack). Each filer keeps its metadata in its own LevelDB and replays its peers' changes, so a
#           filer that was down, or is new and empty, catches up by itself.
#   s3      the S3 gateway (HTTPS on 8443, plain HTTP on 8333 inside the networks), stateless. It uses the filers in
#           the order of STORE_PEERS (the first that answers): all gateways write through the same filer, so a
#           read after a write sees it; a filer that is gone costs ~10 s, then the next one serves.
# Environment: STORE_NAME (server: store1, = service name), STORE_PEERS ("store1 store2 store3"),
#   STORE_VOLUME_SIZE_MB (128), STORE_VOLUME_MAX (64), STORE_REPLICATION (001), S3_BUCKETS (created if missing),
#   S3_BACKUP_SECRET_FILE, S3_MEDIA_SECRET_FILE, S3_MEDIA_BUCKET (pretix-media), TLS_FILE (key + certificate),
#   all secrets as base64url tokens (ops/cluster/tls.py).
set -euo pipefail
MODE=${1:-server}
: "${STORE_PEERS:=store1 store2 store3}"
: "${STORE_VOLUME_SIZE_MB:=128}" "${STORE_VOLUME_MAX:=64}" "${STORE_REPLICATION:=001}"
: "${S3_MEDIA_BUCKET:=pretix-media}"
: "${S3_BACKUP_SECRET_FILE:=/run/secrets/s3_backup_secret}" "${S3_MEDIA_SECRET_FILE:=/run/secrets/s3_media_secret}"
: "${TLS_FILE:=/run/secrets/backup_tls}"
log() { echo "store-entrypoint[$MODE]: $*" >&2; }

if [ "$(id -u)" = 0 ]; then
    mkdir -p /data && chown weed:weed /data && chmod 0700 /data
    exec setpriv --reuid=weed --regid=weed --init-groups "$0" "$@"
fi

peers() { local out="" p; for p in $STORE_PEERS; do out+="${out:+,}$p:$1"; done; echo "$out"; }
# a secret value is base64url without padding: decode it to a file only this user reads
decode() {
    local v; v=$(tr -d '\r\n' < "$1" | tr '_-' '/+')
    while [ $(( ${#v} % 4 )) -ne 0 ]; do v+="="; done
    (umask 077; printf '%s' "$v" | base64 -d > "$2")
}

case "$MODE" in
    server)
        : "${STORE_NAME:?STORE_NAME is required (store1, store2, ...)}"
        mkdir -p /data/master /data/volume     # the filer's LevelDB goes below -master.dir (filerldb2)
        log "master peers $(peers 9333), replication $STORE_REPLICATION, volumes of ${STORE_VOLUME_SIZE_MB} MB"
        exec weed server -ip="$STORE_NAME" -ip.bind=0.0.0.0 -dataCenter=dc1 -rack=rack1 \
            -master.peers="$(peers 9333)" -master.dir=/data/master -master.telemetry=false \
            -master.defaultReplication="$STORE_REPLICATION" -master.volumeSizeLimitMB="$STORE_VOLUME_SIZE_MB" \
            -dir=/data/volume -volume.max="$STORE_VOLUME_MAX" -filer
        ;;
    s3)
        tmp=/tmp/pxc; mkdir -p "$tmp"; chmod 0700 "$tmp"
        decode "$TLS_FILE" "$tmp/tls.pem"
        bsecret=$(tr -d '\r\n' < "$S3_BACKUP_SECRET_FILE"); msecret=$(tr -d '\r\n' < "$S3_MEDIA_SECRET_FILE")
        # pxc-backup: everything (pgBackRest's repository, media snapshots). pxc-media: pretix's bucket only.
        (umask 077; cat > "$tmp/s3.json" <<JSON
{"identities": [
  {"name": "pxc-backup", "credentials": [{"accessKey": "pxc-backup", "secretKey": "$bsecret"}],
   "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
  {"name": "pxc-media", "credentials": [{"accessKey": "pxc-media", "secretKey": "$msecret"}],
   "actions": ["Read:$S3_MEDIA_BUCKET", "Write:$S3_MEDIA_BUCKET", "List:$S3_MEDIA_BUCKET", "Tagging:$S3_MEDIA_BUCKET"]}
]}
JSON
)
        unset bsecret msecret
        # Each filer keeps its own copy of the metadata, replayed from its peers asynchronously: a gateway that
        # started while the first filer was not up yet stayed on another one, and a listing through it missed a
        # backup set the other gateway had just written (CI: `inv backup`, then `inv backup.list` without it, for
        # minutes). Wait for the first filer (bounded: a lost node costs 20 s) so that every gateway uses the same.
        first=${STORE_PEERS%% *}
        for _ in $(seq 20); do (exec 3<>"/dev/tcp/$first/8888") 2>/dev/null && break; sleep 1; done
        log "filers $(peers 8888) (first that answers), HTTPS on 8443"
        exec weed s3 -filer="$(peers 8888)" -ip.bind=0.0.0.0 -port=8333 -port.https=8443 \
            -cert.file="$tmp/tls.pem" -key.file="$tmp/tls.pem" -config="$tmp/s3.json"
        ;;
    *)
        exec "$MODE" "$@"
        ;;
esac

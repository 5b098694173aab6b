#!/bin/bash
# Run on a lab node by test_stack_integration: a Sentinel names redis1 master, and redis1 restarts with an empty
# volume. $1 = "empty": the other data nodes hold no keys; "key": they hold one. Prints redis1's entrypoint
# lines and its final state. Throw-away containers on a bridge network (no Swarm, no healthcheck gating).
set -u
img=$(docker service inspect pretix_redis1 --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}')
w=$(mktemp -d); head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$w/pw"; chmod 0644 "$w/pw"
n=rt$$
cleanup() {
    docker rm -f $n-redis1 $n-redis2 $n-redis3 $n-sentinel1 >/dev/null 2>&1
    docker network rm $n >/dev/null 2>&1; docker volume rm $n-1 >/dev/null 2>&1; rm -rf "$w"
}
trap cleanup EXIT
docker network create $n >/dev/null
run() {  # name role [volume]
    docker run -d --name $n-$1 --network $n --network-alias $1 -v "$w/pw:/run/secrets/redis_password:ro" \
        -e REDIS_NODES="redis1 redis2 redis3" -e REDIS_SENTINELS=sentinel1 -e SENTINEL_QUORUM=1 \
        -e SENTINEL_DOWN_AFTER_MS=600000 -e REDIS_SELF_MASTER_WAIT=3 -e REDIS_MIN_REPLICAS=0 \
        -e REDIS_ROLE=$2 -e REDIS_ANNOUNCE_NAME=$1 ${3:+-v $3:/data} "$img" >/dev/null
}
cli() { docker exec -e REDISCLI_AUTH="$(cat "$w/pw")" $n-$1 redis-cli --no-auth-warning "${@:2}"; }
run redis1 master $n-1; sleep 2; run redis2 replica; run redis3 replica; run sentinel1 sentinel; sleep 4
echo "sentinel names: $(cli sentinel1 -p 26379 sentinel get-master-addr-by-name pxc | head -n1)"
if [ "$1" = key ]; then cli redis1 set k v >/dev/null; sleep 1; fi
echo "redis2 keys: $(cli redis2 dbsize)"
docker rm -f $n-redis1 >/dev/null; docker volume rm $n-1 >/dev/null; run redis1 master $n-1; sleep 8
docker logs $n-redis1 2>&1 | grep redis-entrypoint
echo "redis1 state: $(docker inspect -f '{{.State.Status}} exit={{.State.ExitCode}}' $n-redis1)"

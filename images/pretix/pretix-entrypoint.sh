#!/bin/bash
# pretix-cluster entrypoint. Usage: <mode> [args]
#   web      wait for DB + Redis, wait until all migrations are applied, run gunicorn on :8000
#   worker   wait for DB + Redis + migrations, run a celery worker consuming all pretix queues
#   cron     wait for DB + Redis + migrations, run `pretix runperiodic` every CRON_INTERVAL seconds under a
#            lease in Redis (pretix-cron.py), so two crons (a partitioned node's and its replacement) never overlap
#   migrate  wait for DB + Redis; an empty database gets the schema snapshot made at build time; then
#            `pretix migrate --noinput` (nothing left to do after a snapshot) once, and exit
#   shell    `python -m pretix shell [args]` (e.g. shell -c "...")
#   manage   `python -m pretix <command> [args]` (any Django/pretix management command)
#   standalone  pretix's official small-scale shape in one container (`inv bench --baseline`): the migrate
#            mode, then the worker, cron and web modes side by side; it ends when any of them ends
#   anything else is executed as is (e.g. bash)
set -euo pipefail

STATE_DIR=/tmp/pretix-cluster
mkdir -p "$STATE_DIR"
log() { echo "pretix-entrypoint[$MODE]: $*"; }

MODE="${1:-web}"
[ $# -gt 0 ] && shift

: "${PRETIX_CONFIG_FILE:=/run/secrets/pretix_cfg}"
export PRETIX_CONFIG_FILE
: "${WAIT_TIMEOUT:=300}"              # seconds to wait for DB and Redis
: "${MIGRATION_WAIT_TIMEOUT:=1200}"   # seconds web/worker/cron wait for migrations
: "${MIGRATION_CHECK_INTERVAL:=5}"
: "${GUNICORN_WORKERS:=2}"
: "${GUNICORN_TIMEOUT:=60}"
: "${CELERY_CONCURRENCY:=2}"
: "${CELERY_QUEUES:=default,checkout,mail,background,notifications}"
: "${CRON_INTERVAL:=300}"

check_config() {
    if [ ! -r "$PRETIX_CONFIG_FILE" ]; then
        log "ERROR: config file $PRETIX_CONFIG_FILE is not readable (is the pretix_cfg secret attached?)"
        exit 1
    fi
}

wait_deps() {
    log "waiting up to ${WAIT_TIMEOUT}s for database (pgpool) and redis (redis-proxy)"
    if ! WAIT_TIMEOUT="$WAIT_TIMEOUT" python /usr/local/lib/pretix-cluster/pretix-wait.py; then
        log "ERROR: dependencies not available after ${WAIT_TIMEOUT}s, exiting"
        exit 1
    fi
}

wait_migrations() {
    # migrate --check semantics, in one process (cheap): see pretix-wait.py
    log "waiting up to ${MIGRATION_WAIT_TIMEOUT}s until no migrations are unapplied"
    if ! MIGRATION_WAIT_TIMEOUT="$MIGRATION_WAIT_TIMEOUT" MIGRATION_CHECK_INTERVAL="$MIGRATION_CHECK_INTERVAL" \
            python /usr/local/lib/pretix-cluster/pretix-wait.py migrations; then
        log "ERROR: unapplied migrations remain after ${MIGRATION_WAIT_TIMEOUT}s (is the migrate service failing?), exiting"
        exit 1
    fi
}

case "$MODE" in
    web)
        check_config; wait_deps; wait_migrations
        log "starting gunicorn with ${GUNICORN_WORKERS} workers on 0.0.0.0:8000"
        # the web processes only publish task messages: pretix_cluster_settings.py lets redis-py resend theirs
        export PXC_PUBLISHER_ONLY=1
        exec gunicorn pretix.wsgi --name pretix \
            --bind 0.0.0.0:8000 --workers "$GUNICORN_WORKERS" \
            --timeout "$GUNICORN_TIMEOUT" --graceful-timeout 20 \
            --max-requests 5000 --max-requests-jitter 500 \
            --forwarded-allow-ips '*' --control-socket /tmp/gunicorn.ctl --log-level info "$@"
        ;;
    worker)
        check_config; wait_deps; wait_migrations
        log "starting celery worker (queues ${CELERY_QUEUES}, concurrency ${CELERY_CONCURRENCY})"
        # prefetch 1: a killed worker strands at most the tasks it is running, not a prefetched batch;
        # no mingle or gossip: after every reconnect (a Redis failover) mingle waited 1 s for neighbours, and
        # nothing here uses what they tell
        exec celery -A pretix.celery_app worker -l info -n "celery@$(hostname)" \
            -Q "$CELERY_QUEUES" --concurrency "$CELERY_CONCURRENCY" --prefetch-multiplier 1 \
            --without-mingle --without-gossip "$@"
        ;;
    cron)
        check_config; wait_deps; wait_migrations
        exec python /usr/local/lib/pretix-cluster/pretix-cron.py
        ;;
    migrate)
        check_config; wait_deps
        t0=$(date +%s)
        rc=0; python /usr/local/lib/pretix-cluster/pretix-schema-load.py || rc=$?
        case $rc in
            0) log "empty database: loaded the schema snapshot made at build time in $(( $(date +%s) - t0 ))s" ;;
            3) ;;  # the database has a schema already
            *) log "ERROR: could not load the schema snapshot"; exit 1 ;;
        esac
        log "running migrate"
        python -m pretix migrate --noinput "$@"
        log "migrate finished in $(( $(date +%s) - t0 ))s"
        ;;
    standalone)
        "$0" migrate
        "$0" worker & "$0" cron & "$0" web "$@" &
        trap 'kill -TERM $(jobs -p) 2>/dev/null' TERM INT
        rc=0; wait -n || rc=$?
        log "a process ended (exit $rc): stopping the others"
        kill -TERM $(jobs -p) 2>/dev/null || true
        wait || true
        exit "$rc"
        ;;
    shell)
        check_config
        exec python -m pretix shell "$@"
        ;;
    manage)
        check_config
        exec python -m pretix "$@"
        ;;
    *)
        exec "$MODE" "$@"
        ;;
esac

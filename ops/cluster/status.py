"""`inv status` as data: the stack's services, the PostgreSQL primary and replication, the Redis master."""
from __future__ import annotations

from ..builders import stack as S
from ..core.remote import Remote
from ..facts import data as D, stack as F


def probe(remote: Remote, cl, services, inner, user="") -> dict[str, str]:
    """Run inner in whichever node hosts each service's container; {service: output}."""
    found = {}
    for r in remote.run_all(cl.nodes, S.probe_services(cl.stack, services, inner, user), timeout=30,
                            echo=False).values():
        if r.ok:
            found.update(F.parse_probe(r.stdout))
    return found


def pg_members(remote: Remote, cl) -> list[D.Member]:
    """The PostgreSQL members as Patroni lists them (the first member that answers)."""
    return D.parse_patroni(first_answer(probe(remote, cl, S.PG_SERVICES, S.PATRONI_LIST, "postgres"), "["))


def database_line(remote: Remote, cl) -> str:
    """The PostgreSQL cluster as Patroni sees it, with streaming state and lag from the leader."""
    members = pg_members(remote, cl)
    lead = D.leader(members)
    standbys = []
    if lead:
        standbys = D.parse_replication(probe(remote, cl, [lead.name], S.PG_REPLICATION, "postgres").get(lead.name, ""))
    return D.database_summary(members, standbys, len(S.PG_SERVICES))


def etcd_line(remote: Remote, cl) -> str:
    answer = first_answer(probe(remote, cl, S.ETCD_SERVICES, S.ETCD_HEALTH), "http")
    return D.etcd_summary(D.parse_etcd_health(answer.replace(" http", "\nhttp")), len(S.ETCD_SERVICES))


def first_answer(answers: dict[str, str], starts: str) -> str:
    """The first probe answer that looks like real output (a dead member answers with an error)."""
    return next((v for v in answers.values() if v.startswith(starts)), "")


def redis_line(remote: Remote, cl) -> str:
    masters = probe(remote, cl, S.SENTINEL_SERVICES, S.SENTINEL_MASTER)
    roles = D.parse_roles(probe(remote, cl, S.REDIS_SERVICES, S.REDIS_ROLE))
    return D.redis_summary(masters, roles, len(S.SENTINEL_SERVICES))


def service_lines(services, tasks) -> list[str]:
    lines = [f"  {'service':13} {'running':8} nodes"]
    for s in services:
        nodes = sorted({t.node for t in tasks if t.service == s.name and t.desired == "Running"
                        and t.state == "Running"})
        if s.short in F.ONE_SHOT:
            last = next((t.current for t in tasks if t.service == s.name), "no task")
            lines.append(f"  {s.short:13} {'once':8} {last}")
        else:
            flag = "" if s.running >= s.desired else "   <-- not converged"
            lines.append(f"  {s.short:13} {f'{s.running}/{s.desired}':8} {', '.join(nodes)}{flag}")
    return lines

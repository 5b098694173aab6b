"""Layer 2: the lab, a cluster's nodes simulated on this machine (network namespaces, sshd, dockerd)."""

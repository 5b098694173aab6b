"""Layer 2: the swarm, images, secrets and the deployed stack, as idempotent operations over SSH."""

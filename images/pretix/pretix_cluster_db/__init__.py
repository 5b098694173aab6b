"""pretix-cluster's Django database backends (settings: DATABASES[...]["ENGINE"] = "pretix_cluster_db.postgresql")."""

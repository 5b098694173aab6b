"""Django's PostgreSQL backend whose new connections wait for a primary (see base.py)."""

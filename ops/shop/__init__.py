"""Layer 2: the shop, i.e. seed model, REST client, quickstart decisions, browser driver, purchase journey."""

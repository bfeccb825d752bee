"""Services the checks call: remote lookups, link checking, caching."""

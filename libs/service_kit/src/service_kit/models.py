"""No models. ``migrate`` sends ``post_migrate`` only to apps with a models module, and
service_kit's handler (``apps.create_cache_tables``) makes the cache table there."""

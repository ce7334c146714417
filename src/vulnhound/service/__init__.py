"""Service: store, REST API, scheduler and events."""

"""Feed adapters: one module per upstream advisory source."""

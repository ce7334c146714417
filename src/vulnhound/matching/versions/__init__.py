"""Version schemes: one immutable class per ecosystem scheme, one comparison key each."""

"""Events: an outbox written with each change, CloudEvents envelopes, webhook delivery and NATS publishing."""

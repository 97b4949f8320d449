"""Events: the event store, the outbox and the dispatcher that empties it."""

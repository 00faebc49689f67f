"""Cases and their life: the case, what people and contacts do to it, its store and outbox."""

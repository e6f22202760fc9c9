"""The floor every layer stands on: the ports the agent talks through, messages and events,
tiers, redaction and escaping. Nothing here imports anything above it."""

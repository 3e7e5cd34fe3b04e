"""The NATS service layer: asyncio and nats-py only, never Textual."""

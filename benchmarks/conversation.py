"""The benchmark conversation, shared by the latency benchmark and the turn profile."""

KNOWLEDGE, OTHER = "knowledge", "other"

CONVERSATION: list[tuple[str, str]] = [
    ("hello", OTHER),
    ("what is the return window for a grinder?", KNOWLEDGE),
    ("how much does the Kestrel Barista Pro 300 cost?", KNOWLEDGE),
    ("do you ship to Austria?", KNOWLEDGE),
    ("thanks!", OTHER),
    ("how long is the warranty on espresso machines?", KNOWLEDGE),
    ("my machine shows error E3", KNOWLEDGE),
    ("are you a bot?", OTHER),
    ("what are your support hours?", KNOWLEDGE),
    ("bye", OTHER),
]
"""Ten turns: greetings and small talk (``other``) and questions the documents answer."""

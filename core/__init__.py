"""What every Concierge process shares: settings, storage, message types and logging.

``core`` imports nothing else of the project; every other package may import it.
"""

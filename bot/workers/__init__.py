"""Background processes of the gateway's environment: the outbox delivery worker."""

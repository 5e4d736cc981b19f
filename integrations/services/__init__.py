"""Writes for the PowerOffice Go connection: ``connections`` (store, refresh, disconnect) and
``onboarding`` (the "Gi tilgang" round trip). No PoGo call runs inside a transaction."""

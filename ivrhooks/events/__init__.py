"""PortSIP's CDR and extension event webhooks: the events as the PBX sends them, and the inbox
that stores them between the HTTP endpoint that accepts them and the handlers that process
them (docs/events.md)."""

"""Configuration: the objects an app's code declares (:mod:`.config`) and the ``IVRHOOKS_*``
variables laid over them when the app starts (:mod:`.settings`)."""

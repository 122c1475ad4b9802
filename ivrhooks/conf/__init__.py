"""Configuration: the objects an app's code declares (:mod:`.config`, each setting declared
once, :mod:`.declare`) and the ``IVRHOOKS_*`` variables laid over them when the app starts
(:mod:`.settings`), checked across settings by :mod:`.checks`."""

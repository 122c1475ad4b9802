"""The dev page: a call-flow map, a dev phone and a live call list, served on loopback by
``ivrhooks run`` / ``ivrhooks dev`` beside the embedded fake PBX (never with a real PBX)."""

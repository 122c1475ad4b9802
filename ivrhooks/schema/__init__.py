"""PortSIP's wire format: the REST API's models (:mod:`.models`, :mod:`.accounts`,
:mod:`.forwarding`) and the conventions they share (:mod:`.wire`). One definition serves the
PBX client (:mod:`ivrhooks.pbx`) and the fake PBX (:mod:`ivrhooks.fakepbx`)."""

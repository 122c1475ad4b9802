"""``ivrhooks doctor``: a read-only diagnosis of the first contact with a real PBX.

It logs in (saying which of PortSIP's login generations answered and the token's lifetime),
reads who the account is, finds the app's receptionists, checks the public URL, and shows what
``ivrhooks plan`` would write, without writing anything. See docs/doctor.md.
"""

from __future__ import annotations

from ivrhooks.doctor.checks import Finding, account_findings, public_url_findings
from ivrhooks.doctor.run import Diagnosis, diagnose

__all__ = ["Diagnosis", "Finding", "account_findings", "diagnose", "public_url_findings"]

"""AWS managed policies (``arn:aws:iam::aws:policy/...``) in every account.

moto can load them (``MOTO_IAM_LOAD_MANAGED_POLICIES``) but parses its whole
policy file again for every account and partition, which makes a reset of the
emulator take seconds. This keeps one parsed copy and loads the policies in
the ``aws`` partition only (the emulated accounts live there).
"""

from __future__ import annotations

import json
import os
from functools import cache

from .. import patching


@cache
def _policy_data() -> dict:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


@patching.install_once
def install() -> None:
    from moto.iam.models import AWSManagedPolicy, IAMBackend

    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

    def _init_aws_policies(self) -> list:
        if self.partition != "aws":
            return []
        return [
            AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in _policy_data().items()
        ]

    patching.patch(IAMBackend, "_init_aws_policies", value=_init_aws_policies)

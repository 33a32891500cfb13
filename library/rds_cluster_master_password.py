#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rds_cluster_master_password
short_description: Hand an Aurora DB cluster's master password to RDS and Secrets Manager, and set its rotation
description:
  - Turns on (or off) the management of an existing DB cluster's master user password by RDS in AWS Secrets
    Manager (C(ModifyDBCluster) with C(ManageMasterUserPassword)), and sets the rotation schedule of the secret RDS
    manages (Secrets Manager C(RotateSecret) with C(RotationRules) and C(RotateImmediately=false)).
  - "Turning it on: RDS makes a secret of its own (C(rds!cluster-...)) with a new password, sets that password on
    the database, and rotates it every seven days unless told otherwise (Aurora User Guide, \"Password management
    with Amazon Aurora and AWS Secrets Manager\"). Nobody needs to know a password: whoever needs one reads the
    secret."
  - "Turning it off needs O(master_user_password): RDS deletes its secret and sets that password (RDS API
    reference, ModifyDBCluster, ManageMasterUserPassword)."
  - M(amazon.aws.rds_cluster) has no option for it. The cluster is read first (C(DescribeDBClusters),
    C(MasterUserSecret)) and the secret described (C(DescribeSecret)); nothing is called when both are as asked.
options:
  db_cluster_identifier:
    description:
      - Identifier of the cluster. It must exist.
      - "RDS changes the master password of an C(available) cluster only (C(InvalidDBClusterStateFault) otherwise):
        with O(wait), a cluster still being created or modified is waited for first; without, the module fails."
    type: str
    required: true
    aliases: [cluster_id]
  managed:
    description: Whether RDS manages the master user password in Secrets Manager.
    type: bool
    default: true
  master_user_password:
    description:
      - The password the master user gets when O(managed=false) turns management off. Required then, and ignored
        otherwise (a cluster whose password is not managed keeps its password).
    type: str
  rotation_days:
    description:
      - Days between rotations of the secret RDS manages (Secrets Manager's C(AutomaticallyAfterDays), 1 to 1000).
      - Not set, the schedule is left as it is (RDS's default is every seven days).
    type: int
  wait:
    description:
      - Wait until the cluster is C(available) before changing it, and until its secret is C(active) after turning
        management on.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 900
  wait_delay:
    description: Seconds between polls.
    type: int
    default: 15
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - The caller needs C(rds:DescribeDBClusters), C(rds:ModifyDBCluster), C(secretsmanager:DescribeSecret),
    C(secretsmanager:RotateSecret), and for turning management on C(secretsmanager:CreateSecret),
    C(secretsmanager:TagResource) and C(kms:DescribeKey) on the key of the secret (Aurora User Guide, \"Permissions
    required for Secrets Manager integration\").
  - The password is never read or returned, and O(master_user_password) is C(no_log).
"""

EXAMPLES = r"""
- name: Let RDS manage the master password, rotated every 30 days
  rds_cluster_master_password:
    db_cluster_identifier: app-db
    rotation_days: 30
  register: master

- name: The Data API reads the secret RDS manages
  rds_db_users:
    resource_arn: "{{ cluster_arn }}"
    secret_arn: "{{ master.secret_arn }}"
    database: app
    users: []
"""

RETURN = r"""
managed:
  description: Whether RDS manages the master password after the run (in check mode, as it would).
  returned: success
  type: bool
  sample: true
secret_arn:
  description:
    - ARN of the secret RDS manages (C(MasterUserSecret.SecretArn)); empty when it is not managed, or in check mode
      before RDS has made it.
  returned: success
  type: str
  sample: arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!cluster-0a1b2c3d-4e5f-6789-abcd-ef0123456789-AbCdEf
rotation_days:
  description: Days between rotations of that secret, as RDS or this run set them (C(null) when not managed).
  returned: success
  type: int
  sample: 7
"""

from ansible.module_utils.aws_waiters import max_attempts, wait_for
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.waiters import wait_for_resource_state

# "Aurora manages the settings for the secret and rotates the secret every seven days by default" (Aurora User
# Guide, "Password management with Amazon Aurora and AWS Secrets Manager").
RDS_ROTATION_DAYS = 7


def describe_cluster(module, client, identifier):
    try:
        return client.describe_db_clusters(aws_retry=True, DBClusterIdentifier=identifier)["DBClusters"][0]
    except is_boto3_error_code("DBClusterNotFoundFault"):
        module.fail_json(msg=f"The DB cluster {identifier} does not exist")
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(e, msg=f"Failed to describe the DB cluster {identifier} (DescribeDBClusters)")


def rotation_days_of(module, secrets, secret_arn):
    try:
        secret = secrets.describe_secret(aws_retry=True, SecretId=secret_arn)
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(e, msg=f"Failed to describe the master user secret {secret_arn} (DescribeSecret)")
    return (secret.get("RotationRules") or {}).get("AutomaticallyAfterDays")


def wait_until_available(module, client, cluster):
    """RDS modifies an available cluster only: "DB cluster is not available for modification with status ..."
    (InvalidDBClusterStateFault, botocore's ModifyDBCluster)."""
    identifier = cluster["DBClusterIdentifier"]
    if cluster.get("Status") == "available":
        return
    if not module.params["wait"]:
        module.fail_json(
            msg=f"The DB cluster {identifier} is {cluster.get('Status')}: RDS changes the master password of an "
            "available cluster only. Run again with wait=true, or once it is available."
        )
    wait_until_cluster_available(module, client, identifier)


def wait_until_cluster_available(module, client, identifier):
    delay = module.params["wait_delay"]
    attempts = max_attempts(module.params["wait_timeout"], delay)
    wait_for_resource_state(client, module, "cluster_available", delay, attempts, DBClusterIdentifier=identifier)


def switch(module, client, identifier, managed):
    params = dict(DBClusterIdentifier=identifier, ManageMasterUserPassword=managed, ApplyImmediately=True)
    if not managed:
        params["MasterUserPassword"] = module.params["master_user_password"]
    try:
        client.modify_db_cluster(aws_retry=True, **params)
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(
            e,
            msg=f"Failed to turn {'on' if managed else 'off'} RDS's management of the master password of "
            f"{identifier} (ModifyDBCluster)",
        )
    if not module.params["wait"]:
        return
    if managed:
        wait_for(
            module,
            client,
            "DBClusterMasterUserSecretActive",
            f"the master user secret of DB cluster {identifier}",
            lambda response: [
                (c.get("Status"), (c.get("MasterUserSecret") or {}).get("SecretStatus"))
                for c in response.get("DBClusters", [])
            ],
            DBClusterIdentifier=identifier,
        )
    else:
        wait_until_cluster_available(module, client, identifier)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            db_cluster_identifier=dict(type="str", required=True, aliases=["cluster_id"]),
            managed=dict(type="bool", default=True),
            master_user_password=dict(type="str", no_log=True),
            rotation_days=dict(type="int"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=900),
            wait_delay=dict(type="int", default=15),
        ),
        supports_check_mode=True,
    )
    p = module.params
    identifier = p["db_cluster_identifier"]
    if p["rotation_days"] is not None and not 1 <= p["rotation_days"] <= 1000:
        module.fail_json(
            msg=f"rotation_days must be from 1 to 1000 (Secrets Manager's limits); got {p['rotation_days']}"
        )
    if p["rotation_days"] is not None and not p["managed"]:
        module.fail_json(msg="rotation_days needs managed=true: only the secret RDS manages is rotated by RDS")
    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff())
    secrets = module.client("secretsmanager", retry_decorator=AWSRetry.jittered_backoff())

    cluster = describe_cluster(module, client, identifier)
    was_managed = "MasterUserSecret" in cluster
    changed = was_managed != p["managed"]
    if changed and not p["managed"] and not p["master_user_password"]:
        module.fail_json(
            msg=f"master_user_password is required to turn off RDS's management of the master password of "
            f"{identifier}: RDS deletes its secret and sets the password given"
        )
    before = dict(managed=was_managed, rotation_days=None)
    if was_managed:
        before["rotation_days"] = rotation_days_of(module, secrets, cluster["MasterUserSecret"]["SecretArn"])
    if changed and not module.check_mode:
        wait_until_available(module, client, cluster)
        switch(module, client, identifier, p["managed"])
        cluster = describe_cluster(module, client, identifier)

    secret_arn = (cluster.get("MasterUserSecret") or {}).get("SecretArn", "")
    rotation_days = None
    if p["managed"] and secret_arn:
        rotation_days = before["rotation_days"] if not changed else rotation_days_of(module, secrets, secret_arn)
        if p["rotation_days"] is not None and rotation_days != p["rotation_days"]:
            changed = True
            if not module.check_mode:
                try:
                    secrets.rotate_secret(
                        aws_retry=True,
                        SecretId=secret_arn,
                        RotationRules={"AutomaticallyAfterDays": p["rotation_days"]},
                        RotateImmediately=False,
                    )
                except Exception as e:  # pylint: disable=broad-except
                    module.fail_json_aws(e, msg=f"Failed to set the rotation schedule of {secret_arn} (RotateSecret)")
            rotation_days = p["rotation_days"]
    elif p["managed"]:
        # Check mode before RDS has made its secret.
        rotation_days = p["rotation_days"] if p["rotation_days"] is not None else RDS_ROTATION_DAYS
    result = dict(changed=changed, managed=p["managed"], secret_arn=secret_arn, rotation_days=rotation_days)
    if module._diff:
        result["diff"] = dict(before=before, after=dict(managed=p["managed"], rotation_days=rotation_days))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

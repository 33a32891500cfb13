#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rds_cluster_http_endpoint
short_description: Enable or disable the RDS Data API (HTTP endpoint) of an existing Aurora DB cluster
description:
  - Turns the HTTP endpoint of an Aurora DB cluster on or off with the C(EnableHttpEndpoint) and
    C(DisableHttpEndpoint) operations, which the RDS Data API needs.
  - For an existing Aurora PostgreSQL or MySQL provisioned or Serverless v2 cluster these operations are the only
    way; C(ModifyDBCluster)'s C(EnableHttpEndpoint) applies to Aurora Serverless v1 only and is ignored for the
    others (RDS API reference, ModifyDBCluster and EnableHttpEndpoint). At creation,
    M(amazon.aws.rds_cluster)'s O(amazon.aws.rds_cluster#module:enable_http_endpoint) does it.
  - The cluster is read first (C(DescribeDBClusters), C(HttpEndpointEnabled)); nothing is called when it is
    already as asked.
options:
  db_cluster_identifier:
    description: Identifier of the cluster.
    type: str
    required: true
    aliases: [cluster_id]
  enabled:
    description: Whether the HTTP endpoint is to be enabled.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - The caller needs C(rds:DescribeDBClusters) and C(rds:EnableHttpEndpoint) or C(rds:DisableHttpEndpoint).
  - AWS refuses an engine version that the Data API does not support (Aurora User Guide, "Supported Regions and
    Aurora DB engines for RDS Data API"); the error is returned as AWS gives it.
"""

EXAMPLES = r"""
- name: Enable the Data API of an existing cluster
  rds_cluster_http_endpoint:
    db_cluster_identifier: app-db

- name: Disable it
  rds_cluster_http_endpoint:
    db_cluster_identifier: app-db
    enabled: false
"""

RETURN = r"""
db_cluster_arn:
  description: ARN of the cluster (the Data API's C(resourceArn)).
  returned: success
  type: str
  sample: arn:aws:rds:eu-west-1:111111111111:cluster:app-db
db_cluster_resource_id:
  description: The cluster's resource ID (C(cluster-...)), used in C(rds-db:connect) resource ARNs.
  returned: success
  type: str
  sample: cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0
http_endpoint_enabled:
  description: Whether the HTTP endpoint is enabled after the run (in check mode, as it would be).
  returned: success
  type: bool
  sample: true
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def describe(module, client, identifier):
    try:
        return client.describe_db_clusters(aws_retry=True, DBClusterIdentifier=identifier)["DBClusters"][0]
    except is_boto3_error_code("DBClusterNotFoundFault"):
        return None
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(e, msg=f"Failed to describe the DB cluster {identifier} (DescribeDBClusters)")


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            db_cluster_identifier=dict(type="str", required=True, aliases=["cluster_id"]),
            enabled=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    identifier = module.params["db_cluster_identifier"]
    wanted = module.params["enabled"]
    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff())

    cluster = describe(module, client, identifier)
    if cluster is None:
        module.fail_json(msg=f"The DB cluster {identifier} does not exist")
    current = bool(cluster.get("HttpEndpointEnabled"))
    changed = current != wanted
    if changed and not module.check_mode:
        operation = "enable_http_endpoint" if wanted else "disable_http_endpoint"
        try:
            getattr(client, operation)(aws_retry=True, ResourceArn=cluster["DBClusterArn"])
        except Exception as e:  # pylint: disable=broad-except
            name = "EnableHttpEndpoint" if wanted else "DisableHttpEndpoint"
            module.fail_json_aws(
                e, msg=f"Failed to turn the HTTP endpoint of {identifier} {'on' if wanted else 'off'} ({name})"
            )
    result = dict(
        changed=changed,
        db_cluster_arn=cluster["DBClusterArn"],
        db_cluster_resource_id=cluster.get("DbClusterResourceId", ""),
        http_endpoint_enabled=wanted,
    )
    if module._diff:
        result["diff"] = dict(before=dict(http_endpoint_enabled=current), after=dict(http_endpoint_enabled=wanted))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

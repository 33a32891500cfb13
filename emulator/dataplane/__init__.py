"""The emulator's data plane: what answers when a deployed function runs and connects to the database.

Where the service additions in ``emulator/ext`` model AWS's control plane (API calls, statuses, errors), this
package runs the path a request takes on AWS:

- ``postgres``: each available Aurora DB instance is a real PostgreSQL server with TLS, the writer a primary and
  each reader a streaming hot standby of it;
- ``iam_auth``: the credentials behind an access key (fixed account keys, ``sts:AssumeRole`` sessions), IAM
  database authentication tokens checked as RDS Proxy checks them, and identity policies evaluated for an action
  on a resource;
- ``proxy``: each RDS Proxy endpoint is a listener that speaks PostgreSQL's protocol as RDS Proxy does (TLS, IAM
  authentication, the secret towards the database, read/write and read-only routing);
- ``network``: a function runs inside its VPC: a Linux network namespace per function with the addresses, names
  and security-group decisions of that VPC;
- ``functions``: ``Invoke`` runs the deployed code with the runtime's interpreter and the execution role's
  credentials;
- ``ca``: the emulator's certificate authority, which stands in for the Amazon root CAs.

The setting ``data_plane`` (on by default) turns all of it off; ``Invoke`` then answers that it cannot run code.
"""

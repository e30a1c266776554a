# Least privilege: its own log group; on the chat table (DynamoDB store only) the item actions its store uses,
# transactions included (TransactWriteItems is authorised per item as PutItem, UpdateItem, DeleteItem and
# ConditionCheckItem, TransactGetItems as GetItem), and Query on the table and on gsi1 - no BatchGetItem,
# BatchWriteItem or Scan; on the connections table Query (a booking's connections, for status pushes) and
# DeleteItem (a connection API Gateway answers 410 Gone for); PostToConnection on this API's stage; reading
# its secrets by name; writing X-Ray traces when tracing is on; and, in a VPC, the network interfaces
# Lambda creates with the function's role (what AWSLambdaVPCAccessExecutionRole grants beyond logs).
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

locals {
  ssm_parameter_arns = [for name, secret in var.secrets : format(
    "arn:%s:ssm:%s:%s:parameter/%s",
    data.aws_partition.current.partition,
    data.aws_region.current.name,
    data.aws_caller_identity.current.account_id,
    trimprefix(secret.ssm_parameter_name, "/"),
  ) if secret.ssm_parameter_name != null]
  secrets_manager_arns = [for name, secret in var.secrets : secret.secrets_manager_arn if secret.secrets_manager_arn != null]

  statements = concat(
    [
      {
        Sid      = "OwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
      },
    ],
    var.chat_store == "dynamodb" ? [
      {
        Sid    = "ChatTable"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
          "dynamodb:DeleteItem",
          "dynamodb:ConditionCheckItem",
          "dynamodb:Query",
          # The inbox: a booking's membership items are written in one batch, a user's bookings read in one.
          "dynamodb:BatchWriteItem",
          "dynamodb:BatchGetItem",
        ]
        Resource = [var.chat_table_arn]
      },
      {
        # An index can only be queried (or scanned): item actions on it mean nothing.
        Sid      = "ChatTableIndexes"
        Effect   = "Allow"
        Action   = ["dynamodb:Query"]
        Resource = var.chat_table_index_arns
      },
    ] : [],
    [
      {
        Sid      = "ConnectionRecords"
        Effect   = "Allow"
        Action   = ["dynamodb:Query", "dynamodb:DeleteItem"]
        Resource = [var.connections_table_arn]
      },
      {
        # Status pushes post to connections; closing them is the proxy's.
        Sid      = "PostToConnections"
        Effect   = "Allow"
        Action   = ["execute-api:ManageConnections"]
        Resource = ["${var.api_execution_arn}/${var.stage_name}/POST/@connections/*"]
      },
    ],
    length(local.ssm_parameter_arns) == 0 ? [] : [{
      Sid      = "SecretParameters"
      Effect   = "Allow"
      Action   = ["ssm:GetParameter"]
      Resource = local.ssm_parameter_arns
    }],
    length(local.secrets_manager_arns) == 0 ? [] : [{
      Sid      = "SecretsManagerSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = local.secrets_manager_arns
    }],
    var.secret_kms_key_arn == null ? [] : [{
      Sid      = "DecryptSecrets"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = [var.secret_kms_key_arn]
    }],
    var.tracing ? [{
      Sid      = "Tracing"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = ["*"] # X-Ray has no resource-level permissions
    }] : [],
    local.in_vpc ? [{
      Sid    = "VpcNetworkInterfaces"
      Effect = "Allow"
      Action = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      # As in AWSLambdaVPCAccessExecutionRole: the Describe actions work only on "*", and Lambda creates and
      # deletes interfaces whose ids are not known in advance.
      Resource = ["*"]
    }] : [],
  )

  # Built with jsonencode so that tests can assert on it.
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = local.policy
}

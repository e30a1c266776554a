# Least privilege: the proxy's own log group, the three DynamoDB actions the code uses on this table (one
# item per connection: PutItem at $connect, DeleteItem at $disconnect and on 410 Gone, Query of a booking's
# partition per broadcast; no GetItem, since the $connect authorizer's context names the connection's
# booking and user on every event, and no Scan anywhere), ManageConnections on this API's stage only,
# reading its one secret, invoking the backend function's alias (and nothing else of it) when it reaches
# the backend that way, and writing X-Ray traces when tracing is on.
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
  ssm_parameter_arn = var.proxy_secret_ssm_parameter_name == null ? null : format(
    "arn:%s:ssm:%s:%s:parameter/%s",
    data.aws_partition.current.partition,
    data.aws_region.current.name,
    data.aws_caller_identity.current.account_id,
    trimprefix(var.proxy_secret_ssm_parameter_name, "/"),
  )

  statements = concat(
    [
      {
        Sid      = "OwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
      },
      {
        # GetItem and UpdateItem: a connection renewed by `refresh` (read once its $connect token has
        # expired; its TTL moved). BatchWriteItem: a user connection's record in each of its bookings.
        Sid      = "ConnectionRecords"
        Effect   = "Allow"
        Action   = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
        Resource = [var.connections_table_arn]
      },
      {
        Sid    = "ManageConnections"
        Effect = "Allow"
        Action = ["execute-api:ManageConnections"]
        Resource = [
          "${var.api_execution_arn}/${var.stage_name}/POST/@connections/*",
          "${var.api_execution_arn}/${var.stage_name}/DELETE/@connections/*",
        ]
      },
    ],
    var.backend_function_arn == null ? [] : [{
      # The alias ARN exactly: invoking $LATEST, a version or another alias of the function is denied.
      Sid      = "InvokeBackend"
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunction"]
      Resource = [var.backend_function_arn]
    }],
    var.proxy_secret_ssm_parameter_name == null ? [] : [{
      Sid      = "ProxySecretParameter"
      Effect   = "Allow"
      Action   = ["ssm:GetParameter"]
      Resource = [local.ssm_parameter_arn]
    }],
    var.proxy_secret_secrets_manager_arn == null ? [] : [{
      Sid      = "ProxySecretSecret"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = [var.proxy_secret_secrets_manager_arn]
    }],
    var.tracing ? [{
      Sid      = "Tracing"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = ["*"] # X-Ray has no resource-level permissions
    }] : [],
    var.secret_kms_key_arn == null ? [] : [{
      Sid      = "DecryptProxySecret"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = [var.secret_kms_key_arn]
    }],
  )

  # Built with jsonencode so that tests can assert on it.
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = local.policy
}

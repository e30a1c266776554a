# The function's role, least privilege: its own log group; what its caller's policy_statements allow (the
# function's own work: its tables, its API stage, what it invokes); reading its secrets by name, and
# kms:Decrypt on their key when they have a customer managed one; writing X-Ray traces when tracing is on;
# and, in a VPC, the network interfaces Lambda creates with the function's role (what
# AWSLambdaVPCAccessExecutionRole grants beyond logs).
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
    [{
      Sid      = "OwnLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
    }],
    # A Condition only on the statements that have one, never a null one.
    [for statement in var.policy_statements : merge(
      { Sid = statement.Sid, Effect = "Allow", Action = statement.Action, Resource = statement.Resource },
      statement.Condition == null ? {} : { Condition = statement.Condition },
    )],
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

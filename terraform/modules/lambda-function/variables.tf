variable "name" {
  description = "Name of the Lambda function (and prefix of its role and log group)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,56}$", var.name))
    error_message = "Use 1 to 56 letters, digits, '-' or '_' (the role name adds a suffix)."
  }
}

variable "description" {
  description = "What the function is, as the Lambda console shows it."
  type        = string
}

variable "package_path" {
  description = "Path of the zip `make package` builds (target/lambda/<arch>/<binary>/bootstrap.zip); Terraform hashes it and never builds code."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the package: arm64 (Graviton, cheaper) or x86_64 (`make package ARCH=x86_64`)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB; CPU grows with it."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout_seconds" {
  description = "Function timeout, at most Lambda's 900 s. A function that answers API Gateway needs less than it waits (29 s on a WebSocket integration, 30 s on an HTTP API): its caller bounds it (booking-chat's backend_timeout_seconds, the proxy's 29 s); one on an SQS queue (the notifier, the media processor) is bounded by Lambda's own limit."
  type        = number

  validation {
    condition     = var.timeout_seconds >= 3 && var.timeout_seconds <= 900 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be a whole number of seconds from 3 to 900 (Lambda's longest)."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (caps the function and guarantees it capacity); null leaves it unreserved. Lambda refuses a reservation that leaves the account fewer than 100 unreserved (scripts/preflight.py checks the proxy's before apply)."
  type        = number
  default     = null

  validation {
    # 0 is accepted by Lambda and throttles every invocation: a silent outage, never a setting.
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be null (unreserved) or a whole number of at least 1: 0 would throttle every invocation."
  }
}

variable "environment" {
  description = "The function's environment variables, its configuration contract; secrets never go here (see secrets)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Secrets the function reads by name at cold start, by the name it reads them under (e.g. PROXY_SECRET): each an SSM SecureString parameter name or a Secrets Manager secret's complete ARN. The function gets <NAME>_SSM_PARAMETER or <NAME>_SECRETS_MANAGER_ID, and its role may read exactly those."
  type = map(object({
    ssm_parameter_name  = optional(string)
    secrets_manager_arn = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for name in keys(var.secrets) : can(regex("^[A-Z][A-Z0-9_]*$", name))])
    error_message = "Secret names are environment variable names: upper case letters, digits and '_'."
  }

  validation {
    condition     = alltrue([for secret in values(var.secrets) : (secret.ssm_parameter_name == null) != (secret.secrets_manager_arn == null)])
    error_message = "Each secret is exactly one of ssm_parameter_name and secrets_manager_arn."
  }

  validation {
    condition = alltrue([for secret in values(var.secrets) :
    secret.ssm_parameter_name == null || can(regex("^/?[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", secret.ssm_parameter_name))])
    error_message = "An ssm_parameter_name must be a parameter name such as /booking-chat/dev/jwt-secret (not an ARN)."
  }

  validation {
    # The IAM policy needs the complete ARN: a name makes the policy invalid, and a partial ARN (without the
    # six characters Secrets Manager appends) is accepted by IAM but matches no secret, so reads are denied.
    condition = alltrue([for secret in values(var.secrets) :
    secret.secrets_manager_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+-[a-zA-Z0-9]{6}$", secret.secrets_manager_arn))])
    error_message = "A secrets_manager_arn must be the secret's complete ARN, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (aws secretsmanager describe-secret --secret-id NAME --query ARN), not a name or a partial ARN."
  }
}

variable "secret_kms_key_arn" {
  description = "Customer managed KMS key that encrypts the secrets, if any (the function gets kms:Decrypt on it); null for the AWS managed key."
  type        = string
  default     = null

  validation {
    condition     = var.secret_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.secret_kms_key_arn))
    error_message = "secret_kms_key_arn must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); IAM does not match aliases."
  }
}

variable "policy_statements" {
  description = "What the function's work needs beyond its logs, secrets, X-Ray and VPC interfaces (which this module grants): Allow statements, each with a Sid, exact actions and resources, and optionally a Condition that narrows them further (operator => key => values, e.g. { \"ForAllValues:StringEquals\" = { \"dynamodb:LeadingKeys\" = [\"AUDIT\"] } })."
  type = list(object({
    Sid       = string
    Action    = list(string)
    Resource  = list(string)
    Condition = optional(map(map(list(string))))
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : can(regex("^[A-Za-z0-9]+$", s.Sid))])
    error_message = "Each statement's Sid is letters and digits only (IAM's rule)."
  }

  validation {
    condition     = alltrue(flatten([for s in var.policy_statements : [for a in s.Action : !strcontains(a, "*")]]))
    error_message = "Name each action exactly: no wildcard actions."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets the function runs in, to reach something in a VPC (PostgreSQL); empty for no VPC. They need a route to whatever else the function calls (DynamoDB, SSM or Secrets Manager, the Management API): NAT, or VPC endpoints."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function's network interfaces; with vpc_subnet_ids."
  type        = list(string)
  default     = []

  validation {
    condition     = (length(var.vpc_security_group_ids) > 0) == (length(var.vpc_subnet_ids) > 0)
    error_message = "vpc_subnet_ids and vpc_security_group_ids go together: both set (a VPC function) or both empty."
  }
}

variable "tracing" {
  description = "Active X-Ray tracing of invocations (latency of each call, cold starts)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "system_log_level" {
  description = "Which of Lambda's own log lines the log group receives, in Lambda's JSON log format: DEBUG, INFO (START and REPORT among them) or WARN (timeouts and crashes only: no START, END or REPORT line, about 330 bytes an invocation saved). The function's lines are written whatever their level (its RUST_LOG decides) and pass through as written. null keeps the text format, with Lambda's START, END and REPORT lines."
  type        = string
  default     = null

  validation {
    condition     = var.system_log_level == null || contains(["DEBUG", "INFO", "WARN"], coalesce(var.system_log_level, "-"))
    error_message = "system_log_level must be null (the text format), DEBUG, INFO or WARN."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key encrypting the log group (its key policy must allow the CloudWatch Logs service); null uses CloudWatch's default encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "alias_name" {
  description = "Alias the callers invoke; every apply publishes a version and points the alias at it (roll back by pointing it at an earlier one)."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,127}$", var.alias_name))
    error_message = "alias_name must start with a letter: letters, digits, '-' or '_', at most 128."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}

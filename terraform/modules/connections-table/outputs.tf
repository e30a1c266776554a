output "name" {
  description = "Table name, for the function's CONNECTIONS_TABLE (and the backend's, to push status changes)."
  value       = aws_dynamodb_table.this.name
}

output "arn" {
  description = "Table ARN, for IAM policies that read or write connection records."
  value       = aws_dynamodb_table.this.arn
}

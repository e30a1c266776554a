output "name" {
  description = "Table name, for the backend function's CHAT_TABLE."
  value       = aws_dynamodb_table.this.name
}

output "arn" {
  description = "Table ARN, for the backend function's policy (item actions)."
  value       = aws_dynamodb_table.this.arn
}

output "gsi1_arn" {
  description = "ARN of the index gsi1, for the backend function's policy (Query only)."
  value       = "${aws_dynamodb_table.this.arn}/index/gsi1"
}

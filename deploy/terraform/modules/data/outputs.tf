output "mysql_address" {
  description = "Host name of the RDS MySQL primary."
  value       = aws_db_instance.this.address
}

output "mysql_identifier" {
  description = "RDS instance identifier (for alarms)."
  value       = aws_db_instance.this.identifier
}

output "cache_primary_endpoint" {
  description = "Primary endpoint of the Redis replication group."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "cache_id" {
  description = "Replication group ID (for alarms)."
  value       = aws_elasticache_replication_group.this.id
}

output "cache_cluster_ids" {
  description = "Member clusters of the replication group (ElastiCache names them <group>-001, -002), for alarms."
  value       = [for i in range(1, 3) : format("%s-%03d", local.cache_id, i)]
}

output "kms_key_arn" {
  description = "KMS key of the data tier and the runway secrets."
  value       = aws_kms_key.data.arn
}

output "secret_names" {
  description = "Secrets Manager names of the runway secrets, by key (database-url, cache-url, jwt-secret)."
  value       = { for k, s in aws_secretsmanager_secret.app : k => s.name }
}

output "secret_arns" {
  description = "Secrets Manager ARNs of the runway secrets."
  value       = [for s in aws_secretsmanager_secret.app : s.arn]
}

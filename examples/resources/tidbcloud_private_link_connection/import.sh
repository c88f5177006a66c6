# <cluster_id>,<private_link_connection_id>
terraform import tidbcloud_private_link_connection.kafka 1000000000000000001,plc-0123456789abcdef

# <cluster_id>,<private_link_connection_id>,<attach_domain_id>
terraform import tidbcloud_private_link_domains.kafka 1000000000000000001,plc-0123456789abcdef,atd-0123456789abcdef

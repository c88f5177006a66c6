# The ID is <cluster_id>,<private_link_connection_id>.
import {
  to = tidbcloud_private_link_connection.kafka
  id = "1000000000000000001,plc-0123456789abcdef"
}

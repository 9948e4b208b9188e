-- The external addresses cloud load balancers gave a cluster's HTTP Services (ESAAS_EXPOSE=loadbalancer), as
-- the observer last read them from the Services' status: {"elasticsearch": "203.0.113.10", "kibana": "..."}
-- (an IP or a host name; a key is absent while the load balancer has none).
ALTER TABLE clusters ADD COLUMN load_balancer_addresses jsonb NOT NULL DEFAULT '{}';

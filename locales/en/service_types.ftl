# service_types

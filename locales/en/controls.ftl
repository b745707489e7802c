# The register's own arrival checks on KPR_IPL (src/annual/controls.rs): which check, what the
# register does when one fails, what it expects, and what to do.

control-consequence-message = the register discards the whole message
control-consequence-record = the register discards the record and everything under it
control-consequence-null = the register discards the value
control-consequence-nothing = the register takes it as it is

control-kind-type = type check
control-kind-mandatory = mandatory check
control-kind-code = code check
control-kind-range = range check

control-expected-value = a value
control-expected-value-for = a value for service types { $codes }
control-expected-pattern = the pattern { $pattern }
control-expected-one-of = one of { $codes }
control-expected-service-type = a service type valid in { $year }
control-expected-range = from { $from } to { $to }
control-expected-open = …

control-fix-mandatory = record the missing value in the patient record system, or leave the service out until it is known
control-fix-value = correct the value in the patient record system; `kpr-bridge check` locates the record

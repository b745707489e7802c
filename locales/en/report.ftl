# The check report (HTML, src/report/html.rs), the `check` table (src/report/summary.rs) and
# what `kpr-bridge check` says around them (src/commands/check.rs).

## Words both use

report-mode-test = test
report-mode-production = production
report-severity-error = error
report-severity-warning = warning
report-origin-extract = extract { $place }
report-origin-database = database { $place }
report-origin-iplos = IPLOS extract { $place }
report-percent = { $value }%
report-services = { $count ->
    [one] { $count } service
   *[other] { $count } services
}

## The HTML report

report-title = IPLOS check { $year } – { $municipality } { $name }
report-kicker = IPLOS check before sending to KPR
report-reporting-year = · reporting year { $year }
report-meta-mode = Mode
report-meta-generated = Generated
report-meta-sources = Sources
report-status-errors = Not ready to send: { $count ->
    [one] { $count } rule
   *[other] { $count } rules
} found errors.
report-status-errors-text = The register would reject or misread these records; they are held back until they are fixed in the EPJ or the mapping.
report-status-problems = No rule found errors, but { $count ->
    [one] { $count } row or value
   *[other] { $count } rows or values
} could not be read.
report-status-problems-text = Each is named in the terminal output; look at them before sending.
report-status-ok = No errors: the data can be sent.
report-status-warnings = { $count ->
    [one] { $count } rule
   *[other] { $count } rules
} found warnings worth a look.
report-nav-summary = Summary
report-nav-months = Services per month
report-nav-findings = Findings
report-nav-mapping = Mapping
report-badge-error = Error
report-badge-warning = Warning

report-sources = Sources
report-sources-none = No sources were read.
report-sources-source = Source
report-sources-origin = Origin
report-sources-persons = Persons
report-sources-services = Services
report-sources-problems = Reading problems
report-sources-note = Reading problems are rows or values the reader could not use; each is named in the terminal output. A person in two sources counts once in the totals below.

report-summary = Summary
report-summary-what = What
report-summary-severity = Severity
report-summary-count = Count
report-summary-persons = Persons
report-summary-services = Services
report-summary-errors = Rules with errors
report-summary-warnings = Rules with warnings
report-summary-passed = Every rule passed.

report-months = Services per month, { $year }
report-months-none = No granted services in { $year }, so there is nothing to chart.
report-months-note = Granted services and the persons who have them, per national code. A service counts in every month it runs; a source counts only inside its own days. Each chart has its own scale.
report-months-services = Services
report-months-persons = Persons
report-chart-title = Granted services and persons per national code and month, { $year }
report-chart-figures = The figures in the chart
report-chart-code = Code
report-month = { $month ->
    [1] Jan
    [2] Feb
    [3] Mar
    [4] Apr
    [5] May
    [6] Jun
    [7] Jul
    [8] Aug
    [9] Sep
    [10] Oct
    [11] Nov
   *[12] Dec
}

report-findings = Findings
report-findings-none = No findings: every rule passed.
report-found-times = { $count ->
    [one] found once
   *[other] found { $count } times
}
report-what-to-do = What to do:
report-examples-first = The first { $shown } of { $count } are shown.
report-examples-source = Source
report-examples-record = Record
report-examples-local-id = Local id
report-examples-detail = Detail
report-record-person = person
report-record-service = service
report-record-assessment = assessment
report-record-diagnosis = diagnosis

report-register = The register's arrival checks
report-register-intro = KPR checks the annual message when it arrives, and discards what fails some checks. These are its own checks, run on the message as kpr-bridge would write it for this year.
report-register-none = The register would discard nothing.
report-register-count = { $kind }, found { $count } time(s)
report-register-expected = Expected { $expected }; for example { $example }.
report-register-field = { $field } ({ $kind }, { $count })
report-register-taken = Noted by the register and taken as it is: { $fields }.

report-mapping = Mapping coverage
report-mapping-none = No services to map.
report-mapping-share = of services are mapped ({ $mapped } of { $all }). A service that is not mapped is not reported.
report-mapping-source = { $percent } mapped
report-mapping-local-type = Local type
report-mapping-services = Services
report-mapping-maps-to = Maps to
report-mapping-not-reported = Not reported
report-mapping-attribute = attribute { $attribute }
report-mapping-ignored = ignored: { $reason }
report-mapping-retired = retired code { $code }
report-mapping-unmapped = unmapped

report-footer = Made by kpr-bridge { $version }. This report holds no identity numbers or names: examples are located by source and the EPJ's own id.

## The `check` table on the terminal

summary-title = Check of { $municipality } { $name }, { $year } ({ $mode } mode), { $generated }
summary-sources = Sources
summary-persons = persons
summary-services = services
summary-problems = problems
summary-totals = { $persons } persons, { $services } services; { $errors } rule(s) with errors, { $warnings } with warnings
summary-register = The register's arrival checks on KPR_IPL as it would be written would drop data:
summary-register-line = { $record } { $field } ({ $kind }) { $count }: { $consequence }; expected { $expected }, e.g. { $example }
summary-no-findings = No findings.
summary-rule = rule
summary-severity = severity
summary-count = count

## Around the table

check-year-invalid = error: --year { $year } is not a reporting year; give one such as 2025
check-more-problems = { $source }: … and { $count } more problems (--max-problems to list more)
check-json-failed = error: cannot write the JSON: { $error }
check-report-failed = error: cannot write the report to { $file }: { $error } — check the directory and free space
check-report-written = Report written to { $file }

# `kpr-bridge demo`: what it says while it runs, and its summary at the end.

demo-in = kpr-bridge demo in { $dir }
demo-synthetic = Synthetic data only: { $count } persons with synthetic identity numbers, test certificates, KPR played by the local test receiver.
demo-error = error: { $why }
demo-stopped = the demo stopped; what it made so far is in { $dir }
demo-unusable-input = `{ $command }` could not use its input (exit { $code }; see above)
demo-cannot-write-configuration = cannot write the configuration in { $dir }: { $why }
demo-cannot-write-extract = cannot write the extract to { $dir }: { $why }
demo-receiver-not-spool = the demo's receiver answers a spool

## The steps

demo-certificates = test certificates
    .made = A throwaway test CA, and signing and encryption pairs for the municipality and for KPR, in { $dir } (never for production)
    .step = made in { $dir }
demo-configuration = configuration
    .written = The municipality's configuration: { $municipality }
        The test receiver's: { $receiver }
    .step = test mode, SQLite state store, spool transport both ways
demo-extract = a synthetic extract
    .made = { $persons } persons, { $services } services in { $dir }
    .step = extract
demo-check-errors = the checks found errors (the synthetic data has some on purpose: they are held back and left out below)
demo-daily-held-back = changes with errors are held back until fixed (see above)
demo-change-heading = a change in the extract
demo-change-on = On { $date }: { $change }
demo-change-step = change
demo-change = service { $ended } ends; service { $stopped } stops for a while; person { $person } gets a new service { $added } ({ $local_type })
demo-annual-heading = annual { $year } to KPR Validering
    .how = (as with --yes --allow-errors: no question asked, what has errors left out)
demo-iplos-made = night { $night }: the EPJ wrote its IPLOS 3.7 extract for { $year } ({ $persons } persons) into { $dir }
demo-iplos-step = IPLOS extract, night { $night }
demo-exit-0 = exit 0
demo-exit-1 = exit 1 (see above)
demo-exit-1-because = exit 1: { $why }
demo-answered = KPR (the test receiver) answered { $answered } message(s); { $receipts } receipt(s) taken, { $other } other
    .step = receipts

## The summary

demo-summary = Summary
    .steps = Steps
demo-receipts = Receipts (KPR's answers, oldest message first)
    .type = type
    .state = state
    .status = KPR's status
    .none = no answer
demo-daily = Daily notifications sent (HIS 1135)
    .day = { $count } notification(s) in { $messages } message(s): { $kinds }
    .kind = { $kind } { $status } { $count }
demo-annual = Annual message { $year } (to KPR Validering, { $count } message(s))
    .persons = { $persons } persons; { $granted } services granted and { $refused } refused, under { $codes } national codes
    .per-code = per code (granted/refused):
demo-report = HTML report: { $path }
demo-delivered = Every message was delivered ({ $delivered } of { $count }).
demo-not-delivered = Not every message was delivered: { $delivered } of { $count } delivered; the demo makes { $expected } (two daily messages, and the annual pair).

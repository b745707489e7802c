# Alerts: the title (one line, for a subject or a notification) and the message (what
# happened, what it means, what to do), for the command, the webhook and the log.

alert-daily-missed = The daily report for { $date } has not been sent to KPR
    .text = The daily report for { $date } has not been sent to KPR, although by the schedule it should have gone by now. The last reporting date sent is { $last }.
    .means = What it means: the register does not yet know that day's changes to services; nothing is lost, they are sent with the next daily report.
    .todo = What to do: check that the kpr-bridge agent runs and read its log; `kpr-bridge status` shows more.

alert-certificate-unreadable = { $name } cannot be read
    .text = { $name } cannot be read: { $problem }
    .means = What it means: nothing can be sent to KPR or read from it until it can.
    .todo = What to do: correct the file or the path in [certificates].
alert-certificate-ended = { $name } has ended
    .text = { $name } ended on { $day }.
    .means = What it means: messages to KPR cannot be sent or read with it.
    .todo = What to do: { $renew }.
alert-certificate-ending = { $name } ends in { $days } days
    .text = { $name } ends on { $day }, in { $days } days.
    .means = What it means: after that day nothing can be sent to KPR until a new one is installed.
    .todo = What to do: { $renew } before then.

alert-capture-errors = { $count } record(s) held back from KPR by errors in the patient record system
    .text = The checks of the latest reading of the patient record system (reporting date { $date }) found { $count } error(s):
    .means = What it means: these records are held back from KPR until they are corrected; everything else is sent.
    .todo = What to do: correct them in the patient record system; `kpr-bridge check --config FILE --report report.html` lists each record by its id there.

alert-receipt-conflict = KPR's receipts for message { $id } disagree
    .text = The first receipt for message { $id } said { $first_status }; a later one says { $later_status }.
    .means = What it means: the message stays { $state }, as the first receipt decided; the later receipt was kept but not applied. One of them is wrong, or not KPR's.
    .todo = What to do: ask KPR (FHI) which answer holds; if it is the later one, send the message again. `kpr-bridge status` shows both receipts.
alert-identity-key = The key that seals the identity numbers in the state store is gone

alert-rejected = KPR rejected { $what }
    .text = KPR rejected { $what } (message { $id }, { $target }).
    .means = What it means: nothing in it reached the register.
    .todo = What to do: correct what KPR names, then send again; `kpr-bridge status` shows the details.
alert-reasons = KPR's reasons:
alert-reason = { $code }: { $meaning } What to do: { $todo }
alert-reason-unknown = code { $code }: see `kpr-bridge status` for KPR's own words.
alert-error = The message network could not deliver { $what }
    .text = The national message network (NHN) could not deliver { $what } (message { $id }, { $target }).
    .means = What it means: KPR did not receive it.
    .todo = What to do: check the certificates and the queue names in the configuration against NHN's address register; `kpr-bridge status` shows the network's reason.
alert-expired = No receipt from KPR for { $what }
    .text = No receipt came from KPR for { $what } (message { $id }, { $target }) in the time allowed.
    .means = What it means: KPR may not have received it.
    .todo = What to do: check that receipts reach the municipality's queue (`kpr-bridge receipts --config FILE`), and ask KPR (FHI) whether the message arrived before sending it again.

# `kpr-bridge status` as text, and the "needs action" texts the administration page shows too.

status-heading = kpr-bridge status for { $name } ({ $number }), { $mode ->
    [production] production
   *[test] test
} mode, { $at }
status-nothing-needs-action = Nothing needs action.
status-needs-action = NEEDS ACTION ({ $count })
status-none = none
# A date to type in a command, when none is known.
status-date-placeholder = YYYY-MM-DD
status-what-to-do = What to do: { $todo }
status-kpr-wrote = KPR wrote: "{ $text }"
# A number of something, in a list: "3 delivered".
status-count = { $count } { $what }

## The sources

status-source = Source { $name } ({ $kind })
status-source-iplos-cannot = IPLOS 3.7 has no temporary stops: no MidlertidigStopp is reported from this source (a second source may give them)

## Several municipalities at a glance (`status --tenants`)

status-overview-heading = kpr-bridge status of { $count } municipalities, { $at }
status-overview-municipality = Municipality
status-overview-served = Served
status-overview-last-shipped = Last shipped
status-overview-needs-action = Needs action
status-overview-actions = NEEDS ACTION
status-served-by = served by { $holder }
status-not-served-since = NOT SERVED (last by { $holder }; is a replica running?)
status-not-served = NOT SERVED (never yet; is a replica running?)

## What needs action

action-daily-missed = The daily report has not been sent for { $dates }.
    .last = The last reporting date sent is { $last }; by the schedule ({ $schedule }) every date up to { $closed } should have gone.
    .todo = What to do: check that the kpr-bridge agent runs and read its log; `kpr-bridge daily --config FILE --date { $date }` sends a date by hand.
action-daily-missed-many = { $count } reporting dates, the latest { $shown }: { $dates }
action-certificate-unreadable = { $name } cannot be read: { $problem }
    .means = Until it can, nothing can be sent to KPR or read from it.
action-certificate-ended = { $name } ended on { $day }: { $subject }.
    .means = Nothing can be sent with it.
    .todo = What to do: { $renew }.
action-certificate-ending = { $name } ends on { $day } ({ $days } days left): { $subject }.
    .todo = What to do: { $renew } before then.
action-findings = The checks of the latest reading of the patient record system ({ $at }, reporting date { $date }) found errors. The records concerned are held back, and are sent once they are corrected:
    .report = `kpr-bridge check --config FILE --report report.html` shows each record by its id in the patient record system.
action-conflict = KPR's receipts for message { $id } disagree: the first ({ $first }, { $first_at }) said { $first_status }, a later one ({ $later }, { $later_at }) says { $later_status }.
    .stays = The message stays { $state }, as the first receipt decided; the later one was kept, not applied.
    .todo = What to do: ask KPR (FHI) which answer holds; if it is the later one, send the message again. `kpr-bridge receipts --config FILE --offline` shows both.
action-anomalies = { $count } message(s) arrived on our queues in the last { $days } days that could not be taken as a receipt (the latest { $at }).
    .todo = They are kept in the state store. What to do: `kpr-bridge receipts --config FILE --offline` lists them with the reason; a receipt among them may mean a message's answer is lost.
action-identity-key-missing = The key file that seals the identity numbers in the state store is missing: { $file }. Without it none of the { $count } stored notifications can be sent again.
    .todo = What to do: put the file back from its backup before the next daily run. That run otherwise makes a new key, and these notifications then cannot be sent again until the old key is put beside it (the runbook, "A lost identity key").
action-identity-key-unsent = { $count } notification(s) ({ $numbers }) not yet sent cannot be sent: their identity numbers are sealed under a key that is no longer there, and their persons are no longer in the EPJ. Every later notification waits for them, so nothing is sent.
    .todo = What to do: find the old key file in the backup and put it beside the new one as { $file }.previous; everything then goes with the next run. If it cannot be found, raise it with FHI before anything more is sent.
action-identity-key-lost = { $count } notification(s) already sent ({ $numbers }) cannot be sent again: their identity numbers are sealed under a key that is no longer there.
    .since = The key file was made anew { $since }; everything from number { $first } on is sealed under the new key and can be sent again as usual.
    .todo = What to do: find the old key file in the backup and put it beside the new one as { $file }.previous; they can then be sent again. If it cannot be found, they can never be sent again: tell FHI, so that they know should they ask for them.
action-chain-behind = The state store is behind what KPR has been sent: its last notification is number { $store }, but number { $mark } went to KPR in message { $id } ({ $date }).
    .means = The store was put back from an older copy. Until this is settled nothing is captured or sent (daily, resend, the agent): the next numbers would be ones the register already has.
    .todo = What to do: `kpr-bridge chain --config FILE` lists the missing numbers; if no newer copy of the store exists, `kpr-bridge chain --continue-after-mark --config FILE` makes numbering go on after { $mark } and says what to tell FHI (the runbook, "Backing up and restoring the state store").
action-chain-diverged = The state store and the chain mark { $file } disagree about notification { $mark }: the store holds another one under that number than the one sent in message { $id }.
    .means = This store did not send what the mark records. Nothing is captured or sent until this is settled.
    .todo = What to do: check that the configuration's state store and [daily] identity_key_file are this municipality's (`kpr-bridge chain --config FILE`); the runbook, "Backing up and restoring the state store", says what next.
action-chain-unreadable = The chain mark cannot be read: { $problem }
    .todo = Until it can, nothing is captured or sent. What to do: put back the mark from the backup of the identity key's directory, or move it aside if it is not this installation's (the next ship writes a new one).

## A message KPR did not take, or took with errors in parts

problem-rejected = KPR rejected { $what } (message { $id }, { $target }, { $at }).
    .means = Nothing in it reached the register.
    .todo = What to do: ask KPR (FHI) why; `kpr-bridge receipts` shows the receipt.
problem-error = The national message network could not deliver { $what } (message { $id }, { $target }, { $at }).
    .todo = What to do: check the certificates and the queue names in the configuration against NHN's address register, then send again.
problem-expired = No receipt came from KPR for { $what } (message { $id }, { $target }): given up waiting { $at }.
    .means = KPR may not have received it.
    .todo = What to do: check that receipts reach our queue (`kpr-bridge receipts --config FILE`); ask KPR (FHI) whether the message arrived before sending it again.
problem-remarked = KPR accepted { $what } (message { $id }, { $target }, { $at }) but found errors in parts of it; those parts did not reach the register.

## What is under way

status-waiting = Waiting ({ $count })
status-waiting-some = Waiting ({ $count }, the latest { $shown } shown)
status-waiting-queued = not yet accepted by the message network (NHN), for { $duration }
status-waiting-sent = sent, waiting for KPR's receipt for { $duration }
status-waiting-line = { $what } (message { $id }, { $target }): { $doing }

## The daily reports

status-daily = Daily reports
status-daily-not-begun = Daily reporting has not begun: the first run is the initial load, `kpr-bridge daily --config FILE --initial [--since 2026-01-01]`.
status-daily-last = Last reporting date sent: { $date }; schedule { $schedule } (Europe/Oslo).
status-daily-msg-type = Daily messages go as MsgHead type { $code } (HIS 1135, XPR(ipl) 56.0.0); no public name exists for it — confirm it with FHI before production.
status-daily-success = Last daily report fully received by KPR: sent { $at } ({ $duration } ago).
status-identity-key-lost = { $count } notification(s) ({ $numbers }) cannot be sent again: their identity numbers are sealed under a key that is no longer there (a new key since { $since }).
status-run-read = read { $count } time(s), { $notifications } notification(s)
status-run-held-back = { $count } record(s) held back
status-run-not-sent = not sent yet
status-run-no-changes = { $time }: no changes to send
status-run-sent = sent { $time } with { $count } notification(s): { $messages }
status-part = part { $number } of { $parts }

## The quiet facts

status-earlier = Earlier problems and remarks (older than { $days } days, or accepted with errors in parts)
status-warnings = Worth a look (warnings of the latest reading, { $at }; the data still goes)
status-finding = { $rule } ({ $count } record(s)): { $explains }
status-rule-unknown = A rule this version of kpr-bridge does not know.
status-certificates = Certificates
status-certificate-unreadable = { $name }: cannot be read ({ $file })
status-certificate-valid = { $name }: valid until { $day } ({ $days } days left), { $subject }
status-messages = Messages: { $messages }
status-messages-none = none yet
status-receipts = Receipts: { $count } received; half came within { $duration } of sending.
status-events = Changes reported so far: { $events }
status-anomalies = Anomalies kept: { $count } (`kpr-bridge receipts --offline` lists them).

## The certificates, by their role

certificate-signing = our signing certificate
certificate-encryption = our encryption certificate
certificate-previous-encryption = our previous encryption certificate
certificate-kpr-encryption = KPR's encryption certificate
certificate-kpr-signing = KPR's signing certificate
certificate-renew-kpr-encryption = ask KPR (FHI) for their new encryption certificate, or fetch it from NHN's address register, and configure it
certificate-renew-kpr-signing = fetch KPR's new signing certificate from NHN's address register, add it to certificates.kpr_signing_certificates, and remove the old one once it has ended
certificate-renew-ours = order the successor of the municipality's enterprise certificate and install the new certificate and key

## How long something took

duration-seconds = { $count ->
    [one] { $count } second
   *[other] { $count } seconds
}
duration-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
duration-hours = { $count ->
    [one] { $count } hour
   *[other] { $count } hours
}
duration-days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}

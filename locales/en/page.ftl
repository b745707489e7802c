# The administration page, for the IPLOS submitter and IT operations.

## The frame of every page

nav-label = Pages
nav-overview = Overview
nav-resend = Re-send
nav-runs = Daily runs
nav-quality = Data quality
nav-settings = Settings
nav-audit = Audit log
nav-all-municipalities = All municipalities
mode-test = test
mode-production = production
sign-out = Sign out
footer = Times are in Norwegian time (Europe/Oslo). No page shows a person's identity number or name: people are shown by the patient record system's own numbers.

## Signing in

sign-in = Sign in
sign-in-deployment = the municipalities of this deployment
sign-in-intro = Reporting to the municipal patient and user register (KPR). Sign in to see what was sent, what KPR answered, and to send again.
sign-in-user = User name
sign-in-password = Password
sign-in-wrong = Wrong user name or password.
sign-in-throttled = Too many failed sign-ins in a row for this user from this address. Wait { $seconds } seconds and try again; ask a colleague with access to check your password if it keeps failing.
municipalities-title = Your municipalities
municipalities-intro = Reporting to the municipal patient and user register (KPR). You have access to these:

## Pages that say something went wrong

error-to-overview = To the overview
error-render = The page could not be shown
    .text = kpr-bridge could not render this page; its log says why.
error-store = The state store cannot be used
    .text = kpr-bridge cannot read its state store just now. Try again in a minute; if it persists, ask IT operations to look at the agent's log and /health.
error-not-found = No such page
    .text = This address is not a page of kpr-bridge. Start from the overview.
error-form-refused = The form was refused
    .text = The form did not carry this session's token, so it may not have come from this page. Open the page again and repeat what you did.
error-sign-in-refused = The sign-in was refused
    .text = The sign-in form did not carry its token. Open the sign-in page again and sign in from there.
error-municipality-closed = This municipality's pages cannot be opened
    .text = kpr-bridge cannot load this municipality's certificates or state store just now. Ask IT operations to look at the log; it names the file.
error-language = No such language
    .text = The page speaks Norwegian (bokmål) and English. Choose one of them on the page.

## Messages, their states and kinds

message-kind-daily = daily
message-kind-resend = re-send
message-kind-annual = annual
message-part-of = { $what }, part { $part } of { $parts }
message-sent-again = notifications sent again

## The overview

overview-title = Overview
overview-actions = Needs action
overview-nothing-to-do = Nothing needs action: the daily reports go as scheduled and KPR has taken what was sent.
overview-messages = Messages
overview-messages-note = Every message sent or attempted, newest first: the daily reports (one per part), notifications sent again, and the annual report. Open a message to see its notifications and KPR's receipt.
overview-filter-state = State
overview-filter-kind = Kind
overview-filter-any = any
overview-filter-from = From
overview-filter-to = To
overview-filter-show = Show
overview-filter-clear = Clear
overview-bad-state = '{ $value }' is not a message state
overview-bad-kind = '{ $value }' is not a kind of message
overview-bad-date = '{ $value }' is not a date; give it as { $hint }
overview-none = No messages.
overview-none-filtered = No messages match these filters.
overview-col-created = Created
overview-col-message = Message
overview-col-kind = Kind
overview-col-notifications = Notifications
overview-col-state = State
overview-col-since = Since
overview-col-receipt = KPR's receipt

## One message

message-title = Message { $msg_id }
message-not-found = No such message
    .text = kpr-bridge has sent no message with this MsgId. Find it in the overview's list.
message-fact-what = What
message-kind = Kind
message-msg-type = MsgHead type
message-to = To
message-state = State
message-since = since
message-created = Created
message-published = Sent to the broker
message-published-times = { $count ->
    [one] once
   *[other] { $count } times
}
message-broker-said = the broker said:
message-receipt = KPR's receipt
message-no-receipt-yet = none yet
message-resend = Re-send this message's notifications…
message-resend-note = You will see what goes before anything is sent.
message-receipts = KPR's receipts
message-no-receipts = No receipt has come for this message.
message-receipt-id = Receipt
message-receipt-conflicting = contradicts the first receipt: kept, not applied
message-receipt-duplicate = the same answer again
message-col-code = Code
message-col-meaning = Meaning
message-col-todo = What to do
message-col-kpr-text = KPR's text
message-error-report = The transport's error report
message-history = What happened to it
message-col-when = When
message-col-from = From
message-col-to = To
message-col-detail = Detail
message-notifications = Notifications ({ $count })
message-notifications-note = Each notification as the register numbers it, and where it came from: the source, the patient record system's service id and its person number (brukerNr).
message-sealed-away = { $count ->
    [one] Notification { $numbers } in this message cannot be sent again:
   *[other] Notifications { $numbers } in this message cannot be sent again:
} their identity numbers are sealed under a key that is no longer there (see the overview).
message-sealed-away-mark = cannot be sent again
message-col-number = No.
message-col-event = Event
message-col-status = Status
message-col-event-date = Event date
message-col-reported = Reported
message-col-source = Source
message-col-service = Service id
message-col-person = Person no.
message-col-corrects = Corrects

## Re-sending

resend-title = Re-send notifications
resend-intro = Send notifications to KPR again, exactly as they were first sent (the same numbers and content), in a new message. Choose which; you will see what goes before anything is sent.
resend-which = Which notifications
resend-by-message = The notifications of one message (MsgId)
resend-by-notification = One notification (its GUID)
resend-by-since-date = Those reported on or after a date
resend-by-since-number = Those numbered from a number on
resend-by-between-dates = Those reported between two dates
resend-by-between-numbers = Those numbered between two numbers
resend-by-patient = One person's (the person number, brukerNr)
resend-value = MsgId, GUID, date (yyyy-mm-dd or dd.mm.yyyy), number or person number
resend-value2 = To (for a range: the last date or number)
resend-show = Show what would be sent
resend-bad-date = '{ $value }' is not a date; give it as { $hint }
resend-bad-number = '{ $value }' is not a notification number
resend-bad-guid = '{ $value }' is not a notification GUID
resend-bad-way = '{ $value }' is not a way to choose notifications
resend-fill-in = Fill in what to re-send.
resend-fill-in-both = Fill in both ends of the range.
resend-chose-message = the notifications of message { $id }
resend-chose-notification = notification { $guid }
resend-chose-since-date = those reported on or after { $day }
resend-chose-since-number = those numbered from { $number }
resend-chose-between-dates = those reported { $from } to { $to }
resend-chose-between-numbers = those numbered { $from } to { $to }
resend-chose-patient = one person's notifications
resend-nothing = Nothing to re-send: no notification that has been sent matches { $chosen }.
resend-preview-title = Re-send: check before sending
resend-you-chose = You chose:
resend-preview-summary = { $count ->
    [one] 1 notification will be sent again, number { $numbers }.
   *[other] { $count } notifications will be sent again, numbers { $numbers }.
}
resend-messages = The messages they were in
resend-col-of-these = Of these notifications
resend-waiting = { $count ->
    [one] 1 of them is in a message that still awaits KPR's receipt. Sending it again now may make KPR receive it twice; it is usually better to wait for the receipt.
   *[other] { $count } of them are in a message that still awaits KPR's receipt. Sending them again now may make KPR receive them twice; it is usually better to wait for the receipt.
}
resend-waiting-refused = { $count } selected notification(s) are in message(s) that still await KPR's receipt ({ $messages }); wait for the receipt, or tick "send anyway" to send them again anyway.
resend-sealed-away = { $count } of the { $selected } chosen notifications ({ $numbers }) cannot be sent again: their identity numbers are sealed under a key that is no longer there. Ask IT operations to put the old key file back from its backup (the runbook, "A lost identity key"), or choose only the others. If the key cannot be found, they cannot be sent again: tell FHI.
resend-anyway = Send anyway
resend-confirm = { $count ->
    [one] Send 1 notification again
   *[other] Send { $count } notifications again
}
resend-choose-again = Choose again
resend-done-title = Re-sent
resend-done = { $count ->
    [one] 1 notification, number { $numbers }, is
   *[other] { $count } notifications, numbers { $numbers }, are
} on their way to KPR in { $messages ->
    [one] a new message
   *[other] { $messages } new messages
}{ $forced ->
    [yes] , sent although an earlier message still awaited its receipt.
   *[no] .
}
resend-done-receipts = KPR's receipt will show on each message and in the
resend-done-overview = overview
resend-failed = The re-send failed
    .text = { $error }. Nothing was sent; try again, or ask IT operations to read the agent's log.

## Daily runs

runs-title = Daily runs
runs-intro = Each reporting date: how often the patient record system was read, how many notifications its changes made, how many records the checks held back (they go once corrected), and the messages that carried the date.
runs-none = No daily run yet. Daily reporting starts with
runs-chart = Notifications per day
runs-chart-title = Notifications per reporting date, the last { $count } dates
runs-chart-bar = { $day }: { $count ->
    [one] 1 notification
   *[other] { $count } notifications
}
runs-last-30 = The last 30 reporting dates
runs-col-date = Reporting date
runs-col-reads = Reads
runs-col-notifications = Notifications
runs-col-held-back = Held back by the checks
runs-col-last-read = Last read
runs-col-shipped = Shipped
runs-col-messages = Messages
runs-nothing-changed = none: nothing changed

## Data quality

quality-title = Data quality
quality-not-read = The patient record system has not been read yet: findings show here after the first daily run.
quality-intro = What the checks found in the latest reading of the patient record system, the way the register will check it
quality-reporting-date = reporting date
quality-nothing = The checks found nothing.
quality-col-rule = Rule
quality-col-severity = Severity
quality-col-records = Records
quality-col-means = What it means
quality-col-at-kpr = At KPR
quality-col-todo = What to do
quality-severity-error = error
quality-severity-warning = warning
quality-consequence-error = KPR's arrival checks would refuse these records: kpr-bridge holds them back and sends them once they are corrected.
quality-consequence-warning = KPR takes these records, but its quality control marks them; the statistics they feed may be wrong.
quality-report = The full check report
quality-report-note = The report reads every source now and shows each finding by the record's id in the patient record system, with the register's own arrival checks and a month-by-month chart per service. It takes a while for a large municipality.
quality-year = Reporting year
quality-make-report = Make the report
quality-bad-year = Not a reporting year
    .text = Choose a reporting year such as 2026.
quality-report-failed = The report could not be made
    .text = kpr-bridge could not check the sources just now; its log says why.

## Settings

settings-title = Settings
settings-the-municipality = The municipality
settings-municipality = Municipality
settings-orgnr = Organisation number
settings-her-municipality = HER-id, municipality
settings-her-unit = HER-id, reporting unit
settings-mode = Mode
settings-mode-test = test: messages go to KPR Validering
settings-mode-production = production: messages go to the register
settings-daily-run = Daily run
settings-daily-run-value = { $schedule } (cron, Norwegian time); MsgHead type { $msg_type }
settings-transport = Transport
settings-transport-amqp = AMQP { $broker }: to KPR's queue { $kpr }, receipts on { $receipts }, error reports on { $errors }
settings-transport-spool = spool: messages written to { $dir }
settings-transport-spool-receipts = spool: messages written to { $dir }, receipts read from { $receipts }
settings-transport-none = none configured
settings-sources = Sources
settings-from-configuration = These come from the configuration file; IT operations change them there.
settings-certificates = Certificates
settings-no-certificates = No delivery is configured, so no certificates are in use.
settings-col-certificate = Certificate
settings-col-subject = Subject
settings-col-ends = Ends
settings-col-days-left = Days left
settings-col-problem = Problem
settings-contacts = IPLOS contacts
settings-contacts-intro = Whom KPR asks about the municipality's data. Both are named in every message; the same person may be both.
settings-contacts-saved-by = Saved by { $who } on { $at }.
settings-contacts-from-configuration = From the configuration file; saving them here replaces those from then on.
settings-saved = Saved. The next message carries these contacts.
settings-legend-contact = IPLOS-kontakt: the IPLOS contact (type 16)
settings-legend-submitter = Innsendingsansvarlig: the IPLOS submitter (type 17)
settings-name = Name
settings-phone = Phone
settings-email = E-mail
settings-save = Save the contacts
settings-role-contact = IPLOS contact
settings-role-submitter = IPLOS submitter
settings-contact-no-name = The { $role } needs a name.
settings-contact-bad-email = The { $role }'s e-mail address '{ $email }' is not an address such as name@kommune.no.
settings-contact-bad-phone = The { $role }'s phone number '{ $phone }' has letters in it.

## The audit log

audit-title = Audit log
audit-intro = Every sign-in, sign-out, re-send and change on this page or with kpr-bridge's commands, newest first (the latest 500); all of them:
audit-col-when = When
audit-col-who = Who
audit-col-from = From
audit-col-what = What
audit-col-detail = Detail
audit-signed-in = signed in
audit-signed-out = signed out
audit-sign-in-refused = sign-in refused
audit-resent = re-sent
audit-contacts-changed = contacts changed

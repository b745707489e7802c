# KPR's answers and the codes of the register's code lists, each with the register's own
# (Norwegian) name and an English explanation beside it: the status of an application receipt
# (code system 8258), its error codes (8221) with what each means and what to do, the
# notification status (7316), message types, the messages' states and the daily report's
# events.

## The message's status at the receiver, code system 8258

apprec-status-1 = OK (accepted)
apprec-status-2 = Avvist (rejected)
apprec-status-3 = OK, feil i delmelding (accepted, with errors in parts)
apprec-status-unknown = an unknown receipt status

## The error codes of an application receipt, code system 8221: what each means, what to do

-report-it = This is a fault in how the message was made: report it to kpr-bridge's maintainers with the message id.
-check-receiver = Check KPR's HER-id and queue in the configuration against NHN's address register.

apprec-e10 = KPR found the message id invalid.
    .what-to-do = { -report-it }
apprec-e20 = KPR says the message was addressed to a receiver it does not know.
    .what-to-do = { -check-receiver }
apprec-e21 = Mottaker finnes ikke (receiver unknown): KPR says the receiver named in the message is wrong.
    .what-to-do = { -check-receiver }
apprec-e30 = A person in the message has no national identity number (fødselsnummer or D-number).
    .what-to-do = Register the number in the patient record system; `kpr-bridge check` lists the records without one.
apprec-e31 = A person in the message has a national identity number that is not valid.
    .what-to-do = Correct the number in the patient record system; `kpr-bridge check` lists invalid numbers by record.
apprec-e35 = The register does not know a person in the message.
    .what-to-do = Check the person's identity number in the patient record system against the population register.
apprec-s01 = KPR could not verify the message's signature.
    .what-to-do = Check the signing certificate and key in [certificates]: they must be the municipality's valid enterprise certificate pair.
apprec-s02 = KPR did not accept the municipality's certificate.
    .what-to-do = Check that the enterprise certificate is valid and registered in NHN's address register; order a new one if it is not.
apprec-s03 = The municipality's certificate has been revoked.
    .what-to-do = Order a new enterprise certificate and install it in [certificates].
apprec-t01 = KPR could not read the message as XML.
    .what-to-do = { -report-it }
apprec-t02 = The message did not pass KPR's schema check.
    .what-to-do = Check that the message schema in use is the one KPR takes now ([schemas]); otherwise report it to kpr-bridge's maintainers with the message id.
apprec-t10 = KPR does not take this message format or version.
    .what-to-do = Check that KPR takes this message type now, and which version it expects.
apprec-t99 = KPR found another fault in the message's format.
    .what-to-do = Read KPR's own text below; report it to kpr-bridge's maintainers with the message id.
apprec-x99 = KPR reported another error.
    .what-to-do = Read KPR's own text below; ask KPR (FHI) if it does not say what to do.
apprec-unknown = KPR gave no explanation with this code.
    .what-to-do = kpr-bridge does not know this code: KPR's own words are above; ask KPR (FHI) if they do not say what to do.

## The notification's status, code system 7316

status-notification-n = Original (a new event)
status-notification-m = KorrigerErstatt (a correction replacing the original)
status-notification-t = KorrigerSuppler (a correction adding to the original)
status-notification-c = KorrigerAnnuller (cancels the original)

## The message types kpr-bridge sends (the type in the MsgHead)

codes-message-type = { $kind ->
    [daily] daily report
    [annual] annual report
    [identity] annual identity message
   *[other] { $code } message
}
# A message without a date or a year.
codes-message-what = { $kind ->
    [daily] a daily report
    [annual] an annual report
    [identity] an annual identity message
   *[other] a { $code } message
}
# A message for a reporting date or a year.
codes-message-what-for = the { $kind ->
    [daily] daily report
    [annual] annual report
    [identity] annual identity message
   *[other] { $code } message
} for { $when }

## Where a message goes: KPR, or KPR's validation service

target-production = production
target-validation = validation

## The state of a message kpr-bridge sent

state-queued = queued
state-sent = sent
state-delivered = delivered
state-rejected = rejected
state-error = error
state-expired = expired

## The events of the daily report (HIS 1135)

kind-start = start
kind-stop-until = stop until
kind-stop-from = stop from
kind-provider-changed = provider changed
kind-end = end

# KPRs svar og kodene fra registerets kodeverk, med registerets egne navn: status i
# applikasjonskvitteringen (kodeverk 8258), feilkodene (kodeverk 8221) med hva de betyr og hva
# du gjør, notifikasjonsstatus (kodeverk 7316), meldingstyper, meldingenes tilstand og
# hendelsene i den daglige rapporten.

## Status for meldingen hos mottakeren, kodeverk 8258

apprec-status-1 = OK
apprec-status-2 = Avvist
apprec-status-3 = OK, feil i delmelding
apprec-status-unknown = ukjent kvitteringsstatus

## Feilkoder i applikasjonskvitteringen, kodeverk 8221: hva koden betyr, og hva du gjør

-report-it = Dette er en feil i hvordan kpr-bridge laget meldingen. Meld den til dem som vedlikeholder kpr-bridge, og oppgi meldings-ID-en.
-check-receiver = Sjekk KPRs HER-id og kø i konfigurasjonen mot adresseregisteret til Norsk helsenett.

apprec-e10 = KPR fant at meldings-ID-en er ugyldig.
    .what-to-do = { -report-it }
apprec-e20 = KPR sier at meldingen var adressert til en mottaker KPR ikke kjenner.
    .what-to-do = { -check-receiver }
apprec-e21 = Mottaker finnes ikke: KPR sier at mottakeren i meldingen er feil.
    .what-to-do = { -check-receiver }
apprec-e30 = En person i meldingen mangler fødselsnummer eller D-nummer.
    .what-to-do = Registrer nummeret i journalsystemet (EPJ). `kpr-bridge check` viser hvilke poster som mangler det.
apprec-e31 = En person i meldingen har et fødselsnummer eller D-nummer som ikke er gyldig.
    .what-to-do = Rett nummeret i journalsystemet (EPJ). `kpr-bridge check` viser ugyldige numre per post.
apprec-e35 = Registeret kjenner ikke en person i meldingen.
    .what-to-do = Sjekk personens fødselsnummer i journalsystemet (EPJ) mot Folkeregisteret.
apprec-s01 = KPR kunne ikke bekrefte signaturen på meldingen.
    .what-to-do = Sjekk signeringssertifikatet og nøkkelen under [certificates]. De må være kommunens gyldige par av virksomhetssertifikat og nøkkel.
apprec-s02 = KPR godtok ikke kommunens sertifikat.
    .what-to-do = Sjekk at virksomhetssertifikatet er gyldig og registrert i adresseregisteret til Norsk helsenett. Bestill et nytt hvis det ikke er det.
apprec-s03 = Kommunens sertifikat er trukket tilbake.
    .what-to-do = Bestill et nytt virksomhetssertifikat, og legg det inn under [certificates].
apprec-t01 = KPR kunne ikke lese meldingen som XML.
    .what-to-do = { -report-it }
apprec-t02 = Meldingen besto ikke KPRs kontroll mot skjemaet.
    .what-to-do = Sjekk at meldingsskjemaet som brukes, er det KPR tar imot nå ([schemas]). Ellers: meld det til dem som vedlikeholder kpr-bridge, og oppgi meldings-ID-en.
apprec-t10 = KPR tar ikke imot dette meldingsformatet eller denne versjonen.
    .what-to-do = Sjekk at KPR tar imot denne meldingstypen nå, og hvilken versjon KPR venter.
apprec-t99 = KPR fant en annen feil i formatet på meldingen.
    .what-to-do = Les KPRs egen tekst nedenfor. Meld feilen til dem som vedlikeholder kpr-bridge, og oppgi meldings-ID-en.
apprec-x99 = KPR meldte en annen feil.
    .what-to-do = Les KPRs egen tekst nedenfor. Spør KPR (FHI) hvis den ikke sier hva du skal gjøre.
apprec-unknown = KPR ga ingen forklaring på denne koden.
    .what-to-do = kpr-bridge kjenner ikke denne koden. KPRs egne ord står over. Spør KPR (FHI) hvis de ikke sier hva du skal gjøre.

## Status for notifikasjonen, kodeverk 7316

status-notification-n = Original
status-notification-m = KorrigerErstatt
status-notification-t = KorrigerSuppler
status-notification-c = KorrigerAnnuller

## Meldingstypene kpr-bridge sender (typen i hodemeldingen)

codes-message-type = { $kind ->
    [daily] daglig rapport
    [annual] årsrapport
    [identity] årlig identmelding
   *[other] { $code }-melding
}
# En melding uten dato eller år.
codes-message-what = { $kind ->
    [daily] en daglig rapport
    [annual] en årsrapport
    [identity] en årlig identmelding
   *[other] en { $code }-melding
}
# En melding for en rapporteringsdato eller et år.
codes-message-what-for = { $kind ->
    [daily] den daglige rapporten
    [annual] årsrapporten
    [identity] den årlige identmeldingen
   *[other] { $code }-meldingen
} for { $when }

## Hvor meldingen skal: KPR eller KPRs valideringstjeneste

target-production = KPR
target-validation = KPR Validering

## Tilstanden til en melding kpr-bridge har sendt

state-queued = i kø
state-sent = sendt
state-delivered = levert
state-rejected = avvist
state-error = ikke levert
state-expired = uten svar

## Hendelsene i den daglige rapporten (HIS 1135)

kind-start = tjenestestart
kind-stop-until = midlertidig stopp til
kind-stop-from = midlertidig stopp fra
kind-provider-changed = endret tjenesteyter
kind-end = tjenesteslutt
